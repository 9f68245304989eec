"""The recording proxy's Socket.IO relay at ``/socket.io/``: one upstream client per client connection.

A python-socketio ``AsyncServer`` accepts clients on every namespace. Each namespace connection
(one Socket.IO socket, one ``sid``) gets its own upstream python-socketio ``AsyncClient``,
connected with the client's ``auth`` (sent upstream as it came, redacted on the tape), its query
parameters (the Engine.IO ones aside) and its headers. The client's connect is answered only when
the upstream answered: a ``connect_error`` from the service reaches the client with the payload
it had, byte for byte.

Every event goes both ways in the order it came, each recorded as it arrives. An event that asks
for an ack is relayed asking for one, and the answer goes back under the asker's ack id, in both
directions: the tape binds an ack to its emit by the id of the side that asked. Binary arguments
are relayed as binary and recorded as ``{"_binary_b64": "<base64>"}``.

Disconnects are recorded with the reason python-socketio gives (``client disconnect``,
``server disconnect``, ``transport close``, ``ping timeout`` ...) and passed on as what they
were: the service disconnecting the socket disconnects the client's socket; the upstream
connection failing (a dropped transport) closes the client's Engine.IO connection, so a client
reconnects as it would. An upstream that cannot be reached (refused, TLS, HTTP error, timeout)
is a ``connect_error`` whose message says so (python-socketio's own client reports an
unreachable server the same way).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import socketio
from aiohttp import web
from socketio import packet

from harness.core.frames import (
    C2S,
    S2C,
    JsonValue,
    SioAck,
    SioConnect,
    SioConnectError,
    SioDisconnect,
    SioEvent,
)
from harness.recorder.failures import FailureKind, classify, describe
from harness.recorder.relay_http import HOP_BY_HOP

if TYPE_CHECKING:
    from harness.recorder.proxy import RecordingProxy

ENGINEIO_PARAMS = frozenset({"EIO", "transport", "sid", "t", "j", "b64"})
"""Query parameters of the Engine.IO transport itself: the upstream client makes its own."""
SERVER_DISCONNECT = socketio.AsyncClient.reason.SERVER_DISCONNECT
CLIENT_DISCONNECT = socketio.AsyncClient.reason.CLIENT_DISCONNECT


def jsonable(value: Any) -> JsonValue:
    """A Socket.IO argument as the tape keeps it: bytes become ``{"_binary_b64": ...}``."""
    if isinstance(value, bytes | bytearray):
        return {"_binary_b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class _Emit:
    name: str
    args: tuple[Any, ...]
    ack_id: int | None


@dataclass(frozen=True, slots=True)
class _Ack:
    ack_id: int
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _End:
    reason: str


class _Server(socketio.AsyncServer):  # type: ignore[misc]
    relay: SioRelay

    async def _handle_event_internal(
        self, server: Any, sid: str, eio_sid: str, data: Any, namespace: str, id: int | None
    ) -> None:
        # A python-socketio handler sees neither the packet's ack id nor a way to answer it later
        # without holding up the events behind it; the relay needs both.
        link = self.relay.links.get(sid)
        if link is not None and data:
            link.from_client(str(data[0]), tuple(data[1:]), id)


class _Upstream(socketio.AsyncClient):  # type: ignore[misc]
    link: _Link

    async def _handle_event(self, namespace: str, id: int | None, data: Any) -> None:
        if data:
            self.link.from_upstream(str(data[0]), tuple(data[1:]), id)

    async def _handle_error(self, namespace: str, data: Any) -> None:
        self.link.refusal.append(data)  # the service's connect_error payload, as it came
        await super()._handle_error(namespace, data)


def _refuse(payload: Any) -> socketio.exceptions.ConnectionRefusedError:
    """A refusal whose ``connect_error`` payload is exactly ``payload``."""
    refusal = socketio.exceptions.ConnectionRefusedError()
    refusal.error_args = payload
    return refusal


class SioRelay:
    def __init__(self, proxy: RecordingProxy, upstream: str | None, timeout: float) -> None:
        self.proxy = proxy
        self.upstream = upstream
        self.timeout = timeout
        self.links: dict[str, _Link] = {}
        self.server = _Server(
            async_mode="aiohttp",
            namespaces="*",
            async_handlers=False,  # events are relayed in the order they came
            cors_allowed_origins="*",
            logger=False,
            engineio_logger=False,
        )
        self.server.relay = self
        self.server.on("connect", self._connect, namespace="*")
        self.server.on("disconnect", self._disconnect, namespace="*")

    def attach(self, app: web.Application) -> None:
        self.server.attach(app, socketio_path="socket.io")

    def _target(self, environ: dict[str, Any]) -> tuple[str, str]:
        """The upstream URL with the client's own query parameters, and its Socket.IO path."""
        assert self.upstream is not None
        parts = urlsplit(self.upstream)
        own = [
            (k, v)
            for k, v in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if k not in ENGINEIO_PARAMS
        ]
        query = "&".join(q for q in (parts.query, urlencode(own)) if q)
        path = parts.path.strip("/") or "socket.io"
        return urlunsplit((parts.scheme, parts.netloc, "", query, "")), path

    async def _connect(self, namespace: str, sid: str, environ: dict[str, Any], auth: Any) -> None:
        session = self.proxy.session
        conn = session.conn("sio")
        session.write(SioConnect(session.t(), conn, namespace, jsonable(auth), environ.get("RAW_URI", "")))
        self.proxy.counters["sio.connections"] += 1
        if self.upstream is None:
            message = "harness recording proxy: no Socket.IO upstream"
            session.write(SioConnectError(session.t(), conn, message, None, namespace))
            raise _refuse({"message": message})
        eio_sid = self.server.manager.eio_sid_from_sid(sid, namespace)
        link = _Link(self, conn, sid, eio_sid, namespace)
        # handle_sigint: Ctrl-C is the recorder's to handle (it finishes the tape)
        client = _Upstream(reconnection=False, request_timeout=self.timeout, handle_sigint=False)
        client.link = link
        link.client = client
        client.on("disconnect", link.upstream_disconnected, namespace=namespace)
        url, path = self._target(environ)
        request = environ.get("aiohttp.request")
        headers = {
            k: v
            for k, v in (request.headers.items() if request is not None else ())
            if k.lower() not in HOP_BY_HOP and not k.lower().startswith("sec-websocket")
        }
        try:
            await client.connect(
                url,
                headers=headers,
                auth=auth,
                transports=["websocket"],
                namespaces=[namespace],
                socketio_path=path,
                wait_timeout=self.timeout,
            )
        except (socketio.exceptions.ConnectionError, OSError, ValueError) as exc:
            if client.eio.http is not None and not client.eio.http.closed:
                await client.eio.http.close()  # engineio leaves it open when the transport failed
            if link.refusal:
                raw = link.refusal[0]
                message = raw.get("message", "") if isinstance(raw, dict) else str(raw)
                session.write(SioConnectError(session.t(), conn, str(message), jsonable(raw), namespace))
                self.proxy.counters["sio.connect_errors"] += 1
                raise _refuse(raw) from None
            kind = classify(exc)
            message = f"harness recording proxy: upstream {self.upstream}: {kind.value}: {describe(exc)}"
            session.write(SioConnectError(session.t(), conn, message, None, namespace))
            self.proxy.fail("sio", conn, kind, describe(exc))
            raise _refuse({"message": message}) from None
        self.links[sid] = link
        link.start()

    async def _disconnect(self, namespace: str, sid: str, reason: str) -> None:
        link = self.links.pop(sid, None)
        if link is not None:
            link.client_left(reason)

    async def shutdown(self) -> None:
        await asyncio.gather(*(link.shutdown() for link in list(self.links.values())))
        with contextlib.suppress(Exception):
            # every Engine.IO connection, so none holds the server (bounded: a connection whose
            # writer is gone never drains its queue)
            await asyncio.wait_for(self.server.eio.disconnect(), 1.0)
        with contextlib.suppress(Exception):
            await self.server.shutdown()


