"""Hostile input against a real server on 127.0.0.1, with real clients and raw sockets: what any
client sends costs the server in proportion to its size, within configured bounds, and gets the
documented error (or a clear one); nothing crashes a connection or logs a traceback, and a second
client is still served (README "Input limits")."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
import websockets

from harness.core.frames import S2C, SioEvent, WsText
from harness.core.pumpdata.config import PumpdataConfig
from harness.server.app import MockServer
from harness.server.config import InputLimits
from harness.store import dump_tape
from tests.helpers import ROOT, header

DEMO = ROOT / "fixtures" / "demo"


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer([DEMO], manual=True, port=0) as srv:
        yield srv


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What was logged with a traceback (an exception), or as an error."""
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def recv(ws: Any, timeout: float = 5.0) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def still_serving(server: MockServer) -> None:
    """A second client of the Data Stream and of REST gets its answer."""
    async with websockets.connect(server.urls["websocket"]) as ws:
        assert (await recv(ws))["name"] == "handshake"
        await ws.send('{"type":"current_state"}')
        assert (await recv(ws))["name"] == "current_state"
    async with aiohttp.ClientSession() as http, http.get(server.urls["rest"] + "/coins/latest") as r:
        assert r.status == 200


@pytest.mark.parametrize("bad", ['{"type":["x"]}', '{"type":{}}', '{"type":"service","name":[]}'])
async def test_a_name_of_the_wrong_json_type_gets_an_error_and_the_connection_stays(
    server: MockServer, bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with websockets.connect(server.urls["websocket"]) as ws:
        await recv(ws)
        await ws.send(bad)
        answer = await recv(ws)
        assert answer["name"] == "error" and answer["error"]["message"] == "Unknown message type."
        await ws.send('{"type":"current_state"}')  # the same connection goes on
        assert (await recv(ws))["name"] == "current_state"
    kept = [v for v in server.violations if v.source == "client"]
    assert len(kept) == 1 and kept[0].rule == "family" and kept[0].excerpt == bad.replace(" ", "")
    assert tracebacks(caplog) == []
    await still_serving(server)


async def test_16000_unknown_pools_are_one_violation_and_a_short_answer(server: MockServer) -> None:
    pools = [f"pool{i:06d}" for i in range(16_000)]
    async with websockets.connect(server.urls["websocket"]) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "subscribe", "pools": pools}))
        raw = await asyncio.wait_for(ws.recv(), 5)
    answer = json.loads(raw)
    assert answer["error"]["message"] == "Unknown pool."
    details = answer["error"]["details"]
    assert details["invalidPools"] == pools[:5] and details["invalidPoolsCount"] == 16_000
    assert len(raw) < 2_000, "the answer does not grow with the request"
    [violation] = [v for v in server.violations if v.source == "client"]
    assert violation.pointer == "/pools/0" and violation.message.startswith("16000 places break this rule")
    assert "/pools/0, /pools/1, /pools/2" in violation.message
    assert len(violation.excerpt) < 250 and violation.excerpt.endswith("… (cut)")
    await still_serving(server)


async def test_12000_unknown_protocols_are_one_violation_and_a_short_ack(server: MockServer) -> None:
    client = socketio.AsyncClient()
    await client.connect(server.urls["socketio"], transports=["websocket"])
    try:
        protocols = [f"P{i}" for i in range(12_000)]
        ack = await client.call("subscribe_new_tokens", {"protocols": protocols}, timeout=10)
    finally:
        await client.disconnect()
    assert ack["error"] == "invalid_request" and "(12000 in all)" in ack["message"]
    assert len(json.dumps(ack)) < 300
    [violation] = [v for v in server.violations if v.source == "client"]
    assert violation.family == "subscribe_new_tokens" and violation.message.startswith("12000 places")
    await still_serving(server)


async def test_held_violations_stay_under_their_byte_cap_and_drops_are_counted() -> None:
    limits = InputLimits(violation_bytes=20_000)
    async with MockServer([DEMO], manual=True, port=0, limits=limits) as server:
        async with websockets.connect(server.urls["websocket"]) as ws:
            await recv(ws)
            for i in range(200):
                await ws.send(json.dumps({"type": f"nope-{i}", "pad": "x" * 50_000}))
                await recv(ws)
        state = server.state()
        assert 0 < state["violation_bytes"] <= 20_000
        assert state["violations_dropped"] == 200 - state["violations"] > 0
        assert all(len(v.excerpt) <= 210 for v in server.violations)


