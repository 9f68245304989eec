"""The corto.fun Data Stream emulation: an aiohttp WebSocket route at ``/data-stream``.

Adapter only: every answer, the grace period and every close code and reason are
:mod:`harness.core.corto.session`'s, what a filter selects is :mod:`harness.core.corto.filters`'.
This module reads the tape's events into a feed, keeps one bounded outgoing queue and sender task
per client (a client that stops reading cannot stall the others), and moves text between aiohttp
and the session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from harness.core.corto.config import CortoConfig, GraceOutcome, Overflow, SubscribeMerge
from harness.core.corto.detail import Detail
from harness.core.corto.filters import EVENT_OF_TXTYPE, dotted_pool
from harness.core.corto.recorded import Observed, Recording
from harness.core.corto.session import (
    INJECTED_ERROR,
    RESET,
    SHUTDOWN,
    Close,
    Output,
    SendJson,
    Session,
    connection_refusal,
    fuzzed_close,
    grace_ms,
    overflow_close,
    projected,
)
from harness.core.excerpt import reason
from harness.core.feed import Feed
from harness.core.frames import C2S, S2C, WsClose, WsOpen, WsText
from harness.server.listening import WS_PATH

if TYPE_CHECKING:
    from harness.server.app import MockServer

PATH = WS_PATH
ABNORMAL_CLOSE = 1006
"""RFC 6455 7.1.5: never sent in a close frame; a :class:`Close` with it drops the connection."""
LOW_WATER = 256
"""max mode: queued messages per client below which the next batch is released."""


@dataclass(slots=True)
class Event:
    """One tape event, kept as recorded text (number formats intact) and decoded for filtering."""

    text: str
    message: dict[str, Any]
    projected: dict[Detail, str] = field(default_factory=dict)
    name: str = ""
    """Its subscription event name (``migration`` for txType ``migrate``, ...)."""
    pool: str = ""
    """Its pool as filters name it (dotted)."""
    checked: frozenset[Detail] = frozenset()
    """The detail levels it was validated at as sent (any one for an event that is not a create)."""

    def __post_init__(self) -> None:
        self.name = EVENT_OF_TXTYPE.get(str(self.message.get("txType")), "")
        self.pool = dotted_pool(str(self.message.get("pool", "")))

    def text_for(self, detail: Detail) -> str:
        if self.name != "create" or detail is Detail.FULL:
            return self.text
        if detail not in self.projected:
            self.projected[detail] = json.dumps(projected(self.message, detail), separators=(",", ":"))
        return self.projected[detail]


def read_feed(frames: list[Any]) -> tuple[list[tuple[float, Event]], Observed]:
    """The events of every recorded corto connection (once each), and what the tape shows of
    the service (:class:`harness.core.corto.recorded.Recording`)."""
    events: list[tuple[float, Event]] = []
    seen: set[str] = set()
    recording = Recording()
    for frame in frames:
        message = recording.receive(frame)
        if message is None or message.get("txType") not in EVENT_OF_TXTYPE:
            continue
        assert isinstance(frame, WsText)
        # The same event recorded on several connections is one event of the feed.
        if frame.data in seen:
            continue
        seen.add(frame.data)
        events.append((frame.t, Event(frame.data, message)))
    return events, recording.observed()


@dataclass(eq=False, slots=True)
class Client:
    ws: web.WebSocketResponse
    session: Session
    conn: str
    remote: str
    queue: asyncio.Queue[str | Close]
    transport: asyncio.Transport | None = None
    sender: asyncio.Task[None] | None = None
    evicting: asyncio.Task[None] | None = None
    low_water: asyncio.Event = field(default_factory=asyncio.Event)
    queued_bytes: int = 0
    received: int = 0
    """Characters (or bytes) of what it sent."""
    """Characters of the texts in ``queue`` (bounded by ``--queue-bytes``)."""
    behind: bool = False
    """max mode: it did not drain within a wait, so batches no longer wait for it (until it does)."""
    closing: bool = False


class CortoEmulator:
    name = "corto"

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.config = server.config.corto
        items, self.observed = read_feed(server.tapes.ws)
        self._events = [event for _, event in items]
        self.feed: Feed[Event] = Feed(items, loop=server.config.loop)
        self.clients: set[Client] = set()
        self.counters: Counter[str] = Counter()
        self._next_conn = 0

    # --- Emulator protocol ---------------------------------------------------------------------

    def setup(self, app: web.Application) -> None:
        app.router.add_get(PATH, self.handle)

    def next_wakeup(self) -> float | None:
        times = [c.session.grace_deadline for c in self.clients if c.session.grace_deadline is not None]
        nxt = self.feed.next_time()
        if nxt is not None:
            times.append(nxt)
        return min(times) if times else None

    def lookahead(self, count: int) -> float | None:
        ahead = self.feed.time_ahead(count)
        deadlines = [c.session.grace_deadline for c in self.clients if c.session.grace_deadline is not None]
        if ahead is None:
            return min(deadlines) if deadlines else None
        return min([ahead, *deadlines])

    async def tick(self, now: float) -> None:
        for client in list(self.clients):
            if client.session.grace_deadline is not None:
                self._send(client, client.session.on_time(now))
        sent = 0
        validate = self.server.config.validate
        fuzzed = self.server.fuzz.armed(self.name)
        # The filters as they stand at ``now`` decide for every event due by then.
        listeners = [(c, c.session.filter, c.session.detail) for c in self.clients if not c.closing]
        for due in self.feed.take_due(now):
            event = due.item
            targets = []
            for client, selected, detail in listeners:
                if selected.selects_parts(event.name, event.pool):
                    if validate and detail not in event.checked:
                        self._check_event(event, detail)
                    targets.append((client, event.text_for(detail)))
            sent += await self._deliver(targets, fuzzed)
        if sent:
            self.counters["events_sent"] += sent

    async def _deliver(self, targets: list[tuple[Client, str]], fuzzed: bool) -> int:
        """Send one feed event's ``(client, text)`` pairs, through the fuzzer when it is on;
        how many were sent."""
        if fuzzed:
            await self.server.fuzz.deliver(self.name, targets, self)
        else:  # the hot path of --speed max: no coroutine per message
            for client, text in targets:
                self._enqueue(client, text)
        return len(targets)

    def skip(self, now: float) -> int:
        skipped = self.feed.seek(now)
        self.counters["events_skipped"] += skipped
        return skipped

    def active(self) -> bool:
        return any(c.session.filter.mode != "none" for c in self.clients)

    async def drained(self, timeout: float) -> None:
        # max mode: wait until every client's queue is below the low-water mark, so the next
        # batch is queued while the senders still have work (no stall between batches). A client
        # still above it after ``timeout`` is behind: later batches do not wait for it (a client
        # that stopped reading costs the others one wait, then meets its queue's overflow policy).
        waiting: dict[asyncio.Task[bool], Client] = {}
        for client in self.clients:
            if not client.closing and not client.behind and client.queue.qsize() > LOW_WATER:
                client.low_water.clear()
                waiting[asyncio.ensure_future(client.low_water.wait())] = client
        if not waiting:
            return
        _, late = await asyncio.wait(waiting, timeout=timeout)
        for task in late:
            task.cancel()
            waiting[task].behind = True
            self.counters["slow_client_waits"] += 1

    async def reset(self) -> None:
        self.feed.rewind()
        for event in self._events:  # a fresh run reports what its clients are sent
            event.checked = frozenset()
        for client in list(self.clients):
            await self._close(client, RESET)
        self.counters.clear()

    def state(self) -> dict[str, Any]:
        return {
            "events": len(self.feed),
            "clients": [
                {
                    "conn": c.conn,
                    "remote": c.remote,
                    "filter": c.session.filter.effective(c.session.vocabulary, c.session.grace_active),
                    "queued": c.queue.qsize(),
                    "queued_bytes": c.queued_bytes,
                }
                for c in self.clients
            ],
            "counters": dict(self.counters),
            "grace_ms": grace_ms(self.config, self.observed),
        }

    async def close(self) -> None:
        for client in list(self.clients):
            await self._close(client, SHUTDOWN)

    # --- fuzzing (harness.server.fuzz.StreamPort) -----------------------------------------------

    async def fuzz_send(self, key: Any, text: str) -> None:
        self._enqueue(key, text)

    async def fuzz_end(self, key: Any, code: int) -> None:
        self._send(key, [fuzzed_close(code)])

    def fuzz_error(self, key: Any) -> str:
        return json.dumps(key.session.error(INJECTED_ERROR), separators=(",", ":"))

    # --- connections ---------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # past the limit aiohttp closes the connection with 1009 (RFC 6455 7.4.1: message too big)
        ws = web.WebSocketResponse(max_msg_size=self.server.config.limits.ws_message_bytes, compress=False)
        await ws.prepare(request)
        self.server.touch()
        self._next_conn += 1
        remote = request.remote or ""
        client = Client(
            ws=ws,
            session=Session(self.config, self.observed, self.server.now()),
            conn=f"ws-{self._next_conn}",
            remote=remote,
            queue=asyncio.Queue(maxsize=self.config.queue_size),
            transport=request.transport,
        )
        close = connection_refusal(
            self.config, self.observed, remote, (c.remote for c in self.clients if not c.closing)
        )
        if close is not None:
            self.counters["refused_second_connection"] += 1
            await ws.close(code=close.code, message=reason(close.reason).encode())
            return ws
        self.clients.add(client)
        self.server.saw(WsOpen(self.server.now(), client.conn, request.path_qs))
        client.sender = asyncio.create_task(self._sender(client), name=f"corto-sender-{client.conn}")
        self._send(client, [SendJson(client.session.handshake())])
        self.server.wake()
        try:
            async for msg in ws:
                now = self.server.now()
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    client.received += len(msg.data)
                if msg.type == WSMsgType.TEXT:
                    frame = WsText(now, client.conn, C2S, msg.data)
                    await self.server.check_frame_async(frame, conn=client.conn, size=len(msg.data))
                    outputs = client.session.receive_text(msg.data, now)
                elif msg.type == WSMsgType.BINARY:
                    # contract §3.1: JSON text frames only
                    why = f"binary frame of {len(msg.data)} bytes, not JSON text"
                    self.server.client_violation("corto", "", "", "json", why, client.conn)
                    outputs = client.session.receive_binary(msg.data, now)
                else:
                    break
                self._send(client, outputs)
                self.server.wake()
        finally:
            await self._close(client, None)
            self.server.client_left(client.received)
        return ws

    def _send(self, client: Client, outputs: list[Output]) -> None:
        for output in outputs:
            if isinstance(output, SendJson):
                text = json.dumps(output.message, separators=(",", ":"))
                if self.server.config.validate:
                    # what the server says breaks the contract too when a recording does
                    self.server.check_frame(
                        WsText(self.server.now(), client.conn, S2C, text), conn=client.conn
                    )
                self._enqueue(client, text)
            else:
                client.closing = True
                self._enqueue(client, output, force=True)

    def _enqueue(self, client: Client, item: str | Close, *, force: bool = False) -> None:
        if client.closing and not force:
            return
        size = len(item) if isinstance(item, str) else 0
        limit = self.server.config.limits.queue_bytes
        full_in_bytes = bool(size) and client.queued_bytes + size > limit and not force
        try:
            if full_in_bytes:
                raise asyncio.QueueFull  # bounded in bytes as well as in messages
            client.queue.put_nowait(item)
            client.queued_bytes += size
        except asyncio.QueueFull:
            if self.config.overflow is Overflow.DROP and not force:
                self.counters["dropped_for_slow_clients"] += 1
                return
            # The client stopped reading: drop it rather than grow memory or stall the feed.
            self.counters["slow_clients_closed"] += 1
            client.closing = True
            while not client.queue.empty():
                client.queue.get_nowait()
            client.queued_bytes = 0
            close = overflow_close(self.config, limit if full_in_bytes else None)
            client.evicting = asyncio.create_task(self._evict(client, close))

    async def _evict(self, client: Client, close: Close) -> None:
        """Close a stalled client with ``close``; if even the close frame cannot get through within
        a second (it reads nothing), drop the TCP connection."""
        self.clients.discard(client)
        if client.sender is not None:
            client.sender.cancel()
        try:
            await asyncio.wait_for(
                client.ws.close(code=close.code, message=reason(close.reason).encode()), 1.0
            )
        except (TimeoutError, ConnectionError, RuntimeError):
            if client.transport is not None:
                client.transport.abort()

    async def _sender(self, client: Client) -> None:
        ws, queue = client.ws, client.queue
        try:
            while True:
                item = await queue.get()
                while True:
                    if isinstance(item, Close):
                        if item.code == ABNORMAL_CLOSE and client.transport is not None:
                            client.transport.close()  # RFC 6455 7.1.5: 1006 is no close frame
                            return
                        await ws.close(code=item.code, message=reason(item.reason).encode())
                        return
                    client.queued_bytes -= len(item)
                    await ws.send_str(item)
                    if queue.qsize() <= LOW_WATER:
                        client.low_water.set()
                        client.behind = False
                    if queue.empty():
                        break
                    item = queue.get_nowait()  # what is queued goes out without a wait per message
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            return

    async def _close(self, client: Client, close: Close | None) -> None:
        if client in self.clients:
            side, code = (C2S, client.ws.close_code) if close is None else (S2C, close.code)
            self.server.saw(
                WsClose(self.server.now(), client.conn, side, code, "" if close is None else close.reason)
            )
        self.clients.discard(client)
        client.closing = True
        if close is not None and not client.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await client.ws.close(code=close.code, message=reason(close.reason).encode())
        if client.sender is not None and client.sender is not asyncio.current_task():
            client.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
                await client.sender

    def _check_event(self, event: Event, detail: Detail) -> None:
        """Validate ``event`` as sent at ``detail``, once per level (once for an event that is not
        a create: its text is the same at every level)."""
        event.checked = event.checked | ({detail} if event.name == "create" else set(Detail))
        self.server.check_frame(WsText(self.server.now(), "feed", S2C, event.text_for(detail)), conn="feed")


def add_cli_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("corto.fun Data Stream")
    group.add_argument(
        "--grace-ms", type=int, help="subscriptionGraceMs (default: the tape's handshake, else 3000)"
    )
    group.add_argument(
        "--grace-outcome",
        choices=[g.value for g in GraceOutcome],
        default=GraceOutcome.IDLE.value,
        help="when the grace period ends without a subscribe: stay idle (default) or close 1008",
    )
    group.add_argument(
        "--subscribe-merge",
        choices=[m.value for m in SubscribeMerge],
        default=SubscribeMerge.REPLACE.value,
        help="a second subscribe replaces the filter (default) or merges into it",
    )
    group.add_argument(
        "--one-connection-per-ip", action="store_true", help="refuse a second connection from an IP (1008)"
    )
    group.add_argument(
        "--ping-answer",
        choices=["pong", "error"],
        default="pong",
        help='{"type":"ping"} gets {"type":"pong"} (default) or an unknown-message error',
    )
    group.add_argument(
        "--ws-queue", type=int, default=10_000, metavar="N", help="messages queued per client (default 10000)"
    )
    group.add_argument(
        "--ws-overflow",
        choices=[o.value for o in Overflow],
        default=Overflow.CLOSE.value,
        help="a client whose queue is full: close it with 1013 (default) or drop messages for it",
    )


def config_from_args(args: argparse.Namespace) -> CortoConfig:
    if args.grace_ms is not None and args.grace_ms < 0:
        raise ValueError(f"--grace-ms must be >= 0, got {args.grace_ms}")
    if args.ws_queue < 1:
        raise ValueError(f"--ws-queue must be >= 1, got {args.ws_queue}")
    return CortoConfig(
        grace_ms=args.grace_ms,
        grace_outcome=GraceOutcome(args.grace_outcome),
        subscribe_merge=SubscribeMerge(args.subscribe_merge),
        one_connection_per_ip=args.one_connection_per_ip,
        answer_ping=args.ping_answer == "pong",
        queue_size=args.ws_queue,
        overflow=Overflow(args.ws_overflow),
    )


__all__ = ["CortoEmulator", "add_cli_options", "config_from_args", "dotted_pool"]
