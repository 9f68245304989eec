"""``harness.strategies.feeds``: whole conversations that keep the contract, with growing times
and one connection, that ``harness.store`` writes, ``harness validate`` passes and ``harness
serve`` replays to a client as the feed shows."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import pytest
import websockets
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.core.frames import C2S, HttpExchange, SioAck, SioConnect, SioEvent, WsClose, WsOpen, WsText
from harness.server.app import MockServer
from harness.strategies import Feed, feeds
from harness.validation import Tally, validate_tape

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("api", ["corto", "pumpdata", "pumpfun"])
@SETTINGS
@given(data=st.data())
def test_a_feed_is_a_valid_tape(api: str, data: st.DataObject) -> None:
    feed: Feed = data.draw(feeds(api))
    times = [f.t for f in feed.frames]
    assert times == sorted(times) and times[0] >= 0
    assert len({f.conn for f in feed.frames}) == 1
    with tempfile.TemporaryDirectory() as tmp:
        tally = Tally()
        assert list(validate_tape(feed.write(Path(tmp) / "feed.jsonl"), tally=tally)) == []
        assert not any(name.endswith(" ?") for name in tally.messages)  # all of documented families


def test_a_request_sent_while_an_event_is_on_its_way_is_written_before_it() -> None:
    # regression, found by hypothesis: an event sent at 1.998 reaches the client at 2.001, after
    # it sent a request at 2.0 (whose answer comes at 2.003); it was written before the request
    from harness.strategies.feeds import LATENCY, corto_conversation
    from harness.synth.market import LAMPORTS, Market, launch, swap

    market = Market(1, 5.0)
    launched = launch(market, 1.0)
    trade = swap(market, launched.token, 1.998, is_buy=True, sol=LAMPORTS, wallet=market.wallets[0])
    assert trade is not None
    market.events += [launched, trade]
    frames = corto_conversation(
        market, (0.1, {"type": "subscribe", "mode": "all"}), (2.0, {"type": "current_state"})
    )
    times = [f.t for f in frames]
    assert times == sorted(times)
    around = [
        (f.t, f.direction.value, json.loads(f.data).get("txType") or json.loads(f.data).get("name"))
        for f in frames
        if isinstance(f, WsText) and 1.9 < f.t < 2.1
    ]
    assert around == [
        (2.0, "c2s", None),
        (round(1.998 + LATENCY, 6), "s2c", "buy"),
        (round(2.0 + LATENCY, 6), "s2c", "current_state"),
    ]


@SETTINGS
@given(feeds("corto"))
def test_corto_conversation_shape(feed: Feed) -> None:
    first, _, subscribe, *_ = feed.frames
    assert isinstance(first, WsOpen) and first.url == "/data-stream"
    received = feed.received()
    assert received[0]["name"] == "handshake" and received[1]["name"] == "subscription_ack"
    assert isinstance(subscribe, WsText) and json.loads(subscribe.data)["type"] == "subscribe"
    assert isinstance(feed.frames[-1], WsClose)
    events = [m for m in received if "txType" in m]
    assert all(m["pool"] == m["pool"].lower() and "." not in m["pool"] for m in events)


@SETTINGS
@given(feeds("pumpdata"))
def test_pumpdata_conversation_shape(feed: Feed) -> None:
    assert isinstance(feed.frames[0], SioConnect)
    emits = {f.ack_id: f for f in feed.frames if isinstance(f, SioEvent) and f.direction is C2S}
    acks = [f for f in feed.frames if isinstance(f, SioAck)]
    assert sorted(emits) == sorted(a.ack_id for a in acks) and emits
    assert all(a.t > emits[a.ack_id].t for a in acks)


@SETTINGS
@given(feeds("pumpfun"))
def test_pumpfun_polls_with_etags(feed: Feed) -> None:
    exchanges = [f for f in feed.frames if isinstance(f, HttpExchange)]
    assert exchanges
    etag_of: dict[str, str] = {}
    for exchange in exchanges:
        sent = exchange.request.header("If-None-Match")
        if exchange.response.status == 304:
            assert sent == exchange.response.header("ETag") == etag_of[exchange.request.url]
        else:
            assert exchange.response.status == 200 and exchange.response.header("ETag")
            etag_of[exchange.request.url] = exchange.response.header("ETag") or ""
        assert exchange.response.header("x-ratelimit-remaining") is not None


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feeds("corto", max_events=15))
def test_harness_serve_replays_a_corto_feed_to_a_client_as_the_feed_shows(feed: Feed) -> None:
    requests = [f for f in feed.frames if isinstance(f, WsText) and f.direction is C2S]
    assume(len(requests) == 1)  # a subscribe only: everything it selects follows
    expected = [m for m in feed.received() if "txType" in m]
    assume(expected)

    async def replay(path: Path) -> list[dict[str, object]]:
        async with MockServer([path], manual=True, port=0) as server:
            async with websockets.connect(server.urls["websocket"], max_size=None) as ws:
                await ws.recv()
                await ws.send(requests[0].data)
                await ws.recv()
                await server.advance(feed.frames[-1].t)
                return [json.loads(await asyncio.wait_for(ws.recv(), 2)) for _ in expected]

    with tempfile.TemporaryDirectory() as tmp:
        assert asyncio.run(replay(feed.write(Path(tmp) / "feed.jsonl"))) == expected
