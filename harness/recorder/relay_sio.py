"""Socket.IO relaying at ``/socket.io/``: one upstream client per client connection.

A python-socketio ``AsyncServer`` accepts clients on every namespace, over any Engine.IO transport
(long-polling, its WebSocket upgrade, or WebSocket alone). Each namespace connection (one
Socket.IO socket, one ``sid``) gets its own upstream python-socketio ``AsyncClient``, connected
with the client's ``auth`` (sent upstream as it came), its query parameters (the Engine.IO ones
aside) and its headers. The client's connect is answered only when the upstream answered: a
``connect_error`` from the service reaches the client with the payload it had, byte for byte.

Every event goes both ways in the order it came. An event that asks for an ack is relayed asking
for one, and the answer goes back under the asker's ack id, in both directions. Binary arguments
are relayed as binary.

Disconnects are passed on as what they were: the service disconnecting the socket disconnects
the client's socket; the upstream connection failing (a dropped transport) closes the client's
Engine.IO connection, so a client reconnects as it would. An upstream that cannot be reached
(refused, TLS, HTTP error, timeout) is a ``connect_error`` whose message says so (python-socketio's
own client reports an unreachable server the same way).

What happens on a socket is told to its :class:`SioTap`. The recording proxy's
(:class:`~harness.recorder.taps.SioRecording`) writes it to the tape, redacted by the session:
the tape binds an ack to its emit by the id of the side that asked, binary arguments are kept as
``{"_binary_b64": "<base64>"}``, disconnects keep python-socketio's reason (``client disconnect``,
``server disconnect``, ``transport close``, ``ping timeout`` ...). A relay with the bare tap only
moves packets, and :meth:`SioRelay.routed` lets a subclass move a socket to another upstream at an
emit (the ``new_episodes`` router's :class:`~harness.recorder.episodes.SioBridge`): acks still
owed by the old upstream still reach the client, under its own ack ids.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import socketio
from aiohttp import web
from socketio import packet

from harness.core.frames import C2S, S2C, Direction, JsonValue
from harness.core.redact import shown
from harness.recorder.failures import FailureKind, classify, describe
from harness.recorder.relay_http import upgrade_headers
from harness.server.sio_server import SioServer

ENGINEIO_PARAMS = frozenset({"EIO", "transport", "sid", "t", "j", "b64"})
"""Query parameters of the Engine.IO transport itself: the upstream client makes its own."""
SERVER_DISCONNECT = socketio.AsyncClient.reason.SERVER_DISCONNECT
CLIENT_DISCONNECT = socketio.AsyncClient.reason.CLIENT_DISCONNECT
SETTLE_TIMEOUT = 10.0
"""Seconds a socket moved to another upstream waits for the acks the old one still owes (at most)."""


def jsonable(value: Any) -> JsonValue:
    """A Socket.IO argument as the tape keeps it: bytes become ``{"_binary_b64": ...}``."""
    if isinstance(value, bytes | bytearray):
        return {"_binary_b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def jsonable_args(args: tuple[Any, ...]) -> tuple[JsonValue, ...]:
    return tuple(jsonable(a) for a in args)


@dataclass(frozen=True, slots=True)
class Emit:
    """An event on its way. ``source``: the upstream client that sent it (None from the client)."""

    name: str
    args: tuple[Any, ...]
    ack_id: int | None
    source: _Upstream | None = None


@dataclass(frozen=True, slots=True)
class _Ack:
    ack_id: int
    args: tuple[Any, ...]
    to: _Upstream | None = None
    """The upstream client that asked (None: the ack goes to the client)."""


@dataclass(frozen=True, slots=True)
class _End:
    reason: str
    gone: bool = False
    """The client's socket is gone already: nothing is sent to it, not even a disconnect."""


class Refused(Exception):
    """An upstream did not take a socket: ``payload`` is the ``connect_error`` for the client."""

    def __init__(self, payload: Any) -> None:
        super().__init__(payload)
        self.payload = payload


