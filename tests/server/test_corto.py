"""The corto.fun Data Stream emulation, observed by real ``websockets`` clients (manual clock)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websockets

from harness.core.corto.config import CortoConfig, GraceOutcome, Overflow, SubscribeMerge
from harness.core.corto.detail import MID_KEYS, MIN_KEYS
from harness.core.frames import S2C, WsOpen, WsText
from harness.server.app import MockServer
from harness.store import dump_tape, read_tape
from tests.helpers import ROOT, SEEDS, header, seed_json_blocks, stalled_websocket

DEMO = ROOT / "fixtures" / "demo" / "corto.jsonl"
SEED = seed_json_blocks("004_3ab254ca4706ad7f.txt")
REQUESTS, HANDSHAKE, ACK, CURRENT, ERROR = SEED[:5], SEED[5], SEED[6], SEED[7], SEED[8]


def demo_events() -> list[dict[str, Any]]:
    _, frames = read_tape(DEMO)
    out = []
    for frame in frames:
        if isinstance(frame, WsText) and frame.direction is S2C:
            message = json.loads(frame.data)
            if "txType" in message:
                out.append(message)
    return out


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer([DEMO], manual=True, port=0) as srv:
        yield srv


async def recv(ws: Any, timeout: float = 2.0) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def drain(ws: Any) -> list[dict[str, Any]]:
    """Everything the server sent until it goes quiet."""
    out = []
    while True:
        try:
            out.append(json.loads(await asyncio.wait_for(ws.recv(), 0.3)))
        except TimeoutError:
            return out


async def test_handshake_is_the_recorded_one(server: MockServer) -> None:
    async with websockets.connect(server.urls["websocket"]) as ws:
        assert await recv(ws) == HANDSHAKE


def seed_request_texts() -> list[str]:
    """The seed's request examples as the page prints them, character for character."""
    lines = (SEEDS / "004_3ab254ca4706ad7f.txt").read_text().splitlines()
    texts, current = [], None
    for line in lines[: lines.index("System messages")]:
        if line == "{":
            current = [line]
        elif current is not None:
            current.append(line)
            if line == "}":
                texts.append("\n".join(current))
                current = None
    return texts


