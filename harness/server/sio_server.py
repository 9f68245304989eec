"""python-socketio plumbing of the PumpData emulation: acks asked for, attachments, outgoing queues.

Owns what python-socketio leaves open and the emulation needs (the recording proxy's Socket.IO
server, :mod:`harness.recorder.relay_sio`, refuses what a client sends with it too), and nothing
of PumpData's rules:

* whether the client asked for an ack: a handler cannot see it, so :class:`SioServer` notes it
  (the packet's id) in a context variable before the handler runs (contract §2.3: without an
  ack callback, a failure goes out as ``subscription_error``);
* packets it cannot take: python-socketio logs a traceback for a packet it cannot decode (bad
  JSON, an event that is not a list starting with its name) and the client waits for an answer
  that never comes; it would also collect up to ten digits' worth of binary attachments for one
  packet. Here either closes that client's connection cleanly (as Socket.IO servers do on a
  parse error), is counted and reported (the emulator keeps it as a violation);
* Engine.IO packets it cannot take: python-engineio fails with a traceback on an empty WebSocket
  frame (aiohttp then drops the connection and the session lingers until its ping times out) and
  on an unknown packet type (logged, and the connection stays), and logs a traceback per
  long-polling POST whose body it cannot decode. :class:`SioServer` checks the type of each text
  frame, and each packet of a POST body (read whole: python-engineio's one read gives what has
  arrived so far), first and refuses such a client the same way; a POST to a session so closed
  gets the 400 a poll of it gets, not python-engineio's 500;
* sessions: python-engineio keeps any number of Engine.IO sessions, one per handshake, even of
  clients that never poll again (they expire only by their ping timeout). :class:`SioServer` caps
  them (``max_sessions``): past the cap a handshake gets a 503 whose JSON body says why. And it
  waits forever for the probe of a WebSocket opened to upgrade a session: a WebSocket silent for
  longer than the ping interval and timeout is closed;
* each client's outgoing queue: Engine.IO queues every packet for a client in an unbounded
  ``asyncio.Queue`` drained by one writer task, which blocks on the socket when the client stops
  reading, so the queue (memory) grows without bound and a ``max``-speed feed would wait for it.
  :class:`Outbox` reads those queue sizes, evicts a client whose queue is full (a Socket.IO
  disconnect, then the TCP connection is dropped if even that cannot be delivered), and lets the
  ``max``-speed scheduler wait for the clients that keep up, not for those that fell behind.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import engineio
import socketio

ACK_REQUESTED: contextvars.ContextVar[bool] = contextvars.ContextVar("ack_requested", default=False)
PACKET_SIZE: contextvars.ContextVar[int] = contextvars.ContextVar("packet_size", default=0)
"""The size of the Engine.IO packet whose event a handler is running for."""

MAX_ATTACHMENTS = 8
"""Binary attachments one packet may announce before its client's connection is closed."""

RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener", "*"}
)
"""Event names Socket.IO keeps for itself (and python-socketio's catch-all ``*``): a client that
emits one would run a connection handler, or the catch-all with the wrong arguments."""

ENGINEIO_TYPES = frozenset("0123456")
"""Engine.IO v4 packet types: open, close, ping, pong, message, upgrade, noop."""

LOW_WATER = 64
"""max mode: queued packets per client below which the next batch is released."""

EVICT_GRACE = 1.0
"""Host seconds an evicted client has to take its disconnect before its TCP connection is dropped."""

NAMESPACE = "/"


