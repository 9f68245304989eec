"""harness report and harness diff on big tapes: MB/s and peak memory, which must not grow with the
tape (the report aggregates into time buckets and capped tables; the diff profiles keys with
counters and capped vocabularies).

The tape is bench_tape's (the demo feed of all three APIs repeated, its times shifted), 50 MB
(5 MB with ``--quick``), and one a tenth of its size. Each run is a child process so its peak
resident memory is its own; the baseline is the tape reader alone (``bench_tape``'s streaming read).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.bench_tape import make_tape
from bench.common import ROOT, Result

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
path, mode = Path(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
if mode == "report":
    from harness.report import read_tape_report
    frames = read_tape_report(path)["frames"]
elif mode == "diff":
    from harness.validation.drift import tape_profile
    frames = sum(f.messages for f in tape_profile(path).families.values())
else:
    from harness.store import TapeReader
    with TapeReader(path) as reader:
        frames = sum(1 for _ in reader)
print(json.dumps({"frames": frames, "seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

GROWTH_LIMIT_MB = 10.0
"""How much more a report or a diff may hold for a tape ten times the size."""


def _child(path: Path, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), mode], check=True, capture_output=True, text=True, cwd=ROOT
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def run(quick: bool) -> list[Result]:
    megabytes = 5.0 if quick else 50.0
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "small.jsonl", Path(tmp) / "big.jsonl"
        make_tape(small, megabytes / 10)
        make_tape(big, megabytes)
        size = big.stat().st_size / 1e6
        read = _child(big, "read")
        for mode in ("report", "diff"):
            small_run, big_run = _child(small, mode), _child(big, mode)
            growth = big_run["peak_mb"] - small_run["peak_mb"]
            results += [
                Result(
                    f"{mode} of a {size:.0f} MB tape", size / big_run["seconds"], "MB/s",
                    size / read["seconds"], "read only",
                ),
                Result(
                    f"{mode} peak RSS growth, tape {size / 10:.1f} -> {size:.0f} MB", growth, "MB",
                    target=f"< {GROWTH_LIMIT_MB:g} MB (flat)", ok=growth < GROWTH_LIMIT_MB,
                ),
            ]  # fmt: skip
    return results
