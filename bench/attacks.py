"""The hostile benchmark's attacks: each plays one case of hostile input (issue "What was seen")
against a running server, on 127.0.0.1 only, bounded in count, and closes every socket it opened
(the benchmark bounds each in time too).

An attack is ``async (port, scale) -> Outcome``: ``unanswered`` counts the requests the server
owed an answer to and did not give (within the attack; the benchmark's time cap on the whole
attack adds one more); ``notes`` say what the attacker saw (answers, close codes, refusals,
connections the server dropped).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import os
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import socketio
import websockets

HOST = "127.0.0.1"
ANSWER_TIMEOUT = 2.0
"""Seconds an attack waits for one answer the server owes it, when it waits for it alone."""
BATCH = 100
"""Sockets opened at once (the listen backlog is 128)."""


@dataclass(frozen=True, slots=True)
class Scale:
    pools: int
    protocols: int
    big_frames: int
    unread_frames: int
    repeats: int
    silent: int
    slowloris: int
    sessions: int
    hold: float
    """Seconds idle connections are held open."""


FULL = Scale(16_000, 12_000, 40, 40, 10, 1_000, 300, 3_000, 3.0)
QUICK = Scale(1_600, 1_200, 4, 4, 1, 100, 30, 300, 0.5)


@dataclass(slots=True)
class Outcome:
    unanswered: int = 0
    notes: list[str] = field(default_factory=list)
    cut: bool = False
    """The attack was cut at its time cap: the server may still be busy with it."""


@dataclass(frozen=True, slots=True)
class Attack:
    name: str
    run: Callable[[int, Scale], Awaitable[Outcome]]


def _ws(port: int, path: str = "/data-stream") -> str:
    return f"ws://{HOST}:{port}{path}"


def _counted(counter: collections.Counter[str]) -> str:
    return ", ".join(f"{n} {what}" for what, n in counter.most_common())


async def _answer_or_close(ws: websockets.ClientConnection, timeout: float = ANSWER_TIMEOUT) -> str:
    """What the server did next: the start of its answer, its close code, or nothing."""
    try:
        text = await asyncio.wait_for(ws.recv(), timeout)
    except TimeoutError:
        return "no answer"
    except websockets.ConnectionClosed as closed:
        return "dropped without a close frame" if closed.rcvd is None else f"closed {closed.rcvd.code}"
    if isinstance(text, bytes):
        return "a binary answer"
    try:
        message = json.loads(text)
    except ValueError:
        return "a non-JSON answer"
    if isinstance(message, dict) and isinstance(message.get("error"), dict):
        return f"error {message['error'].get('code')}"
    return f"answer {str(message.get('name') if isinstance(message, dict) else message)[:40]}"


# --- oversized requests ------------------------------------------------------------------------


async def unknown_pools(port: int, scale: Scale) -> Outcome:
    """A Data Stream subscribe naming ``scale.pools`` unknown pools."""
    text = json.dumps({"type": "subscribe", "pools": [f"x{i:07d}" for i in range(scale.pools)]})
    async with websockets.connect(_ws(port), max_size=None, close_timeout=1) as ws:
        await ws.recv()  # handshake
        await ws.send(text)
        answer = await ws.recv()  # the benchmark's cap bounds the wait
    return Outcome(notes=[f"{len(text) / 1000:.0f} KB subscribe answered in {len(answer) / 1000:.0f} KB"])


async def unknown_protocols(port: int, scale: Scale) -> Outcome:
    """A Socket.IO ``subscribe_new_tokens`` naming ``scale.protocols`` unknown protocols."""
    http = aiohttp.ClientSession()
    client = socketio.AsyncClient(reconnection=False, http_session=http)
    try:
        await client.connect(
            f"http://{HOST}:{port}", transports=["websocket"], auth={"api_key": "pd_bench"}, wait_timeout=10
        )
        protocols = [f"P{i:07d}" for i in range(scale.protocols)]
        ack = await client.call("subscribe_new_tokens", {"protocols": protocols}, timeout=3600)
        return Outcome(notes=[f"ack {json.dumps(ack)[:80]}"])
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.disconnect(), 2)
        await http.close()


async def big_frames(port: int, scale: Scale) -> Outcome:
    """``scale.big_frames`` Data Stream frames of 4 MB whose ``type`` is no message type, the
    answers read."""
    text = '{"type":"' + "x" * (4_000_000 - 11) + '"}'
    answers: collections.Counter[str] = collections.Counter()
    async with websockets.connect(_ws(port), max_size=None, close_timeout=1) as ws:
        await ws.recv()  # handshake
        for _ in range(scale.big_frames):
            await ws.send(text)
        for _ in range(scale.big_frames):
            answer = await ws.recv()
            answers[f"answers of {len(answer) / 1e6:.0f} MB"] += 1
    return Outcome(notes=[_counted(answers)])


async def _raw_pair(
    port: int, *, rcvbuf: int | None = None, reset: bool = False, limit: int = 2**16
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A plain TCP connection (``rcvbuf``: a small receive buffer; ``reset``: closing it sends
    RST; ``limit``: what the reader buffers before it stops reading the socket)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (HOST, port))
        return await asyncio.open_connection(sock=sock, limit=limit)
    except BaseException:
        sock.close()
        raise


def _upgrade(port: int, path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def _frame(text: str) -> bytes:
    """A masked text frame (RFC 6455 5.2), with a zero mask so the payload goes as it is."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = bytes([0x81, 0x80 | size])
    elif size < 1 << 16:
        head = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


