"""What a tape holds, counted: the numbers behind ``harness inspect``.

Owns the aggregation of frames into counts (per protocol, direction, frame kind and message
family), connections, time span and rates. Pure: frames in, numbers out; a family classifier
may be passed in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from harness.core.frames import Frame

Classifier = Callable[[Frame], Iterable[tuple[str, str]]]
"""Yields the ``(api, family)`` of each message a frame carries."""


@dataclass(slots=True)
class TapeSummary:
    frames: int = 0
    first_t: float | None = None
    last_t: float | None = None
    connections: set[str] = field(default_factory=set)
    by_protocol: Counter[str] = field(default_factory=Counter)
    by_direction: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_kind: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_family: Counter[tuple[str, str]] = field(default_factory=Counter)
    conns_by_protocol: dict[str, set[str]] = field(default_factory=dict)
    out_of_order: int = 0

    def add(self, frame: Frame, classify: Classifier | None = None) -> None:
        self.frames += 1
        if self.last_t is not None and frame.t < self.last_t:
            self.out_of_order += 1
        self.first_t = frame.t if self.first_t is None else min(self.first_t, frame.t)
        self.last_t = frame.t if self.last_t is None else max(self.last_t, frame.t)
        proto = frame.protocol.value
        self.connections.add(frame.conn)
        self.conns_by_protocol.setdefault(proto, set()).add(frame.conn)
        self.by_protocol[proto] += 1
        self.by_direction[(proto, frame.direction.value)] += 1
        self.by_kind[(proto, frame.kind)] += 1
        if classify is not None:
            for api, family in classify(frame):
                self.by_family[(api, family)] += 1

    @property
    def duration(self) -> float:
        if self.first_t is None or self.last_t is None:
            return 0.0
        return self.last_t - self.first_t

    def rate(self, count: int) -> float:
        """Per second over the tape's span (0 for a tape with one instant)."""
        return count / self.duration if self.duration > 0 else 0.0

    def merge(self, other: TapeSummary) -> None:
        self.frames += other.frames
        for t in (other.first_t, other.last_t):
            if t is not None:
                self.first_t = t if self.first_t is None else min(self.first_t, t)
                self.last_t = t if self.last_t is None else max(self.last_t, t)
        self.connections |= other.connections
        for proto, conns in other.conns_by_protocol.items():
            self.conns_by_protocol.setdefault(proto, set()).update(conns)
        self.by_protocol.update(other.by_protocol)
        self.by_direction.update(other.by_direction)
        self.by_kind.update(other.by_kind)
        self.by_family.update(other.by_family)
        self.out_of_order += other.out_of_order
