"""corto.fun replay: events/s to 1 and 10 clients at ``--speed max``.

The server runs in a child process, the ``websockets`` clients here; each client subscribes with
``mode: all`` and counts events until it has them all. The baseline is a bare aiohttp WebSocket
handler sending the same pre-serialised frames in a loop, measured the same way. (Timing at
``--speed 1`` is ``bench_timing``.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import websockets

from bench.common import MOCK_SERVER, ROOT, Result, child_server, rate
from harness.core import base58
from harness.core.frames import S2C, Recorded, TapeHeader, WsOpen, WsText
from harness.store import TapeWriter, read_tape

_BARE = r"""
import asyncio, json, sys
from aiohttp import web, WSMsgType

FRAMES = [line.rstrip("\n") for line in open(sys.argv[1])]
PATH = sys.argv[2] if len(sys.argv) > 2 else "/data-stream"
GREETING = sys.argv[3] if len(sys.argv) > 3 else '{"type":"service","name":"handshake"}'

async def handle(request):
    ws = web.WebSocketResponse(compress=False)
    await ws.prepare(request)
    if GREETING:
        await ws.send_str(GREETING)
    msg = await ws.receive()
    if msg.type != WSMsgType.TEXT:
        return ws
    await ws.send_str('{"type":"service","name":"subscription_ack"}')
    # the client's close frame, read while sending (as the mock reads while its sender sends)
    closing = asyncio.ensure_future(ws.receive())
    try:
        while not closing.done():
            for frame in FRAMES:
                await ws.send_str(frame)
    except ConnectionError:
        pass  # the client went away mid-send
    await closing
    return ws

async def main():
    app = web.Application()
    app.router.add_get(PATH, handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def demo_events() -> list[str]:
    _, frames = read_tape(ROOT / "fixtures" / "demo" / "corto.jsonl")
    return [f.data for f in frames if isinstance(f, WsText) and f.direction is S2C and '"txType"' in f.data]


def write_tape(path: Path, events: list[str], count: int, spacing: float) -> list[str]:
    texts = []
    with TapeWriter(path, TapeHeader("2026-01-01T00:00:00Z", "bench", Recorded())) as writer:
        writer.write(WsOpen(0.0, "ws-1", "/data-stream"))
        for i in range(count):
            message = json.loads(events[i % len(events)])
            message["signature"] = message["signature"][:80] + base58.encode(i.to_bytes(5, "big"))[-8:].rjust(
                8, "1"
            )
            text = json.dumps(message, separators=(",", ":"))
            texts.append(text)
            writer.write(WsText(1.0 + i * spacing, "ws-1", S2C, text))
    return texts


async def _subscribe_all(ws: websockets.ClientConnection) -> None:
    await ws.recv()
    await ws.send('{"type":"subscribe","mode":"all"}')
    await ws.recv()


async def _clients(
    url: str,
    clients: int,
    window: float,
    opening: Callable[[websockets.ClientConnection], Awaitable[None]] = _subscribe_all,
    source: Callable[[int], dict[str, Any]] = lambda index: {},
) -> float:
    """Events/s received by ``clients`` subscribed clients together, over ``window`` seconds of
    steady state (the feed loops, so it never runs dry). ``opening`` subscribes a client to every
    event; ``source(index)`` gives client ``index`` its connect options (a local address)."""
    counts = [0] * clients
    ready = asyncio.Barrier(clients + 1)
    stop = asyncio.Event()

    async def one(index: int) -> None:
        async with websockets.connect(url, max_size=None, **source(index)) as ws:
            await opening(ws)
            await ready.wait()
            while not stop.is_set():
                await ws.recv()
                counts[index] += 1
            # Close while still reading: a client that stops reading cannot see the server's
            # close frame behind the frames in flight and would wait out its close timeout.
            closing = asyncio.create_task(ws.close())
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await ws.recv()
            await closing

    tasks = [asyncio.create_task(one(i)) for i in range(clients)]
    await ready.wait()
    await asyncio.sleep(0.2)  # warm up
    before = sum(counts)
    start = time.perf_counter()
    await asyncio.sleep(window)
    total = sum(counts) - before
    elapsed = time.perf_counter() - start
    stop.set()
    await asyncio.gather(*tasks)
    return rate(total, elapsed)


def compare(
    tape: Path,
    texts: list[str],
    quick: bool,
    target: float,
    path: str = "/data-stream",
    greeting: str | None = None,
    opening: Callable[[websockets.ClientConnection], Awaitable[None]] = _subscribe_all,
    source: Callable[[int], dict[str, Any]] = lambda index: {},
    query: str = "",
) -> list[Result]:
    """Events/s to 1 and 10 clients from the mock serving ``tape`` at ``--speed max`` (looped) and
    from the bare handler sending ``texts`` at ``path`` (after ``greeting``, when given), as rows
    whose target is ``target`` of the baseline. Clients connect to ``path`` + ``query``."""
    frames = tape.with_name("frames.txt")
    frames.write_text("\n".join(texts) + "\n")
    figures: dict[str, dict[int, float]] = {}
    options = json.dumps({"speed": "max", "loop": True})
    bare_args = [str(frames), path] + ([] if greeting is None else [greeting])
    for name, script, args in (("mock", MOCK_SERVER, [str(tape), options]), ("bare", _BARE, bare_args)):
        with child_server(script, *args) as port:
            url = f"ws://127.0.0.1:{port}{path}{query}"
            window = 1.0 if quick else 5.0
            figures[name] = {n: asyncio.run(_clients(url, n, window, opening, source)) for n in (1, 10)}
    results = []
    for n in (1, 10):
        mock, bare = figures["mock"][n], figures["bare"][n]
        results.append(
            Result(
                f"events/s to {n} client(s), speed max",
                mock,
                "events/s",
                bare,
                "bare aiohttp ws handler",
                f">= {target:.0%} of baseline",
                mock >= target * bare,
            )
        )
    return results


def run(quick: bool) -> list[Result]:
    count = 2_000 if quick else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        tape = Path(tmp) / "corto.jsonl"
        texts = write_tape(tape, demo_events(), count, 0.001)
        return compare(tape, texts, quick, 0.5)
