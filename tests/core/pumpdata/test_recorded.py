"""What a PumpData tape holds: events once each with their rooms, pools by mint, recorded candles."""

from __future__ import annotations

from typing import Any

from harness.core.frames import C2S, S2C, Frame, SioAck, SioEvent
from harness.core.pumpdata.recorded import Event, read_feed
from harness.core.pumpdata.rules import Target

CANDLE = [[1_767_225_601_000, 1.0, 2.0, 0.5, 1.5, 3.0]]


def ask(t: float, conn: str, ack_id: int, name: str, request: Any, ack: Any) -> list[Frame]:
    return [SioEvent(t, conn, C2S, name, (request,), ack_id), SioAck(t + 0.01, conn, S2C, ack_id, (ack,))]


def sent(t: float, name: str, payload: Any, conn: str = "c1") -> SioEvent:
    return SioEvent(t, conn, S2C, name, (payload,))


def candles_by_pool(frames: list[Frame]) -> list[tuple[float, str]]:
    items, _, _ = read_feed(frames)
    return [(t, e.pool) for t, e in items if e.name == "ohlcv"]


def test_a_recorded_candle_goes_to_the_one_pool_its_connection_followed() -> None:
    frames = [
        *ask(0.0, "c1", 0, "subscribe_ohlcv", {"pool": "A"}, {"ok": True}),
        sent(1.0, "ohlcv", CANDLE),
        *ask(1.5, "c1", 1, "subscribe_ohlcv", {"pool": "B"}, {"ok": True}),
        sent(2.0, "ohlcv", [[CANDLE[0][0] + 1000, *CANDLE[0][1:]]]),  # two pools followed: whose?
        *ask(2.5, "c1", 2, "unsubscribe_ohlcv", {"pool": "A"}, {"ok": True}),
        sent(3.0, "ohlcv", [[CANDLE[0][0] + 2000, *CANDLE[0][1:]]]),
        *ask(3.5, "c1", 3, "subscribe_ohlcv", {"pool": "C"}, {"error": "not_found", "message": "x"}),
        sent(4.0, "ohlcv", [[CANDLE[0][0] + 3000, *CANDLE[0][1:]]]),  # C failed: still only B
        *ask(4.5, "c2", 0, "subscribe_ohlcv", {"mint": "M"}, {"ok": True, "pool": "D"}),
        sent(5.0, "ohlcv", CANDLE, conn="c2"),  # by mint, the ack names the pool
    ]
    assert candles_by_pool(frames) == [(1.0, "A"), (3.0, "B"), (4.0, "B"), (5.0, "D")]


def test_events_are_kept_once_with_their_rooms_and_mints_resolve_through_migrations() -> None:
    trade = {"pool": "curve", "mint": "M", "price": 1.0}
    created = {"protocol": "PUMPSWAP", "mint": "N", "pool": "amm2"}
    migrated = {"protocol": "PUMPFUN", "mint": "M", "old_pool": "curve", "new_pool": "amm"}
    frames = [
        sent(1.0, "trade", trade),
        sent(1.0, "trade", trade, conn="c2"),  # the same event recorded on two connections
        sent(2.0, "token_update", {"pool": "curve", "price": 1.0}),
        sent(3.0, "new_token", created),
        sent(4.0, "migration", migrated),
        sent(5.0, "sol_price", {"price": 180.0, "time": 1}),
        sent(6.0, "unknown_event", {"pool": "curve"}),
        *ask(7.0, "c1", 0, "ohlcv_history", {"pool": "curve"}, {"ok": True, "pool": "curve", "data": CANDLE}),
    ]
    items, index, history = read_feed(frames)
    assert items == [
        (1.0, Event("trade", trade, "trades:curve", "curve")),
        (2.0, Event("token_update", {"pool": "curve", "price": 1.0}, "token:curve", "curve")),
        (3.0, Event("new_token", created, "new_tokens:PUMPSWAP", "amm2")),
        (4.0, Event("migration", migrated, "migrations:PUMPFUN", "amm")),
        (5.0, Event("sol_price", {"price": 180.0, "time": 1}, "sol_price", "")),
    ]
    assert index.pools == {"curve", "amm", "amm2"}
    assert index.resolve(Target("M", None), 3.9) == "curve" and index.resolve(Target("M", None), 4.0) == "amm"
    assert index.resolve(Target("N", None), 3.0) == "amm2"
    assert history == {"curve": CANDLE}
