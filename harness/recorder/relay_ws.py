"""WebSocket relaying at ``/data-stream``: one upstream connection per client connection.

The upstream handshake comes first, with the client's query, headers (hop-by-hop ones aside) and
offered subprotocols, so an upstream that refuses the upgrade gets the client the same HTTP answer
(status, headers, body). Then text and binary messages go both ways in order, and close frames
are relayed with their code and reason. Protocol-level pings are answered on each hop.

Upstream failures, as the client sees them (docs/guides/record.md "Recording"): no connection (refused, TLS,
DNS) is a ``502`` answer to the upgrade, no answer in time a ``504``; an upstream that drops the
connection without a close frame gets the client's connection dropped too (the client sees an
abnormal closure, 1006).

What happens on a connection is told to its :class:`WsTap`. The recording proxy's
(:class:`~harness.recorder.taps.WsRecording`) writes each message as it arrives; of the closes,
the side that closes first is recorded, and the service's reply when the client closed first; a
failure is a close from the server with no status code and a reason saying what happened, so a
replay never mistakes it for the service's own close. A relay with the bare tap only moves
messages, and :meth:`WsRelay.routed` lets a subclass move a connection to another upstream at a
client message (the ``new_episodes`` router's :class:`~harness.recorder.episodes.WsBridge`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.protocol import State

from harness.core.frames import C2S, S2C, Direction
from harness.core.redact import shown
from harness.recorder.failures import FailureKind, classify, describe
from harness.recorder.relay_http import ERROR_HEADER, answer, upgrade_headers

NO_STATUS = 1005
"""RFC 6455 7.1.5: a close frame without a status code; recorded as ``code: null``."""
SHUTDOWN_CODE = 1001
"""RFC 6455 7.4.1: going away (the relay stops)."""
UPSTREAM_FAILED = (OSError, TimeoutError, InvalidHandshake, ssl.SSLError)
"""What ``websockets.connect`` raises when no upstream connection could be made (InvalidStatus,
the upstream answering the upgrade with a status, is an InvalidHandshake too)."""


def _code(code: int | None) -> int | None:
    return None if code in (None, NO_STATUS, 1006) else code


def _sendable(code: int | None) -> int:
    """A close code that may be sent in a frame (1005 and 1006 may not, RFC 6455 7.4.1)."""
    return 1000 if code is None or code in (NO_STATUS, 1006, 1015) else code


class WsTap:
    """What a relay tells of one client connection. This one hears it and keeps nothing."""

    def open(self, path_qs: str, headers: tuple[tuple[str, str], ...]) -> None:
        """The client's upgrade request (before the upstream answered)."""

    def answered(self, status: int, reason: str, path_qs: str) -> None:
        """The upstream answered the upgrade with an HTTP status instead of upgrading."""

    def unreachable(self, kind: FailureKind | None, detail: str, path_qs: str) -> None:
        """No upstream connection: none configured (``kind`` None), or it could not be made."""

    def dropped(self, detail: str) -> None:
        """The upstream dropped the connection without a close frame."""

    def message(self, direction: Direction, data: str | bytes) -> None:
        """A text or binary message, as it arrives from the client or the upstream."""

    def close(self, direction: Direction, code: int | None, reason: str) -> None:
        """A close frame from that side (``code`` None: none, or none that a frame can carry)."""


