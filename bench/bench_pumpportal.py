"""PumpPortal replay: events/s to 1 and 10 clients at ``--speed max``, against a bare handler.

The method and helpers of :mod:`bench.bench_corto`: the server runs in a child process, the
``websockets`` clients here; each client subscribes to the trades of every mint of a tape of
trades (one request, as the bare handler reads one), so it is sent every event, and counts events
over a steady window. The
baseline is a bare aiohttp WebSocket handler at ``/api/data`` sending the same pre-serialised
frames in a loop. The ten clients connect from ten loopback addresses (127.0.0.2 ...), as the
emulation refuses a second connection from one IP.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import websockets

from bench.bench_corto import compare
from bench.common import Result
from harness.core import base58
from harness.core.frames import S2C, Recorded, TapeHeader, WsOpen, WsText
from harness.store import TapeWriter
from harness.synth import generate

TARGET = 0.9


def synth_trades() -> list[dict[str, Any]]:
    """The buys and sells of a synthetic PumpPortal tape."""
    _, frames = generate(7, 180.0, ("pumpportal",))["pumpportal"]
    return [
        json.loads(f.data)
        for f in frames
        if isinstance(f, WsText) and f.direction is S2C and '"traderPublicKey"' in f.data
    ]


def write_tape(path: Path, events: list[dict[str, Any]], count: int, spacing: float) -> list[str]:
    """``count`` events (the synthetic ones over and over, each signature made unique) on one
    recorded connection, ``spacing`` s apart."""
    texts = []
    with TapeWriter(path, TapeHeader("2026-01-01T00:00:00Z", "bench", Recorded())) as writer:
        writer.write(WsOpen(0.0, "pp-1", "/api/data"))
        for i in range(count):
            message = dict(events[i % len(events)])
            unique = base58.encode(i.to_bytes(5, "big"))[-8:].rjust(8, "1")
            message["signature"] = message["signature"][:80] + unique
            text = json.dumps(message, separators=(",", ":"))
            texts.append(text)
            writer.write(WsText(1.0 + i * spacing, "pp-1", S2C, text))
    return texts


def run(quick: bool) -> list[Result]:
    count = 2_000 if quick else 20_000
    events = synth_trades()
    request = json.dumps({"method": "subscribeTokenTrade", "keys": sorted({e["mint"] for e in events})})

    async def subscribe_all(ws: websockets.ClientConnection) -> None:
        await ws.send(request)
        await ws.recv()

    def source(index: int) -> dict[str, Any]:
        return {"local_addr": (f"127.0.0.{2 + index}", 0)}

    with tempfile.TemporaryDirectory() as tmp:
        tape = Path(tmp) / "pumpportal.jsonl"
        texts = write_tape(tape, events, count, 0.001)
        # with a key: the mock refuses trade subscriptions without one
        return compare(tape, texts, quick, TARGET, "/api/data", "", subscribe_all, source, "?api-key=bench")