class SioServer(socketio.AsyncServer):  # type: ignore[misc]
    """An ``AsyncServer`` that records whether each event asked for an ack, and closes the
    connection of a client that sends what it cannot decode (as Socket.IO servers do on a parse
    error) or announces a flood of binary attachments."""

    def __init__(
        self,
        counters: Counter[str],
        *,
        counter_prefix: str = "",
        max_sessions: int | None = None,
        **kwargs: Any,
    ) -> None:
        """``counters``: where refusals and dropped connections are counted, under
        ``counter_prefix`` + ``malformed_packets``, ``attachment_floods``, ``connections_dropped``,
        ``sessions_refused``. ``max_sessions``: Engine.IO sessions open at once (None: no cap)."""
        self.max_sessions = max_sessions
        super().__init__(**kwargs)
        self.counters = counters
        self.counter_prefix = counter_prefix
        self.on_malformed: Callable[[str, str], None] = lambda eio_sid, why: None
        """Told ``(eio_sid, why)`` for every packet refused (the emulator keeps it as a violation)."""
        self.on_left: Callable[[int], None] = lambda received: None
        """Told how many bytes a client sent once its Engine.IO session has ended."""
        self._received: Counter[str] = Counter()
        self.on_reserved: Callable[[str, str, tuple[Any, ...]], Awaitable[Any]] | None = None
        """When set, a client event of a :data:`RESERVED_EVENTS` name goes to it as ``(sid, name,
        args)`` instead of to a handler, and what it returns is the ack (when one was asked for);
        unset (the recording proxy), such an event is handled as any other."""
        self._closing: set[asyncio.Task[None]] = set()
        self._websockets: dict[str, asyncio.Transport] = {}
        """The TCP connection of each Engine.IO session's WebSocket, while it is open."""
        self.eio.create_queue = SizedQueue  # each client's outgoing queue, measured in bytes too
        drivers = self.eio._async
        self.eio._async = {  # this server's, not the module's
            **drivers,
            "websocket": _checked_websocket(drivers["websocket"], self),
            "translate_request": _checked_translate(drivers["translate_request"], self),
        }

    def _engineio_server_class(self) -> type[Any]:
        return _capped_engineio(self)

    async def _handle_event_internal(
        self, server: Any, sid: str, eio_sid: str, data: Any, namespace: str, id: int | None
    ) -> Any:
        token = ACK_REQUESTED.set(id is not None)
        try:
            return await super()._handle_event_internal(server, sid, eio_sid, data, namespace, id)
        finally:
            ACK_REQUESTED.reset(token)

    async def _handle_eio_disconnect(self, eio_sid: str, *args: Any) -> None:
        try:
            await super()._handle_eio_disconnect(eio_sid, *args)
        finally:
            self.on_left(self._received.pop(eio_sid, 0))

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if isinstance(data, str | bytes):
            self._received[eio_sid] += len(data)
            PACKET_SIZE.set(len(data))  # the handler's task copies this context
        sock = self.eio.sockets.get(eio_sid)
        if sock is None or sock.closed or sock.closing:
            return  # what a refused client sent after the packet that closed it
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, RecursionError, IndexError) as exc:  # JSON, type, id, attachments
            self._binary_packet.pop(eio_sid, None)
            await self._refuse(eio_sid, "malformed_packets", f"not a Socket.IO packet: {str(exc)[:120]}")
            return
        pending = self._binary_packet.get(eio_sid)
        if pending is not None and pending.attachment_count > MAX_ATTACHMENTS:
            del self._binary_packet[eio_sid]
            why = f"{pending.attachment_count} binary attachments announced (at most {MAX_ATTACHMENTS})"
            await self._refuse(eio_sid, "attachment_floods", why)

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        # python-socketio takes an event's data for a list starting with the event name, and
        # fails in a task of its own (the client never hears back) when it is not.
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            raise ValueError(f"an event is a list that starts with its name, got {str(data)[:40]}")
        if self.on_reserved is not None and data[0] in RESERVED_EVENTS:
            await self._reserved(eio_sid, namespace or NAMESPACE, id, data)
            return
        await super()._handle_event(eio_sid, namespace, id, data)

    async def _reserved(self, eio_sid: str, namespace: str, id: int | None, data: list[Any]) -> None:
        """A client event of a reserved name: never a handler's; its answer from :attr:`on_reserved`."""
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None or not self.manager.is_connected(sid, namespace) or self.on_reserved is None:
            return
        self.counters[self.counter_prefix + "reserved_events"] += 1
        token = ACK_REQUESTED.set(id is not None)
        try:
            answer = await self.on_reserved(sid, data[0], tuple(data[1:]))
        finally:
            ACK_REQUESTED.reset(token)
        if id is not None:
            packet = self.packet_class(
                socketio.packet.ACK, namespace=namespace, id=id, data=[] if answer is None else [answer]
            )
            await self._send_packet(eio_sid, packet)

    async def _refuse(self, eio_sid: str, counter: str, why: str) -> None:
        self.counters[self.counter_prefix + counter] += 1
        self.on_malformed(eio_sid, why)
        await self.close_client(eio_sid)

    async def close_client(self, eio_sid: str) -> None:
        """Close a client's connection: an Engine.IO close packet, then the WebSocket closes (its
        disconnect handlers run at once). If it has not gone within :data:`EVICT_GRACE` seconds
        (it reads nothing, so the writer is stuck), its TCP connection is dropped."""
        # its WebSocket's own connection, opened as one or upgraded from polling; a polling
        # client's is shared by its requests, and no writer of it can be stuck
        transport = self._websockets.get(eio_sid)
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None and not sock.closed and not sock.closing:
            await sock.close(wait=False, reason=self.reason.SERVER_DISCONNECT)
            sock.queue.put_nowait(None)  # the writer ends after the close packet, closing the socket
        if transport is not None:
            task = asyncio.create_task(self._drop_later(transport), name=f"sio-close-{eio_sid}")
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _drop_later(self, transport: asyncio.Transport) -> None:
        await asyncio.sleep(EVICT_GRACE)
        if not transport.is_closing():
            self.counters[self.counter_prefix + "connections_dropped"] += 1
            transport.abort()

    async def stop(self) -> None:
        for task in list(self._closing):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _capped_engineio(server: SioServer) -> type[Any]:
    """python-engineio's server, answering a handshake past ``server.max_sessions`` with a 503."""

    class CappedEngineIO(engineio.AsyncServer):  # type: ignore[misc]
        async def _handle_connect(self, environ: Any, transport: str, jsonp_index: Any = None) -> Any:
            cap = server.max_sessions
            if cap is not None and len(self.sockets) >= cap:
                server.counters[server.counter_prefix + "sessions_refused"] += 1
                message = (
                    f"{len(self.sockets)} Engine.IO sessions are open, the most this server keeps"
                    " (--max-sio-sessions); try again once one has closed or expired"
                )
                return {
                    "status": "503 SERVICE UNAVAILABLE",
                    "headers": [("Content-Type", "application/json"), ("Retry-After", "1")],
                    "response": json.dumps({"code": 503, "message": message}).encode(),
                }
            return await super()._handle_connect(environ, transport, jsonp_index)

    return CappedEngineIO


