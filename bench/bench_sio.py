"""PumpData replay: ``trade`` events/s to one python-socketio client at ``--speed max``, against a
bare python-socketio server emitting the same payloads, in the same run.

Both servers run in child processes (a core each when there are two); the client runs here and
counts ``trade`` events over a window, after a short warm-up. The mock serves a looping tape of
2000 trades of one pool (so it never runs dry, and builds that pool's candles as it goes) with its
defaults (validation on); the bare server answers ``subscribe_trades`` with ``{ok: true}`` and
emits the same payloads, one ``emit`` after another, while the client is connected. The two are
measured in alternating windows and each figure is the median of its windows, so load from other
processes falls on both alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import socketio

from bench.common import MOCK_SERVER, ROOT, Result, child_server, rate
from harness.core.frames import S2C, Recorded, SioEvent, TapeHeader
from harness.store import TapeWriter, read_tape

_BARE = r"""
import asyncio, json, sys
import socketio
from aiohttp import web

PAYLOADS = [json.loads(line) for line in open(sys.argv[1])]
sio = socketio.AsyncServer(async_mode="aiohttp")

@sio.on("subscribe_trades")
async def subscribe(sid, data):
    async def pump():
        while sio.manager.is_connected(sid, "/"):
            for payload in PAYLOADS:
                await sio.emit("trade", payload, to=sid)
    sio.start_background_task(pump)
    return {"ok": True}

async def main():
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

TRADES = 2000


def demo_trades() -> list[dict[str, object]]:
    _, frames = read_tape(ROOT / "fixtures" / "demo" / "pumpdata.jsonl")
    return [f.args[0] for f in frames if isinstance(f, SioEvent) and f.name == "trade"]


async def _window(port: int, pool: str, seconds: float) -> float:
    """trade events/s one client receives over ``seconds``, after a warm-up."""
    client = socketio.AsyncClient()
    count = 0

    def on_trade(data: object) -> None:
        nonlocal count
        count += 1

    client.on("trade", on_trade)
    await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
    await client.call("subscribe_trades", {"pool": pool})
    await asyncio.sleep(0.2)
    before, start = count, time.perf_counter()
    await asyncio.sleep(seconds)
    result = rate(count - before, time.perf_counter() - start)
    await client.disconnect()
    return result


def run(quick: bool) -> list[Result]:
    trades = demo_trades()
    pool = str(trades[0]["pool"])
    payloads = [dict(trades[i % len(trades)], pool=pool, n=i) for i in range(TRADES)]
    rounds, window = (2, 0.5) if quick else (5, 1.0)
    figures: dict[str, list[float]] = {"mock": [], "bare": []}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        tape = Path(tmp) / "sio.jsonl"
        with TapeWriter(tape, TapeHeader("2026-01-01T00:00:00Z", "bench", Recorded())) as writer:
            for i, payload in enumerate(payloads):
                writer.write(SioEvent(1 + i * 0.001, "sio-1", S2C, "trade", (payload,)))
        lines = Path(tmp) / "payloads.jsonl"
        lines.write_text("".join(json.dumps(p) + "\n" for p in payloads))
        options = json.dumps({"speed": "max", "loop": True})
        ports = {
            "mock": stack.enter_context(child_server(MOCK_SERVER, str(tape), options)),
            "bare": stack.enter_context(child_server(_BARE, str(lines))),
        }
        for n in range(rounds):
            for name in ("mock", "bare") if n % 2 == 0 else ("bare", "mock"):
                figures[name].append(asyncio.run(_window(ports[name], pool, window)))
    mock, bare = statistics.median(figures["mock"]), statistics.median(figures["bare"])
    return [
        Result(
            "trade events/s to 1 client, speed max",
            mock,
            "events/s",
            bare,
            "bare python-socketio server",
            ">= 60% of baseline",
            mock >= 0.6 * bare,
        )
    ]