async def unread_frames(port: int, scale: Scale) -> Outcome:
    """A Data Stream subscriber to everything that sends ``scale.unread_frames`` frames of 3.9 MB
    (an unknown mode, which the error answer echoes) and never reads its socket."""
    reader, writer = await _raw_pair(port, rcvbuf=4096, limit=4096)
    notes = []
    try:
        writer.write(_upgrade(port, "/data-stream"))
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            return Outcome(notes=[f"upgrade refused: {head[:40]!r}"])
        # from here on, nothing is read: the reader stops at its limit and the kernel's buffer fills
        writer.write(_frame('{"type":"subscribe","mode":"all"}'))
        frame = _frame('{"type":"subscribe","mode":"' + "x" * (3_900_000 - 32) + '"}')
        sent = 0
        try:
            for _ in range(scale.unread_frames):
                writer.write(frame)
                await writer.drain()
                sent += 1
            await asyncio.sleep(scale.hold)  # the server replays to it meanwhile
        except ConnectionError:
            notes.append(f"the server dropped the connection after {sent} frames")
        else:
            notes.append(f"{sent} frames sent, connection {'closed' if writer.is_closing() else 'kept'}")
    finally:
        writer.transport.abort()
    return Outcome(notes=notes)


# --- malformed messages ------------------------------------------------------------------------

BAD_TYPES = ('{"type":["x"]}', '{"type":{}}', '{"type":"service","name":[]}')


async def bad_types(port: int, scale: Scale) -> Outcome:
    """``{"type":["x"]}``, ``{"type":{}}``, ``{"type":"service","name":[]}``, each on its own
    Data Stream connection, ``scale.repeats`` times."""
    seen: collections.Counter[str] = collections.Counter()
    for _ in range(scale.repeats):
        for text in BAD_TYPES:
            async with websockets.connect(_ws(port), max_size=None, close_timeout=1) as ws:
                await ws.recv()  # handshake
                await ws.send(text)
                seen[f"{text}: {await _answer_or_close(ws)}"] += 1
    unanswered = sum(n for what, n in seen.items() if what.endswith("no answer"))
    return Outcome(unanswered=unanswered, notes=[_counted(seen)])


