"""Tape reading: streaming MB/s and peak memory against loading the whole tape at once.

Each reader runs in a child process so its peak resident memory (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Result
from harness.core.frames import S2C, Recorded, TapeHeader, WsText
from harness.store import TapeWriter

_CHILD = r"""
import json, resource, sys, time
from harness.store import TapeReader, read_tape
path, mode = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if mode == "stream":
    with TapeReader(path) as reader:
        count = sum(1 for _ in reader)
else:
    count = len(read_tape(path)[1])
elapsed = time.perf_counter() - start
print(json.dumps({"count": count, "seconds": elapsed,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_EVENT = json.dumps(
    {
        "schemaVersion": "buy_sell_event_v1",
        "signature": "5GL8LJGm6gcRFRRCd6ss5eyHLV1yipJnovh6zQWUASJTdUJVE2ZKRmJ2KpDxRwTdPmCUeZGzCmd11W",
        "mint": "CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump",
        "txType": "buy",
        "pool": "pump-fun",
        "price": 2.88e-8,
        "solAmount": 0.5,
        "tokenAmount": 17361111.1,
        "solAmountRaw": 500000000,
        "tokenAmountRaw": 17361111100000,
        "timestamp": 1779812627000,
    }
)


def make_tape(path: Path, megabytes: float) -> int:
    header = TapeHeader(created="2026-01-01T00:00:00Z", harness_version="bench", recorded=Recorded())
    frames = 0
    with TapeWriter(path, header) as writer:
        while writer.bytes_written < megabytes * 1e6:
            writer.write(WsText(t=frames * 0.001, conn="ws-1", direction=S2C, data=_EVENT))
            frames += 1
    return frames


def _child(path: Path, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), mode], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def run(quick: bool) -> list[Result]:
    megabytes = 5.0 if quick else 200.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        make_tape(path, megabytes)
        size_mb = path.stat().st_size / 1e6
        stream = _child(path, "stream")
        whole = _child(path, "whole")
    return [
        Result(
            f"stream read, {size_mb:.0f} MB tape",
            size_mb / stream["seconds"],
            "MB/s",
            size_mb / whole["seconds"],
            "load whole",
        ),
        Result(
            "stream read peak RSS",
            stream["peak_mb"],
            "MB",
            whole["peak_mb"],
            "load whole",
            "flat: well under the tape's size",
            stream["peak_mb"] < max(100.0, size_mb / 2),
        ),
    ]
