"""The PumpData Socket.IO emulation: a python-socketio AsyncServer at ``/socket.io/``.

Adapter only: request checks, acks and error payloads, pool resolution, subscription limits and
the seeded ``unavailable`` fault are :mod:`harness.core.pumpdata.rules`; what the tape holds
:mod:`harness.core.pumpdata.recorded`; candles and their emission throttle :mod:`harness.core.ohlcv`.
This module replays the tape's events as a feed, maps Socket.IO handlers to those rules, and emits
to per-subscription rooms.
What python-socketio leaves open (which event asked for an ack, packets it cannot decode, outgoing
queues that grow while a client does not read) is :mod:`harness.server.sio_server`'s.

Ack or ``subscription_error`` (contract §2.3): a failure goes into the ack when the client asked
for one, else out as a ``subscription_error`` event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from collections import Counter
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import socketio
from aiohttp import web

from harness.core.access import origin_allowed
from harness.core.corto.config import Overflow
from harness.core.feed import Feed
from harness.core.frames import C2S, S2C, SioConnect, SioDisconnect, SioEvent
from harness.core.misses import Miss
from harness.core.ohlcv import Candles
from harness.core.pumpdata.config import PumpdataConfig
from harness.core.pumpdata.recorded import Event, read_feed
from harness.core.pumpdata.rules import (
    BILLING_ERROR,
    CLIENT_EVENTS,
    NOT_CONNECTED,
    PLAIN_EVENTS,
    PROTOCOL_EVENTS,
    TARGETED,
    UNAVAILABLE,
    Code,
    Failure,
    Subscriptions,
    Target,
    ack,
    binary_attachment,
    connect_refusal,
    event_protocols,
    find_binary,
    parse_limit,
    parse_target,
    reserved_event,
    room,
    shown,
    unavailable,
    unknown_event,
)
from harness.server.sio_server import ACK_REQUESTED, NAMESPACE, PACKET_SIZE, Outbox, SioServer

if TYPE_CHECKING:
    from harness.server.app import MockServer

EMIT_BATCH = 256
"""Emits a tick starts before it waits for them (they go out in order, one loop pass for all)."""


class PumpdataEmulator:
    name = "pumpdata"

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.config: PumpdataConfig = server.config.pumpdata
        items, self.index, self.recorded_history = read_feed(server.tapes.sio)
        self.feed: Feed[Event] = Feed(items, loop=server.config.loop)
        self._recorded_ohlcv = frozenset(item.pool for _, item in items if item.name == "ohlcv")
        self._checked: set[int] = set()
        self.counters: Counter[str] = Counter()
        config = server.config
        self.sio = SioServer(
            self.counters,
            max_sessions=config.max_sio_sessions,
            async_mode="aiohttp",
            # loopback pages, and those of --cors-origin; never with credentials (cookies)
            cors_allowed_origins=lambda origin, environ: origin_allowed(origin, config.cors_origins),
            cors_credentials=False,
            ping_interval=config.sio_ping_interval,
            ping_timeout=config.sio_ping_timeout,
            logger=False,
            engineio_logger=False,
        )
        self.sio.on_malformed = self._malformed
        self.sio.on_reserved = self._reserved
        self.sio.on_left = server.client_left
        self.subs: dict[str, Subscriptions] = {}
        self.delivered: Counter[str] = Counter()
        self.outbox = Outbox(self.sio, self.config.queue_size, server.config.limits.queue_bytes)
        self._rng = random.Random(server.config.seed)
        self._epoch = server.epoch
        self._pass = 0
        self._emits: list[Coroutine[Any, Any, None]] = []
        self._pending: Counter[str] = Counter()
        """Packets of the started emits, by recipient (not in their queues yet)."""
        self.sol_price: Any = None
        self._reset_market()
        self._register()

    def _reset_market(self) -> None:
        """Candles back to what the tape's recorded history holds (at the start, on a reset, and
        when a looping feed starts a new pass: the same trades come again)."""
        self.candles = Candles.of(
            self.recorded_history,
            window_ms=int(self.config.history_window_s * 1000),
            flat=self.config.flat_empty_seconds,
            recorded=self._recorded_ohlcv,
            at_ms=int(self._epoch * 1000),
        )

    def _clock_ms(self, now: float) -> int:
        """The tape header's clock at replay time ``now`` (unix ms), within the feed's pass."""
        return int((self._epoch + self._tape_time(now)) * 1000)

    def _tape_time(self, now: float) -> float:
        """Replay time within the current pass of a looping feed (what the tape's times mean)."""
        return now - self._pass * self.feed.period if self.feed.loop else now

    # --- Emulator protocol ---------------------------------------------------------------------

    def setup(self, app: web.Application) -> None:
        self.sio.attach(app)

    def next_wakeup(self) -> float | None:
        times = [t for t in (self.feed.next_time(), self.candles.next_emit_at()) if t is not None]
        return min(times) if times else None

    def lookahead(self, count: int) -> float | None:
        times = [t for t in (self.feed.time_ahead(count), self.candles.next_emit_at()) if t is not None]
        return min(times) if times else None

    async def tick(self, now: float) -> None:
        try:
            await self._tick(now)
        finally:
            await self._flush()

    async def _flush(self) -> None:
        """Wait for the emits started: python-socketio's emit waits for a task per recipient, so
        awaiting each in turn would cost a loop pass per event; started together they are queued
        in the order they were made."""
        emits, self._emits = self._emits, []
        self._pending.clear()
        if emits:
            await asyncio.gather(*emits)

    async def _tick(self, now: float) -> None:
        for due in self.feed.take_due(now):
            if due.loop != self._pass:
                self._pass = due.loop
                self._reset_market()
            item = due.item
            if item.name == "sol_price":
                self.sol_price = item.payload
            elif item.name == "trade":
                self.candles.add_trade(item.pool, item.payload, self._clock_ms(now))
            elif item.name == "ohlcv" and isinstance(item.payload, list):
                self.candles.add_rows(item.pool, item.payload, self._clock_ms(now))
            await self._deliver(item.name, item.payload, item.room, item)
        for pool, rows in self.candles.due(now):
            await self._deliver("ohlcv", rows, room("ohlcv", pool), None)

    async def _deliver(self, event: str, payload: Any, room_name: str, item: Event | None) -> None:
        members = self.sio.manager.rooms.get(NAMESPACE, {}).get(room_name)
        if not members:
            return
        if self.server.config.validate and (item is None or id(item) not in self._checked):
            if item is not None:
                self._checked.add(id(item))  # a recorded event is checked once, however often sent
            self.server.check_frame(SioEvent(self.server.now(), "feed", S2C, event, (payload,)), conn="feed")
        # A client whose queue is full stopped reading: it is not sent more (--sio-overflow).
        full = self.outbox.full(members.items(), self._pending)
        recipients = [sid for sid in members if sid not in full] if full else list(members)
        for sid in full:
            if self.config.overflow is Overflow.DROP:
                self.counters["dropped_for_slow_clients"] += 1
            else:
                await self.outbox.evict(sid)
        if not recipients:
            return
        if self.server.fuzz.armed(self.name):
            await self._flush()  # what was started goes first
            text = json.dumps([event, payload], separators=(",", ":"))  # as python-socketio encodes
            await self.server.fuzz.deliver(self.name, [(sid, text) for sid in recipients], self)
        else:
            self._emits.append(self.sio.emit(event, payload, room=room_name, skip_sid=full or None))
            self._pending.update(recipients)
            if len(self._emits) >= EMIT_BATCH:
                await self._flush()
        self.counters["events_sent"] += len(recipients)
        if self.config.billing_error_after is not None:
            for sid in recipients:
                self.delivered[sid] += 1
                if self.delivered[sid] == self.config.billing_error_after:
                    # contract §2.1: billing_error, then a disconnect
                    self.counters["billing_errors"] += 1
                    await self._flush()
                    await self.sio.emit("billing_error", BILLING_ERROR, to=sid)
                    await self.sio.disconnect(sid)

    def skip(self, now: float) -> int:
        skipped = self.feed.seek(now)
        self.counters["events_skipped"] += skipped
        passes = int(self._tape_time(now) // self.feed.period) if self.feed.loop else 0
        if passes:  # a looping feed jumped into a later pass: its market starts anew, as on a loop
            self._pass += passes
            self._reset_market()
        return skipped

    def active(self) -> bool:
        return any(subs.rooms for subs in self.subs.values())

    async def drained(self, timeout: float) -> None:
        await self.outbox.drained(timeout)

    async def reset(self) -> None:
        for sid in list(self.subs):
            await self.sio.disconnect(sid)
        self.subs.clear()
        self.delivered.clear()
        self.counters.clear()
        self.feed.rewind()
        self._checked.clear()  # a fresh run reports what its clients are sent
        self._rng = random.Random(self.server.config.seed)
        self._pass = 0
        self.sol_price = None
        self._reset_market()

    def state(self) -> dict[str, Any]:
        return {
            "events": len(self.feed),
            "pools": len(self.index.pools),
            "clients": {sid: sorted(s.rooms) for sid, s in self.subs.items()},
            "queued": {
                sid: self.outbox.queued(self.sio.manager.eio_sid_from_sid(sid, NAMESPACE) or "")
                for sid in self.subs
            },
            "queued_bytes": {
                sid: self.outbox.queued_bytes(self.sio.manager.eio_sid_from_sid(sid, NAMESPACE) or "")
                for sid in self.subs
            },
            "counters": dict(self.counters),
            "max_subscriptions": self.config.max_subscriptions,
            "queue_size": self.config.queue_size,
            "overflow": self.config.overflow.value,
        }

    async def close(self) -> None:
        await self.sio.stop()
        for sid in list(self.subs):
            await self.sio.disconnect(sid)

    # --- fuzzing (harness.server.fuzz.StreamPort): text is an emission ``[event, payload]`` ------

    async def fuzz_send(self, key: Any, text: str) -> None:
        # As a raw Socket.IO EVENT packet ("2" + JSON array, namespace "/"), byte for byte: a
        # fault may have cut it or padded it.
        eio_sid = self.sio.manager.eio_sid_from_sid(key, "/")
        if eio_sid is not None:
            await self.sio.eio.send(eio_sid, "2" + text)

    async def fuzz_end(self, key: Any, code: int) -> None:
        await self.sio.disconnect(key)

    def fuzz_error(self, key: Any) -> str:
        return json.dumps(["subscription_error", UNAVAILABLE.payload()])

    # --- handlers ------------------------------------------------------------------------------

    def _register(self) -> None:
        sio = self.sio

        @sio.event  # type: ignore[untyped-decorator]
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
            refusal = connect_refusal(auth) if self.config.require_api_key else None
            if refusal is not None:
                self.counters["refused_connects"] += 1
                raise socketio.exceptions.ConnectionRefusedError(refusal)
            self.server.touch()
            self.subs[sid] = Subscriptions(self.config.max_subscriptions)
            self.server.saw(SioConnect(self.server.now(), sid, auth=auth, url=environ.get("PATH_INFO", "")))

        @sio.event  # type: ignore[untyped-decorator]
        async def disconnect(sid: str, reason: Any = None) -> None:
            # Rooms are per connection: a disconnect drops them all (contract §2.1 [inferred]).
            if self.subs.pop(sid, None) is not None:
                self.server.saw(SioDisconnect(self.server.now(), sid, C2S, reason=str(reason or "")))
            self.delivered.pop(sid, None)

        for event in CLIENT_EVENTS:
            sio.on(event, self._handler(event))
        sio.on("*", self._unknown)

    def _handler(self, event: str) -> Any:
        async def handle(sid: str, *args: Any) -> Any:
            if self.outbox.is_full(sid):
                # It sends but does not read its answers: they would pile up without bound.
                await self.outbox.evict(sid)
                return None
            self.server.touch()
            failure = await self._check_client(sid, event, args)
            outcome = failure or await self._handle(sid, event, args[0] if args else None)
            self.server.wake()
            return await self._answer(sid, outcome)

        return handle

    async def _unknown(self, event: str, sid: str, *args: Any) -> Any:
        if self.outbox.is_full(sid):
            await self.outbox.evict(sid)
            return None
        failure = await self._check_client(sid, event, args)
        return await self._answer(sid, failure or unknown_event(event))

    async def _reserved(self, sid: str, event: str, args: tuple[Any, ...]) -> Any:
        """A client emitted an event Socket.IO keeps for itself (``connect``, ``*`` ...): refused
        as an unknown event is, kept as a violation, and no session state changes."""
        if self.outbox.is_full(sid):
            await self.outbox.evict(sid)
            return None
        why = f"{shown(event)!r} is a name Socket.IO keeps for itself: a client cannot emit it"
        self.server.client_violation("pumpdata", "", "/name", "family", why, sid)
        return await self._answer(sid, reserved_event(event))

    async def _check_client(self, sid: str, event: str, args: tuple[Any, ...]) -> Failure | None:
        """Validate what a client sent (violations are kept); a binary attachment is refused."""
        binary = find_binary(list(args))
        if binary is None:
            ack_id = 0 if ACK_REQUESTED.get() else None
            frame = SioEvent(self.server.now(), sid, C2S, event, args, ack_id)
            await self.server.check_frame_async(frame, conn=sid, size=PACKET_SIZE.get())
            return None
        pointer = f"/args{binary}"
        family = event if event in CLIENT_EVENTS else ""
        why = "a binary attachment: PumpData events carry JSON"
        self.server.client_violation("pumpdata", family, pointer, "json", why, sid)
        return binary_attachment(pointer)

    def _malformed(self, eio_sid: str, why: str) -> None:
        sid = self.sio.manager.sid_from_eio_sid(eio_sid, NAMESPACE) or eio_sid
        self.server.client_violation("pumpdata", "", "", "packet", why, sid)

    async def _answer(self, sid: str, outcome: dict[str, Any] | Failure) -> Any:
        if not isinstance(outcome, Failure):
            return outcome
        self.counters[f"errors.{outcome.code.value}"] += 1
        if ACK_REQUESTED.get():
            return outcome.payload()
        # contract §2.3: "Without an ack callback, the same payload is emitted as the
        # subscription_error event."
        await self.sio.emit("subscription_error", outcome.payload(), to=sid)
        return None

    def _missed(self, sid: str, event: str, target: Target, failure: Failure) -> None:
        kind, value = ("pool", target.pool) if target.pool is not None else ("mint", target.mint)
        near = tuple(f"{event} {kind} {key}" for key in self.index.closest(target))
        miss = Miss("pumpdata", f"{event} {kind} {value}", failure.code.value, self.server.now(), near, sid)
        self.server.miss(miss)

    def _fault(self, event: str) -> Failure | None:
        return unavailable(event, self.config.unavailable_rate, self._rng.random)

    async def _handle(self, sid: str, event: str, payload: Any) -> dict[str, Any] | Failure:
        subs = self.subs.get(sid)
        if subs is None:
            return NOT_CONNECTED
        if event in PLAIN_EVENTS:
            subscribe = PLAIN_EVENTS[event][1]
            return self._fault(event) or await self._sol_price(sid, subs, subscribe=subscribe)
        if event in PROTOCOL_EVENTS:
            kind, joining = PROTOCOL_EVENTS[event]
            protocols = event_protocols(event, payload)
            if isinstance(protocols, Failure):
                return protocols
            return self._fault(event) or await self._rooms(
                sid, subs, [room(kind, p) for p in protocols], joining, protocols=list(protocols)
            )
        kind, joining = TARGETED[event]
        target = parse_target(payload)
        if isinstance(target, Failure):
            return target
        limit = parse_limit(payload) if event == "ohlcv_history" else None
        if isinstance(limit, Failure):
            return limit
        tape_now = self._tape_time(self.server.now())
        pool = self.index.resolve(target, tape_now)
        if isinstance(pool, Failure):
            if pool.code is Code.NOT_FOUND:
                self._missed(sid, event, target, pool)
            return pool
        failure = self._fault(event)
        if failure is not None:
            return failure
        if limit is not None:
            data = self.candles.history(pool, self._clock_ms(self.server.now()), limit)
            return ack(pool=pool, data=data)
        return await self._rooms(sid, subs, [room(kind, pool)], joining, pool=pool)

    async def _rooms(
        self, sid: str, subs: Subscriptions, rooms: list[str], joining: bool, **extra: Any
    ) -> dict[str, Any] | Failure:
        if joining:
            failure = subs.join(rooms)
            if failure is not None:
                return failure
            for name in rooms:
                await self.sio.enter_room(sid, name)
        else:
            subs.leave(rooms)
            for name in rooms:
                await self.sio.leave_room(sid, name)
        return ack(rooms if joining else (), **extra)

    async def _sol_price(self, sid: str, subs: Subscriptions, *, subscribe: bool) -> dict[str, Any] | Failure:
        name = room("sol_price")
        if not subscribe:
            subs.leave([name])
            await self.sio.leave_room(sid, name)
            return ack()
        failure = subs.join([name])
        if failure is not None:
            return failure
        await self.sio.enter_room(sid, name)
        if self.sol_price is not None:
            # contract §2.2: "the snapshot is also sent immediately on subscribe"
            await self.sio.emit("sol_price", self.sol_price, to=sid)
        return ack(snapshot=self.sol_price)


def add_cli_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("PumpData Socket.IO")
    group.add_argument("--require-api-key", action="store_true", help="refuse connects without auth.api_key")
    group.add_argument(
        "--max-subscriptions",
        type=int,
        default=50,
        metavar="N",
        help="subscriptions per connection before limit_exceeded (default 50)",
    )
    group.add_argument(
        "--history-window",
        type=float,
        default=120.0,
        metavar="S",
        help="seconds of 1 s candles ohlcv_history serves (default 120)",
    )
    group.add_argument(
        "--unavailable-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="share of subscribe calls answered 'unavailable' (seeded fault, default 0)",
    )
    group.add_argument(
        "--billing-error-after",
        type=int,
        metavar="N",
        help="send billing_error and disconnect a client after N delivered events",
    )
    group.add_argument("--flat-candles", action="store_true", help="emit flat candles for silent seconds")
    group.add_argument(
        "--sio-queue",
        type=int,
        default=10_000,
        metavar="N",
        help="packets queued per client that stopped reading before --sio-overflow applies (default 10000)",
    )
    group.add_argument(
        "--sio-overflow",
        choices=[o.value for o in Overflow],
        default=Overflow.CLOSE.value,
        help="a client whose queue is full: disconnect it (default) or drop events for it",
    )


def config_from_args(args: argparse.Namespace) -> PumpdataConfig:
    if args.max_subscriptions < 1:
        raise ValueError(f"--max-subscriptions must be >= 1, got {args.max_subscriptions}")
    if not 0 <= args.unavailable_rate <= 1:
        raise ValueError(f"--unavailable-rate must be in [0, 1], got {args.unavailable_rate}")
    if args.billing_error_after is not None and args.billing_error_after < 1:
        raise ValueError(f"--billing-error-after must be >= 1, got {args.billing_error_after}")
    if not args.history_window > 0:
        raise ValueError(f"--history-window must be > 0, got {args.history_window}")
    if args.sio_queue < 1:
        raise ValueError(f"--sio-queue must be >= 1, got {args.sio_queue}")
    return PumpdataConfig(
        require_api_key=args.require_api_key,
        max_subscriptions=args.max_subscriptions,
        history_window_s=args.history_window,
        unavailable_rate=args.unavailable_rate,
        billing_error_after=args.billing_error_after,
        flat_empty_seconds=args.flat_candles,
        queue_size=args.sio_queue,
        overflow=Overflow(args.sio_overflow),
    )
