"""corto filter rules as pure functions (contract §3.2, 3.5)."""

from __future__ import annotations

import pytest

from harness.core.corto.config import CortoConfig, GraceOutcome, SubscribeMerge
from harness.core.corto.detail import Detail
from harness.core.corto.filters import (
    Filter,
    FilterError,
    Subscribe,
    Unsubscribe,
    Vocabulary,
    dotted_pool,
    filter_of,
    parse_request,
    subscribe,
    unsubscribe,
)
from harness.core.corto.session import Close, Observed, SendJson, Session

V = Vocabulary()


def sub(**message: object) -> Subscribe:
    request = parse_request({"type": "subscribe", **message}, V)
    assert isinstance(request, Subscribe), request
    return request


def test_quick_modes_expand_as_the_reference_client_does() -> None:
    assert set(filter_of(sub(mode="mints")).subscriptions) == {"create"}
    assert set(filter_of(sub(mode="trades")).subscriptions) == {"buy", "sell"}
    assert set(filter_of(sub(mode="migrations")).subscriptions) == {"migration"}
    assert set(filter_of(sub(mode="pools")).subscriptions) == {
        "createPool",
        "addLiquidity",
        "removeLiquidity",
        "burn",
    }
    assert len(filter_of(sub(mode="all")).subscriptions) == 8


def test_focused_mode_trade_alias_and_omitted_parts() -> None:
    f = filter_of(sub(events=["trade", "create"], pools=["letsbonk.fun"]))
    assert f.mode == "custom" and f.subscriptions == {
        e: frozenset({"letsbonk.fun"}) for e in ("buy", "sell", "create")
    }
    every = filter_of(sub(pools=["pump.fun"]))
    assert len(every.subscriptions) == 8, "omitted events mean all deliverable events"
    assert filter_of(sub(events=["burn"])).subscriptions == {"burn": None}, "omitted pools mean all pools"


def test_selection_maps_txtype_and_pool_names() -> None:
    f = filter_of(sub(events=["migration", "addLiquidity"], pools=["pump.swap", "meteora.damm-v2"]))
    assert f.selects({"txType": "migrate", "pool": "pump-swap"})
    assert f.selects({"txType": "add", "pool": "meteora-damm-v2"})
    assert not f.selects({"txType": "remove", "pool": "pump-swap"})
    assert not f.selects({"txType": "migrate", "pool": "raydium-cpmm"})
    assert dotted_pool("meteora-damm-v1") == "meteora.damm-v1"


@pytest.mark.parametrize(
    ("message", "text", "details"),
    [
        (
            {"type": "subscribe", "mode": "all", "events": ["create"]},
            "Do not combine mode with events or pools in the same subscription message.",
            None,
        ),
        (
            {"type": "subscribe", "mode": "everything"},
            "Unknown subscription mode.",
            {"mode": "everything", "supportedModes": list(V.modes)},
        ),
        (
            {"type": "subscribe", "events": ["swap"]},
            "Unknown event.",
            {"invalidEvents": ["swap"], "supportedEvents": list(V.events)},
        ),
        (
            {"type": "subscribe", "pools": ["pump-fun"]},
            "Unknown pool.",
            {"invalidPools": ["pump-fun"], "supportedPools": list(V.pools)},
        ),
        (
            {"type": "subscribe", "mode": "all", "create": {"detail": "wide"}},
            "Unknown create detail level.",
            {"invalidCreateDetail": "wide", "supportedCreateDetails": ["min", "mid", "full"]},
        ),
        (
            {"type": "subscribe", "events": "create"},
            "Field events must be an array of strings.",
            {"field": "events", "expected": "array of strings", "received": "string"},
        ),
        (
            {"type": "subscribe", "pools": ["pump.fun", None]},
            "Field pools must be an array of strings.",
            {"field": "pools", "expected": "array of strings", "received": "null at 1"},
        ),
        (
            {"type": "subscribe", "events": []},
            "Field events must not be empty; omit it to mean all.",
            {"field": "events", "expected": "non-empty array of strings", "received": "empty array"},
        ),
        (
            {"type": "unsubscribe", "pools": []},
            "Field pools must not be empty; omit it to mean all.",
            {"field": "pools", "expected": "non-empty array of strings", "received": "empty array"},
        ),
        (
            {"type": "subscribe", "mode": None},
            "Unknown subscription mode.",
            {"mode": None, "supportedModes": list(V.modes)},
        ),
        (
            {"type": "unsubscribe", "mode": "trades"},
            "Unsubscribe takes events and/or pools, not mode.",
            {"mode": "trades", "supportedFields": ["events", "pools"]},
        ),
        (
            ["subscribe"],
            "Messages must be JSON objects.",
            {"received": "array", "supportedMessages": list(V.messages)},
        ),
        (
            {"type": "hello"},
            "Unknown message type.",
            {"type": "hello", "supportedMessages": list(V.messages)},
        ),
    ],
)
def test_errors_name_the_bad_value_and_the_supported_ones(
    message: object, text: str, details: object
) -> None:
    error = parse_request(message, V)
    assert isinstance(error, FilterError)
    assert error.body() == {
        "code": "invalid_subscription",
        "message": text,
        **({"details": details} if details else {}),
    }


