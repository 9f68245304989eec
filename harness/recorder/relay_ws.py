"""The recording proxy's WebSocket relay at ``/data-stream``: one upstream connection per client.

The upstream handshake comes first, with the client's query, headers (hop-by-hop ones aside) and
offered subprotocols, so an upstream that refuses the upgrade gets the client the same HTTP answer
(status, headers, body). Then text and binary messages go both ways in order, each recorded as it
arrives, and close frames are relayed with their code and reason: the side that closes first is
recorded, and the service's reply when the client closed first. Protocol-level pings are answered on each hop.

Upstream failures, as the client sees them (README "Recording"): no connection (refused, TLS,
DNS) is a ``502`` answer to the upgrade, no answer in time a ``504``; an upstream that drops the
connection without a close frame gets the client's connection dropped too (the client sees an
abnormal closure, 1006). The tape records these as a close from the server with no status code
and a reason saying what happened, so a replay never mistakes them for the service's own closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.protocol import State

from harness.core.frames import C2S, S2C, WsBinary, WsClose, WsOpen, WsText
from harness.recorder.failures import FailureKind, classify, describe
from harness.recorder.relay_http import ERROR_HEADER, HOP_BY_HOP, raw_headers

if TYPE_CHECKING:
    from harness.recorder.proxy import RecordingProxy

NO_STATUS = 1005
"""RFC 6455 7.1.5: a close frame without a status code; recorded as ``code: null``."""
SHUTDOWN_CODE = 1001
"""RFC 6455 7.4.1: going away (the recording proxy stops)."""


def _code(code: int | None) -> int | None:
    return None if code in (None, NO_STATUS, 1006) else code


def _sendable(code: int | None) -> int:
    """A close code that may be sent in a frame (1005 and 1006 may not, RFC 6455 7.4.1)."""
    return 1000 if code is None or code in (NO_STATUS, 1006, 1015) else code


class WsRelay:
    def __init__(self, proxy: RecordingProxy, upstream: str | None, timeout: float) -> None:
        self.proxy = proxy
        self.upstream = upstream
        self.timeout = timeout
        self.links: set[_Link] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        session = self.proxy.session
        conn = session.conn("ws")
        headers = tuple(
            (k, v)
            for k, v in raw_headers(request.raw_headers)
            if k.lower() not in HOP_BY_HOP and not k.lower().startswith("sec-websocket")
        )
        offered = [
            p.strip() for v in request.headers.getall("Sec-WebSocket-Protocol", ()) for p in v.split(",")
        ]
        session.write(WsOpen(session.t(), conn, request.path_qs, headers))
        self.proxy.counters["ws.connections"] += 1
        if self.upstream is None:
            return self._refused(request, conn, 502, None, "no WebSocket upstream")
        target = self.upstream + (("?" + request.query_string) if request.query_string else "")
        try:
            upstream = await connect(
                target,
                additional_headers=list(headers),
                subprotocols=[p for p in offered if p] or None,  # type: ignore[misc]
                user_agent_header=None,
                max_size=None,
                open_timeout=self.timeout,
                proxy=None,
            )
        except InvalidStatus as exc:
            return self._answered(request, conn, exc)
        except (OSError, TimeoutError, InvalidHandshake, ssl.SSLError) as exc:
            kind = classify(exc)
            return self._refused(
                request, conn, 504 if kind is FailureKind.TIMEOUT else 502, kind, describe(exc)
            )
        client = web.WebSocketResponse(
            protocols=(upstream.subprotocol,) if upstream.subprotocol else (),
            autoclose=False,
            max_msg_size=0,
            compress=False,
        )
        link = _Link(self.proxy, conn, request, client, upstream)
        self.links.add(link)
        try:
            await client.prepare(request)
            await link.run()
        finally:
            self.links.discard(link)
            await link.release()
        return client

    def _refused(
        self, request: web.Request, conn: str, status: int, kind: FailureKind | None, detail: str
    ) -> web.Response:
        session = self.proxy.session
        name = kind.value if kind else "none"
        session.write(WsClose(session.t(), conn, S2C, None, f"upstream {name}: {detail}"))
        if kind is not None:
            self.proxy.fail("ws", conn, kind, f"{request.path_qs}: {detail}")
        text = f"harness recording proxy: upstream {self.upstream or '(none)'}: {name}: {detail}\n"
        response = web.Response(status=status, text=text)
        response.headers[ERROR_HEADER] = name
        return response

    def _answered(self, request: web.Request, conn: str, exc: InvalidStatus) -> web.Response:
        """The upstream answered the upgrade with an HTTP status: the client gets that answer."""
        session = self.proxy.session
        answer = exc.response
        status = answer.status_code
        session.write(
            WsClose(session.t(), conn, S2C, None, f"handshake refused: HTTP {status} {answer.reason_phrase}")
        )
        self.proxy.counters["ws.handshakes_refused"] += 1
        if status >= 500:
            self.proxy.fail("ws", conn, FailureKind.SERVER_ERROR, f"{request.path_qs}: HTTP {status}")
        response = web.Response(status=status, reason=answer.reason_phrase or None, body=answer.body)
        for name, value in answer.headers.raw_items():
            if name.lower() not in HOP_BY_HOP:
                response.headers.add(name, value)
        return response

    async def shutdown(self) -> None:
        await asyncio.gather(*(link.shutdown() for link in list(self.links)))


class _Link:
    """One client connection and its upstream connection."""

    def __init__(
        self,
        proxy: RecordingProxy,
        conn: str,
        request: web.Request,
        client: web.WebSocketResponse,
        upstream: ClientConnection,
    ) -> None:
        self.proxy = proxy
        self.session = proxy.session
        self.conn = conn
        self.request = request
        self.client = client
        self.upstream = upstream
        self.ending = False
        """Set when the proxy shuts down: the pumps stop recording."""
        self.ended = False
        """Set when one side went away without a close frame: the other side is dropped too."""

    def _write(self, frame: Any) -> None:
        if not self.ending:
            self.session.write(frame)

    async def run(self) -> None:
        pumps = [asyncio.create_task(self._from_client()), asyncio.create_task(self._from_upstream())]
        try:
            await asyncio.gather(*pumps)
        finally:
            for pump in pumps:
                pump.cancel()

    async def _from_client(self) -> None:
        session, conn = self.session, self.conn
        while True:
            msg = await self.client.receive()
            if msg.type is WSMsgType.TEXT:
                self._write(WsText(session.t(), conn, C2S, msg.data))
                if not await self._send_upstream(msg.data):
                    return
            elif msg.type is WSMsgType.BINARY:
                self._write(WsBinary(session.t(), conn, C2S, msg.data))
                if not await self._send_upstream(msg.data):
                    return
            elif msg.type is WSMsgType.CLOSE:
                code, reason = msg.data, msg.extra or ""
                self._write(WsClose(session.t(), conn, C2S, _code(code), reason))
                with contextlib.suppress(ConnectionClosed, OSError):
                    await self.upstream.close(_sendable(code), reason)
                return
            else:
                # CLOSING: the proxy is closing this side (the upstream closed first); CLOSED or
                # ERROR: the client went away without a close frame, and so does the proxy upstream.
                if msg.type is not WSMsgType.CLOSING and not self.ended:
                    self.ended = True
                    self._write(WsClose(session.t(), conn, C2S, None, "client dropped the connection"))
                    self.upstream.transport.abort()
                return

    async def _send_upstream(self, data: str | bytes) -> bool:
        try:
            await self.upstream.send(data)
        except ConnectionClosed:
            return False
        return True

    async def _from_upstream(self) -> None:
        session, conn = self.session, self.conn
        try:
            while True:
                message = await self.upstream.recv()
                if isinstance(message, str):
                    self._write(WsText(session.t(), conn, S2C, message))
                    await self.client.send_str(message)
                else:
                    self._write(WsBinary(session.t(), conn, S2C, message))
                    await self.client.send_bytes(message)
        except ConnectionClosed as closed:
            await self._upstream_closed(closed)
        except (ConnectionError, RuntimeError):
            return  # the client is gone; its pump records that

    async def _upstream_closed(self, closed: ConnectionClosed) -> None:
        session, conn = self.session, self.conn
        if self.ended:
            return
        rcvd, sent = closed.rcvd, closed.sent
        if rcvd is None and sent is None:
            self.ended = True
            detail = "upstream dropped the connection (no close frame)"
            self._write(WsClose(session.t(), conn, S2C, None, detail))
            self.proxy.fail("ws", conn, FailureKind.DROPPED, detail)
            if self.request.transport is not None:
                self.request.transport.abort()  # so does the proxy: the client sees 1006
            return
        if rcvd is not None:
            self._write(WsClose(session.t(), conn, S2C, _code(rcvd.code), rcvd.reason))
        # The service's close (or its reply to the client's) goes to the client. The client's
        # reply to it is not recorded: aiohttp does not tell what it was.
        code, reason = (rcvd.code, rcvd.reason) if rcvd is not None else (sent.code, sent.reason)  # type: ignore[union-attr]
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.client.close(code=_sendable(code), message=reason.encode())

    async def shutdown(self) -> None:
        """The proxy stops: both sides are closed with 1001 (going away), recorded once."""
        if self.ending:
            return
        self.session.write(WsClose(self.session.t(), self.conn, C2S, SHUTDOWN_CODE, "recording stopped"))
        self.ending = self.ended = True
        with contextlib.suppress(ConnectionClosed, OSError, asyncio.TimeoutError):
            await asyncio.wait_for(self.upstream.close(SHUTDOWN_CODE, "going away"), 2)
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.TimeoutError):
            await asyncio.wait_for(
                self.client.close(code=SHUTDOWN_CODE, message=b"recording proxy shut down"), 2
            )

    async def release(self) -> None:
        """The client's handler is done: nothing of the upstream connection may outlive it."""
        if self.upstream.state is not State.CLOSED:
            self.upstream.transport.abort()
