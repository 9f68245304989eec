"""python-socketio plumbing of the PumpData emulation: acks asked for, attachments, outgoing queues.

Owns what python-socketio leaves open and the emulation needs, and nothing of PumpData's rules:

* whether the client asked for an ack: a handler cannot see it, so :class:`SioServer` notes it
  (the packet's id) in a context variable before the handler runs (CONTRACTS.md 2.3: without an
  ack callback, a failure goes out as ``subscription_error``);
* binary attachments: PumpData events carry JSON, so a packet announcing more than
  :data:`MAX_ATTACHMENTS` is refused by dropping the connection (python-socketio would keep
  collecting up to ten digits' worth of them);
* each client's outgoing queue: Engine.IO queues every packet for a client in an unbounded
  ``asyncio.Queue`` drained by one writer task, which blocks on the socket when the client stops
  reading, so the queue (memory) grows without bound and a ``max``-speed feed would wait for it.
  :class:`Outbox` reads those queue sizes, evicts a client whose queue is full (a Socket.IO
  disconnect, then the TCP connection is dropped if even that cannot be delivered), and lets the
  ``max``-speed scheduler wait for the clients that keep up, not for those that fell behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import Counter
from collections.abc import Iterable
from typing import Any

import socketio

ACK_REQUESTED: contextvars.ContextVar[bool] = contextvars.ContextVar("ack_requested", default=False)

MAX_ATTACHMENTS = 8
"""Binary attachments one packet may announce before the connection is dropped."""

LOW_WATER = 64
"""max mode: queued packets per client below which the next batch is released."""

EVICT_GRACE = 1.0
"""Host seconds an evicted client has to take its disconnect before its TCP connection is dropped."""

NAMESPACE = "/"


class SioServer(socketio.AsyncServer):  # type: ignore[misc]
    """An ``AsyncServer`` that records whether each event asked for an ack, and refuses packets
    announcing a flood of binary attachments."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.refused_attachments = 0

    async def _handle_event_internal(
        self, server: Any, sid: str, eio_sid: str, data: Any, namespace: str, id: int | None
    ) -> Any:
        token = ACK_REQUESTED.set(id is not None)
        try:
            return await super()._handle_event_internal(server, sid, eio_sid, data, namespace, id)
        finally:
            ACK_REQUESTED.reset(token)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        await super()._handle_eio_message(eio_sid, data)
        pending = self._binary_packet.get(eio_sid)
        if pending is not None and pending.attachment_count > MAX_ATTACHMENTS:
            del self._binary_packet[eio_sid]
            self.refused_attachments += 1
            self.drop(eio_sid)

    def drop(self, eio_sid: str) -> bool:
        """Drop a client's TCP connection at once (Engine.IO then cleans up as for any lost
        connection). False when it is already gone."""
        request = self.environ.get(eio_sid, {}).get("aiohttp.request")
        transport = getattr(request, "transport", None)
        if transport is None or transport.is_closing():
            return False
        transport.abort()
        return True


class Outbox:
    """Every client's outgoing Engine.IO queue: sizes, the bound, eviction, draining."""

    def __init__(self, sio: SioServer, queue_size: int, counters: Counter[str]) -> None:
        self.sio = sio
        self.queue_size = queue_size
        self.counters = counters
        self._behind: set[str] = set()
        self._evictions: set[asyncio.Task[None]] = set()

    def queued(self, eio_sid: str) -> int:
        """Packets waiting in a client's queue (0 when it is gone)."""
        queue = getattr(self.sio.eio.sockets.get(eio_sid), "queue", None)
        return queue.qsize() if queue is not None else 0

    def full(self, members: Iterable[tuple[str, str]]) -> list[str]:
        """The sids, of ``(sid, eio_sid)`` pairs, whose queue is at the bound."""
        return [sid for sid, eio_sid in members if self.queued(eio_sid) >= self.queue_size]

    def is_full(self, sid: str) -> bool:
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, NAMESPACE)
        return eio_sid is not None and self.queued(eio_sid) >= self.queue_size

    async def evict(self, sid: str) -> None:
        """Disconnect a client that stopped reading: its queue is emptied (the memory is freed at
        once), a Socket.IO disconnect is queued, and if the client has not taken it within
        :data:`EVICT_GRACE` seconds its TCP connection is dropped."""
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, NAMESPACE)
        if eio_sid is None:
            return
        self.counters["slow_clients_closed"] += 1
        queue = getattr(self.sio.eio.sockets.get(eio_sid), "queue", None)
        while queue is not None and not queue.empty():
            queue.get_nowait()
            queue.task_done()
        await self.sio.disconnect(sid)
        task = asyncio.create_task(self._drop_later(eio_sid), name=f"pumpdata-evict-{sid}")
        self._evictions.add(task)
        task.add_done_callback(self._evictions.discard)

    async def _drop_later(self, eio_sid: str) -> None:
        await asyncio.sleep(EVICT_GRACE)
        if eio_sid in self.sio.eio.sockets and self.sio.drop(eio_sid):
            self.counters["slow_clients_dropped"] += 1

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

    async def close(self) -> None:
        for task in list(self._evictions):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