def documented(example: dict[str, Any], effective: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    """A seed system-message example with another effectiveFilter (and envelope fields)."""
    return {**example, **envelope, "state": {**example["state"], "effectiveFilter": effective}}


def custom(subscriptions: dict[str, list[str]], detail: str) -> dict[str, Any]:
    return {"mode": "custom", "subscriptions": subscriptions, "createDetail": detail, "graceActive": False}


def quick(mode: str, detail: str) -> dict[str, Any]:
    return {"mode": mode, "subscriptions": {}, "createDetail": detail, "graceActive": False}


async def test_seed_requests_verbatim_get_the_documented_answers(server: MockServer) -> None:
    texts = seed_request_texts()
    assert [json.loads(t) for t in texts] == REQUESTS
    bonk = ["letsbonk.fun"]
    answers = [
        # quick mode: the subscription_ack example, with the default detail
        documented(ACK, quick("all", "full")),
        # quick mode + create detail
        documented(ACK, quick("mints", "mid")),
        # focused mode: trade is buy + sell (3.2), a second subscribe replaces the filter (README)
        documented(ACK, custom({"create": bonk, "buy": bonk, "sell": bonk}, "min")),
        # unsubscribe trade on letsbonk.fun
        documented(ACK, custom({"create": bonk}, "min"), action="unsubscribe"),
        # current_state: the current_state example's envelope, with this filter
        documented(CURRENT, custom({"create": bonk}, "min")),
    ]
    async with websockets.connect(server.urls["websocket"]) as ws:
        assert await recv(ws) == HANDSHAKE
        for text, answer in zip(texts, answers, strict=True):
            await ws.send(text)
            assert await recv(ws) == answer, text
        # the subscription_ack example itself: mode all with detail mid
        assert await recv_after(ws, {"type": "subscribe", "mode": "all", "create": {"detail": "mid"}}) == ACK
    assert not server.violations


async def test_without_a_recorded_handshake_the_seed_one_is_sent(pumpfun_tape_path: Path) -> None:
    async with (
        MockServer([pumpfun_tape_path], manual=True, port=0) as server,
        websockets.connect(server.urls["websocket"]) as ws,
    ):
        assert await recv(ws) == HANDSHAKE


async def recv_after(ws: Any, message: dict[str, Any]) -> Any:
    await ws.send(json.dumps(message))
    return await recv(ws)


async def test_the_wide_error_comes_back_exactly_as_documented(server: MockServer) -> None:
    async with websockets.connect(server.urls["websocket"]) as ws:
        await recv(ws)
        assert (
            await recv_after(ws, {"type": "subscribe", "mode": "all", "create": {"detail": "wide"}}) == ERROR
        )
    (violation,) = server.violations
    assert (violation.source, violation.family, violation.pointer, violation.rule) == (
        "client",
        "request.subscribe",
        "/create/detail",
        "enum",
    )


async def test_the_seed_current_state_with_merging_subscribes() -> None:
    async with (
        MockServer(
            [DEMO], manual=True, port=0, corto=CortoConfig(subscribe_merge=SubscribeMerge.MERGE)
        ) as server,
        websockets.connect(server.urls["websocket"]) as ws,
    ):
        await recv(ws)
        await recv_after(
            ws,
            {
                "type": "subscribe",
                "events": ["create"],
                "pools": ["bags.fm", "letsbonk.fun", "pump.fun"],
                "create": {"detail": "min"},
            },
        )
        await recv_after(
            ws, {"type": "subscribe", "events": ["createPool"], "pools": ["bags.fm", "pump.swap"]}
        )
        assert await recv_after(ws, {"type": "current_state"}) == CURRENT


@pytest.mark.parametrize(
    ("send", "message"),
    [
        ("{not json", "Malformed JSON."),
        ('{"type":"subscribe","mode":NaN}', "Malformed JSON."),
        ("[" * 50_000 + "]" * 50_000, "Malformed JSON."),
        ("[" * 100_000, "Malformed JSON."),
        (b"\x00\x01", "Binary frames are not supported; send JSON text."),
        ('{"type":"subscribe","events":"trade"}', "Field events must be an array of strings."),
        ('{"type":"subscribe","mode":7}', "Unknown subscription mode."),
        (
            '{"type":"subscribe","mode":"all","pools":["pump.fun"]}',
            "Do not combine mode with events or pools in the same subscription message.",
        ),
        ('{"type":"subscribe","events":["swap"]}', "Unknown event."),
        ('{"type":"subscribe","pools":["pump-fun"]}', "Unknown pool."),
        ('{"type":"subscribe","events":[]}', "Field events must not be empty; omit it to mean all."),
        ('{"type":"unsubscribe","mode":"trades"}', "Unsubscribe takes events and/or pools, not mode."),
        ('{"type":"resubscribe"}', "Unknown message type."),
        ("[1, 2]", "Messages must be JSON objects."),
    ],
)
async def test_bad_requests_get_an_error_and_change_nothing(
    server: MockServer, send: str | bytes, message: str
) -> None:
    async with websockets.connect(server.urls["websocket"]) as ws:
        await recv(ws)
        await recv_after(ws, {"type": "subscribe", "mode": "trades"})
        await ws.send(send)
        error = await recv(ws)
        assert error["name"] == "error" and error["error"]["code"] == "invalid_subscription"
        assert error["error"]["message"] == message
        state = await recv_after(ws, {"type": "current_state"})
        assert state["state"]["effectiveFilter"]["mode"] == "trades", (
            "the filter is unchanged, the connection open"
        )


async def test_ping_pong(server: MockServer) -> None:
    async with websockets.connect(server.urls["websocket"]) as ws:
        await recv(ws)
        assert await recv_after(ws, {"type": "ping"}) == {"type": "pong"}


async def test_events_follow_the_filter_and_detail(server: MockServer) -> None:
    events = demo_events()
    async with (
        websockets.connect(server.urls["websocket"]) as trades,
        websockets.connect(server.urls["websocket"]) as mints,
    ):
        await recv(trades), await recv(mints)
        await recv_after(trades, {"type": "subscribe", "events": ["trade"], "pools": ["letsbonk.fun"]})
        await recv_after(mints, {"type": "subscribe", "mode": "mints", "create": {"detail": "min"}})
        await server.advance(200)
        got_trades, got_mints = await drain(trades), await drain(mints)
    want_trades = [e for e in events if e["txType"] in ("buy", "sell") and e["pool"] == "letsbonk-fun"]
    assert got_trades == want_trades and want_trades
    want_mints = [{k: v for k, v in e.items() if k in MIN_KEYS} for e in events if e["txType"] == "create"]
    assert got_mints == want_mints and all(len(m) == 13 for m in got_mints)


async def test_events_arrive_under_the_replay_clock(server: MockServer) -> None:
    async with websockets.connect(server.urls["websocket"]) as ws:
        await recv(ws)
        await recv_after(ws, {"type": "subscribe", "mode": "all"})
        assert await drain(ws) == []
        await server.advance(10)
        first = await drain(ws)
        await server.advance(10)
        second = await drain(ws)
    assert first and second
    assert max(e["timestamp"] for e in first) < min(e["timestamp"] for e in second)


async def test_grace_period_idle_by_default(server: MockServer) -> None:
    async with websockets.connect(server.urls["websocket"]) as ws:
        assert (await recv(ws))["state"]["effectiveFilter"]["graceActive"] is True
        await server.advance(3.5)
        state = await recv_after(ws, {"type": "current_state"})
        assert (
            state["state"]["effectiveFilter"]["graceActive"] is False
            and state["state"]["effectiveFilter"]["mode"] == "none"
        )


async def test_grace_period_close_outcome() -> None:
    config = CortoConfig(grace_outcome=GraceOutcome.CLOSE)
    async with MockServer([DEMO], manual=True, port=0, corto=config) as server:
        async with (
            websockets.connect(server.urls["websocket"]) as idle,
            websockets.connect(server.urls["websocket"]) as busy,
        ):
            await recv(idle), await recv(busy)
            await server.advance(2.9)
            await recv_after(busy, {"type": "subscribe", "mode": "migrations"})
            await server.advance(0.2)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await recv(idle)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert (await recv_after(busy, {"type": "ping"})) == {"type": "pong"}, "a subscribed client stays"


async def test_one_connection_per_ip_when_asked() -> None:
    async with (
        MockServer([DEMO], manual=True, port=0, corto=CortoConfig(one_connection_per_ip=True)) as server,
        websockets.connect(server.urls["websocket"]) as first,
    ):
        await recv(first)
        async with websockets.connect(server.urls["websocket"]) as second:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await recv(second)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert (await recv_after(first, {"type": "ping"})) == {"type": "pong"}


def fifty_filters() -> list[dict[str, Any]]:
    """Fifty different subscribe requests: quick and focused, with every create detail level."""
    modes = ("all", "mints", "trades", "migrations", "pools")
    events = (["buy"], ["sell"], ["trade", "create"], ["migration", "createPool", "addLiquidity"], None)
    pools = (["pump.fun"], ["letsbonk.fun"], ["pump.fun", "pump.swap"], None)
    requests: list[dict[str, Any]] = [{"mode": m} for m in modes]
    requests += [
        {k: v for k, v in (("events", e), ("pools", p)) if v is not None}
        for e in events
        for p in pools
        if e is not None or p is not None
    ]
    details = [{"create": {"detail": d}} for d in ("min", "mid", "full")]
    filters = [{"type": "subscribe", **r} for r in requests]
    filters += [{"type": "subscribe", **r, **d} for r in requests for d in details]
    return filters[:50]


async def test_fifty_clients_with_different_filters_each_get_their_own_stream(server: MockServer) -> None:
    filters = fifty_filters()
    assert len({json.dumps(f) for f in filters}) == 50
    clients = [await websockets.connect(server.urls["websocket"]) for _ in filters]
    try:
        for ws, f in zip(clients, filters, strict=True):
            await recv(ws)
            await recv_after(ws, f)
        await server.advance(200)
        results = await asyncio.gather(*(drain(ws) for ws in clients))
    finally:
        for ws in clients:
            await ws.close()
    for f, got in zip(filters, results, strict=True):
        assert got == selected(f, demo_events()), f


def selected(request: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events ``request`` selects, in order, creates cut to its detail level."""
    detail = request.get("create", {}).get("detail", "full")
    keep = {"min": set(MIN_KEYS), "mid": set(MID_KEYS)}.get(detail)
    return [
        {k: v for k, v in e.items() if k in keep} if keep and e["txType"] == "create" else e
        for e in events
        if oracle(request, e)
    ]


QUICK = {
    "all": None,
    "mints": {"create"},
    "trades": {"buy", "sell"},
    "migrations": {"migrate"},
    "pools": {"createPool", "add", "remove", "burn"},
}
SUB_TO_TX = {
    "create": {"create"},
    "trade": {"buy", "sell"},
    "buy": {"buy"},
    "sell": {"sell"},
    "migration": {"migrate"},
    "createPool": {"createPool"},
    "addLiquidity": {"add"},
    "removeLiquidity": {"remove"},
    "burn": {"burn"},
}


def oracle(request: dict[str, Any], event: dict[str, Any]) -> bool:
    """What contract §3.2/3.5 say a filter selects, written independently of the core."""
    if "mode" in request:
        wanted = QUICK[request["mode"]]
        return wanted is None or event["txType"] in wanted
    tx = set().union(*(SUB_TO_TX[e] for e in request.get("events", SUB_TO_TX)))
    pools = request.get("pools")
    return event["txType"] in tx and (pools is None or event["pool"].replace("-", ".", 1) in pools)


def stalled_client(url: str) -> Any:
    """A WebSocket client that subscribes to everything and then never reads again."""
    return stalled_websocket(url, json.dumps({"type": "subscribe", "mode": "all"}))


async def test_a_client_that_stops_reading_does_not_stall_the_others(tmp_path: Path) -> None:
    event = demo_events()[1]
    count = 3000
    frames = [WsOpen(0, "ws-1", "/data-stream")] + [
        WsText(1 + i * 0.005, "ws-1", S2C, json.dumps({**event, "n": i, "padding": "x" * 5_000}))
        for i in range(count)
    ]
    tape = dump_tape(tmp_path / "big.jsonl", header(), frames)
    config = CortoConfig(queue_size=100, overflow=Overflow.CLOSE)
    async with MockServer([tape], manual=True, port=0, corto=config, validate=False) as server:
        stalled = await asyncio.to_thread(stalled_client, server.urls["websocket"])
        reader = await websockets.connect(server.urls["websocket"], max_size=None)
        try:
            await recv(reader)
            await recv_after(reader, {"type": "subscribe", "mode": "all"})
            received = 0
            for step in range(1, 18):
                await server.advance(1.0)  # replay time = step
                due = min(count, max(0, int((step - 1) / 0.005) + 1))
                while received < due:  # the reading client keeps up, step by step
                    await asyncio.wait_for(reader.recv(), 5)
                    received += 1
            assert received == count, "the reading client got every event"
            counters = server.state()["apis"]["corto"]["counters"]
            assert counters.get("slow_clients_closed") == 1, counters
            assert [c["conn"] for c in server.state()["apis"]["corto"]["clients"]] == ["ws-2"], (
                "the stalled one is gone"
            )
        finally:
            stalled.close()
            await reader.close()


async def test_loop_restarts_the_feed(tmp_path: Path) -> None:
    frames = [WsOpen(0, "ws-1", "/data-stream")] + [
        WsText(1.0 + i, "ws-1", S2C, json.dumps({**demo_events()[1], "n": i})) for i in range(3)
    ]
    tape = dump_tape(tmp_path / "short.jsonl", header(), frames)
    async with MockServer([tape], manual=True, port=0, loop=True) as server:
        async with websockets.connect(server.urls["websocket"]) as ws:
            await recv(ws)
            await recv_after(ws, {"type": "subscribe", "mode": "trades"})
            await server.advance(10)  # the tape lasts 3 s (+1 s gap): two and a half passes
            got = [e["n"] for e in await drain(ws)]
    assert got == [0, 1, 2, 0, 1, 2, 0, 1]


async def test_a_recorded_handshake_wins(tmp_path: Path) -> None:
    from tests.core.corto.test_recorded import REPO_HANDSHAKE, REPO_POOLS

    frames = [
        WsOpen(0, "ws-1", "/data-stream"),
        WsText(0.01, "ws-1", S2C, json.dumps(REPO_HANDSHAKE)),
        WsText(6.0, "ws-1", S2C, json.dumps({**demo_events()[1], "pool": "pump-fun"})),
    ]
    tape = dump_tape(tmp_path / "repo.jsonl", header(), frames)
    config = CortoConfig(grace_outcome=GraceOutcome.CLOSE)
    async with (
        MockServer([tape], manual=True, port=0, corto=config) as server,
        websockets.connect(server.urls["websocket"]) as late,
        websockets.connect(server.urls["websocket"]) as ws,
    ):
        assert await recv(late) == REPO_HANDSHAKE == await recv(ws)
        error = await recv_after(ws, {"type": "subscribe", "pools": ["pump.fun"]})
        assert error["error"]["details"] == {"invalidPools": ["pump.fun"], "supportedPools": REPO_POOLS}
        ack = await recv_after(ws, {"type": "subscribe", "mode": "trades", "create": {"detail": "min"}})
        assert ack["state"]["effectiveFilter"] == {
            "mode": "trades",
            "subscriptions": {},
            "graceActive": False,
        }
        await server.advance(4.9)
        assert await recv_after(late, {"type": "ping"}) == {"type": "pong"}, "5000 ms of grace, not 3000"
        await server.advance(0.1)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await recv(late)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert not server.violations


async def test_what_breaks_the_contract_is_kept_as_a_violation(tmp_path: Path) -> None:
    # a recorded handshake whose status breaks the schema: so does every handshake replayed from it
    state = {**HANDSHAKE["state"], "status": "ready"}
    frames = [
        WsOpen(0, "ws-1", "/data-stream"),
        WsText(0.01, "ws-1", S2C, json.dumps({**HANDSHAKE, "state": state})),
    ]
    tape = dump_tape(tmp_path / "drift.jsonl", header(), frames)
    async with MockServer([tape], manual=True, port=0) as server:
        async with websockets.connect(server.urls["websocket"]) as ws:
            await recv(ws)
            await ws.send(b"\x00\x01\x02")
            assert (await recv(ws))["name"] == "error"
        seen = {(v.source, v.family, v.rule) for v in server.violations}
    assert ("server", "handshake", "const") in seen, seen
    assert ("client", "", "json") in seen, seen


async def test_a_tape_event_that_breaks_the_contract_is_reported_once_a_run(tmp_path: Path) -> None:
    """Checked once however many clients get it, and again after a reset (the plugin's next test)."""
    trade = next(e for e in demo_events() if e["txType"] in ("buy", "sell"))
    broken = {k: v for k, v in trade.items() if k != "signature"}
    frames = [WsOpen(0, "ws-1", "/data-stream"), WsText(1.0, "ws-1", S2C, json.dumps(broken))]
    tape = dump_tape(tmp_path / "broken.jsonl", header(), frames)
    async with MockServer([tape], manual=True, port=0) as server:
        for _ in range(2):
            async with (
                websockets.connect(server.urls["websocket"]) as a,
                websockets.connect(server.urls["websocket"]) as b,
            ):
                for ws in (a, b):
                    await recv(ws)
                    await recv_after(ws, {"type": "subscribe", "mode": "trades"})
                await server.advance(2)
                assert [(await recv(ws))["mint"] for ws in (a, b)] == [trade["mint"]] * 2
            seen = [(v.source, v.family, v.pointer, v.rule) for v in server.violations]
            assert seen == [("server", "trade", "/signature", "required")]
            await server.reset()


@pytest.mark.parametrize("overflow", [Overflow.DROP, Overflow.CLOSE])
async def test_at_speed_max_a_stalled_client_costs_the_others_one_wait(
    tmp_path: Path, overflow: Overflow
) -> None:
    event = demo_events()[1]
    count = 1000
    frames = [WsOpen(0, "ws-1", "/data-stream")] + [
        WsText(1 + i * 0.005, "ws-1", S2C, json.dumps({**event, "n": i, "padding": "x" * 1_000}))
        for i in range(count)
    ]
    tape = dump_tape(tmp_path / "big.jsonl", header(), frames)
    config = CortoConfig(queue_size=1000, overflow=overflow)
    async with (
        MockServer([tape], speed="max", loop=True, port=0, corto=config, validate=False) as server,
        websockets.connect(server.urls["websocket"], max_size=None) as reader,
    ):
        await recv(reader)
        await recv_after(reader, {"type": "subscribe", "mode": "all"})

        async def read(n: int) -> list[int]:
            return [json.loads(await asyncio.wait_for(reader.recv(), 5))["n"] for _ in range(n)]

        reading = asyncio.create_task(read(8 * count))  # the looping feed: eight passes
        stalled = await asyncio.to_thread(stalled_client, server.urls["websocket"])
        try:
            got = await reading
            assert all(b == (a + 1) % count for a, b in itertools.pairwise(got)), "every event, in order"
            corto = server.state()["apis"]["corto"]
            # Each wait for the stalled client would cost the reader a second (the max-mode drain
            # timeout); once it is known to be behind, batches go on at the reader's pace.
            assert corto["counters"]["slow_client_waits"] == 1, corto["counters"]
            if overflow is Overflow.DROP:
                assert corto["counters"]["dropped_for_slow_clients"] > 0
                assert len(corto["clients"]) == 2, "dropping messages keeps the stalled client connected"
            else:
                assert corto["counters"]["slow_clients_closed"] == 1
        finally:
            stalled.close()
            # the feed loops on: close while still reading, or the close frame waits behind it
            closing = asyncio.create_task(reader.close())
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await reader.recv()
            await closing


async def test_harness_serve_options_for_the_data_stream(tmp_path: Path, pumpfun_tape_path: Path) -> None:
    from tests.cli.test_serve import _start, _wait_for

    ready = tmp_path / "ready.json"
    proc = _start(
        str(pumpfun_tape_path),
        *("--port", "0", "--manual", "--ready-file", str(ready), "--grace-ms", "200"),
        *("--grace-outcome", "close", "--ping-answer", "error", "--one-connection-per-ip"),
        *("--subscribe-merge", "merge"),
    )
    try:
        urls = await asyncio.to_thread(_wait_for, ready, proc)
        async with websockets.connect(urls["websocket"]) as idle:
            assert (await recv(idle))["state"]["subscriptionGraceMs"] == 200
            assert (await recv_after(idle, {"type": "ping"}))["error"]["message"] == "Unknown message type."
            advance = urls["control"] + "/advance"
            await asyncio.to_thread(requests.post, advance, json={"seconds": 0.2}, timeout=5)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await recv(idle)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        async with websockets.connect(urls["websocket"]) as ws:  # the first one has left
            await recv(ws)
            await recv_after(ws, {"type": "subscribe", "mode": "mints"})
            ack = await recv_after(ws, {"type": "subscribe", "mode": "trades"})
            assert set(ack["state"]["effectiveFilter"]["subscriptions"]) == {"create", "buy", "sell"}
            async with websockets.connect(urls["websocket"]) as second:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await recv(second)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err, err


async def test_violation_texts_show_a_clients_secrets_redacted(server: MockServer) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2aW9sYXRpb24ifQ.c2lnLXZpb2xhdGlvbg"
    async with websockets.connect(server.urls["websocket"]) as ws:
        await recv(ws)
        wide = {"type": "subscribe", "mode": "all", "apiKey": "vk-Sec-1", "create": {"detail": "wide"}}
        assert await recv_after(ws, wide) == ERROR
        assert (await recv_after(ws, {"type": "subscribe", "mode": jwt}))["name"] == "error"
    assert len(server.violations) >= 2
    listed = await asyncio.to_thread(requests.get, server.urls["control"] + "/violations", timeout=10)
    for text in (repr(server.violations), listed.text):
        assert "vk-Sec-1" not in text and jwt not in text
    assert any("REDACTED" in v.excerpt for v in server.violations)
    assert any(v.pointer == "/mode" and "REDACTED" in v.message for v in server.violations)
