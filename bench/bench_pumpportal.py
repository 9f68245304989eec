"""PumpPortal replay: events/s to 1 and 10 clients at ``--speed max``, against a bare handler.

The method and helpers of :mod:`bench.bench_corto`: the server runs in a child process, the
``websockets`` clients here; each client subscribes to new tokens, migrations and the trades of
every mint of the tape, so it is sent every event, and counts events over a steady window. The
baseline is a bare aiohttp WebSocket handler at ``/api/data`` sending the same pre-serialised
frames in a loop. The ten clients connect from ten loopback addresses (127.0.0.2 ...), as the
emulation refuses a second connection from one IP.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import websockets

from bench.bench_corto import _BARE, _clients
from bench.common import MOCK_SERVER, Result, child_server
from harness.core import base58
from harness.core.frames import S2C, Recorded, TapeHeader, WsOpen, WsText
from harness.store import TapeWriter
from harness.synth import generate

TARGET = 0.9


def synth_events() -> list[dict[str, Any]]:
    _, frames = generate(7, 180.0, ("pumpportal",))["pumpportal"]
    return [
        json.loads(f.data)
        for f in frames
        if isinstance(f, WsText) and f.direction is S2C and '"txType"' in f.data
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
    events = synth_events()
    mints = sorted({e["mint"] for e in events})

    async def subscribe_all(ws: websockets.ClientConnection) -> None:
        for request in (
            {"method": "subscribeNewToken"},
            {"method": "subscribeMigration"},
            {"method": "subscribeTokenTrade", "keys": mints},
        ):
            await ws.send(json.dumps(request))
            await ws.recv()

    def source(index: int) -> dict[str, Any]:
        return {"local_addr": (f"127.0.0.{2 + index}", 0)}

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tape = Path(tmp) / "pumpportal.jsonl"
        texts = write_tape(tape, events, count, 0.001)
        frames = Path(tmp) / "frames.txt"
        frames.write_text("\n".join(texts) + "\n")
        figures: dict[str, dict[int, float]] = {}
        options = json.dumps({"speed": "max", "loop": True})
        for name, script, args in (
            ("mock", MOCK_SERVER, [str(tape), options]),
            ("bare", _BARE, [str(frames), "/api/data", ""]),
        ):
            with child_server(script, *args) as port:
                url = f"ws://127.0.0.1:{port}/api/data?api-key=bench"
                window = 1.0 if quick else 5.0
                figures[name] = {
                    n: asyncio.run(_clients(url, n, window, subscribe_all, source)) for n in (1, 10)
                }
        for n in (1, 10):
            mock, bare = figures["mock"][n], figures["bare"][n]
            results.append(
                Result(
                    f"events/s to {n} client(s), speed max",
                    mock,
                    "events/s",
                    bare,
                    "bare aiohttp ws handler",
                    f">= {TARGET:.0%} of baseline",
                    mock >= TARGET * bare,
                )
            )
    return results
