"""PumpData request rules, errors, pool resolution and the subscription limit, as pure functions."""

from __future__ import annotations

import pytest

from harness.core.families import PUMPDATA_CLIENT_EVENTS
from harness.core.pumpdata.rules import (
    BILLING_ERROR,
    CLIENT_EVENTS,
    NOT_CONNECTED,
    PROTOCOLS,
    SUBSCRIPTIONS,
    UNAVAILABLE,
    Code,
    Failure,
    PoolIndex,
    Subscriptions,
    Target,
    ack,
    binary_attachment,
    connect_refusal,
    event_protocols,
    find_binary,
    parse_limit,
    parse_protocols,
    parse_target,
    shown,
    unavailable,
    unknown_event,
)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"pool": "P"}, Target(None, "P")),
        ({"mint": "M", "pool": "P"}, Target("M", "P")),
        ({}, "mint or pool is required"),
        (None, "payload must be an object"),
        ({"pool": 5}, "pool must be a non-empty string"),
        ({"mint": ""}, "mint must be a non-empty string"),
    ],
)
def test_targets(payload: object, expected: object) -> None:
    parsed = parse_target(payload)
    if isinstance(expected, str):
        assert (
            isinstance(parsed, Failure) and parsed.code is Code.INVALID_REQUEST and expected in parsed.message
        )
    else:
        assert parsed == expected


def test_history_limit() -> None:
    assert parse_limit({}) == 200 and parse_limit({"limit": 500}) == 200 + 300
    for bad in (0, 501, "5", True, 1.5):
        result = parse_limit({"limit": bad})
        assert isinstance(result, Failure) and result.payload()["error"] == "invalid_request"


def test_protocols() -> None:
    assert parse_protocols({"protocols": ["PUMPFUN", "BONK", "PUMPFUN"]}) == ("PUMPFUN", "BONK")
    assert parse_protocols(None, default=("PUMPFUN",)) == ("PUMPFUN",)
    assert isinstance(parse_protocols({"protocols": ["NYSE"]}), Failure)
    assert isinstance(parse_protocols({"protocols": []}), Failure)


def test_protocols_a_call_names_or_defaults_to() -> None:
    assert event_protocols("subscribe_migrations", None) == ("PUMPFUN",), "the documented example"
    assert event_protocols("subscribe_migrations", {"protocols": ["BONK"]}) == ("BONK",)
    assert isinstance(event_protocols("subscribe_new_tokens", {}), Failure), "new tokens name theirs"
    assert event_protocols("unsubscribe_new_tokens", None) == PROTOCOLS, "leaving names none: all"


def test_the_calls_that_ask_the_backend() -> None:
    # contract §2.2 lists no way to leave migrations: the emulation answers one (and reports
    # it as an undocumented event); every other call is one the schemas know
    extra = CLIENT_EVENTS - PUMPDATA_CLIENT_EVENTS
    assert extra == {"unsubscribe_migrations"}
    assert PUMPDATA_CLIENT_EVENTS <= CLIENT_EVENTS
    subscribes = {e for e in CLIENT_EVENTS if e.startswith("subscribe")}
    assert subscribes | {"ohlcv_history"} == SUBSCRIPTIONS


def test_an_api_key_is_a_non_empty_string_in_auth() -> None:
    assert connect_refusal({"api_key": "pd_x"}) is None
    for auth in (None, {}, "pd_x", {"key": "pd_x"}):
        assert "api_key is required" in (connect_refusal(auth) or "")
    for auth in ({"api_key": ""}, {"api_key": "  "}, {"api_key": 5}):
        assert "api_key must be a non-empty string" in (connect_refusal(auth) or "")


def test_mint_resolves_to_its_pool_at_replay_time() -> None:
    index = PoolIndex()
    index.link("M", "curve", 0.0)
    index.link("M", "amm", 50.0)  # migrated
    assert index.resolve(Target("M", None), 10.0) == "curve"
    assert index.resolve(Target("M", None), 60.0) == "amm"
    missing = index.resolve(Target("X", None), 0.0)
    assert isinstance(missing, Failure) and missing.code is Code.NOT_FOUND
    unknown = index.resolve(Target(None, "nope"), 0.0)
    assert isinstance(unknown, Failure) and "neither live data nor candle history" in unknown.message


