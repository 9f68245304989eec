"""Fault injection, observed by real clients as a user would (manual clock): each fault kind of
each API, the counters in ``/_harness/state``, and the same plan giving the same stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import requests
import socketio
import websockets

from harness.core.fuzz import FuzzKind, FuzzPlan, ScheduledFault, generate, parse_kinds
from harness.server.app import MockServer
from tests.helpers import ROOT

DEMO = ROOT / "fixtures" / "demo"
POOL = "F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Z"
K = FuzzKind


def plan(*faults: tuple[str, int, FuzzKind, float]) -> FuzzPlan:
    return FuzzPlan(0, tuple(sorted(ScheduledFault(*f) for f in faults)))


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer([DEMO], manual=True, port=0) as srv:
        yield srv


# --- corto: what a websockets client receives ----------------------------------------------------


async def corto_stream(server: MockServer, seconds: float = 3.0, **connect: Any) -> list[Any]:
    """Subscribe to trades, let ``seconds`` of the tape pass, and collect every frame as received
    (decoded when it is JSON, else the raw text), then the close code if the server closed."""
    out: list[Any] = []
    async with websockets.connect(server.urls["websocket"], **connect) as ws:
        await ws.recv()  # handshake
        await ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
        await ws.recv()  # ack
        await server.advance(seconds)
        try:
            while True:
                text = await asyncio.wait_for(ws.recv(), 0.3)
                try:
                    out.append(json.loads(text))
                except ValueError:
                    out.append(text)
        except TimeoutError:
            pass
        except websockets.ConnectionClosed as closed:
            out.append(("closed", closed.rcvd.code if closed.rcvd else 1006))
    return out


def signatures(stream: list[Any]) -> list[str]:
    return [m["signature"] for m in stream if isinstance(m, dict) and "signature" in m]


async def test_corto_faults_as_a_client_sees_them(server: MockServer) -> None:
    clean = await corto_stream(server)
    sigs = signatures(clean)
    assert len(sigs) >= 6 and len(set(sigs)) == len(sigs)

    await server.reset()
    server.set_fuzz(plan(("corto", 0, K.DUPLICATE, 0), ("corto", 1, K.DROP, 0), ("corto", 2, K.REORDER, 0)))
    assert signatures(await corto_stream(server)) == [sigs[0], sigs[0], sigs[3], sigs[2], *sigs[4:]]

    await server.reset()
    server.set_fuzz(plan(("corto", 1, K.MALFORMED, 0)))
    got = await corto_stream(server)
    cut = got[1]
    assert isinstance(cut, str) and json.dumps(clean[1], separators=(",", ":")).startswith(cut)
    assert signatures(got) == [sigs[0], *sigs[2:]]

    await server.reset()
    server.set_fuzz(plan(("corto", 0, K.SUBSCRIPTION_ERROR, 0)))
    got = await corto_stream(server)
    assert got[0]["name"] == "error" and got[0]["error"]["code"] == "invalid_subscription"
    assert got[0]["state"]["effectiveFilter"]["mode"] == "trades"
    assert signatures(got) == sigs


async def test_corto_delay_waits_for_replay_time(server: MockServer) -> None:
    server.set_fuzz(plan(("corto", 0, K.DELAY, 5.0)))
    async with websockets.connect(server.urls["websocket"]) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
        await ws.recv()
        await server.advance(1.2)  # the first trade (t=1.119) is due, but held back 5 s
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.3)
        await server.advance(4.95)
        first = json.loads(await asyncio.wait_for(ws.recv(), 1))
        assert (
            first["txType"] in ("buy", "sell")
            and first["timestamp"] < json.loads(await ws.recv())["timestamp"]
        )
        with contextlib.suppress(TimeoutError):  # read the rest before closing
            while True:
                await asyncio.wait_for(ws.recv(), 0.2)
    assert [a["fault"] for a in server.state()["fuzz"]["applied"]] == ["corto#0:delay=5"]


@pytest.mark.parametrize("code", [1011, 1001, 4000, 1006])
async def test_corto_abrupt_close_with_its_code(server: MockServer, code: int) -> None:
    server.set_fuzz(plan(("corto", 2, K.CLOSE, code)))
    got = await corto_stream(server)
    assert len(signatures(got)) == 3  # the message it came with arrives, then the close
    assert got[-1] == ("closed", code)


async def test_corto_oversized_frame(server: MockServer) -> None:
    clean = await corto_stream(server)
    await server.reset()
    server.set_fuzz(plan(("corto", 1, K.OVERSIZED, 2 * 1024 * 1024)))
    got = await corto_stream(server, max_size=None)
    assert got == clean  # the same messages, one in a frame of 2 MiB
    # a client with websockets' default 1 MiB limit closes the connection: 1009, message too big
    await server.reset()
    async with websockets.connect(server.urls["websocket"]) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
        await ws.recv()
        await server.advance(3)
        await ws.recv()
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            await asyncio.wait_for(ws.recv(), 1)
        assert closed.value.sent is not None and closed.value.sent.code == 1009


# --- PumpData: what a python-socketio client receives --------------------------------------------


async def pumpdata_stream(server: MockServer, seconds: float = 4.0) -> tuple[list[Any], list[str]]:
    """Subscribe to a pool's trades and candles; collect (event, payload) and what else happened
    (the disconnect and its reason)."""
    got: list[Any] = []
    happened: list[str] = []
    sio = socketio.AsyncClient(reconnection=False)

    @sio.on("*")  # type: ignore[untyped-decorator]
    async def any_event(event: str, payload: Any) -> None:
        got.append((event, payload))

    @sio.event  # type: ignore[untyped-decorator]
    async def disconnect(reason: Any = None) -> None:
        happened.append(f"disconnect {reason}")

    await sio.connect(server.urls["socketio"], auth={"api_key": "pd_test"}, transports=["websocket"])
    await sio.call("subscribe_trades", {"pool": POOL})
    await sio.call("subscribe_ohlcv", {"pool": POOL})
    await server.advance(seconds)
    seen = -1
    while seen != len(got) + len(happened):  # until nothing more arrives for 0.15 s
        seen = len(got) + len(happened)
        await asyncio.sleep(0.15)
    if sio.connected:
        await sio.disconnect()
    return got, happened


async def test_pumpdata_faults_as_a_client_sees_them(server: MockServer) -> None:
    clean, _ = await pumpdata_stream(server)
    assert len(clean) >= 4
    await server.reset()
    server.set_fuzz(
        plan(
            ("pumpdata", 0, K.DUPLICATE, 0),
            ("pumpdata", 1, K.DROP, 0),
            ("pumpdata", 2, K.SUBSCRIPTION_ERROR, 0),
            ("pumpdata", 3, K.OVERSIZED, 200_000),
        )
    )
    got, _ = await pumpdata_stream(server)
    assert got[0] == got[1] == clean[0]
    assert got[2] == (
        "subscription_error",
        {"error": "unavailable", "message": "transient backend error; safe to retry"},
    )
    assert got[3] == clean[2]
    assert got[4] == clean[3]  # the same emission, in a frame of 200 kB
    assert got[5:] == clean[4:]
    assert server.counters["fuzz.pumpdata.oversized"] == 1


async def test_pumpdata_disconnect_in_mid_subscription(server: MockServer) -> None:
    clean, _ = await pumpdata_stream(server)
    await server.reset()
    server.set_fuzz(plan(("pumpdata", 1, K.DISCONNECT, 0)))
    got, happened = await pumpdata_stream(server)
    assert got == clean[:2]
    assert happened == ["disconnect server disconnect"]
    assert server.state()["apis"]["pumpdata"]["clients"] == {}  # its rooms went with it


async def test_pumpdata_malformed_emission_is_lost_and_the_stream_goes_on(server: MockServer) -> None:
    clean, _ = await pumpdata_stream(server)
    await server.reset()
    server.set_fuzz(plan(("pumpdata", 1, K.MALFORMED, 0)))
    got, happened = await pumpdata_stream(server)
    # python-socketio cannot decode the cut packet: the event never reaches a handler
    assert got == [clean[0], *clean[2:]]
    assert happened == ["disconnect client disconnect"]


# --- Pump.fun REST: what requests and aiohttp see -----------------------------------------------


async def test_a_429_storm_then_recovery(server: MockServer) -> None:
    server.set_fuzz(plan(("pumpfun", 1, K.STORM_429, 3), ("pumpfun", 5, K.HTTP_5XX, 503)))
    url = server.urls["rest"] + "/sol-price"
    seen = []
    for _ in range(7):
        response = await asyncio.to_thread(requests.get, url)
        seen.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "1"
            assert response.json()["statusCode"] == 429
    assert seen == [200, 429, 429, 429, 200, 503, 200]
    state = await asyncio.to_thread(requests.get, server.urls["control"] + "/state")
    counters = state.json()["counters"]
    assert counters["fuzz.pumpfun.429"] == 1 and counters["fuzz.pumpfun.5xx"] == 1


async def test_a_malformed_body_and_a_late_answer(server: MockServer) -> None:
    server.set_fuzz(plan(("pumpfun", 0, K.MALFORMED, 0), ("pumpfun", 1, K.DELAY, 2.5)))
    async with aiohttp.ClientSession() as http:
        url = server.urls["rest"] + "/coins/latest"
        async with http.get(url) as response:
            text = await response.text()
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        assert response.status == 200 and text.startswith('{"mint"')
        late = asyncio.ensure_future(http.get(url))
        await asyncio.sleep(0.3)
        assert not late.done()  # waits for replay time, not host time
        await server.advance(2.5)
        async with await asyncio.wait_for(late, 2) as response:
            assert (await response.json())["mint"]


# --- reproducible ---------------------------------------------------------------------------------


async def test_same_seed_same_schedule_same_stream() -> None:
    streams = []
    for _ in range(2):
        schedule = generate(11, parse_kinds("duplicate,drop,reorder,malformed,delay"), {"corto": 40}, 0.3)
        async with MockServer([DEMO], manual=True, port=0, fuzz=schedule) as srv:
            streams.append((schedule, await corto_stream(srv, 8.0), srv.state()["fuzz"]["applied"]))
    assert streams[0] == streams[1]
    assert len(streams[0][2]) >= 3
