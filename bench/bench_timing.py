"""Timing fidelity at ``--speed 1``: how late each replayed frame is against its scheduled time.

A real-time replay of events 10 ms apart, served in this process so that the client's clock is
the server's: lateness = arrival at the client - (clock start + the frame's replay time). Arrival
comes after the frame left the server, so these figures bound how late frames leave. Measured for
the Data Stream WebSocket (a ``websockets`` client) and PumpData Socket.IO (a python-socketio
client), and, server side, how late the scheduler woke for each frame (no socket involved).

The baseline is what the machine allows at that moment: bare asyncio timers on the same schedule,
waiting as the scheduler does (sleep until 2 ms before, then yield), measured just before each.
On a loaded machine the tail (p99, max) is the operating system's, for both.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
from pathlib import Path

import socketio
import websockets

from bench.bench_corto import demo_events, write_tape
from bench.bench_sio import demo_trades
from bench.common import Result, percentile
from harness.core.frames import S2C, Recorded, SioEvent, TapeHeader
from harness.server.app import MockServer
from harness.server.scheduler import SPIN_BEFORE
from harness.store import TapeWriter

SPACING = 0.01
"""Replay seconds between frames."""
START = 1.0
"""Replay time of the first frame."""


async def _bare_timers(count: int) -> list[float]:
    loop = asyncio.get_running_loop()
    anchor = loop.time()
    late = []
    for i in range(count):
        due = anchor + START + i * SPACING
        if due - loop.time() > SPIN_BEFORE:
            await asyncio.sleep(due - loop.time() - SPIN_BEFORE)
        while loop.time() < due:  # noqa: ASYNC110 (a busy yield, as the scheduler spins its last 2 ms)
            await asyncio.sleep(0)
        late.append(loop.time() - due)
    return late


async def _corto(tape: Path, count: int) -> tuple[list[float], list[float]]:
    async with MockServer([tape], speed=1.0, port=0, validate=False) as server:
        async with websockets.connect(server.urls["websocket"], max_size=None) as ws:
            await ws.recv()
            await ws.send('{"type":"subscribe","mode":"all"}')
            await ws.recv()
            loop = asyncio.get_running_loop()
            anchor = server.scheduler.clock.anchor
            assert anchor is not None
            late = []
            for i in range(count):
                await ws.recv()
                late.append(loop.time() - (anchor + START + i * SPACING))
            return late, list(server.scheduler.lateness)


def _write_sio_tape(path: Path, count: int) -> str:
    trades = demo_trades()
    pool = str(trades[0]["pool"])
    with TapeWriter(path, TapeHeader("2026-01-01T00:00:00Z", "bench", Recorded())) as writer:
        for i in range(count):
            payload = dict(trades[i % len(trades)], pool=pool, n=i)
            writer.write(SioEvent(START + i * SPACING, "sio-1", S2C, "trade", (payload,)))
    return pool


async def _sio(tape: Path, pool: str, count: int) -> list[float]:
    async with MockServer([tape], speed=1.0, port=0, validate=False) as server:
        loop = asyncio.get_running_loop()
        late: list[float] = []
        done = asyncio.Event()
        client = socketio.AsyncClient()

        def on_trade(data: dict[str, object]) -> None:
            anchor = server.scheduler.clock.anchor
            assert anchor is not None and isinstance(data["n"], int)
            late.append(loop.time() - (anchor + START + data["n"] * SPACING))
            if len(late) == count:
                done.set()

        client.on("trade", on_trade)
        await client.connect(server.urls["socketio"], transports=["websocket"], auth={"api_key": "pd_bench"})
        await client.call("subscribe_trades", {"pool": pool})
        await asyncio.wait_for(done.wait(), START + count * SPACING + 30)
        await client.disconnect()
        return late


def _rows(label: str, late_s: list[float], bare_s: list[float], target: bool) -> list[Result]:
    late, bare = [x * 1000 for x in late_s], [x * 1000 for x in bare_s]
    p99 = percentile(late, 99)
    name = "bare asyncio timers"
    return [
        Result(f"{label}: lateness p50", percentile(late, 50), "ms", percentile(bare, 50), name),
        Result(
            f"{label}: lateness p99",
            p99,
            "ms",
            percentile(bare, 99),
            name,
            "< 2 ms" if target else "",
            p99 < 2 if target else None,
        ),
        Result(f"{label}: lateness max", max(late), "ms", max(bare), name),
    ]


def run(quick: bool) -> list[Result]:
    count = 300 if quick else 2000
    with tempfile.TemporaryDirectory() as tmp:
        corto_tape = Path(tmp) / "corto.jsonl"
        write_tape(corto_tape, demo_events(), count, SPACING)
        sio_tape = Path(tmp) / "sio.jsonl"
        pool = _write_sio_tape(sio_tape, count)
        gc.collect()
        bare_corto = asyncio.run(_bare_timers(count))
        arrival, wakeups = asyncio.run(_corto(corto_tape, count))
        gc.collect()
        bare_sio = asyncio.run(_bare_timers(count))
        sio = asyncio.run(_sio(sio_tape, pool, count))
    return [
        *_rows("speed 1, scheduler wake-up", wakeups, bare_corto, target=False),
        *_rows("speed 1, Data Stream frame at the client", arrival, bare_corto, target=True),
        *_rows("speed 1, Socket.IO event at the client", sio, bare_sio, target=True),
    ]
