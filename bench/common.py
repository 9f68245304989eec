"""What every benchmark module shares: the result row and a few measuring helpers.

A benchmark module ``bench/bench_X.py`` defines ``run(quick: bool) -> list[Result]``. Each result
carries its figure, and where there is one, a baseline measured in the same run and a target.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


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
