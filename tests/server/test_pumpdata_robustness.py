"""Hostile and slow PumpData clients: what they send never crashes the server or stalls the others.

Raw Engine.IO clients (``websockets``) send packets no Socket.IO library would; a raw TCP client
that stops reading stands for a stalled consumer. A well-behaved python-socketio client keeps
receiving its events throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
import websockets

from harness.core.corto.config import Overflow
from harness.core.pumpdata.config import PumpdataConfig
from harness.server import sio_server
from harness.server.app import MockServer
from tests.helpers import stalled_websocket, until
from tests.server.pumpdata_tape import DEMO, events, key, trade, write
from tests.server.test_pumpdata import Recorder, caught_up, emulator_of, trade_pools


def eio_url(server: MockServer) -> str:
    return server.urls["socketio"].replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


@contextlib.asynccontextmanager
async def raw_client(server: MockServer) -> AsyncIterator[Any]:
    """A WebSocket speaking Engine.IO by hand, past the server's open packet."""
    async with websockets.connect(eio_url(server), max_size=None) as ws:
        opened = await ws.recv()
        assert isinstance(opened, str) and opened.startswith("0{")
        ws.opened = json.loads(opened[1:])
        yield ws


async def answers(ws: Any, count: int = 1) -> list[str]:
    """The next ``count`` packets, or fewer when the server closes the connection."""
    got: list[str] = []
    with contextlib.suppress(websockets.ConnectionClosed):
        while len(got) < count:
            got.append(await asyncio.wait_for(ws.recv(), 5))
    return got


async def test_the_handshake_shows_the_engine_io_settings_of_the_service(server: MockServer) -> None:
    async with raw_client(server) as ws:
        # contract §2.1: pingInterval 25000, pingTimeout 20000, maxPayload 1000000
        assert {k: ws.opened[k] for k in ("pingInterval", "pingTimeout", "maxPayload")} == {
            "pingInterval": 25000,
            "pingTimeout": 20000,
            "maxPayload": 1_000_000,
        }


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer([DEMO], manual=True, port=0) as srv:
        yield srv


MALFORMED = [
    "4",  # a Socket.IO packet with no type
    "4x",  # an unknown packet type
    "42",  # an event without data
    "42[",  # JSON cut short
    '42{"pool":"x"}',  # an event that is not a list
    "42[]",  # without a name
    "42[1]",  # a name that is not a string
    "42[null]",
    '42["subscribe_trades",' + "[" * 20_000 + "]" * 20_000 + "]",  # nested deeper than the decoder goes
    '42["ohlcv_history",{"pool":"x","limit":1' + "0" * 5000 + "}]",  # an integer of 5000 digits
    '4/nope,42["x"]',  # a namespace with no packet type
    '45-["x"]',  # a binary event announcing no attachment count
    '451-["x",{"_placeholder":true,"num":5}]',  # a placeholder past the attachments
]


async def test_malformed_packets_close_only_that_client_and_are_kept_as_violations(
    server: MockServer,
) -> None:
    async with Recorder(server) as reader:
        for pool in trade_pools(server):
            await reader.client.call("subscribe_trades", {"pool": pool})
        for n, packet in enumerate(MALFORMED):
            async with raw_client(server) as ws:
                await ws.send('40{"api_key":"pd_raw"}')
                assert (await answers(ws))[0].startswith("40{")
                await ws.send(packet)
                if packet.startswith("45"):
                    await ws.send("420[]")  # taken for the attachment it waits for
                rest = await answers(ws, 2)
                assert rest == ["1"], (packet[:40], rest)  # Engine.IO close, then the socket closes
                assert ws.close_code == 1000, "closed cleanly, not dropped"
            before = len(reader.of("trade"))
            await server.advance(12)
            await caught_up(server, reader)
            assert len(reader.of("trade")) > before, f"the reader was stalled after packet {n}"
        state = server.state()["apis"]["pumpdata"]
        assert state["counters"]["malformed_packets"] == len(MALFORMED)
        assert list(state["clients"]) == [reader.client.get_sid()]
    rules = [v for v in server.violations if v.rule == "packet"]
    assert len(rules) == len(MALFORMED) and all(v.source == "client" for v in rules)
    assert "not a Socket.IO packet" in rules[0].message


