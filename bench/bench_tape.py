"""Tape reading: streaming MB/s and peak memory against loading the whole tape at once; recording:
frames/s written with the default redaction against the same frames written as they are.

The tape is the demo feed of all three APIs (``harness synth --seed 7``: REST exchanges with their
bodies, corto WebSocket events, PumpData Socket.IO events and acks) repeated, its times shifted,
until it reaches 200 MB (5 MB with ``--quick``). Each reader runs in a child process so its peak
resident memory (``ru_maxrss``) is its own. "Flat" is shown, not assumed: the streaming reader's
peak is measured on a tape a tenth of the size too, and must not grow with the tape.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Result
from harness.core.frames import Frame, Recorded, TapeHeader
from harness.store import TapeWriter
from harness.synth import generate

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

GROWTH_LIMIT_MB = 5.0
"""How much more the streaming reader may hold for a tape ten times the size."""


def _demo_frames() -> list[Frame]:
    frames = [f for _, tape in generate(7, 180.0).values() for f in tape]
    return sorted(frames, key=lambda f: f.t)


def make_tape(path: Path, megabytes: float) -> int:
    """Write a tape of at least ``megabytes`` MB from the demo feed; returns its frame count."""
    header = TapeHeader(created="2026-01-01T00:00:00Z", harness_version="bench", recorded=Recorded())
    demo = _demo_frames()
    span = demo[-1].t + 1.0
    count = 0
    with TapeWriter(path, header) as writer:
        while writer.bytes_written < megabytes * 1e6:
            lap = count // len(demo)
            frame = demo[count % len(demo)]
            conn = f"{frame.conn}.{lap}"
            writer.write(dataclasses.replace(frame, t=frame.t + lap * span, conn=conn))
            count += 1
    return count


def _child(path: Path, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), mode],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def _record_rate(frames: list[Frame], redact: bool) -> float:
    """Frames/s through what a recording session does to each frame: redact (with every cache
    empty, as for frames never seen before), encode, append and flush."""
    from harness.core import keypair
    from harness.core.redact import RedactionRules, Redactor

    keypair.base58_keypair.cache_clear()
    keypair._derives.cache_clear()
    redactor = Redactor(RedactionRules(), b"bench-key")
    header = TapeHeader(created="2026-01-01T00:00:00Z", harness_version="bench", recorded=Recorded())
    with tempfile.TemporaryDirectory() as tmp, TapeWriter(Path(tmp) / "t.jsonl", header) as writer:
        start = time.perf_counter()
        for frame in frames:
            writer.write(redactor.frame(frame) if redact else frame)
        return len(frames) / (time.perf_counter() - start)


def run(quick: bool) -> list[Result]:
    demo = _demo_frames()
    rounds = 1 if quick else 5
    plain = max(_record_rate(demo, redact=False) for _ in range(rounds))
    redacted = max(_record_rate(demo, redact=True) for _ in range(rounds))
    recording = Result(
        f"record: redact + write, demo feed ({len(demo):,} frames)",
        redacted,
        "frames/s",
        plain,
        "write only",
    )
    return [recording, *_read(quick)]


def _read(quick: bool) -> list[Result]:
    megabytes = 5.0 if quick else 200.0
    with tempfile.TemporaryDirectory() as tmp:
        small_path, path = Path(tmp) / "small.jsonl", Path(tmp) / "big.jsonl"
        make_tape(small_path, megabytes / 10)
        frames = make_tape(path, megabytes)
        size_mb = path.stat().st_size / 1e6
        small_stream = _child(small_path, "stream")
        small_whole = _child(small_path, "whole")
        stream = _child(path, "stream")
        whole = _child(path, "whole")
    assert stream["count"] == whole["count"] == frames
    growth = stream["peak_mb"] - small_stream["peak_mb"]
    return [
        Result(
            f"stream read, {size_mb:.0f} MB tape ({frames:,} frames)",
            size_mb / stream["seconds"],
            "MB/s",
            size_mb / whole["seconds"],
            "load whole",
        ),
        Result(
            f"stream read peak RSS, {size_mb:.0f} MB tape",
            stream["peak_mb"],
            "MB",
            whole["peak_mb"],
            "load whole",
            "well under the tape's size",
            stream["peak_mb"] < max(100.0, size_mb / 2),
        ),
        Result(
            f"peak RSS growth, tape {size_mb / 10:.1f} -> {size_mb:.0f} MB",
            growth,
            "MB",
            whole["peak_mb"] - small_whole["peak_mb"],
            "load whole",
            f"< {GROWTH_LIMIT_MB:g} MB (flat)",
            growth < GROWTH_LIMIT_MB,
        ),
    ]
