"""Misses: requests and subscriptions a replayed tape cannot answer, and what each differed in.

Owns the :class:`Miss` value the emulators keep when they answer from no recording (a REST 404,
a PumpData ``not_found``) and :func:`difference`, which says in one line how the request differs
from the closest recorded one (vcrpy's "which matcher failed"). The pytest plugin fails a test at
teardown with them (README "pytest conventions"). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_SHOWN = 120
"""Characters of a path or a value a miss shows (the rest is elided)."""


@dataclass(frozen=True, slots=True)
class Miss:
    """What a client asked that the tape holds no recording of."""

    api: str
    """``pumpfun``, ``pumpdata`` or ``corto``."""
    request: str
    """What was asked, as the client sent it (``GET /coins/XYZ``, ``subscribe_ohlcv pool XYZ``)."""
    answer: str
    """What the server answered (``404``, ``not_found``)."""
    t: float
    closest: tuple[str, ...] = ()
    """The recorded requests closest to it, closest first (empty: nothing alike)."""
    conn: str = ""

    def describe(self) -> str:
        """Two or three lines: the request and answer, the closest recorded one and what differed."""
        lines = [
            f"{self.api}: {_short(self.request)} at t={self.t:g}s: answered {self.answer}, nothing recorded"
        ]
        if self.closest:
            near = self.closest[0]
            lines.append(f"   closest recorded: {_short(near)}")
            lines.append(f"   differs: {difference(self.request, near)}")
        else:
            lines.append("   nothing alike is recorded")
        return "\n".join(lines)


def _short(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def _parts(text: str) -> list[str]:
    """A request split where it is compared: at spaces, slashes and query separators."""
    for sep in ("?", "&", "="):
        text = text.replace(sep, "/")
    return [p for p in text.replace(" ", "/").split("/") if p]


def difference(asked: str, recorded: str) -> str:
    """How ``asked`` differs from ``recorded``, by the first part of each that is not the same
    (``part 2: 'XYZ' where the tape has 'ABC'``), or by what one has more."""
    ours, theirs = _parts(asked), _parts(recorded)
    for number, (a, b) in enumerate(zip(ours, theirs, strict=False), start=1):
        if a != b:
            return f"part {number}: {_short(a)!r} where the tape has {_short(b)!r}"
    if len(ours) > len(theirs):
        return f"it has more: {_short('/'.join(ours[len(theirs) :]))!r}"
    if len(theirs) > len(ours):
        return f"the tape's has more: {_short('/'.join(theirs[len(ours) :]))!r}"
    return "only in the method or the answer's time"