async def test_an_oversized_data_stream_message_is_closed_1009_and_others_are_served() -> None:
    limits = InputLimits(ws_message_bytes=64 * 1024)
    async with MockServer([DEMO], manual=True, port=0, limits=limits) as server:
        async with websockets.connect(server.urls["websocket"]) as ws:
            await recv(ws)
            await ws.send(json.dumps({"type": "subscribe", "pad": "x" * 100_000}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await recv(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        await still_serving(server)


async def test_a_client_that_does_not_read_is_closed_once_its_queue_holds_too_many_bytes() -> None:
    limits = InputLimits(queue_bytes=200_000)
    async with MockServer([DEMO], manual=True, port=0, limits=limits) as server:
        async with websockets.connect(server.urls["websocket"], max_queue=1) as ws:
            await recv(ws)
            # each error answer is about 1 KB: unread, they fill 200 KB long before 10,000 messages
            for _ in range(2_000):
                await ws.send('{"type":"nope"}')
            await ws.send('{"type":"current_state"}')
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await read_until_closed(ws)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
            1013,
            "client too slow: 200000 bytes queued",
        )
        assert server.state()["apis"]["corto"]["counters"]["slow_clients_closed"] == 1
        await still_serving(server)


async def read_until_closed(ws: Any) -> None:
    for _ in range(10_000):
        await recv(ws)


async def _engineio(url: str) -> Any:
    ws = await websockets.connect(url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket")
    assert (await ws.recv()).startswith("0")
    await ws.send("40")
    assert (await ws.recv()).startswith("40")
    return ws


async def _answer(ws: Any) -> Any:
    """The next Socket.IO packet's data (an ack ``43N[...]`` or an event ``42[...]``)."""
    packet = await asyncio.wait_for(ws.recv(), 5)
    while packet == "2":  # an Engine.IO ping
        await ws.send("3")
        packet = await asyncio.wait_for(ws.recv(), 5)
    return packet[:2], json.loads(packet[packet.index("[") :])


async def test_reserved_socketio_event_names_are_refused_and_change_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = PumpdataConfig(max_subscriptions=3)
    async with MockServer([DEMO], manual=True, port=0, pumpdata=config) as server:
        ws = await _engineio(server.urls["socketio"])
        try:
            refused = []
            for n, name in enumerate(["*", "disconnect", "connect", "newListener", "connect_error"], start=1):
                await ws.send(f'42{n}["{name}",{{"protocols":["PUMPFUN"]}}]')
                refused.append(await _answer(ws))
            assert [kind for kind, _ in refused] == ["43"] * 5, "each gets its ack"
            assert all(data[0]["error"] == "invalid_request" for _, data in refused)
            assert "'*' is reserved by Socket.IO" in refused[0][1][0]["message"]
            await ws.send('42["connect",{}]')  # no ack asked: a subscription_error
            assert await _answer(ws) == (
                "42",
                [
                    "subscription_error",
                    {"error": "invalid_request", "message": "event name 'connect' is reserved by Socket.IO"},
                ],
            )
            # still connected, and --max-subscriptions still counts what it joined before
            await ws.send('426["subscribe_new_tokens",{"protocols":["PUMPFUN","PUMPSWAP","ORCA"]}]')
            assert (await _answer(ws))[1][0]["ok"] is True
            await ws.send('427["connect",{}]')
            await _answer(ws)
            await ws.send('428["subscribe_sol_price"]')
            assert (await _answer(ws))[1][0]["error"] == "limit_exceeded"
        finally:
            await ws.close()
        assert server.counters["violations"] == 7
        assert server.state()["apis"]["pumpdata"]["counters"]["reserved_events"] == 7
    assert tracebacks(caplog) == []


async def test_clients_that_leave_mid_request_log_no_traceback(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.urls["socketio"] + "/socket.io/?EIO=4&transport=polling") as r:
            sid = json.loads((await r.text())[1:])["sid"]
    # a long-polling POST that declares 999,999 bytes, sends two and leaves
    _, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: text/plain\r\nContent-Length: 999999\r\n\r\n40".encode()
    )
    await writer.drain()
    writer.close()
    # WebSocket clients that leave before their upgrade is answered
    for path in ("/data-stream", "/socket.io/?EIO=4&transport=websocket"):
        _, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        writer.close()
        await writer.wait_closed()
    await still_serving(server)  # after each was handled: they were queued first
    for _ in range(20):  # the handlers of the closed connections end in a loop pass or two
        await asyncio.sleep(0.01)
    assert tracebacks(caplog) == []


def _strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


async def test_nan_on_a_tape_is_served_as_null_and_reported(tmp_path: Path) -> None:
    trade = '{"txType":"buy","pool":"pump-fun","price":NaN,"solAmount":-Infinity}'
    frames = [
        WsText(0.5, "ws-1", S2C, trade),
        SioEvent(0.5, "sio-1", S2C, "sol_price", ({"price": math.nan, "time": 1_700_000_000},)),
    ]
    path = dump_tape(tmp_path / "nan.jsonl", header(), frames)
    assert b"NaN" in path.read_bytes()
    async with MockServer([path], manual=True, port=0, validate=False) as server:
        assert server.state()["tape_problems"] == [
            f"{path}:2: NaN or Infinity in the text frame (JSON has no such numbers): read and served as null",
            f"{path}:3: NaN or Infinity in its values (JSON has no such numbers): read and served as null",
        ]
        sio = await _engineio(server.urls["socketio"])
        async with websockets.connect(server.urls["websocket"]) as ws:
            await recv(ws)
            await ws.send('{"type":"subscribe","mode":"all"}')
            await recv(ws)
            await sio.send('421["subscribe_sol_price"]')
            await _answer(sio)
            await server.advance(1)
            event = await asyncio.wait_for(ws.recv(), 5)
            emitted = await asyncio.wait_for(sio.recv(), 5)
        await sio.close()
    assert _strict(event) == {"txType": "buy", "pool": "pump-fun", "price": None, "solAmount": None}
    assert _strict(emitted[2:]) == ["sol_price", {"price": None, "time": 1_700_000_000}]


async def test_a_socketio_client_that_does_not_read_is_bounded_in_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.server import sio_server
    from tests.helpers import until
    from tests.server.test_pumpdata_robustness import Recorder, big_tape, stalled_client, subscribed

    monkeypatch.setattr(sio_server, "EVICT_GRACE", 0.05)
    count = 3000
    tape, pool = big_tape(tmp_path / "big.jsonl", count, 0.005, 5_000)
    config = PumpdataConfig(queue_size=100_000)  # never full in packets: in bytes it is
    limits = InputLimits(queue_bytes=200_000)
    async with (
        MockServer([tape], manual=True, port=0, pumpdata=config, limits=limits, validate=False) as server,
        Recorder(server) as reader,
    ):
        await reader.client.call("subscribe_trades", {"pool": pool})
        stalled = await asyncio.to_thread(stalled_client, server, pool, False)
        try:
            await subscribed(server, 2)
            for step in range(1, 18):
                await server.advance(1.0)
                due = min(count, max(0, int((step - 1) / 0.005) + 1))
                await until(lambda due=due: len(reader.of("trade")) >= due)  # the reader keeps up
                queued = server.state()["apis"]["pumpdata"]["queued_bytes"]
                assert all(n <= 200_000 + 6_000 for n in queued.values()), queued
            counters = server.state()["apis"]["pumpdata"]["counters"]
            assert counters["slow_clients_closed"] == 1, counters
            assert len(reader.of("trade")) == count, "the reader got every event"
        finally:
            stalled.close()


async def test_memory_goes_back_to_the_system_once_a_costly_client_left(server: MockServer) -> None:
    from tests.helpers import until

    async with websockets.connect(server.urls["websocket"], max_size=None) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": ["x" * 2_000_000]}))
        await recv(ws)
    await until(lambda: server.counters["memory_trims"] == 1, what="a trim after the Data Stream client")
    client = socketio.AsyncClient()
    await client.connect(server.urls["socketio"], transports=["websocket"])
    for _ in range(3):
        await client.call("subscribe", {"pool": "p" * 900_000}, timeout=10)
    await client.disconnect()
    await until(lambda: server.counters["memory_trims"] == 2, what="a trim after the Socket.IO client")
    async with websockets.connect(server.urls["websocket"]) as ws:  # a small one: no trim
        await recv(ws)
    await still_serving(server)
    assert server.counters["memory_trims"] == 2