class _Link:
    """One client socket (a namespace connection) and its upstream client."""

    def __init__(self, relay: SioRelay, conn: str, sid: str, eio_sid: str, namespace: str) -> None:
        self.relay = relay
        self.server = relay.server
        self.session = relay.proxy.session
        self.conn = conn
        self.sid = sid
        self.eio_sid = eio_sid
        self.namespace = namespace
        self.client: _Upstream
        self.refusal: list[Any] = []
        self.closing = False
        """One side went away (or the proxy stops): later disconnects are not recorded."""
        self.to_upstream: asyncio.Queue[_Emit | _Ack | _End] = asyncio.Queue()
        self.to_client: asyncio.Queue[_Emit | _Ack | _End] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self._pump_upstream()),
            asyncio.create_task(self._pump_client()),
        ]

    # --- from the client ------------------------------------------------------------------------

    def from_client(self, name: str, args: tuple[Any, ...], ack_id: int | None) -> None:
        self.session.write(
            SioEvent(self.session.t(), self.conn, C2S, name, tuple(jsonable(args)), ack_id, self.namespace)
        )
        self.to_upstream.put_nowait(_Emit(name, args, ack_id))

    def _upstream_acked(self, ack_id: int, *args: Any) -> None:
        self.session.write(
            SioAck(self.session.t(), self.conn, S2C, ack_id, tuple(jsonable(args)), self.namespace)
        )
        self.to_client.put_nowait(_Ack(ack_id, args))

    def client_left(self, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.session.write(SioDisconnect(self.session.t(), self.conn, C2S, reason, self.namespace))
        self.to_upstream.put_nowait(_End(reason))

    async def _pump_upstream(self) -> None:
        client, namespace = self.client, self.namespace
        while not isinstance(item := await self.to_upstream.get(), _End):
            try:
                if isinstance(item, _Emit):
                    callback = (
                        None if item.ack_id is None else functools.partial(self._upstream_acked, item.ack_id)
                    )
                    await client.emit(item.name, item.args, namespace=namespace, callback=callback)
                else:
                    await client._send_packet(
                        client.packet_class(
                            packet.ACK, namespace=namespace, id=item.ack_id, data=list(item.args)
                        )
                    )
            except socketio.exceptions.SocketIOError:
                pass  # the upstream is going away; its disconnect is on the way
        with contextlib.suppress(Exception):
            await client.disconnect()

    # --- from the upstream ----------------------------------------------------------------------

    def from_upstream(self, name: str, args: tuple[Any, ...], ack_id: int | None) -> None:
        self.session.write(
            SioEvent(self.session.t(), self.conn, S2C, name, tuple(jsonable(args)), ack_id, self.namespace)
        )
        self.to_client.put_nowait(_Emit(name, args, ack_id))

    def _client_acked(self, ack_id: int, *args: Any) -> None:
        self.session.write(
            SioAck(self.session.t(), self.conn, C2S, ack_id, tuple(jsonable(args)), self.namespace)
        )
        self.to_upstream.put_nowait(_Ack(ack_id, args))

    async def upstream_disconnected(self, reason: str = "") -> None:
        if self.closing:
            return
        self.closing = True
        reason = str(reason or SERVER_DISCONNECT)
        self.session.write(SioDisconnect(self.session.t(), self.conn, S2C, reason, self.namespace))
        if reason != SERVER_DISCONNECT:
            self.relay.proxy.fail("sio", self.conn, FailureKind.DROPPED, f"upstream {reason}")
        self.to_client.put_nowait(_End(reason))

    async def _pump_client(self) -> None:
        server, namespace = self.server, self.namespace
        while not isinstance(item := await self.to_client.get(), _End):
            if isinstance(item, _Emit):
                callback = None if item.ack_id is None else functools.partial(self._client_acked, item.ack_id)
                await server.emit(item.name, item.args, to=self.sid, namespace=namespace, callback=callback)
            else:
                await server._send_packet(
                    self.eio_sid,
                    server.packet_class(
                        packet.ACK, namespace=namespace, id=item.ack_id, data=list(item.args)
                    ),
                )
        self.relay.links.pop(self.sid, None)
        with contextlib.suppress(Exception):
            if item.reason == SERVER_DISCONNECT:
                await server.disconnect(self.sid, namespace=namespace)
            else:
                await server.eio.disconnect(self.eio_sid)  # the transport went: so does the client's

    async def shutdown(self) -> None:
        """The proxy stops: the recording ends as the client leaving; both sides are closed."""
        if not self.closing:
            self.closing = True
            self.session.write(
                SioDisconnect(self.session.t(), self.conn, C2S, CLIENT_DISCONNECT, self.namespace)
            )
        for task in self.tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.disconnect(), 2)
        with contextlib.suppress(Exception):
            await self.server.disconnect(self.sid, namespace=self.namespace)
