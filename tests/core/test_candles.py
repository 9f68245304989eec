"""Every pool's candles as the PumpData emulation keeps them (harness.core.ohlcv.Candles): made from
trade events, taken from the tape's own candles, bounded to the history window, emitted through
the throttle. No event loop: times are arguments."""

from __future__ import annotations

from harness.core.ohlcv import Candles, candle_of

POOL, OTHER = "pool-a", "pool-b"


def trade(second: float, price: float, volume: float = 1.0) -> dict[str, object]:
    return {"pool": POOL, "price": price, "quote_amount": volume, "timestamp": second}


def test_trades_make_candles_emitted_at_most_once_a_second() -> None:
    candles = Candles(window_ms=120_000)
    assert candles.next_emit_at() is None and candles.due(100.0) == []
    candles.add_trade(POOL, trade(10.2, 1.0))
    candles.add_trade(POOL, trade(10.7, 3.0, 0.5))
    assert candles.next_emit_at() == 0.0, "the first emission is due at once"
    assert candles.due(10.8) == [(POOL, [[10_000, 1.0, 3.0, 1.0, 3.0, 1.5]])]
    candles.add_trade(POOL, trade(11.1, 2.0))
    assert candles.next_emit_at() == 11.8
    assert candles.due(11.5) == [], "less than a second since the last emission"
    assert candles.due(11.8) == [(POOL, [[11_000, 2.0, 2.0, 2.0, 2.0, 1.0]])]


def test_a_trade_without_its_numbers_makes_no_candle() -> None:
    candles = Candles(window_ms=120_000)
    candles.add_trade(POOL, {"price": 1.0, "timestamp": 10})  # no quote_amount
    candles.add_trade(POOL, trade(10, True))  # type: ignore[arg-type]
    candles.add_trade(POOL, "not a trade")
    assert candles.next_emit_at() is None and candles.history(POOL, 20_000, 10) == []


def test_a_pool_whose_candles_were_recorded_keeps_them() -> None:
    recorded = [[10_000, 5.0, 6.0, 4.0, 5.5, 9.0], [11_000, 5.5, 5.5, 5.5, 5.5, 1.0]]
    candles = Candles.of({POOL: recorded[:1]}, window_ms=120_000, recorded=[POOL])
    candles.add_trade(POOL, trade(10.5, 100.0))  # the tape's own candles win over its trades
    candles.add_rows(POOL, [recorded[1], ["not", "a", "candle"], [12_000, 1, 1, 1, True, 1]])
    assert candles.next_emit_at() is None, "recorded candles go out as recorded, not again"
    assert candles.history(POOL, 20_000, 10) == recorded
    assert candles.history(OTHER, 20_000, 10) == []


def test_flat_candles_fill_the_silent_seconds_between_emissions() -> None:
    candles = Candles(window_ms=120_000, flat=True)
    candles.add_trade(POOL, trade(10.0, 1.0))
    assert candles.due(10.0) == [(POOL, [[10_000, 1.0, 1.0, 1.0, 1.0, 1.0]])]
    candles.add_trade(POOL, trade(13.5, 2.0))
    (emitted,) = candles.due(13.5)
    assert emitted == (
        POOL,
        [
            [11_000, 1.0, 1.0, 1.0, 1.0, 0.0],
            [12_000, 1.0, 1.0, 1.0, 1.0, 0.0],
            [13_000, 2.0, 2.0, 2.0, 2.0, 1.0],
        ],
    )
    assert [r[0] for r in candles.history(POOL, 13_000, 10)] == [10_000, 11_000, 12_000, 13_000]


def test_the_books_stay_within_the_history_window() -> None:
    candles = Candles(window_ms=10_000)
    for second in range(1000):
        candles.add_trade(POOL, trade(second, float(second)))
    assert len(candles.books[POOL].candles) <= 2 * 10 + 16, "bounded, however long the feed runs"
    assert [r[0] for r in candles.history(POOL, 999_000, 500)] == [s * 1000 for s in range(990, 1000)]


def test_candle_of_reads_a_wire_candle() -> None:
    candle = candle_of([1_000, 1, 2, 0.5, 1.5, 3, "extra"])
    assert candle is not None and candle.row() == [1_000, 1, 2, 0.5, 1.5, 3]
    assert candle_of([1_000, 1, 2]) is None and candle_of({"t": 1}) is None
