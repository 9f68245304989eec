"""Letting a test's own event loop run until its clients and the harness server are quiet.

Owns what ``await harness_clock.advance(s)`` waits for in an async test (docs/guides/pytest-plugin.md):
the server runs in its own thread, the test's clients on the test's loop, and a client that is
reading has read what the server wrote only once the test's loop has run. :func:`settle` runs
rounds; each round lets the server's loop finish what it has ready (a round trip into its thread,
during which the test's loop keeps running) and then the test's loop take one more turn. The pair
is *settled* when, for :data:`QUIET_ROUNDS` rounds in a row, neither loop had a callback ready and
the bytes waiting unread in each socket either loop watches stayed the same (``FIONREAD`` on the
sockets registered with each loop's selector). Bytes that a client leaves unread stay queued in
its socket without moving, so a client that does not read ends the wait as soon as one that
reads would. A bound, :data:`MAX_ROUNDS`, ends it in any case.

On loops that do not show their ready callbacks or selector (uvloop) only what they show counts.
No contract rule lives here.
"""

from __future__ import annotations

import asyncio
import fcntl
import termios
from collections.abc import Awaitable, Callable

QUIET_ROUNDS = 3
"""Rounds in a row with nothing ready and nothing moving that make the loops settled."""

MAX_ROUNDS = 2000
"""Rounds after which the wait ends even if bytes still move (a client reading an endless feed)."""

Snapshot = tuple[tuple[int, int], ...]


def unread_bytes(loop: asyncio.AbstractEventLoop) -> Snapshot:
    """``(fd, bytes waiting unread)`` of each file ``loop`` watches, where the kernel tells
    (empty on loops that do not show their selector)."""
    selector = getattr(loop, "_selector", None)
    if selector is None:
        return ()
    rows = []
    for key in list(selector.get_map().values()):
        try:
            raw = fcntl.ioctl(key.fd, termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            continue
        rows.append((key.fd, int.from_bytes(raw, "little")))
    return tuple(sorted(rows))


def loop_busy(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` has callbacks ready to run besides the caller (unknown on loops that do
    not show them, such as uvloop: then False, and only the sockets count)."""
    ready = getattr(loop, "_ready", None)
    return bool(ready)


async def settle(
    server_probe: Callable[[], Awaitable[tuple[bool, Snapshot]]],
    *,
    quiet_rounds: int = QUIET_ROUNDS,
    max_rounds: int = MAX_ROUNDS,
) -> bool:
    """Run the test's loop (the running one) until it and the server are settled (module
    docstring). ``server_probe`` runs :func:`probe` on the server's loop. Returns whether they
    settled (False: ``max_rounds`` passed first)."""
    loop = asyncio.get_running_loop()
    quiet = 0
    before: tuple[Snapshot, Snapshot] | None = None
    for _ in range(max_rounds):
        busy, server_side = await server_probe()  # the test's loop runs meanwhile
        await asyncio.sleep(0)
        now = (server_side, unread_bytes(loop))
        if busy or loop_busy(loop) or now != before:
            quiet = 0
        else:
            quiet += 1
            if quiet >= quiet_rounds:
                return True
        before = now
    return False


async def probe() -> tuple[bool, Snapshot]:
    """Run on the server's loop: whether it still had callbacks ready after one turn, and the
    bytes waiting unread in its sockets."""
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    return loop_busy(loop), unread_bytes(loop)
