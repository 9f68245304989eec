"""Giving memory back to the system once a costly client has left.

What a client cost is freed when it leaves (its frames, its queue, its violations are bounded and
dropped), but glibc's allocator keeps freed heap pages for reuse: 40 WebSocket messages of 4 MB
leave the process about 100 MB larger for good, though Python holds none of it. ``malloc_trim(0)``
hands those pages back, after a collection of the young reference cycles that may still hold a client's
frames (an exception's traceback, a finished task). :class:`Trimmer` asks for it once a client
that sent at least :data:`TRIM_AFTER_BYTES` has gone, at most once per :data:`TRIM_INTERVAL`
seconds (it walks the heap: a few milliseconds). Where there is no glibc (macOS, musl), nothing
is done.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import time
from collections import Counter
from collections.abc import Callable

TRIM_AFTER_BYTES = 1 << 20
"""A client that sent less than this leaves no trace worth a trim."""
TRIM_INTERVAL = 1.0
"""Host seconds between two trims at most."""


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


class Trimmer:
    """Asks the allocator to give freed memory back after a costly client left."""

    def __init__(self, counters: Counter[str]) -> None:
        """``counters``: where trims are counted, as ``memory_trims``."""
        self._trim = _malloc_trim()
        self._last = 0.0
        self._pending: asyncio.TimerHandle | None = None
        self.counters = counters

    def client_left(self, received: int) -> None:
        """A client that sent ``received`` bytes is gone (its objects already dropped)."""
        if self._trim is None or received < TRIM_AFTER_BYTES or self._pending is not None:
            return
        # a moment later, once the client's handler and request have ended and their objects gone
        wait = max(0.1, self._last + TRIM_INTERVAL - time.monotonic())
        self._pending = asyncio.get_running_loop().call_later(wait, self._run)

    def _run(self) -> None:
        self._pending = None
        self._last = time.monotonic()
        if self._trim is not None:
            # a client's frames may hang in young reference cycles (a traceback, a task); the
            # oldest generation, which holds the loaded tapes, is not walked
            gc.collect(1)
            self._trim(0)
            self.counters["memory_trims"] += 1

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