async def reserved_events(port: int, scale: Scale) -> Outcome:
    """Socket.IO events named ``*``, ``connect`` and ``disconnect`` emitted with ack ids, over a
    bare Engine.IO WebSocket, ``scale.repeats`` times."""
    names = ("*", "connect", "disconnect")
    acks = collections.Counter({f"{name!r} acked": 0 for name in names})
    for _ in range(scale.repeats):
        url = _ws(port, "/socket.io/?EIO=4&transport=websocket")
        async with websockets.connect(url, max_size=None, close_timeout=1) as ws:
            await ws.recv()  # Engine.IO open
            await ws.send('40{"api_key":"pd_bench"}')
            while not str(await ws.recv()).startswith("40"):
                pass
            deadline = time.monotonic() + 0.5
            try:
                for ack_id, name in enumerate(names):
                    await ws.send(f'42{ack_id}["{name}",{{"pool":"x"}}]')
                while (left := deadline - time.monotonic()) > 0:
                    packet = str(await asyncio.wait_for(ws.recv(), left))
                    if packet == "2":
                        await ws.send("3")
                    elif packet.startswith("43"):
                        ack_id = int(packet[2 : packet.index("[")])
                        acks[f"{names[ack_id]!r} acked"] += 1
            except TimeoutError:
                pass
            except websockets.ConnectionClosed:
                acks["connections closed by the server"] += 1
    return Outcome(notes=[_counted(acks)])


async def _eio_session(http: aiohttp.ClientSession, port: int) -> str:
    """A new Engine.IO session over long-polling; its sid."""
    async with http.get(f"http://{HOST}:{port}/socket.io/?EIO=4&transport=polling") as response:
        body = await response.text()
    if response.status != 200 or not body.startswith("0"):
        raise RuntimeError(f"handshake answered {response.status} {body[:60]!r}")
    sid: str = json.loads(body[1:])["sid"]
    return sid


async def cut_post(port: int, scale: Scale) -> Outcome:
    """Long-polling POSTs that declare 999,999 bytes, send two and close, ``2 × scale.repeats``."""
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)
    unanswered = 0
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for _ in range(2 * scale.repeats):
            try:
                sid = await _eio_session(http, port)
            except (TimeoutError, aiohttp.ClientError):
                unanswered += 1
                continue
            _, writer = await _raw_pair(port, reset=True)
            writer.write(
                f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 999999\r\n\r\n40".encode()
            )
            await writer.drain()
            await asyncio.sleep(0.01)  # let the server start reading the body
            writer.transport.abort()
    return Outcome(unanswered=unanswered)


async def mid_upgrade(port: int, scale: Scale) -> Outcome:
    """WebSocket clients that send the upgrade request and leave at once (RST), to the Data
    Stream and to Socket.IO alternately, ``5 × scale.repeats``."""
    paths = ("/data-stream", "/socket.io/?EIO=4&transport=websocket")
    for i in range(5 * scale.repeats):
        _, writer = await _raw_pair(port, reset=True)
        writer.write(_upgrade(port, paths[i % 2]))
        await writer.drain()
        if i % 4 >= 2:
            await asyncio.sleep(0.005)  # sometimes while the server answers, sometimes before
        writer.transport.abort()
    return Outcome()


# --- connections and sessions held open --------------------------------------------------------


