"""What every benchmark module shares: the result row and a few measuring helpers.

A benchmark module ``bench/bench_X.py`` defines ``run(quick: bool) -> list[Result]``. Each result
carries its figure, and where there is one, a baseline measured in the same run and a target.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    """Human-readable target, e.g. ``>= 0.6x baseline`` or ``< 2 ms``."""
    ok: bool | None = None
    """Whether the target was met (None: no target)."""


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (0-100) of ``values`` by the inclusive method."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=1000, method="inclusive")
    index = min(len(cuts) - 1, max(0, round(pct * 10) - 1))
    return cuts[index]


ROOT = Path(__file__).resolve().parents[1]

MOCK_SERVER = r"""
import asyncio, json, sys
from harness.server.app import MockServer

async def main():
    async with MockServer([sys.argv[1]], port=0, **json.loads(sys.argv[2])) as server:
        print(server.port, flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""
"""A child process serving one tape with the given MockServer options (JSON), printing its port."""


@contextlib.contextmanager
def child_server(script: str, *args: str) -> Iterator[int]:
    """Run a server ``script`` in its own process (its own core) and yield the port it prints."""
    with child_process(script, *args) as (port, _pid):
        yield port


@contextlib.contextmanager
def child_process(script: str, *args: str) -> Iterator[tuple[int, int]]:
    """:func:`child_server`, yielding the port and the process id."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline()), proc.pid
    finally:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, or None where ``/proc`` is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