def _engineio_problem(text: str) -> str | None:
    """Why ``text`` (one packet) is no Engine.IO packet python-engineio can decode, or None."""
    if not text:
        return "an empty packet"
    if text[0] not in ENGINEIO_TYPES:
        return f"packet type {text[0]!r}"
    return None


def _polled_problem(text: str) -> str | None:
    """:func:`_engineio_problem` of a packet in a polling body, where binary ones are base64."""
    if not text.startswith("b"):
        return _engineio_problem(text)
    try:
        base64.b64decode(text[1:], validate=True)
    except ValueError:  # binascii.Error too
        return "a binary packet that is not base64"
    return None


def _checked_websocket(driver: type[Any], server: SioServer) -> type[Any]:
    """python-engineio's aiohttp WebSocket wrapper, refusing text frames that are no Engine.IO
    packet before python-engineio decodes them (binary frames are always message packets)."""

    class CheckedWebSocket(driver):  # type: ignore[misc]
        async def __call__(self, environ: dict[str, Any]) -> Any:
            eio_sid = self.handler.__self__.sid
            transport = getattr(environ.get("aiohttp.request"), "transport", None)
            if transport is not None:
                server._websockets[eio_sid] = transport
            try:
                return await super().__call__(environ)
            finally:
                server._websockets.pop(eio_sid, None)

        async def wait(self) -> Any:
            # A live Engine.IO peer answers a ping within the interval and the timeout; a
            # WebSocket silent longer (one opened to upgrade a session that never sends its probe,
            # whose wait python-engineio never times out) is closed as a client that left.
            quiet = float(server.eio.ping_interval) + float(server.eio.ping_timeout)
            try:
                data = await asyncio.wait_for(super().wait(), quiet)
            except TimeoutError:
                server.counters[server.counter_prefix + "websockets_timed_out"] += 1
                return None
            if isinstance(data, str) and (problem := _engineio_problem(data)) is not None:
                eio_sid = self.handler.__self__.sid  # the bound handler of the Engine.IO socket
                await server._refuse(eio_sid, "malformed_packets", f"not an Engine.IO packet: {problem}")
                return None  # as if the client had closed: the reader ends, the close packet goes out
            return data

    return CheckedWebSocket


def _checked_translate(translate: Callable[[Any], dict[str, Any]], server: SioServer) -> Callable[[Any], Any]:
    """python-engineio's aiohttp request translation, with a long-polling POST body that refuses
    what python-engineio cannot decode (it would log a traceback per request and go on), and a
    POST to a session this server closed answered as a GET to it is."""

    def checked(request: Any) -> dict[str, Any]:
        environ = translate(request)
        eio_sid = request.query.get("sid")
        if request.method == "POST" and eio_sid:
            sock = server.eio.sockets.get(eio_sid)
            if sock is not None and sock.closed:
                # python-engineio forgets a closed session when it is next polled, with a 400, but
                # fails a POST to it with a 500 and a logged traceback: forgotten now, the POST
                # gets the 400 of a session it does not know
                del server.eio.sockets[eio_sid]
            environ["wsgi.input"] = _CheckedBody(environ["wsgi.input"], server, eio_sid)
        return environ

    return checked