class SioTap:
    """What a relay tells of one client socket. This one hears it and keeps nothing."""

    def connect(self, auth: Any, url: str) -> None:
        """The client's connect (before the upstream answered)."""

    def connect_error(self, message: str, payload: Any) -> None:
        """The connect refused: ``payload`` as the service sent it, or None when the relay wrote
        ``message`` (no upstream, or one that could not be reached)."""

    def failed(self, kind: FailureKind, detail: str) -> None:
        """The upstream failed: could not be reached, or dropped the connection."""

    def event(self, direction: Direction, name: str, args: tuple[Any, ...], ack_id: int | None) -> None:
        """An event from the client (``C2S``) or the upstream (``S2C``)."""

    def ack(self, direction: Direction, ack_id: int, args: tuple[Any, ...]) -> None:
        """An ack of an event that asked for one, from the side that was asked."""

    def disconnect(self, direction: Direction, reason: str) -> None:
        """The side that left first, and python-socketio's reason."""


class _Server(SioServer):
    """Refuses what it cannot decode as the emulator does (:class:`SioServer`: the client's
    connection is closed, its disconnect recorded, the refusal counted as ``sio.malformed_packets``)
    rather than logging a traceback and leaving the client waiting."""

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
    def __init__(self, link: Link, **options: Any) -> None:
        super().__init__(**options)
        self.link = link
        self.refusal: list[Any] = []
        """The service's ``connect_error`` payload, as it came."""
        self.early: list[Emit] | None = []
        """Events that came before the link adopted this client (None once it did)."""
        self.owed = 0
        """Acks this upstream owes the client."""
        self._settled = asyncio.Event()
        self._settled.set()

    async def _handle_event(self, namespace: str, id: int | None, data: Any) -> None:
        if data:
            self.link.heard(Emit(str(data[0]), tuple(data[1:]), id, self))

    async def _handle_error(self, namespace: str, data: Any) -> None:
        self.refusal.append(data)
        await super()._handle_error(namespace, data)

    def asked(self) -> None:
        self.owed += 1
        self._settled.clear()

    def answered(self) -> None:
        self.owed -= 1
        if not self.owed:
            self._settled.set()

    async def settled(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until this upstream owes no ack."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), timeout)


def _refuse(payload: Any) -> socketio.exceptions.ConnectionRefusedError:
    """A refusal whose ``connect_error`` payload is exactly ``payload``."""
    refusal = socketio.exceptions.ConnectionRefusedError()
    refusal.error_args = payload
    return refusal


class SioRelay:
    """The relay (module docstring). ``upstream``: the service's base URL (None: every connect is
    refused saying so); ``tap(namespace)`` makes each socket's :class:`SioTap`; ``name`` opens the
    messages a client gets when the relay itself refuses it."""

    def __init__(
        self,
        upstream: str | None,
        timeout: float,
        *,
        tap: Callable[[str], SioTap] = lambda namespace: SioTap(),
        name: str = "harness recording proxy",
        counters: Counter[str] | None = None,
    ) -> None:
        """``counters``: where client packets refused are counted (``sio.malformed_packets`` ...)."""
        self.upstream = upstream
        self.timeout = timeout
        self.tap = tap
        self.name = name
        self.links: dict[str, Link] = {}
        self.server = _Server(
            Counter() if counters is None else counters,
            counter_prefix="sio.",
            async_mode="aiohttp",
            namespaces="*",
            async_handlers=False,  # events are relayed in the order they came
            cors_allowed_origins="*",
            cors_credentials=False,  # any page may use the relay, never with the user's cookies
            logger=False,
            engineio_logger=False,
        )
        self.server.relay = self
        self.server.on("connect", self._connect, namespace="*")
        self.server.on("disconnect", self._disconnect, namespace="*")

    def attach(self, app: web.Application) -> None:
        self.server.attach(app, socketio_path="socket.io")

    async def routed(self, link: Link, emit: Emit) -> bool:
        """Called before each client emit goes upstream: a subclass may move ``link`` to another
        upstream here (:meth:`Link.adopt`), or end it (:meth:`Link.end`) and return False."""
        return True

    async def open(self, link: Link, base: str | None) -> _Upstream:
        """A new upstream client for ``link``'s socket, connected to ``base`` as the client asked
        (auth, query, headers). Raises :class:`Refused` with what the client is to be told."""
        tap = link.tap
        if base is None:
            message = f"{self.name}: no Socket.IO upstream"
            tap.connect_error(message, None)
            raise Refused({"message": message})
        # handle_sigint: Ctrl-C is the recorder's to handle (it finishes the tape)
        client = _Upstream(link, reconnection=False, request_timeout=self.timeout, handle_sigint=False)

        async def disconnected(reason: str = "") -> None:
            await link.upstream_disconnected(client, reason)

        client.on("disconnect", disconnected, namespace=link.namespace)
        url, path = self._target(base, link.environ)
        request = link.environ.get("aiohttp.request")
        headers = dict(upgrade_headers(request)) if request is not None else {}
        try:
            await client.connect(
                url,
                headers=headers,
                auth=link.auth,
                transports=["websocket"],
                namespaces=[link.namespace],
                socketio_path=path,
                wait_timeout=self.timeout,
            )
        except (socketio.exceptions.ConnectionError, OSError, ValueError) as exc:
            if client.eio.http is not None and not client.eio.http.closed:
                await client.eio.http.close()  # engineio leaves it open when the transport failed
            if client.refusal:
                raw = client.refusal[0]
                message = raw.get("message", "") if isinstance(raw, dict) else str(raw)
                tap.connect_error(str(message), raw)
                raise Refused(raw) from None
            kind = classify(exc)
            message = shown(f"{self.name}: upstream {base}: {kind.value}: {describe(exc)}")
            tap.connect_error(message, None)
            tap.failed(kind, describe(exc))
            raise Refused({"message": message}) from None
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await client.disconnect()
            raise
        return client

    def _target(self, base: str, environ: dict[str, Any]) -> tuple[str, str]:
        """``base`` with the client's own query parameters, and its Socket.IO path."""
        parts = urlsplit(base)
        own = [
            (k, v)
            for k, v in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if k not in ENGINEIO_PARAMS
        ]
        query = "&".join(q for q in (parts.query, urlencode(own)) if q)
        path = parts.path.strip("/") or "socket.io"
        return urlunsplit((parts.scheme, parts.netloc, "", query, "")), path

    async def _connect(self, namespace: str, sid: str, environ: dict[str, Any], auth: Any) -> None:
        tap = self.tap(namespace)
        tap.connect(auth, environ.get("RAW_URI", ""))
        eio_sid = self.server.manager.eio_sid_from_sid(sid, namespace)
        link = Link(self, tap, sid, eio_sid, namespace, environ, auth)
        try:
            link.adopt(await self.open(link, self.upstream))
        except Refused as refused:
            raise _refuse(refused.payload) from None
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


class Link:
    """One client socket (a namespace connection) and its upstream client."""

    def __init__(
        self,
        relay: SioRelay,
        tap: SioTap,
        sid: str,
        eio_sid: str,
        namespace: str,
        environ: dict[str, Any],
        auth: Any,
    ) -> None:
        self.relay = relay
        self.server = relay.server
        self.tap = tap
        self.sid = sid
        self.eio_sid = eio_sid
        self.namespace = namespace
        self.environ = environ
        self.auth = auth
        self.client: _Upstream | None = None
        self.decided = False
        """For :meth:`SioRelay.routed`: whether this socket's upstream is settled."""
        self.closing = False
        """One side went away (or the relay stops): later disconnects are not told."""
        self.to_upstream: asyncio.Queue[Emit | _Ack | _End] = asyncio.Queue()
        self.to_client: asyncio.Queue[Emit | _Ack | _End] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self._pump_upstream()),
            asyncio.create_task(self._pump_client()),
        ]

    def adopt(self, client: _Upstream) -> _Upstream | None:
        """Make ``client`` this socket's upstream: its events (those that came while it connected
        first) go to the client from now on, the previous upstream's no more. Returns that one."""
        previous, self.client = self.client, client
        early, client.early = client.early or [], None
        for emit in early:
            self.from_upstream(emit)
        return previous

    def end(self, reason: str) -> None:
        """The relay ends the client's socket: ``server disconnect`` disconnects it, any other
        reason closes its Engine.IO connection."""
        if not self.closing:
            self.closing = True
            self.to_client.put_nowait(_End(reason))

    # --- from the client ------------------------------------------------------------------------

    def from_client(self, name: str, args: tuple[Any, ...], ack_id: int | None) -> None:
        self.tap.event(C2S, name, args, ack_id)
        self.to_upstream.put_nowait(Emit(name, args, ack_id))

    def _upstream_acked(self, client: _Upstream, ack_id: int, *args: Any) -> None:
        client.answered()
        self.tap.ack(S2C, ack_id, args)
        self.to_client.put_nowait(_Ack(ack_id, args))

    def client_left(self, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.tap.disconnect(C2S, reason)
        self.to_upstream.put_nowait(_End(reason))
        self.to_client.put_nowait(_End(reason, gone=True))

    async def _pump_upstream(self) -> None:
        namespace = self.namespace
        while not isinstance(item := await self.to_upstream.get(), _End):
            try:
                if isinstance(item, _Ack):
                    assert item.to is not None
                    ack = item.to.packet_class(
                        packet.ACK, namespace=namespace, id=item.ack_id, data=list(item.args)
                    )
                    await item.to._send_packet(ack)
                    continue
                if not await self.relay.routed(self, item):
                    break
                client = self.client
                assert client is not None
                callback = None
                if item.ack_id is not None:
                    client.asked()
                    callback = functools.partial(self._upstream_acked, client, item.ack_id)
                await client.emit(item.name, item.args, namespace=namespace, callback=callback)
            except socketio.exceptions.SocketIOError:
                pass  # the upstream is going away; its disconnect is on the way
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.disconnect()

    # --- from the upstream ----------------------------------------------------------------------

    def heard(self, emit: Emit) -> None:
        """An event from one of this socket's upstream clients."""
        source = emit.source
        if source is self.client:
            self.from_upstream(emit)
        elif source is not None and source.early is not None:
            source.early.append(emit)  # connecting: it is the client's once adopted
        # else: an upstream this socket has left behind

    def from_upstream(self, emit: Emit) -> None:
        self.tap.event(S2C, emit.name, emit.args, emit.ack_id)
        self.to_client.put_nowait(emit)

    def _client_acked(self, client: _Upstream, ack_id: int, *args: Any) -> None:
        self.tap.ack(C2S, ack_id, args)
        self.to_upstream.put_nowait(_Ack(ack_id, args, client))

    async def upstream_disconnected(self, client: _Upstream, reason: str = "") -> None:
        if self.closing or client is not self.client:
            return
        self.closing = True
        reason = str(reason or SERVER_DISCONNECT)
        self.tap.disconnect(S2C, reason)
        if reason != SERVER_DISCONNECT:
            self.tap.failed(FailureKind.DROPPED, f"upstream {reason}")
        self.to_client.put_nowait(_End(reason))

    async def _pump_client(self) -> None:
        server, namespace = self.server, self.namespace
        while not isinstance(item := await self.to_client.get(), _End):
            if isinstance(item, Emit):
                callback = None
                if item.ack_id is not None and item.source is not None:
                    callback = functools.partial(self._client_acked, item.source, item.ack_id)
                await server.emit(item.name, item.args, to=self.sid, namespace=namespace, callback=callback)
            else:
                ack = server.packet_class(
                    packet.ACK, namespace=namespace, id=item.ack_id, data=list(item.args)
                )
                await server._send_packet(self.eio_sid, ack)
        self.relay.links.pop(self.sid, None)
        # the upstream pump ends too (it disconnects the upstream client, if that is not gone)
        self.to_upstream.put_nowait(_End(item.reason))
        if item.gone:
            return
        with contextlib.suppress(Exception):
            if item.reason == SERVER_DISCONNECT:
                await server.disconnect(self.sid, namespace=namespace)
            else:
                await server.eio.disconnect(self.eio_sid)  # the transport went: so does the client's

    async def shutdown(self) -> None:
        """The relay stops: told as the client leaving; both sides are closed."""
        if not self.closing:
            self.closing = True
            self.tap.disconnect(C2S, CLIENT_DISCONNECT)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.disconnect(), 2)
        with contextlib.suppress(Exception):
            await self.server.disconnect(self.sid, namespace=self.namespace)
