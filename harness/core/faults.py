"""Seeded faults per path pattern: added latency, 5xx answers, connection resets.

A rule is written ``PATTERN:ACTION[,p=P]`` on the command line, e.g. ``/trades/*:latency=250ms``,
``/coins/latest:status=503,p=0.3``, ``*:reset,p=0.05``. ``PATTERN`` is a shell-style glob over the
request path. Pure: the random draws are arguments (the server draws them from a seeded RNG, so a
run is reproducible from its seed).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    LATENCY = "latency"
    STATUS = "status"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class FaultRule:
    pattern: str
    kind: FaultKind
    value: float = 0.0
    """Latency in seconds, or the HTTP status."""
    probability: float = 1.0

    def matches(self, path: str) -> bool:
        return fnmatch.fnmatchcase(path, self.pattern)

    def __str__(self) -> str:
        if self.kind is FaultKind.LATENCY:
            action = f"latency={self.value * 1000:g}ms"
        elif self.kind is FaultKind.STATUS:
            action = f"status={int(self.value)}"
        else:
            action = "reset"
        return f"{self.pattern}:{action}" + (f",p={self.probability:g}" if self.probability < 1 else "")


@dataclass(frozen=True, slots=True)
class FaultPlan:
    latency: float = 0.0
    status: int | None = None
    reset: bool = False


_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|s)?$")


def parse_fault(spec: str) -> FaultRule:
    """Parse ``PATTERN:ACTION[,p=P]``; raises ValueError naming what is wrong."""
    pattern, sep, rest = spec.rpartition(":")
    if not sep or not pattern:
        raise ValueError(f"fault {spec!r}: expected PATTERN:ACTION[,p=P], e.g. '/coins/*:status=503'")
    action, *options = [part.strip() for part in rest.split(",")]
    probability = 1.0
    for option in options:
        key, _, value = option.partition("=")
        if key != "p":
            raise ValueError(f"fault {spec!r}: unknown option {key!r} (only p=PROBABILITY)")
        try:
            probability = float(value)
        except ValueError:
            raise ValueError(f"fault {spec!r}: p must be a number in [0, 1]") from None
        if not 0 <= probability <= 1:
            raise ValueError(f"fault {spec!r}: p must be a number in [0, 1]")
    name, _, value = action.partition("=")
    if name == "latency":
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"fault {spec!r}: latency takes a duration like 250ms or 1.5s")
        seconds = float(match["n"]) / (1000 if match["unit"] in (None, "ms") else 1)
        return FaultRule(pattern, FaultKind.LATENCY, seconds, probability)
    if name == "status":
        if not value.isdigit() or not 400 <= int(value) <= 599:
            raise ValueError(f"fault {spec!r}: status takes an HTTP error status (400-599)")
        return FaultRule(pattern, FaultKind.STATUS, float(value), probability)
    if name == "reset" and not value:
        return FaultRule(pattern, FaultKind.RESET, 0.0, probability)
    raise ValueError(f"fault {spec!r}: unknown action {action!r} (latency=DURATION, status=CODE, reset)")


def plan(rules: Sequence[FaultRule], path: str, draws: Sequence[float]) -> FaultPlan:
    """The faults for one request to ``path``; ``draws[i]`` in [0, 1) decides rule ``i``."""
    latency, status, reset = 0.0, None, False
    for rule, draw in zip(rules, draws, strict=True):
        if not rule.matches(path) or draw >= rule.probability:
            continue
        if rule.kind is FaultKind.LATENCY:
            latency += rule.value
        elif rule.kind is FaultKind.STATUS and status is None:
            status = int(rule.value)
        elif rule.kind is FaultKind.RESET:
            reset = True
    return FaultPlan(latency, status, reset)
