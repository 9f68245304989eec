"""What a corto tape shows of the service wins over the defaults (contract §3.3, 3.4, 6.1)."""

from __future__ import annotations

import json
from typing import Any

from harness.core.corto.config import CortoConfig, GraceOutcome
from harness.core.corto.filters import DEFAULT_POOLS
from harness.core.corto.recorded import FILTER_KEYS, Observed, Recording
from harness.core.corto.session import Close, SendJson, Session, refusal
from harness.core.frames import C2S, S2C, Frame, WsClose, WsOpen, WsText

# The repository copy of the contract: 8 pools (no pump.fun), no createDetail (contract §3.3)
REPO_POOLS = [p for p in DEFAULT_POOLS if p != "pump.fun"]
REPO_HANDSHAKE = {
    "type": "service",
    "name": "handshake",
    "state": {
        "status": "connected",
        "availablePools": REPO_POOLS,
        "availableEvents": ["create", "trade", "buy", "sell", "migration"],
        "supportedModes": ["all", "mints", "trades", "migrations", "pools"],
        "supportedMessages": ["subscribe", "unsubscribe", "current_state"],
        "effectiveFilter": {"mode": "none", "subscriptions": {}, "graceActive": True},
        "subscriptionGraceMs": 5000,
    },
}
ACK = {"type": "service", "name": "subscription_ack", "action": "subscribe", "state": {}}


def text(t: float, conn: str, message: dict[str, Any], direction: Any = S2C) -> WsText:
    return WsText(t, conn, direction, json.dumps(message))


def observe(frames: list[Frame]) -> Observed:
    recording = Recording()
    for frame in frames:
        recording.receive(frame)
    return recording.observed()


def test_no_tape_means_the_seed_service() -> None:
    observed = observe([])
    assert observed == Observed() and observed.filter_keys == FILTER_KEYS


def test_the_recorded_handshake_wins() -> None:
    observed = observe([WsOpen(0, "ws-1", "/data-stream"), text(0.01, "ws-1", REPO_HANDSHAKE)])
    assert observed.vocabulary.pools == tuple(REPO_POOLS)
    assert observed.vocabulary.events == ("create", "trade", "buy", "sell", "migration")
    assert observed.grace_ms == 5000
    assert observed.filter_keys == ("mode", "subscriptions", "graceActive"), "no createDetail shown"
    session = Session(CortoConfig(), observed, 0.0)
    assert session.handshake() == REPO_HANDSHAKE
    assert session.grace_deadline == 5.0


def test_a_close_at_the_end_of_an_unused_grace_window_is_the_outcome() -> None:
    frames: list[Frame] = [
        WsOpen(0, "ws-1", "/data-stream"),
        text(0.01, "ws-1", REPO_HANDSHAKE),
        # an invalid subscribe does not end the grace period (3.4)
        text(1.0, "ws-1", {"type": "subscribe", "mode": "everything"}, C2S),
        text(1.01, "ws-1", {"type": "service", "name": "error", "state": {}}),
        WsClose(5.02, "ws-1", S2C, 4000, "subscribe within 5000 ms"),
    ]
    observed = observe(frames)
    assert observed.grace_close == (4000, "subscribe within 5000 ms") and not observed.grace_idle
    session = Session(CortoConfig(), observed, 10.0)
    assert session.on_time(14.9) == [] and session.on_time(15.0) == [Close(4000, "subscribe within 5000 ms")]


def test_closes_that_are_not_the_grace_outcome() -> None:
    frames: list[Frame] = [
        # a subscribed connection closed by the server at the 3 s mark
        WsOpen(0, "ws-1", "/data-stream"),
        text(0.5, "ws-1", ACK),
        WsClose(3.0, "ws-1", S2C, 1011, "upstream error"),
        # a refused second connection (one per IP), closed at once
        WsOpen(10, "ws-2", "/data-stream"),
        WsClose(10.01, "ws-2", S2C, 1008, "one connection per IP"),
        # the client leaving inside the window
        WsOpen(20, "ws-3", "/data-stream"),
        WsClose(21, "ws-3", C2S, 1000, ""),
    ]
    observed = observe(frames)
    assert observed.grace_close is None and not observed.grace_idle


def test_a_connection_left_open_past_the_window_shows_an_idle_outcome() -> None:
    frames: list[Frame] = [
        WsOpen(0, "ws-1", "/data-stream"),
        text(
            0.01,
            "ws-1",
            {**REPO_HANDSHAKE, "state": {**REPO_HANDSHAKE["state"], "subscriptionGraceMs": 3000}},
        ),
        text(4.5, "ws-1", {"type": "current_state"}, C2S),
    ]
    observed = observe(frames)
    assert observed.grace_idle and observed.grace_close is None
    session = Session(CortoConfig(grace_outcome=GraceOutcome.CLOSE), observed, 0.0)
    assert session.on_time(3.0) == [] and not session.grace_active, "the tape wins over --grace-outcome close"


def test_events_come_back_from_the_recording() -> None:
    recording = Recording()
    trade = {"txType": "buy", "pool": "pump-fun", "signature": "s"}
    assert recording.receive(text(1.0, "ws-1", trade)) == trade
    assert recording.receive(text(1.1, "ws-1", {"type": "pong"})) is None
    assert recording.receive(text(1.2, "ws-1", trade, C2S)) is None, "only what the service sent"
    assert recording.receive(WsText(1.3, "ws-1", S2C, "[" * 5000)) is None


def test_how_the_service_answered_a_ping_wins() -> None:
    trade = {"txType": "buy", "pool": "pump-fun", "signature": "s"}
    ping = {"type": "ping"}
    error = {"type": "service", "name": "error", "state": {}, "error": {"code": "invalid_subscription"}}
    pong = observe(
        [
            WsOpen(0, "ws-1", "/data-stream"),
            text(15, "ws-1", ping, C2S),
            text(15, "ws-1", trade),
            text(15, "ws-1", {"type": "pong"}),
        ]
    )
    refused = observe(
        [WsOpen(0, "ws-1", "/data-stream"), text(15, "ws-1", ping, C2S), text(15, "ws-1", error)]
    )
    assert (pong.answers_ping, refused.answers_ping, observe([]).answers_ping) == (True, False, None)
    session = Session(CortoConfig(answer_ping=True), refused, 0.0)
    (out,) = session.receive_text('{"type":"ping"}', 1.0)
    assert isinstance(out, SendJson) and out.message["error"]["message"] == "Unknown message type."
    (out,) = Session(CortoConfig(answer_ping=False), pong, 0.0).receive_text('{"type":"ping"}', 1.0)
    assert isinstance(out, SendJson) and out.message == {"type": "pong"}


def test_how_the_service_refused_a_second_connection_wins() -> None:
    frames: list[Frame] = [
        WsOpen(0, "ws-1", "/data-stream"),
        text(0.01, "ws-1", REPO_HANDSHAKE),
        WsOpen(5, "ws-2", "/data-stream"),
        WsClose(5.01, "ws-2", S2C, 4429, "too many connections"),
    ]
    observed = observe(frames)
    assert observed.refusal == (4429, "too many connections") and observed.grace_close is None
    assert refusal(observed) == Close(4429, "too many connections")
    assert refusal(Observed()) == Close(1008, "one active connection per IP")
    alone = observe([WsOpen(0, "ws-1", "/data-stream"), WsClose(0.01, "ws-1", S2C, 1013, "busy")])
    assert alone.refusal is None, "no other connection was open"
