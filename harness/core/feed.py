"""A replay feed: tape items in time order, with a cursor and optional looping.

Owns "what is due by replay time T" for one stream of items shared by every client of an API
(docs/architecture.md "Time"). With ``loop`` the feed restarts at its end: pass ``k`` starts at
``k * period`` (``period`` = the last item's time plus a gap), so replay time keeps growing.
Pure: replay time is an argument.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Due(NamedTuple, Generic[T]):
    """An item that became due: its scheduled replay time (loop offset included) and the pass.
    (A tuple: at ``--speed max`` one is made per event, and a frozen dataclass costs 4x more.)"""

    t: float
    item: T
    loop: int


class Feed(Generic[T]):
    """Items sorted by time (stable for equal times). ``take_due(now)`` advances the cursor."""

    def __init__(
        self, items: Sequence[tuple[float, T]], *, loop: bool = False, loop_gap: float = 1.0
    ) -> None:
        self._items = sorted(items, key=lambda pair: pair[0])
        self.loop = loop and bool(self._items)
        last = self._items[-1][0] if self._items else 0.0
        self.period = max(last + loop_gap, 1e-3)
        self._index = 0
        self._pass = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def duration(self) -> float:
        return self._items[-1][0] if self._items else 0.0

    @property
    def exhausted(self) -> bool:
        return not self.loop and self._index >= len(self._items)

    def _time_of(self, index: int, loop: int) -> float:
        return self._items[index][0] + loop * self.period

    def next_time(self) -> float | None:
        """Replay time of the next item not yet taken, or None when the feed is done."""
        if not self._items or self.exhausted:
            return None
        return self._time_of(self._index, self._pass)

    def time_ahead(self, count: int) -> float | None:
        """Replay time of the ``count``-th item from the cursor (1: the next), or of the last
        one when fewer remain; None when the feed is done."""
        if not self._items or self.exhausted or count < 1:
            return None
        index, passes = self._index + count - 1, self._pass
        if self.loop:
            passes += index // len(self._items)
            index %= len(self._items)
        else:
            index = min(index, len(self._items) - 1)
        return self._time_of(index, passes)

    def take_due(self, now: float) -> list[Due[T]]:
        """Every item due at or before ``now`` not yet taken, in order."""
        return list(self._iter_due(now))

    def _iter_due(self, now: float) -> Iterator[Due[T]]:
        items, count = self._items, len(self._items)
        offset = self._pass * self.period  # _time_of, kept out of the per-item loop
        while self._index < count:
            t, item = items[self._index]
            t += offset
            if t > now:
                return
            yield Due(t, item, self._pass)
            self._index += 1
            if self._index >= count and self.loop:
                self._index = 0
                self._pass += 1
                offset = self._pass * self.period

    def items_until(self, now: float) -> Iterator[tuple[float, T]]:
        """All items whose time (within the current pass) is at or before ``now``, without moving
        the cursor: what a timeline "knows" at ``now``."""
        offset = self._pass * self.period if self.loop else 0.0
        local = now - offset
        for t, item in self._items:
            if t > local:
                return
            yield t, item

    def rewind(self) -> None:
        self._index = 0
        self._pass = 0

    def seek(self, now: float) -> int:
        """Skip every item due at or before ``now`` without taking it (a replay that jumps);
        returns how many. Whole passes of a looping feed are jumped by arithmetic, so this costs
        at most a pass's worth of steps however far ``now`` is."""
        skipped = 0
        if self.loop:
            count, last = len(self._items), self._items[-1][0]
            # the first pass whose last item is still ahead: every pass before it is wholly due
            first_open = max(self._pass, math.floor((now - last) / self.period) + 1)
            if first_open > self._pass:
                skipped = count - self._index + (first_open - self._pass - 1) * count
                self._pass, self._index = first_open, 0
        return skipped + sum(1 for _ in self._iter_due(now))