def test_subscription_limit() -> None:
    subs = Subscriptions(limit=2)
    assert subs.join(["a", "b"]) is None
    assert subs.join(["a"]) is None, "joining a room again costs nothing"
    failure = subs.join(["c"])
    assert isinstance(failure, Failure) and failure.code is Code.LIMIT_EXCEEDED
    subs.leave(["a"])
    assert subs.join(["c"]) is None


def test_binary_attachments_are_found_with_their_pointer() -> None:
    assert find_binary([{"pool": "P", "limit": 5}]) is None
    assert find_binary([{"pool": b"\x00"}]) == "/0/pool"
    assert find_binary([{"a/b": [1, bytearray(b"x")]}]) == "/0/a~1b/1"
    assert find_binary(b"") == "/"


def test_a_huge_client_string_is_not_echoed_back() -> None:
    failure = PoolIndex().resolve(Target(None, "x" * 1_000_000), 0.0)
    assert (
        isinstance(failure, Failure)
        and len(failure.message) < 200
        and "(1000000 characters)" in failure.message
    )
    limit = parse_limit({"limit": "9" * 10_000})
    assert isinstance(limit, Failure) and len(limit.message) < 200
    protocols = parse_protocols({"protocols": ["NYSE" * 1000] * 100})
    assert isinstance(protocols, Failure) and len(protocols.message) < 300
    assert shown("short") == "short"


def test_a_mint_trading_on_in_its_pool_is_kept_once() -> None:
    index = PoolIndex()
    for t in range(10_000):
        index.link("M", "curve", float(t))
    index.link("M", "amm", 20_000.0)
    assert index._mint_times["M"] == [0.0, 20_000.0]
    assert index.resolve(Target("M", None), 19_999.0) == "curve"


def test_acks() -> None:
    # contract §2.2: subscribe acks {ok: true, pool, room}; history {ok: true, pool, data}
    assert ack(["trades:P"], pool="P") == {"ok": True, "pool": "P", "room": "trades:P"}
    assert list(ack(["trades:P"], pool="P")) == ["ok", "pool", "room"], "members in this order"
    assert ack(pool="P") == {"ok": True, "pool": "P"}, "leaving names no room"
    joined = ack(["new_tokens:PUMPFUN", "new_tokens:BONK"], protocols=["PUMPFUN", "BONK"])
    assert joined == {"ok": True, "protocols": ["PUMPFUN", "BONK"]}, "several rooms: none named"
    assert ack(pool="P", data=[[1, 2, 3, 1, 2, 0.5]]) == {
        "ok": True,
        "pool": "P",
        "data": [[1, 2, 3, 1, 2, 0.5]],
    }
    assert ack(snapshot=None) == {"ok": True, "snapshot": None}
    assert ack() == {"ok": True}


def test_error_payloads() -> None:
    # contract §2.3: {error, message}
    assert UNAVAILABLE.payload() == {
        "error": "unavailable",
        "message": "transient backend error; safe to retry",
    }
    assert NOT_CONNECTED.payload() == {"error": "invalid_request", "message": "not connected"}
    assert unknown_event("nope").payload() == {"error": "invalid_request", "message": "unknown event 'nope'"}
    assert unknown_event("x" * 1000).message == f"unknown event '{'x' * 64}... (1000 characters)'"
    assert binary_attachment("/args/0/pool").payload() == {
        "error": "invalid_request",
        "message": "binary attachment at /args/0/pool: PumpData events carry JSON",
    }
    # contract §6.8: billing_error's payload is undocumented; this is the harness's
    assert BILLING_ERROR == {
        "error": "insufficient_balance",
        "message": "wallet balance is exhausted; top up to resume",
    }


def test_the_unavailable_fault_is_drawn_only_for_calls_that_ask_the_backend() -> None:
    draws: list[float] = []

    def draw(value: float) -> float:
        draws.append(value)
        return value

    assert unavailable("subscribe_trades", 0.5, lambda: draw(0.49)) is UNAVAILABLE
    assert unavailable("ohlcv_history", 0.5, lambda: draw(0.5)) is None, "a draw of the rate itself passes"
    assert draws == [0.49, 0.5]
    for event in ("unsubscribe_trades", "unsubscribe_sol_price", "nope"):
        assert unavailable(event, 1.0, lambda: draw(0.0)) is None
    assert unavailable("subscribe_trades", 0.0, lambda: draw(0.0)) is None, "rate 0: nothing drawn"
    assert draws == [0.49, 0.5], "no draw where no fault can be: a seed gives the same faults"
