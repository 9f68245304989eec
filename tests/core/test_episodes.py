"""What a tape holds, for record mode new_episodes: REST keys and first subscription requests."""

from __future__ import annotations

import json

import pytest

from harness.core.episodes import EpisodeIndex, RestKey, subscription_request
from harness.core.frames import C2S, S2C, HttpExchange, HttpRequest, HttpResponse, SioEvent, WsText


def _get(url: str, method: str = "GET", conn: str = "http-1") -> HttpExchange:
    return HttpExchange(0.0, conn, HttpRequest(method, url), HttpResponse(200))


def _ws(conn: str, message: object, direction: object = C2S) -> WsText:
    return WsText(1.0, conn, direction, json.dumps(message))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("recorded", "asked", "held"),
    [
        ("/coins/latest", "/coins/latest", True),
        ("/trades/all/M?limit=20&offset=0", "/trades/all/M?offset=0&limit=20", True),  # order aside
        ("/trades/all/M?limit=20&offset=0", "/trades/all/M?limit=21&offset=0", False),
        ("/trades/all/M?limit=20", "/trades/all/M", False),
        ("/trades/all/M", "/trades/all/M?limit=20", False),
        ("/coins/latest", "/coins/other", False),
        ("https://frontend-api-v3.pump.fun/sol-price", "/sol-price", True),  # absolute URL on the tape
        (
            "/coins?api_key=REDACTED-0123456789abcdef",
            "/coins?api_key=pd_secret",
            True,
        ),  # redacted matches any
        ("/coins?api_key=REDACTED-0123456789abcdef", "/coins", False),
        ("/c?a=REDACTED-0123456789abcdef&a=x", "/c?a=x&a=y", True),  # the exact pair first, then the secret
        ("/c?a=x&b=", "/c?b=&a=x", True),  # blank values kept
    ],
)
def test_rest_request_held_by_method_path_and_query(recorded: str, asked: str, held: bool) -> None:
    index = EpisodeIndex.of([_get(recorded)])
    assert index.holds_request("GET", asked) is held


def test_rest_method_counts() -> None:
    index = EpisodeIndex.of([_get("/coins/latest")])
    assert index.holds_request("get", "/coins/latest")
    assert not index.holds_request("POST", "/coins/latest")
    assert str(RestKey.of("get", "/x?b=2&a=1")) == "GET /x?a=1&b=2"


def test_a_connections_first_subscription_request_is_what_is_held() -> None:
    frames = [
        _ws("ws-1", {"type": "ping"}),  # not a subscription request
        _ws("ws-1", {"mode": "all", "type": "subscribe"}),
        _ws("ws-1", {"type": "subscribe", "mode": "mints"}),  # a later one does not count
        _ws("ws-2", {"type": "subscription_ack"}, S2C),  # server side never counts
    ]
    index = EpisodeIndex.of(frames)
    (api, canonical) = subscription_request(_ws("x", {"type": "subscribe", "mode": "all"}))  # type: ignore[misc]
    assert api == "corto" and index.holds_subscription(api, canonical)  # key order aside
    mints = subscription_request(_ws("x", {"type": "subscribe", "mode": "mints"}))
    assert mints is not None and not index.holds_subscription(*mints)
    assert subscription_request(_ws("x", {"type": "current_state"})) is None
    assert subscription_request(WsText(0, "x", C2S, "not json")) is None


def test_connection_ids_repeat_across_tapes() -> None:
    first = [_ws("ws-1", {"type": "subscribe", "mode": "all"})]
    second = [_ws("ws-1", {"type": "subscribe", "mode": "trades"})]
    index = EpisodeIndex.of(first, second)
    for frames in (first, second):  # the second tape's ws-1 is a connection of its own
        found = subscription_request(frames[0])
        assert found is not None and index.holds_subscription(*found)


def test_pumpdata_subscriptions_are_emits_by_name_and_payload() -> None:
    emit = SioEvent(0.0, "sio-1", C2S, "subscribe_trades", ({"pool": "P"},), ack_id=1)
    index = EpisodeIndex.of([SioEvent(0.0, "sio-1", C2S, "unsubscribe", ({"pool": "P"},)), emit])
    same = subscription_request(SioEvent(3.0, "sio-9", C2S, "subscribe_trades", ({"pool": "P"},), ack_id=4))
    other = subscription_request(SioEvent(3.0, "sio-9", C2S, "subscribe_trades", ({"pool": "Q"},)))
    assert same is not None and index.holds_subscription(*same)  # ack ids do not matter
    assert other is not None and not index.holds_subscription(*other)
    assert subscription_request(SioEvent(0.0, "s", C2S, "ohlcv_history", ({"pool": "P"},))) is not None
    assert subscription_request(SioEvent(0.0, "s", S2C, "trade", ({},))) is None
    assert subscription_request(SioEvent(0.0, "s", C2S, "subscribe_sol_price", ())) is not None
    assert subscription_request(SioEvent(0.0, "s", C2S, "unsubscribe_trades", ({"pool": "P"},))) is None
