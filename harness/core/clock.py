"""Replay time: clock arithmetic for real, stepped (``max``) and manual modes (docs/architecture.md "Time").

Owns the mapping between the host's monotonic clock and replay time (seconds since the tape
started). Pure: the host time is always an argument, so grace periods, candle buckets and
rate-limit windows that read this clock are testable without an event loop.

* ``real``: replay time runs at ``speed`` times the host clock once started.
* ``max``: replay time jumps to each next frame as soon as the previous one is delivered; the
  scheduler drives it with :meth:`ReplayClock.advance_to`.
* ``manual``: nothing moves until a test calls :meth:`ReplayClock.advance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum


class ClockMode(StrEnum):
    REAL = "real"
    MAX = "max"
    MANUAL = "manual"


def parse_speed(text: str) -> float:
    """``"max"`` gives ``math.inf``, else a positive factor. Raises ValueError saying why."""
    if text.strip().lower() == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"speed must be a positive number or 'max', got {text!r}") from None
    if not value > 0 or math.isnan(value):
        raise ValueError(f"speed must be a positive number or 'max', got {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class ReplayClock:
    mode: ClockMode = ClockMode.MANUAL
    speed: float = 1.0
    offset: float = 0.0
    """Replay time at ``anchor``."""
    anchor: float | None = None
    """Host time at which replay time was ``offset``; None while not started (time stands still)."""

    @classmethod
    def for_speed(cls, speed: float, *, manual: bool = False) -> ReplayClock:
        if manual:
            return cls(mode=ClockMode.MANUAL, speed=speed)
        if math.isinf(speed):
            return cls(mode=ClockMode.MAX, speed=speed)
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        return cls(mode=ClockMode.REAL, speed=speed)

    @property
    def started(self) -> bool:
        return self.anchor is not None

    def start(self, host_now: float) -> ReplayClock:
        """Start the clock (idempotent). Only ``real`` mode runs by itself afterwards."""
        if self.anchor is not None:
            return self
        return replace(self, anchor=host_now)

    def now(self, host_now: float) -> float:
        """Replay time at host time ``host_now``."""
        if self.mode is not ClockMode.REAL or self.anchor is None:
            return self.offset
        return self.offset + (host_now - self.anchor) * self.speed

    def advance(self, seconds: float, host_now: float) -> ReplayClock:
        """Move replay time forward by ``seconds`` (in any mode); negative or endless moves are refused."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"the replay clock only moves forward, a finite time (asked for {seconds} s)")
        return self.advance_to(self.now(host_now) + seconds, host_now)

    def advance_to(self, replay_t: float, host_now: float) -> ReplayClock:
        """Jump to replay time ``replay_t`` if it is ahead of now."""
        current = self.now(host_now)
        target = max(current, replay_t)
        anchor = host_now if self.anchor is not None else None
        return replace(self, offset=target, anchor=anchor)

    def reset(self) -> ReplayClock:
        """Back to replay time 0, not started."""
        return replace(self, offset=0.0, anchor=None)

    def host_delay(self, replay_t: float, host_now: float) -> float | None:
        """Host seconds until replay time reaches ``replay_t``: 0 if due, None if it never will
        by itself (manual mode, or a clock not started)."""
        current = self.now(host_now)
        if replay_t <= current:
            return 0.0
        if self.mode is not ClockMode.REAL or self.anchor is None:
            return None
        return (replay_t - current) / self.speed