class WsRelay:
    """The relay (module docstring). ``upstream``: the service's ``ws(s)://`` URL (None: every
    upgrade is refused saying so); ``tap()`` makes each connection's :class:`WsTap`; ``name``
    opens the text of an answer the relay itself makes."""

    def __init__(
        self,
        upstream: str | None,
        timeout: float,
        *,
        tap: Callable[[], WsTap] = WsTap,
        name: str = "harness recording proxy",
    ) -> None:
        self.upstream = upstream
        self.timeout = timeout
        self.tap = tap
        self.name = name
        self.links: set[Link] = set()

    async def routed(self, link: Link, text: str) -> bool:
        """Called before each client text message goes upstream: a subclass may move ``link`` to
        another upstream here (:meth:`Link.switch`), or close the client and return False."""
        return True

    async def connect(self, request: web.Request, base: str) -> ClientConnection:
        """An upstream connection to ``base`` as the client asked (query, headers, subprotocols)."""
        headers = list(upgrade_headers(request))
        offered = [
            p.strip() for v in request.headers.getall("Sec-WebSocket-Protocol", ()) for p in v.split(",")
        ]
        return await connect(
            base + (("?" + request.query_string) if request.query_string else ""),
            additional_headers=headers,
            subprotocols=[p for p in offered if p] or None,  # type: ignore[misc]
            user_agent_header=None,
            max_size=None,
            open_timeout=self.timeout,
            proxy=None,
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        tap = self.tap()
        tap.open(request.path_qs, upgrade_headers(request))
        if self.upstream is None:
            return self._refused(tap, request, 502, None, "no WebSocket upstream")
        try:
            upstream = await self.connect(request, self.upstream)
        except InvalidStatus as exc:
            return self._answered(tap, request, exc)
        except UPSTREAM_FAILED as exc:
            kind = classify(exc)
            return self._refused(
                tap, request, 504 if kind is FailureKind.TIMEOUT else 502, kind, describe(exc)
            )
        client = web.WebSocketResponse(
            protocols=(upstream.subprotocol,) if upstream.subprotocol else (),
            autoclose=False,
            max_msg_size=0,
            compress=False,
        )
        link = Link(self, tap, request, client, upstream)
        self.links.add(link)
        try:
            await client.prepare(request)
            await link.run()
        finally:
            self.links.discard(link)
            await link.release()
        return client

    def _refused(
        self, tap: WsTap, request: web.Request, status: int, kind: FailureKind | None, detail: str
    ) -> web.Response:
        """The relay answers the upgrade itself: no upstream connection could be made."""
        tap.unreachable(kind, detail, request.path_qs)
        name = kind.value if kind else "none"
        text = shown(f"{self.name}: upstream {self.upstream or '(none)'}: {name}: {detail}") + "\n"
        response = web.Response(status=status, text=text)
        response.headers[ERROR_HEADER] = name
        return response

    def _answered(self, tap: WsTap, request: web.Request, exc: InvalidStatus) -> web.Response:
        """The upstream answered the upgrade with an HTTP status: the client gets that answer."""
        refusal = exc.response
        tap.answered(refusal.status_code, refusal.reason_phrase, request.path_qs)
        headers = tuple(refusal.headers.raw_items())
        return answer(
            request, refusal.status_code, refusal.reason_phrase, headers, bytes(refusal.body or b"")
        )

    async def shutdown(self) -> None:
        await asyncio.gather(*(link.shutdown() for link in list(self.links)))


class Link:
    """One client connection and its upstream connection."""

    def __init__(
        self,
        relay: WsRelay,
        tap: WsTap,
        request: web.Request,
        client: web.WebSocketResponse,
        upstream: ClientConnection,
    ) -> None:
        self.relay = relay
        self.tap = tap
        self.request = request
        self.client = client
        self.upstream = upstream
        self.down: asyncio.Task[None] | None = None
        self.sent_down = 0
        """Messages the upstream sent the client so far."""
        self.greeting: int | None = None
        """How many of them came before the client's first message."""
        self.decided = False
        """For :meth:`WsRelay.routed`: whether this connection's upstream is settled."""
        self.ending = False
        """Set when the relay shuts down: nothing more is told."""
        self.ended = False
        """Set when one side went away without a close frame: the other side is dropped too."""

    def _tell(self, tell: Callable[..., None], *args: Any) -> None:
        if not self.ending:
            tell(*args)

    async def run(self) -> None:
        self.down = asyncio.create_task(self._from_upstream(self.upstream))
        up = asyncio.create_task(self._from_client())
        try:
            await up
            await self.down  # the current upstream's (a switch replaces it)
        finally:
            up.cancel()
            self.down.cancel()

    async def switch(self, upstream: ClientConnection) -> None:
        """Make ``upstream`` this connection's upstream; the previous one is closed, unheard."""
        assert self.down is not None
        self.down.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.down
        previous, self.upstream = self.upstream, upstream
        with contextlib.suppress(ConnectionClosed, OSError):
            await previous.close()
        self.down = asyncio.create_task(self._from_upstream(upstream))

    async def _from_client(self) -> None:
        tap = self.tap
        while True:
            msg = await self.client.receive()
            if self.greeting is None:
                self.greeting = self.sent_down
            if msg.type is WSMsgType.TEXT:
                self._tell(tap.message, C2S, msg.data)
                if not await self.relay.routed(self, msg.data) or not await self._send_upstream(msg.data):
                    return
            elif msg.type is WSMsgType.BINARY:
                self._tell(tap.message, C2S, msg.data)
                if not await self._send_upstream(msg.data):
                    return
            elif msg.type is WSMsgType.CLOSE:
                code, reason = msg.data, msg.extra or ""
                self._tell(tap.close, C2S, _code(code), reason)
                with contextlib.suppress(ConnectionClosed, OSError):
                    await self.upstream.close(_sendable(code), reason)
                return
            else:
                # CLOSING: the relay is closing this side (the upstream closed first); CLOSED or
                # ERROR: the client went away without a close frame, and so does the relay upstream.
                if msg.type is not WSMsgType.CLOSING and not self.ended:
                    self.ended = True
                    self._tell(tap.close, C2S, None, "client dropped the connection")
                    self.upstream.transport.abort()
                return

    async def _send_upstream(self, data: str | bytes) -> bool:
        try:
            await self.upstream.send(data)
        except ConnectionClosed:
            return False
        return True

    async def _from_upstream(self, upstream: ClientConnection) -> None:
        try:
            while True:
                message = await upstream.recv()
                self._tell(self.tap.message, S2C, message)
                self.sent_down += 1
                if isinstance(message, str):
                    await self.client.send_str(message)
                else:
                    await self.client.send_bytes(message)
        except ConnectionClosed as closed:
            await self._upstream_closed(closed)
        except (ConnectionError, RuntimeError):
            return  # the client is gone; its pump tells that

    async def _upstream_closed(self, closed: ConnectionClosed) -> None:
        if self.ended:
            return
        rcvd, sent = closed.rcvd, closed.sent
        if rcvd is None and sent is None:
            self.ended = True
            self._tell(self.tap.dropped, "upstream dropped the connection (no close frame)")
            if self.request.transport is not None:
                self.request.transport.abort()  # so does the relay: the client sees 1006
            return
        if rcvd is not None:
            self._tell(self.tap.close, S2C, _code(rcvd.code), rcvd.reason)
        # The service's close (or its reply to the client's) goes to the client. The client's
        # reply to it is not told: aiohttp does not tell what it was.
        code, reason = (rcvd.code, rcvd.reason) if rcvd is not None else (sent.code, sent.reason)  # type: ignore[union-attr]
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.client.close(code=_sendable(code), message=reason.encode())

    async def shutdown(self) -> None:
        """The relay stops: both sides are closed with 1001 (going away), told once."""
        if self.ending:
            return
        self.tap.close(C2S, SHUTDOWN_CODE, "recording stopped")
        self.ending = self.ended = True
        with contextlib.suppress(ConnectionClosed, OSError, asyncio.TimeoutError):
            await asyncio.wait_for(self.upstream.close(SHUTDOWN_CODE, "going away"), 2)
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.TimeoutError):
            await asyncio.wait_for(
                self.client.close(code=SHUTDOWN_CODE, message=f"{self.relay.name} shut down".encode()), 2
            )

    async def release(self) -> None:
        """The client's handler is done: nothing of the upstream connection may outlive it."""
        if self.upstream.state is not State.CLOSED:
            self.upstream.transport.abort()