async def _open_many(port: int, count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """``count`` connections, opened ``BATCH`` at a time; those the server refused are left out."""
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def one() -> None:
        opened.append(await _raw_pair(port))

    try:
        for start in range(0, count, BATCH):
            await asyncio.gather(*(one() for _ in range(min(BATCH, count - start))), return_exceptions=True)
    except BaseException:  # cut short: what is open is closed
        _abort_all(opened)
        raise
    return opened


def _abort_all(pairs: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
    for _, writer in pairs:
        writer.transport.abort()


def _closed_by_server(pairs: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> int:
    return sum(1 for reader, writer in pairs if reader.at_eof() or writer.is_closing())


async def silent_sockets(port: int, scale: Scale) -> Outcome:
    """``scale.silent`` connections that never send a byte, held ``scale.hold`` seconds."""
    pairs = await _open_many(port, scale.silent)
    try:
        await asyncio.sleep(scale.hold)
        closed = _closed_by_server(pairs)
    finally:
        _abort_all(pairs)
    return Outcome(notes=[f"{len(pairs)} opened, {closed} closed by the server within {scale.hold:g} s"])


async def slowloris(port: int, scale: Scale) -> Outcome:
    """``scale.slowloris`` requests whose head never ends: a header line every 0.5 s for
    ``scale.hold`` seconds."""
    pairs = await _open_many(port, scale.slowloris)
    try:
        for _, writer in pairs:
            writer.write(f"GET /coins/latest HTTP/1.1\r\nHost: {HOST}:{port}\r\n".encode())
        deadline = time.monotonic() + scale.hold
        while time.monotonic() < deadline:
            await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            for _, writer in pairs:
                if not writer.is_closing():
                    writer.write(b"X-Slow: 1\r\n")
        closed = _closed_by_server(pairs)
    finally:
        _abort_all(pairs)
    return Outcome(notes=[f"{len(pairs)} opened, {closed} closed by the server within {scale.hold:g} s"])


async def idle_sessions(port: int, scale: Scale) -> Outcome:
    """``scale.sessions`` Engine.IO long-polling sessions opened and never polled."""
    answers: collections.Counter[str] = collections.Counter()
    limit = asyncio.Semaphore(50)
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)

    async def one(http: aiohttp.ClientSession) -> None:
        async with limit:
            try:
                await _eio_session(http, port)
                answers["opened"] += 1
            except RuntimeError:
                answers["refused"] += 1
            except (TimeoutError, aiohttp.ClientError):
                answers["unanswered"] += 1

    connector = aiohttp.TCPConnector(limit=50)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        await asyncio.gather(*(one(http) for _ in range(scale.sessions)))
    return Outcome(unanswered=answers["unanswered"], notes=[_counted(answers)])


# --- control calls -----------------------------------------------------------------------------

ADVANCE = "1e7"
"""Seconds asked of ``advance``."""


async def advance(port: int, scale: Scale) -> Outcome:
    """``POST /_harness/advance?seconds=1e7`` (a JSON body, as the control plane requires) on a
    looping feed; the answer is awaited as long as the benchmark's cap allows."""
    body = json.dumps({"seconds": float(ADVANCE)})
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"http://{HOST}:{port}/_harness/advance?seconds={ADVANCE}",
            data=body,
            headers={"Content-Type": "application/json"},
        ) as response:
            answer = await response.text()
    return Outcome(notes=[f"answered {response.status} {answer[:80]}"])


def attacks(scale: Scale) -> tuple[Attack, ...]:
    """Every attack, in the order run; the one that may leave the server busy for long last."""
    return (
        Attack(f"{scale.pools:,} unknown pools", unknown_pools),
        Attack(f"{scale.protocols:,} unknown protocols", unknown_protocols),
        Attack(f"{scale.big_frames} frames of 4 MB, unknown type", big_frames),
        Attack(f"{scale.unread_frames} frames of 3.9 MB, never read", unread_frames),
        Attack("type [] / {} and name []", bad_types),
        Attack("events *, connect, disconnect", reserved_events),
        Attack("polling POST cut short", cut_post),
        Attack("WebSocket left mid-upgrade", mid_upgrade),
        Attack(f"{scale.silent:,} silent sockets", silent_sockets),
        Attack(f"{scale.slowloris} slowloris requests", slowloris),
        Attack(f"{scale.sessions:,} idle Engine.IO sessions", idle_sessions),
        Attack(f"advance {ADVANCE} s on --loop", advance),
    )