class _CheckedBody:
    """A polling POST body: Engine.IO packets separated by the record separator, binary ones as
    ``b`` and base64."""

    def __init__(self, content: Any, server: SioServer, eio_sid: str) -> None:
        self.content = content
        self.server = server
        self.eio_sid = eio_sid

    async def read(self, length: int = -1) -> bytes:
        # python-engineio asks for the Content-Length bytes with one read(), which gives what has
        # arrived so far: a body that comes in pieces (a large emit) would be cut short, its
        # packets refused. The whole body, then; none if the client goes away before it is in.
        try:
            data: bytes = await (self.content.readexactly if length > 0 else self.content.read)(length)
        except (asyncio.IncompleteReadError, ConnectionError):  # it closed before its body was in
            return b""
        try:
            packets = data.decode("utf-8").split("\x1e")
        except UnicodeDecodeError:
            problem: str | None = "a body that is not UTF-8"
        else:
            problem = next((p for p in map(_polled_problem, packets) if p is not None), None)
        if problem is None:
            return data
        # refused as over a WebSocket: its next poll gets the close packet. Not by raising
        # EngineIOError, on which python-engineio waits for the client to poll its queue empty
        # before it answers this POST, which the client waits for.
        await self.server._refuse(self.eio_sid, "malformed_packets", f"not an Engine.IO packet: {problem}")
        return b""


class SizedQueue(asyncio.Queue[Any]):
    """An Engine.IO client's outgoing queue that keeps the size of the packets it holds."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.bytes = 0
        """Characters (or bytes) of the packets' data in the queue."""

    @staticmethod
    def _size(item: Any) -> int:
        data = getattr(item, "data", None)
        return len(data) if isinstance(data, str | bytes) else 0

    def _put(self, item: Any) -> None:
        self.bytes += self._size(item)
        super()._put(item)

    def _get(self) -> Any:
        item = super()._get()
        self.bytes -= self._size(item)
        return item


class Outbox:
    """Every client's outgoing Engine.IO queue: sizes, the bound, eviction, draining."""

    def __init__(self, sio: SioServer, queue_size: int, queue_bytes: int | None = None) -> None:
        """A client's queue is full at ``queue_size`` packets or ``queue_bytes`` bytes of them."""
        self.sio = sio
        self.queue_size = queue_size
        self.queue_bytes = queue_bytes
        self.counters = sio.counters
        self._behind: set[str] = set()

    def queued(self, eio_sid: str) -> int:
        """Packets waiting in a client's queue (0 when it is gone)."""
        queue = getattr(self.sio.eio.sockets.get(eio_sid), "queue", None)
        return queue.qsize() if queue is not None else 0

    def queued_bytes(self, eio_sid: str) -> int:
        """Bytes of the packets waiting in a client's queue (0 when it is gone)."""
        queue = getattr(self.sio.eio.sockets.get(eio_sid), "queue", None)
        return queue.bytes if isinstance(queue, SizedQueue) else 0

    def _over_bytes(self, eio_sid: str) -> bool:
        return self.queue_bytes is not None and self.queued_bytes(eio_sid) >= self.queue_bytes

    def full(self, members: Iterable[tuple[str, str]], pending: Mapping[str, int]) -> list[str]:
        """The sids, of ``(sid, eio_sid)`` pairs, whose queue with the ``pending`` packets about
        to join it (by sid) is at the bound (in packets or in bytes)."""
        bound = self.queue_size
        return [
            sid
            for sid, eio_sid in members
            if self.queued(eio_sid) + pending.get(sid, 0) >= bound or self._over_bytes(eio_sid)
        ]

    def is_full(self, sid: str) -> bool:
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, NAMESPACE)
        return eio_sid is not None and (self.queued(eio_sid) >= self.queue_size or self._over_bytes(eio_sid))

    async def evict(self, sid: str) -> None:
        """Disconnect a client that stopped reading: its queue is emptied (the memory is freed at
        once), a Socket.IO disconnect and an Engine.IO close are queued, and its TCP connection is
        dropped if it has not taken them within :data:`EVICT_GRACE` seconds."""
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, NAMESPACE)
        if eio_sid is None:
            return
        self.counters["slow_clients_closed"] += 1
        queue = getattr(self.sio.eio.sockets.get(eio_sid), "queue", None)
        while queue is not None and not queue.empty():
            queue.get_nowait()
            queue.task_done()
        await self.sio.disconnect(sid)
        await self.sio.close_client(eio_sid)

    async def drained(self, timeout: float) -> None:
        """max mode: wait (at most ``timeout`` s) until every client that keeps up has fewer than
        :data:`LOW_WATER` packets queued. One still above it then is behind: later batches do not
        wait for it until it catches up (a client that stopped reading costs the others one wait,
        then meets the queue bound)."""
        sockets = self.sio.eio.sockets
        self._behind = {e for e in self._behind if e in sockets and self.queued(e) > LOW_WATER}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while waiting := [e for e in list(sockets) if e not in self._behind and self.queued(e) > LOW_WATER]:
            if loop.time() >= deadline:
                self._behind.update(waiting)
                self.counters["slow_client_waits"] += len(waiting)
                return
            # Engine.IO offers no event to await: poll.
            await asyncio.sleep(0.0005)