def test_second_subscribe_replace_or_merge() -> None:
    first = filter_of(sub(events=["create"], pools=["pump.fun"], create={"detail": "min"}))
    second = sub(events=["createPool"], pools=["pump.swap"])
    replaced = subscribe(first, second, SubscribeMerge.REPLACE)
    assert set(replaced.subscriptions) == {"createPool"} and replaced.detail is Detail.FULL
    merged = subscribe(first, second, SubscribeMerge.MERGE)
    assert merged.subscriptions == {"create": frozenset({"pump.fun"}), "createPool": frozenset({"pump.swap"})}
    assert merged.detail is Detail.MIN, "a merge keeps the detail unless the new subscribe names one"
    every = subscribe(merged, sub(mode="trades"), SubscribeMerge.MERGE)
    assert every.subscriptions["buy"] is None and every.selects({"txType": "buy", "pool": "bags-fm"})
    wider = subscribe(merged, sub(events=["create"]), SubscribeMerge.MERGE)
    assert wider.subscriptions["create"] is None, "every pool absorbs a pool list"
    more = subscribe(merged, sub(events=["create"], pools=["bags.fm"]), SubscribeMerge.MERGE)
    assert more.subscriptions["create"] == frozenset({"pump.fun", "bags.fm"})


def test_unsubscribe() -> None:
    f = filter_of(sub(mode="trades"))
    assert unsubscribe(f, Unsubscribe(None, None), V).mode == "none", "a bare unsubscribe clears all"
    partial = unsubscribe(f, Unsubscribe(("sell",), None), V)
    assert partial.mode == "custom" and set(partial.subscriptions) == {"buy"}
    pools = unsubscribe(f, Unsubscribe(("trade",), ("pump.fun",)), V)
    assert pools.subscriptions["buy"] == frozenset(V.pools) - {"pump.fun"}
    assert unsubscribe(f, Unsubscribe(("create",), None), V) == f, "nothing to remove: unchanged"


def test_session_grace_outcomes() -> None:
    idle = Session(CortoConfig(), Observed(), connected_at=10.0)
    assert idle.grace_deadline == 13.0 and idle.on_time(12.9) == []
    assert idle.on_time(13.0) == [] and not idle.grace_active
    closing = Session(CortoConfig(grace_outcome=GraceOutcome.CLOSE), Observed(), 0.0)
    assert closing.on_time(3.0) == [Close(1008, "no subscription within the grace period")]
    recorded = Session(CortoConfig(), Observed(grace_ms=500, grace_close=(4001, "idle")), 0.0)
    assert recorded.grace_ms == 500 and recorded.on_time(0.5) == [Close(4001, "idle")], "the tape wins"


def test_invalid_subscribe_keeps_grace_and_filter() -> None:
    session = Session(CortoConfig(), Observed(), 0.0)
    (out,) = session.receive_text('{"type":"subscribe","mode":"nope"}', 1.0)
    assert isinstance(out, SendJson) and out.message["state"]["effectiveFilter"]["graceActive"] is True
    assert session.grace_active and session.filter == Filter()
    session.receive_text('{"type":"subscribe","mode":"all"}', 2.0)
    assert not session.grace_active and session.on_time(99.0) == []


def test_malformed_json_of_any_depth_is_an_error_not_a_crash() -> None:
    session = Session(CortoConfig(), Observed(), 0.0)
    for text in ("{nope", "[" * 100_000):
        (out,) = session.receive_text(text, 1.0)
        assert isinstance(out, SendJson) and out.message["error"]["message"] == "Malformed JSON."
    assert session.grace_active and session.filter == Filter()