async def test_frames_that_are_no_engine_io_packet_close_only_that_client_without_a_traceback(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    # python-engineio alone fails on these with a logged traceback: on an empty frame aiohttp drops
    # the connection and the session lingers until its ping times out; on an unknown type it stays
    frames = ["", "9", "x", "7abc"]
    async with Recorder(server) as reader:
        for pool in trade_pools(server):
            await reader.client.call("subscribe_trades", {"pool": pool})
        for frame in frames:
            async with raw_client(server) as ws:
                await ws.send(frame)
                assert await answers(ws, 2) == ["1"], repr(frame)  # Engine.IO close, then the socket closes
                assert ws.close_code == 1000, "closed cleanly, not dropped"
            before = len(reader.of("trade"))
            await server.advance(12)
            await caught_up(server, reader)
            assert len(reader.of("trade")) > before, f"the reader was stalled after {frame!r}"
        assert server.state()["apis"]["pumpdata"]["counters"]["malformed_packets"] == len(frames)
    messages = [v.message for v in server.violations if v.rule == "packet"]
    assert messages == [
        "not an Engine.IO packet: an empty packet",
        "not an Engine.IO packet: packet type '9'",
        "not an Engine.IO packet: packet type 'x'",
        "not an Engine.IO packet: packet type '7'",
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "nothing logged as an error"


async def test_a_polling_body_that_is_no_engine_io_payload_closes_that_session_without_a_traceback(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    import aiohttp

    bodies = ["9", "", "40\x1e", "b***", "\xff"]  # a type, empty, an empty second packet, base64, UTF-8
    polling = server.urls["socketio"] + "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        for body in bodies:
            async with http.get(polling) as opened:
                sid = json.loads((await opened.text())[1:])["sid"]
            data = body.encode("latin-1" if body == "\xff" else "utf-8")
            async with http.post(f"{polling}&sid={sid}", data=data) as posted:
                assert posted.status == 200, "answered at once, not after the client's next poll"
            async with http.get(f"{polling}&sid={sid}") as polled:
                assert polled.status == 400, "the session is closed"
    assert server.state()["apis"]["pumpdata"]["counters"]["malformed_packets"] == len(bodies)
    assert [v.message for v in server.violations if v.rule == "packet"] == [
        "not an Engine.IO packet: packet type '9'",
        "not an Engine.IO packet: an empty packet",
        "not an Engine.IO packet: an empty packet",
        "not an Engine.IO packet: a binary packet that is not base64",
        "not an Engine.IO packet: a body that is not UTF-8",
    ]
    # python-engineio still logs, once, that a closed session was polled: it would for any
    # client that polls after a server disconnect
    assert not [r for r in caplog.records if r.exc_info], "no traceback logged"


async def test_a_refused_polling_client_that_posts_again_gets_a_400_not_a_traceback(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    import aiohttp

    # python-engineio answers a POST to a session closed but not yet forgotten with a 500 and a
    # logged traceback ("Session is disconnected"); a GET to it with a 400
    refusals = [b"9", b'40{"api_key":"pd_x"}\x1e42[']  # no Engine.IO packet; no Socket.IO packet
    polling = server.urls["socketio"] + "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        for refused in refusals:
            async with http.get(polling) as opened:
                sid = json.loads((await opened.text())[1:])["sid"]
            async with http.post(f"{polling}&sid={sid}", data=refused) as posted:
                assert posted.status == 200
            async with http.post(f"{polling}&sid={sid}", data=b'42["subscribe_trades",{}]') as again:
                assert again.status == 400, refused
            async with http.get(f"{polling}&sid={sid}") as polled:
                assert polled.status == 400
    assert server.state()["apis"]["pumpdata"]["counters"]["malformed_packets"] == len(refusals)
    assert not [r for r in caplog.records if r.exc_info], "no traceback logged"


async def test_a_refused_polling_client_keeps_its_http_connection(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aiohttp

    # A long-polling client's requests share keep-alive connections with whatever else it asks
    # for: refusing it ends its session, never a TCP connection (only a WebSocket's own is
    # dropped, when it will not take its close)
    monkeypatch.setattr(sio_server, "EVICT_GRACE", 0.01)
    polling = server.urls["socketio"] + "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as http:
        async with http.get(polling) as opened:
            sid = json.loads((await opened.text())[1:])["sid"]
        async with http.post(f"{polling}&sid={sid}", data=b"9") as posted:
            assert posted.status == 200
        await until(lambda: not emulator_of(server).sio._closing, what="no drop pending")
        async with http.get(polling) as again:  # a new session, on the same connection
            assert again.status == 200
    counters = server.state()["apis"]["pumpdata"]["counters"]
    assert counters["malformed_packets"] == 1 and "connections_dropped" not in counters, counters


async def test_a_large_emit_over_long_polling_arrives_whole_and_a_body_cut_short_is_no_violation(
    server: MockServer,
) -> None:
    import aiohttp

    polling = server.urls["socketio"] + "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:

        async def session() -> str:
            async with http.get(polling) as opened:
                sid: str = json.loads((await opened.text())[1:])["sid"]
            await post(sid, b'40{"api_key":"pd_x"}')
            assert (await poll(sid)).startswith("40{")
            return sid

        async def post(sid: str, body: bytes) -> None:
            async with http.post(f"{polling}&sid={sid}", data=body) as posted:
                assert posted.status == 200

        async def poll(sid: str) -> str:
            async with http.get(f"{polling}&sid={sid}") as polled:
                return await polled.text()

        # A POST body comes in pieces (asyncio reads at most 256 KiB at a time); python-engineio
        # asks for it with one read(), which gave the first piece only: a 900 kB emit, within the
        # maxPayload the handshake shows, was refused as "not a Socket.IO packet", its client closed.
        sid = await session()
        await post(sid, b'421["subscribe_trades",{"pool":"' + b"x" * 900_000 + b'"}]')
        assert (await poll(sid)).startswith('431[{"error":"not_found"'), "answered, not closed"

        # A client that leaves in the middle of its body sent no malformed packet: its session
        # stays (as any client's that goes away) and nothing is counted or kept as a violation.
        sid = await session()
        port = int(server.urls["socketio"].rsplit(":", 1)[1])
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        body = b'42["subscribe_trades",{"pool":"' + b"x" * 1000
        head = f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
        writer.write(f"{head}Content-Length: {len(body) + 1000}\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        await post(sid, b'421["subscribe_trades",{"pool":"nope"}]')
        assert (await poll(sid)).startswith('431[{"error":"not_found"'), "the session is still open"
    assert "malformed_packets" not in server.state()["apis"]["pumpdata"]["counters"]
    assert not [v for v in server.violations if v.rule == "packet"]


async def test_an_event_before_connect_is_ignored_and_a_burst_after_it_is_answered(
    server: MockServer,
) -> None:
    pool = trade_pools(server)[0]
    async with raw_client(server) as ws:
        request = json.dumps(["subscribe_trades", {"pool": pool}])
        await ws.send(f"420{request}")  # before the namespace is connected: not seen
        await ws.send('40{"api_key":"pd_raw"}')
        await ws.send(f"421{request}")
        connected, ack = await answers(ws, 2)
        assert connected.startswith("40{") and ack == "431" + json.dumps(
            [{"ok": True, "pool": pool, "room": f"trades:{pool}"}], separators=(",", ":")
        )
        await ws.send('420["subscribe_ohlcv",{"pool":"' + pool + '"},"extra",[1,2]]')  # extra arguments
        assert json.loads((await answers(ws))[0][3:])[0]["ok"] is True


async def test_a_packet_over_the_max_payload_closes_only_that_client(server: MockServer) -> None:
    pool = trade_pools(server)[0]
    async with Recorder(server) as reader:
        await reader.client.call("subscribe_trades", {"pool": pool})
        greedy = socketio.AsyncClient(reconnection=False)
        await greedy.connect(server.urls["socketio"], transports=["websocket"])
        large = await greedy.call("subscribe_trades", {"pool": "x" * 900_000})
        assert large["error"] == "not_found" and len(large["message"]) < 200, "a long pool is not echoed back"
        await greedy.emit("subscribe_trades", {"pool": "x" * 1_100_000})
        await until(lambda: not greedy.connected, what="the greedy client is disconnected")
        await server.advance(10)
        await caught_up(server, reader)
        assert reader.of("trade") and reader.client.connected


async def test_binary_attachments_are_refused_and_a_flood_of_them_closes_the_client(
    server: MockServer,
) -> None:
    async with Recorder(server) as rec:
        answer = await rec.client.call("subscribe_trades", {"pool": b"\x00\x01binary"})
        assert answer == {
            "error": "invalid_request",
            "message": "binary attachment at /args/0/pool: PumpData events carry JSON",
        }
        await rec.client.emit("ohlcv_history", [1, b"\x02"])
        await rec.client.emit("no_such_event", b"\x03")
        await until(lambda: len(rec.of("subscription_error")) == 2)
        assert [e["message"] for e in rec.of("subscription_error")] == [
            "binary attachment at /args/0/1: PumpData events carry JSON",
            "binary attachment at /args/0: PumpData events carry JSON",
        ]
    assert [(v.family, v.pointer, v.rule) for v in server.violations] == [
        ("subscribe_trades", "/args/0/pool", "json"),
        ("ohlcv_history", "/args/0/1", "json"),
        ("", "/args/0", "json"),
    ]
    async with raw_client(server) as ws:
        await ws.send('40{"api_key":"pd_raw"}')
        await answers(ws)
        await ws.send('4550-["subscribe_trades",{"_placeholder":true,"num":0}]')
        assert await answers(ws, 2) == ["1"]
    assert server.state()["apis"]["pumpdata"]["counters"]["attachment_floods"] == 1


async def test_thousands_of_calls_from_one_client_are_all_answered_and_stall_no_one(
    server: MockServer,
) -> None:
    pools = trade_pools(server)
    async with Recorder(server) as flood, Recorder(server) as reader:
        await reader.client.call("subscribe_trades", {"pool": pools[1]})
        calls = itertools.cycle(
            [
                ("subscribe_trades", {"pool": pools[0]}),  # the same room again and again: fine
                ("subscribe_trades", {"pool": "NoSuchPool"}),  # not_found
                ("subscribe_ohlcv", {"pool": ["a list"]}),  # invalid_request
                ("subscribe_everything", {}),  # unknown event: invalid_request
                ("ohlcv_history", {"pool": pools[0], "limit": 500}),  # answered in an ack only
            ]
        )
        sent = 3000
        for _ in range(sent):
            event, payload = next(calls)
            await flood.client.emit(event, payload)
        await server.advance(30)
        due = [
            i.payload
            for t, i in emulator_of(server).feed._items
            if t <= 30 and i.room == f"trades:{pools[1]}"
        ]
        await until(lambda: len(reader.of("trade")) >= len(due))
        assert reader.of("trade") == due
        await until(lambda: len(flood.of("subscription_error")) >= sent * 3 // 5)
        errors = [e["error"] for e in flood.of("subscription_error")]
        assert sorted(set(errors)) == ["invalid_request", "not_found"]
        assert len(errors) == sent * 3 // 5
        counters = server.state()["apis"]["pumpdata"]["counters"]
        assert (
            counters["errors.not_found"] == sent // 5 and counters["errors.invalid_request"] == 2 * sent // 5
        )
        assert server.state()["apis"]["pumpdata"]["clients"][flood.client.get_sid()] == [f"trades:{pools[0]}"]


def stalled_client(server: MockServer, pool: str, upgraded: bool = False) -> socket.socket:
    """A Socket.IO client that connects, subscribes to ``pool``'s trades and then never reads again;
    ``upgraded``: it opened with long-polling and upgraded to a WebSocket, as python-socketio's
    client does by default."""
    request = "42" + json.dumps(["subscribe_trades", {"pool": pool}])
    if not upgraded:
        return stalled_websocket(eio_url(server), '40{"api_key":"pd_stalled"}', request)
    polling = server.urls["socketio"] + "/socket.io/?EIO=4&transport=polling"
    sid = json.loads(requests.get(polling, timeout=5).text[1:])["sid"]
    assert requests.post(f"{polling}&sid={sid}", data='40{"api_key":"pd_stalled"}', timeout=5).ok
    assert requests.get(f"{polling}&sid={sid}", timeout=5).text.startswith("40{")
    return stalled_websocket(f"{eio_url(server)}&sid={sid}", "2probe", "5", request)


def big_tape(path: Path, count: int, spacing: float, padding: int) -> tuple[Path, str]:
    pool, mint = key(1), key(1, 1)
    timed = [
        (1 + i * spacing, trade(i, pool, mint, 1 + i * spacing, 1e-8, 0.1, seq=i, padding="x" * padding))
        for i in range(count)
    ]
    return write(path, events("trade", timed)), pool


async def subscribed(server: MockServer, clients: int) -> None:
    rooms = lambda: server.state()["apis"]["pumpdata"]["clients"].values()  # noqa: E731
    await until(lambda: sum(map(bool, rooms())) >= clients, what=f"{clients} clients subscribed")


@pytest.mark.parametrize(
    ("overflow", "upgraded"), [(Overflow.CLOSE, False), (Overflow.DROP, False), (Overflow.CLOSE, True)]
)
async def test_a_client_that_stops_reading_is_bounded_and_stalls_no_one(
    tmp_path: Path, overflow: Overflow, upgraded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sio_server, "EVICT_GRACE", 0.05)
    count = 3000
    tape, pool = big_tape(tmp_path / "big.jsonl", count, 0.005, 5_000)
    config = PumpdataConfig(queue_size=100, overflow=overflow)
    async with (
        MockServer([tape], manual=True, port=0, pumpdata=config, validate=False) as server,
        Recorder(server) as reader,
    ):
        await reader.client.call("subscribe_trades", {"pool": pool})
        stalled = await asyncio.to_thread(stalled_client, server, pool, upgraded)
        try:
            await subscribed(server, 2)
            for step in range(1, 18):
                await server.advance(1.0)  # replay time = step
                due = min(count, max(0, int((step - 1) / 0.005) + 1))
                await until(lambda due=due: len(reader.of("trade")) >= due)  # the reader keeps up
                queued = server.state()["apis"]["pumpdata"]["queued"]
                assert all(n <= 100 for n in queued.values()), queued  # memory stays bounded
            assert [t["seq"] for t in reader.of("trade")] == list(range(count)), "every event, in order"
            counters = lambda: server.state()["apis"]["pumpdata"]["counters"]  # noqa: E731
            if overflow is Overflow.CLOSE:
                assert counters()["slow_clients_closed"] == 1, counters()
                # it read nothing, not even its disconnect: its TCP connection is dropped
                await until(lambda: counters().get("connections_dropped"), what="the stalled one dropped")
                assert counters()["connections_dropped"] == 1
                assert list(server.state()["apis"]["pumpdata"]["clients"]) == [reader.client.get_sid()]
            else:
                assert counters()["dropped_for_slow_clients"] > 0
                assert len(server.state()["apis"]["pumpdata"]["clients"]) == 2, "still connected"
        finally:
            stalled.close()


@pytest.mark.parametrize("overflow", [Overflow.CLOSE, Overflow.DROP])
async def test_at_speed_max_a_stalled_client_costs_the_others_one_wait(
    tmp_path: Path, overflow: Overflow
) -> None:
    count = 1000
    tape, pool = big_tape(tmp_path / "big.jsonl", count, 0.005, 1_000)
    config = PumpdataConfig(queue_size=1000, overflow=overflow)
    async with MockServer([tape], speed="max", loop=True, port=0, pumpdata=config, validate=False) as server:
        reader = socketio.AsyncClient()
        queue: asyncio.Queue[int] = asyncio.Queue()
        reader.on("trade", lambda t: queue.put_nowait(t["seq"]))
        await reader.connect(server.urls["socketio"], transports=["websocket"])
        await reader.call("subscribe_trades", {"pool": pool})
        stalled = await asyncio.to_thread(stalled_client, server, pool)
        try:
            got = [await asyncio.wait_for(queue.get(), 5) for _ in range(4 * count)]  # four passes
            assert all(b == (a + 1) % count for a, b in itertools.pairwise(got)), "every event, in order"
            counters = server.state()["apis"]["pumpdata"]["counters"]
            # Each wait for the stalled client would cost the reader a second (the max-mode drain
            # timeout); once it is known to be behind, batches go on at the reader's pace. Its queue's
            # byte bound may also close it before the first wait (no wait at all), as scheduling falls.
            assert counters.get("slow_client_waits", 0) <= 1, counters
        finally:
            stalled.close()
            await reader.disconnect()
