"""PumpData replay: events/s to one python-socketio client at ``--speed max`` against a bare
python-socketio server emitting the same payloads, in the same run (steady state over a window;
the feed loops so it never runs dry)."""

from __future__ import annotations

import asyncio
import json
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
        while True:
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


def demo_trades() -> list[dict[str, object]]:
    _, frames = read_tape(ROOT / "fixtures" / "demo" / "pumpdata.jsonl")
    return [f.args[0] for f in frames if isinstance(f, SioEvent) and f.name == "trade"]


async def _client(port: int, pool: str, window: float) -> float:
    client = socketio.AsyncClient()
    count = 0

    def on_trade(data: object) -> None:
        nonlocal count
        count += 1

    client.on("trade", on_trade)
    await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
    await client.call("subscribe_trades", {"pool": pool})
    await asyncio.sleep(0.3)
    before, start = count, time.perf_counter()
    await asyncio.sleep(window)
    result = rate(count - before, time.perf_counter() - start)
    await client.disconnect()
    return result


def run(quick: bool) -> list[Result]:
    trades = demo_trades()
    pool = str(trades[0]["pool"])
    payloads = [dict(t, pool=pool, signature=f"{t['signature']}") for t in trades]
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        tape = Path(tmp) / "sio.jsonl"
        with TapeWriter(tape, TapeHeader("2026-01-01T00:00:00Z", "bench", Recorded())) as writer:
            for i in range(2000):
                payload = dict(payloads[i % len(payloads)], n=i)
                writer.write(SioEvent(1 + i * 0.001, "sio-1", S2C, "trade", (payload,)))
        lines = Path(tmp) / "payloads.jsonl"
        lines.write_text(
            "".join(json.dumps(dict(payloads[i % len(payloads)], n=i)) + "\n" for i in range(2000))
        )
        options = json.dumps({"speed": "max", "loop": True})
        for name, script, args in (
            ("mock", MOCK_SERVER, [str(tape), options]),
            ("bare", _BARE, [str(lines)]),
        ):
            with child_server(script, *args) as port:
                figures[name] = asyncio.run(_client(port, pool, 1.0 if quick else 5.0))
    mock, bare = figures["mock"], figures["bare"]
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
