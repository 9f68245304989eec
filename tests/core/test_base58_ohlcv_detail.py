"""Pure helpers: base58, OHLCV bucketing and emission throttle, corto create detail levels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core import base58
from harness.core.corto.detail import FULL_KEYS, KEYS, MID_KEYS, MIN_KEYS, Detail, project
from harness.core.ohlcv import CandleBook, Throttle, bucket_start, fill_flat, to_ms


@given(st.binary(max_size=70))
def test_base58_round_trip(data: bytes) -> None:
    assert base58.decode(base58.encode(data)) == data


def test_base58_known_values_and_checks() -> None:
    assert base58.encode(b"\0\0\x01") == "112"
    assert base58.decode("11") == b"\0\0"
    assert base58.is_base58("So11111111111111111111111111111111111111112", 32)
    assert not base58.is_base58("pump-migration-test")  # '-' and 'l' are not base58
    assert not base58.is_base58("")
    with pytest.raises(ValueError, match="'0' is not a base58 character"):
        base58.decode("10")


def test_bucket_edges() -> None:
    assert bucket_start(1779812627000) == 1779812627000, "a trade exactly on an edge starts its bucket"
    assert bucket_start(1779812627999) == 1779812627000
    assert to_ms(1779812627) == 1779812627000 and to_ms(1779812627123) == 1779812627123


def test_candles_from_trades_including_out_of_order() -> None:
    book = CandleBook()
    book.add_trade(1000.2, 1.0, 0.5)
    book.add_trade(1000.8, 3.0, 1.0)
    book.add_trade(1001.0, 2.0, 0.25)  # on the edge: the next bucket
    late = book.add_trade(1000.1, 0.5, 0.1)  # arrives late, belongs to the first bucket, earliest trade
    assert late.t == 1_000_000
    assert book.candles[1_000_000].row() == [1_000_000, 0.5, 3.0, 0.5, 3.0, 1.6]
    assert book.candles[1_001_000].row() == [1_001_000, 2.0, 2.0, 2.0, 2.0, 0.25]


def test_history_window_limit_and_flat_seconds() -> None:
    book = CandleBook()
    for second, price in ((100, 1.0), (101, 2.0), (104, 3.0)):
        book.add_trade(second, price, 1.0)
    assert [r[0] for r in book.history(104_000, 120_000, 200)] == [100_000, 101_000, 104_000]
    assert [r[0] for r in book.history(104_000, 120_000, 2)] == [101_000, 104_000], "the newest, oldest first"
    assert [r[0] for r in book.history(101_500, 1_000, 10)] == [101_000], "window before replay time"
    flat = book.history(104_000, 120_000, 10, flat=True)
    assert [r[0] for r in flat] == [100_000, 101_000, 102_000, 103_000, 104_000]
    assert flat[2] == [102_000, 2.0, 2.0, 2.0, 2.0, 0.0]
    assert book.history(104_000, 120_000, 0) == []
    assert fill_flat([]) == []


def test_throttle_emits_at_most_once_per_second() -> None:
    book, throttle = CandleBook(), Throttle()
    assert throttle.next_emit_at() is None
    throttle.changed(book.add_trade(10.0, 1.0, 1.0).t)
    assert throttle.emit(10.0, book) == [[10_000, 1.0, 1.0, 1.0, 1.0, 1.0]]
    throttle.changed(book.add_trade(10.5, 2.0, 1.0).t)
    assert throttle.next_emit_at() == 11.0
    assert throttle.emit(10.6, book) == [], "not yet: less than a second since the last emission"
    throttle.changed(book.add_trade(11.0, 3.0, 1.0).t)
    rows = throttle.emit(11.0, book)
    assert [r[0] for r in rows] == [10_000, 11_000], "the re-sent forming candle and the new one"
    assert rows[0][4] == 2.0
    assert throttle.emit(12.0, book) == [] and throttle.next_emit_at() is None


def test_detail_key_sets() -> None:
    assert len(MIN_KEYS) == 13 and len(set(FULL_KEYS)) == len(FULL_KEYS) == 87
    assert set(MIN_KEYS) < set(MID_KEYS) < set(FULL_KEYS)
    event = {k: i for i, k in enumerate(FULL_KEYS)} | {"newProviderField": 1}
    assert set(project(event, Detail.MIN)) == KEYS[Detail.MIN]
    assert set(project(event, Detail.MID)) == KEYS[Detail.MID]
    assert project(event, Detail.FULL) == event, "full keeps what the provider sent"
