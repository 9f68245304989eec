"""Progress on a terminal: one line on stderr, redrawn at most ten times a second.

Silent when stderr is not a terminal (pipes, CI logs), so output stays clean for machines.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Self, TextIO


class Progress:
    """``with Progress("validating", total=size) as bar: bar.update(done, "12 violations")``."""

    def __init__(
        self,
        label: str,
        total: float | None = None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        unit: str = "bytes",
        elapsed: bool = True,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.elapsed = elapsed  # False when ``done`` is the time itself (a capture of --duration S)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._width = 0

    def stage(self, label: str, total: float | None, unit: str = "bytes") -> None:
        """Go on to the next stage of the work (``writing x.har`` after ``reading x.jsonl``): a
        new label draws at the next update, however soon."""
        if label != self.label:
            self._last_draw = 0.0
        self.label, self.total, self.unit = label, total, unit

    def update(self, done: float, note: str = "", *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        elapsed = now - self._start
        if self.total:
            share = min(1.0, done / self.total)
            filled = int(share * 24)
            bar = "#" * filled + "-" * (24 - filled)
            if self.unit == "bytes":
                done_of = f"{_human(done, self.unit)} of {_human(self.total, self.unit)}"
            else:
                done_of = f"{done:,.0f} of {_human(self.total, self.unit)}"
            text = f"{self.label} [{bar}] {share:6.1%} {done_of}"
        else:
            text = f"{self.label} {_human(done, self.unit)}"
        if self.elapsed:
            text += f"  {elapsed:5.1f}s"
        if note:
            text += f"  {note}"
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def clear(self) -> None:
        """Blank the line (to print something else on the terminal); the next update redraws."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
            self._last_draw = 0.0

    def close(self) -> None:
        self.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _human(value: float, unit: str) -> str:
    if unit != "bytes":
        return f"{value:,.0f} {unit}"
    for suffix in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {suffix}" if suffix == "B" else f"{value:.1f} {suffix}"
        value /= 1000
    return f"{value:.1f} TB"
