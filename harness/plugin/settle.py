"""Letting a test's own event loop run until its clients and the harness server are quiet.

Owns what ``await harness_clock.advance(s)`` waits for in an async test (README "pytest plugin"):
the server runs in its own thread, the test's clients on the test's loop, and a client that is
reading has read what the server wrote only once the test's loop has run. :func:`settle` runs
rounds; each round lets the server's loop finish what it has ready (a round trip into its thread,
during which the test's loop keeps running) and then the test's loop take one more turn. The pair
is *settled* when, for :data:`QUIET_ROUNDS` rounds in a row, neither loop had a callback ready and
no byte moved between the server's ports and anything else: every TCP socket from or to those
ports kept the same state and the same queued bytes (Linux: ``/proc/net/tcp``). Bytes that a
client leaves unread stay queued in its socket without moving, so a client that does not read
ends the wait as soon as one that reads would. A bound, :data:`MAX_ROUNDS`, ends it in any case.

Elsewhere than Linux the sockets are not seen and only the loops' ready callbacks count. No
contract rule lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path

QUIET_ROUNDS = 3
"""Rounds in a row with nothing ready and nothing moving that make the loops settled."""

MAX_ROUNDS = 2000
"""Rounds after which the wait ends even if bytes still move (a client reading an endless feed)."""

PROC_TCP = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))

Snapshot = tuple[tuple[str, ...], ...]


def ports_of(urls: Iterable[str]) -> frozenset[int]:
    """The TCP ports of the server's URLs."""
    from urllib.parse import urlsplit

    found = set()
    for url in urls:
        with contextlib.suppress(ValueError):
            port = urlsplit(url).port
            if port is not None:
                found.add(port)
    return frozenset(found)


def socket_snapshot(ports: frozenset[int], tables: Iterable[Path] = PROC_TCP) -> Snapshot:
    """Each TCP socket from or to one of ``ports``: its addresses, state and queued bytes, sorted
    (empty where the kernel does not show them)."""
    rows: list[tuple[str, ...]] = []
    for table in tables:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 5:
                continue
            local, remote, state, queues = fields[1], fields[2], fields[3], fields[4]
            if _port(local) in ports or _port(remote) in ports:
                rows.append((local, remote, state, queues))
    return tuple(sorted(rows))


def _port(address: str) -> int:
    try:
        return int(address.rpartition(":")[2], 16)
    except ValueError:
        return -1


def loop_busy(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` has callbacks ready to run besides the caller (unknown on loops that do
    not show them, such as uvloop: then False, and only the sockets count)."""
    ready = getattr(loop, "_ready", None)
    return bool(ready)


async def settle(
    server_busy: Callable[[], asyncio.Future[bool]],
    ports: frozenset[int],
    *,
    quiet_rounds: int = QUIET_ROUNDS,
    max_rounds: int = MAX_ROUNDS,
) -> bool:
    """Run the test's loop (the running one) until it and the server are settled (module
    docstring). ``server_busy`` starts a probe on the server's loop. Returns whether they
    settled (False: ``max_rounds`` passed first)."""
    loop = asyncio.get_running_loop()
    quiet = 0
    before: Snapshot | None = None
    for _ in range(max_rounds):
        busy = await server_busy()  # the test's loop runs meanwhile
        await asyncio.sleep(0)
        now = socket_snapshot(ports)
        if busy or loop_busy(loop) or now != before:
            quiet = 0
        else:
            quiet += 1
            if quiet >= quiet_rounds:
                return True
        before = now
    return False


async def server_probe() -> bool:
    """Run on the server's loop: whether it still had callbacks ready after one turn."""
    await asyncio.sleep(0)
    return loop_busy(asyncio.get_running_loop())
