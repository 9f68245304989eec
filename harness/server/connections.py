"""Every connection a harness server accepts: its request-head timeout, the cap on open ones, and
accept() failures, for every server :func:`~harness.server.listening.listen` starts.

aiohttp waits as long as a client likes for a request head (a slowloris connection sending a byte
every few seconds, or a socket that never sends one, is kept), takes any number of connections,
and asyncio logs a traceback for each failed accept() when the process runs out of open files
(thousands a second). :class:`ConnectionGuard` wraps each accepted connection's protocol:

* **head timeout**: a connection has ``head_timeout`` seconds, from when it opens or its previous
  response ends, to complete a request head (a WebSocket handshake is one). Then it is closed: with
  a 408 when part of a request had come, silently when nothing had (an idle keep-alive connection).
  A request being handled (a long poll, an open WebSocket) is never timed out.
* **cap**: past ``max_connections`` open ones, a new connection is answered at once with a 503
  whose JSON body says why, and closed once the client has read it; refusals are logged once per
  :data:`LOG_INTERVAL` with their count.
* **accept() failures** (EMFILE, ENFILE, ENOBUFS, ENOMEM) are logged once per :data:`LOG_INTERVAL`
  with their count instead of one traceback each; asyncio retries, and the connections already
  open are served throughout.

Owns only connection bookkeeping; what a request means is the application's.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger("harness.server")

LOG_INTERVAL = 10.0
"""Host seconds between two log lines about refused connections or failed accepts."""

REFUSAL_LINGER = 1.0
"""Host seconds a refused connection stays open for its client to read the 503 (closing at once
would reset the connection when the client's request arrives, and the client could lose the 503)."""

MAX_LINGERING = 16
"""Refused connections kept lingering at once; past it a refused connection is closed at once."""

ACCEPT_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def _plain(status: str, body: dict[str, Any], *extra: str) -> bytes:
    """A whole HTTP/1.1 response that closes its connection, with a JSON body."""
    payload = json.dumps(body).encode()
    head = [
        f"HTTP/1.1 {status}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        *extra,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


class Throttled:
    """A warning logged at most once per :data:`LOG_INTERVAL`, with the count since the last one."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.total = 0
        self._unlogged = 0
        self._next = 0.0

    def note(self, loop: asyncio.AbstractEventLoop, detail: str) -> None:
        self.total += 1
        self._unlogged += 1
        now = loop.time()
        if now >= self._next:
            log.warning(
                "harness: %d %s in the last %g s: %s", self._unlogged, self.what, LOG_INTERVAL, detail
            )
            self._unlogged = 0
            self._next = now + LOG_INTERVAL


class ConnectionGuard:
    """See the module docstring. One per listening server."""

    def __init__(self, *, head_timeout: float, max_connections: int) -> None:
        self.head_timeout = head_timeout
        self.max_connections = max_connections
        self.counters: Counter[str] = Counter()
        """``connections_refused``, ``head_timeouts``, ``clients_gone_mid_request``."""
        self.accepted = 0
        """Connections accepted and not yet lost (counted when accepted: asyncio accepts a batch
        before it tells the first one's protocol, so the transports below lag behind)."""
        self.open: dict[asyncio.BaseTransport, _Guarded] = {}
        """The accepted connections by transport, once told."""
        self.refusing: set[asyncio.Transport] = set()
        """Refused connections still open (lingering until their client has read the 503)."""
        self._refusals = Throttled("connection(s) refused")

    def state(self) -> dict[str, Any]:
        """What ``/_harness/state`` shows under ``connections``."""
        return {
            "open": self.accepted,
            "max": self.max_connections,
            "head_timeout": self.head_timeout,
            **self.counters,
            "accept_errors": accept_errors(),
        }

    def factory(self, make: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """The protocol factory to listen with: ``make``'s protocols, guarded, or a refusal."""

        def guarded() -> asyncio.Protocol:
            if self.accepted >= self.max_connections:
                return _Refused(self)
            self.accepted += 1
            return _Guarded(self, make())

        return guarded

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Marks a connection busy while one of its requests is handled (no head timeout then).
        A client that leaves while its request is handled (mid WebSocket upgrade, say) is counted
        as ``clients_gone_mid_request``, not logged with a traceback: nobody is left to answer.
        One middleware for both, as each costs every request a call."""
        transport = request.transport
        conn = self.open.get(transport) if transport is not None else None
        if conn is not None:
            conn.begin()
        try:
            return await handler(request)
        except ConnectionError:
            if transport is not None and not transport.is_closing():
                raise
            self.counters["clients_gone_mid_request"] += 1
            return web.Response(status=400)  # never sent: aiohttp drops it quietly
        finally:
            if conn is not None:
                conn.end()

    async def cleanup(self, _app: web.Application) -> None:
        """The server stops: refused connections still lingering are closed now."""
        for transport in list(self.refusing):
            transport.abort()

    def refused(self, loop: asyncio.AbstractEventLoop) -> bytes:
        self.counters["connections_refused"] += 1
        why = (
            f"{self.accepted} connections are open, the most this server takes (--max-connections);"
            " try again once one has closed"
        )
        self._refusals.note(loop, why)
        return _plain("503 Service Unavailable", {"error": why}, "Retry-After: 1")


class _Guarded(asyncio.Protocol):
    """An accepted connection's protocol (aiohttp's), with its head timeout."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard = guard
        self.inner = inner
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.requests = 0
        """Requests of this connection being handled (busy while > 0)."""
        self.partial = False
        """Whether bytes of a request head came since the connection went idle."""
        self.deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol, passed on ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.guard.open[transport] = self
        self._idle()
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self.requests:
            self.partial = True
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.accepted -= 1
        if self.transport is not None:
            self.guard.open.pop(self.transport, None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # --- the head timeout ----------------------------------------------------------------------

    def begin(self) -> None:
        self.requests += 1
        self.partial = False

    def end(self) -> None:
        self.requests -= 1
        if not self.requests:
            self._idle()

    def _idle(self) -> None:
        self.deadline = self.loop.time() + self.guard.head_timeout
        if self._timer is None:
            self._timer = self.loop.call_at(self.deadline, self._expire)

    def _expire(self) -> None:
        self._timer = None
        transport = self.transport
        if self.requests or transport is None or transport.is_closing():
            return  # busy: _idle() starts the clock again when its requests end
        now = self.loop.time()
        if now >= self.deadline and transport.get_write_buffer_size():
            self.deadline = now + self.guard.head_timeout  # a response still going to a slow reader
        if now < self.deadline:  # (or idle again since the timer was set)
            self._timer = self.loop.call_at(self.deadline, self._expire)
            return
        self.guard.counters["head_timeouts"] += 1
        if self.partial:
            why = f"the request head did not come within {self.guard.head_timeout:g} s (--head-timeout)"
            transport.write(_plain("408 Request Timeout", {"error": why}))
        transport.close()


class _Refused(asyncio.Protocol):
    """A connection past the cap: the 503, then closed once read (:data:`REFUSAL_LINGER`)."""

    def __init__(self, guard: ConnectionGuard) -> None:
        self.guard = guard
        self._timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        loop = asyncio.get_running_loop()
        transport.write(self.guard.refused(loop))
        if len(self.guard.refusing) >= MAX_LINGERING or not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()  # the 503, then our end closed; the client's request is read and dropped
        self.transport = transport
        self.guard.refusing.add(transport)
        self._timer = loop.call_later(REFUSAL_LINGER, transport.close)

    def data_received(self, data: bytes) -> None:
        return None

    def eof_received(self) -> bool:
        return False  # the client has read the answer and closed: the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.transport is not None:
            self.guard.refusing.discard(self.transport)


# --- accept() failures, per event loop ----------------------------------------------------------

_ACCEPT_FAILURES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Throttled] = (
    weakref.WeakKeyDictionary()
)


def accept_errors() -> int:
    """accept() failures counted on the running loop."""
    try:
        throttled = _ACCEPT_FAILURES.get(asyncio.get_running_loop())
    except RuntimeError:  # no loop running: nothing accepted here
        return 0
    return throttled.total if throttled is not None else 0


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Log accept() failures on ``loop`` once per :data:`LOG_INTERVAL` with their count instead
    of a traceback each; every other error goes to the loop's handler as before. Idempotent."""
    if loop in _ACCEPT_FAILURES:
        return
    throttled = _ACCEPT_FAILURES[loop] = Throttled("accept() failure(s)")
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if (
            isinstance(exc, OSError)
            and exc.errno in ACCEPT_ERRNOS
            and "accept" in str(context.get("message"))
        ):
            throttled.note(
                loop,
                f"{exc.strerror or exc} (the connections already open are still served; raise the"
                " open-file limit, ulimit -n, or lower --max-connections)",
            )
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
