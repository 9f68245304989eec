"""The PumpData Socket.IO emulation: a python-socketio AsyncServer at ``/socket.io/``.

Adapter only: request checks, error payloads, pool resolution and subscription limits are
:mod:`harness.core.pumpdata.rules`; candles and their emission throttle :mod:`harness.core.ohlcv`.
This module reads the tape's events into a feed, maps Socket.IO handlers to those rules, and emits
to per-subscription rooms.

Ack or ``subscription_error`` (CONTRACTS.md 2.3): a handler cannot see whether the client asked
for an ack, so :class:`_Server` notes it (the packet's id) in a context variable before the
handler runs; a failure goes into the ack when there is one, else out as ``subscription_error``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import random
from collections import Counter
from typing import TYPE_CHECKING, Any

import socketio
from aiohttp import web

from harness.core.feed import Feed
from harness.core.frames import C2S, S2C, SioAck, SioEvent
from harness.core.ohlcv import Candle, CandleBook, Throttle, fill_flat
from harness.core.pumpdata.config import PumpdataConfig
from harness.core.pumpdata.rules import (
    CLIENT_EVENTS,
    PLAIN_EVENTS,
    PROTOCOL_EVENTS,
    PROTOCOLS,
    TARGETED,
    Code,
    Failure,
    PoolIndex,
    Subscriptions,
    parse_limit,
    parse_protocols,
    parse_target,
    room,
)

if TYPE_CHECKING:
    from harness.server.app import MockServer

LOW_WATER = 64
"""max mode: queued packets per client below which the next batch is released."""

ACK_REQUESTED: contextvars.ContextVar[bool] = contextvars.ContextVar("ack_requested", default=False)
SERVER_EVENTS = ("trade", "token_update", "new_token", "migration", "sol_price", "ohlcv")
BILLING_ERROR = {"error": "insufficient_balance", "message": "wallet balance is exhausted; top up to resume"}
"""The ``billing_error`` payload (undocumented, CONTRACTS.md 6.8: a choice)."""
UNAVAILABLE_MESSAGE = "transient backend error; safe to retry"


class _Server(socketio.AsyncServer):  # type: ignore[misc]
    async def _handle_event_internal(
        self, server: Any, sid: str, eio_sid: str, data: Any, namespace: str, id: int | None
    ) -> Any:
        token = ACK_REQUESTED.set(id is not None)
        try:
            return await super()._handle_event_internal(server, sid, eio_sid, data, namespace, id)
        finally:
            ACK_REQUESTED.reset(token)


class Item:
    """One recorded server event: its name, payload and the room it goes to."""

    __slots__ = ("checked", "name", "payload", "pool", "room")

    def __init__(self, name: str, payload: Any, room_name: str, pool: str = "") -> None:
        self.name = name
        self.payload = payload
        self.room = room_name
        self.pool = pool
        self.checked = False


def _room_of(name: str, payload: Any, ohlcv_pool: str) -> tuple[str, str] | None:
    if name == "ohlcv":
        return (room("ohlcv", ohlcv_pool), ohlcv_pool) if ohlcv_pool else None
    if not isinstance(payload, dict):
        return None
    if name in ("trade", "token_update") and isinstance(payload.get("pool"), str):
        kind = "trades" if name == "trade" else "token"
        return room(kind, payload["pool"]), payload["pool"]
    if name == "new_token":
        return room("new_tokens", str(payload.get("protocol", ""))), str(payload.get("pool", ""))
    if name == "migration":
        return room("migrations", str(payload.get("protocol", ""))), str(payload.get("new_pool", ""))
    if name == "sol_price":
        return room("sol_price"), ""
    return None


def read_feed(frames: list[Any]) -> tuple[list[tuple[float, Item]], PoolIndex, dict[str, list[list[Any]]]]:
    """The recorded server events (once each, however many connections recorded them), the pools
    and mints the tape knows, and recorded ``ohlcv_history`` candles by pool."""
    items: list[tuple[float, Item]] = []
    seen: set[str] = set()
    index = PoolIndex()
    history: dict[str, list[list[Any]]] = {}
    ohlcv_pools: dict[str, set[str]] = {}
    asked: dict[tuple[str, int], tuple[str, Any]] = {}
    for frame in frames:
        if isinstance(frame, SioEvent) and frame.direction is C2S:
            payload = frame.args[0] if frame.args else None
            if frame.ack_id is not None:
                asked[(frame.conn, frame.ack_id)] = (frame.name, payload)
            if (
                frame.name == "subscribe_ohlcv"
                and isinstance(payload, dict)
                and isinstance(payload.get("pool"), str)
            ):
                ohlcv_pools.setdefault(frame.conn, set()).add(payload["pool"])
            continue
        if isinstance(frame, SioAck) and frame.direction is S2C:
            name, request = asked.pop((frame.conn, frame.ack_id), ("", None))
            ack = frame.args[0] if frame.args else None
            if isinstance(ack, dict) and ack.get("ok") and isinstance(ack.get("pool"), str):
                index.add_pool(ack["pool"])
                if isinstance(request, dict) and isinstance(request.get("mint"), str):
                    index.link(request["mint"], ack["pool"], frame.t)
                if name == "ohlcv_history" and isinstance(ack.get("data"), list):
                    history.setdefault(ack["pool"], []).extend(r for r in ack["data"] if isinstance(r, list))
            continue
        if not isinstance(frame, SioEvent) or frame.name not in SERVER_EVENTS:
            continue
        payload = frame.args[0] if frame.args else None
        pools = ohlcv_pools.get(frame.conn, set())
        # A recorded candle says no pool: it is attributable only on a connection with one.
        ohlcv_pool = next(iter(pools)) if frame.name == "ohlcv" and len(pools) == 1 else ""
        target = _room_of(frame.name, payload, ohlcv_pool)
        if target is None:
            continue
        key = frame.name + json.dumps(payload, sort_keys=True) + ohlcv_pool
        if key in seen:
            continue
        seen.add(key)
        room_name, pool = target
        if isinstance(payload, dict):
            if frame.name in ("trade", "new_token") and isinstance(payload.get("mint"), str) and pool:
                index.link(payload["mint"], pool, frame.t)
            elif frame.name == "migration" and isinstance(payload.get("mint"), str):
                index.add_pool(str(payload.get("old_pool", "")))
                index.link(payload["mint"], pool, frame.t)
        if pool:
            index.add_pool(pool)
        items.append((frame.t, Item(frame.name, payload, room_name, pool)))
    return items, index, history


class PumpdataEmulator:
    name = "pumpdata"

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.config: PumpdataConfig = server.config.pumpdata
        items, self.index, self.recorded_history = read_feed(server.tapes.sio)
        self.feed: Feed[Item] = Feed(items, loop=server.config.loop)
        self.recorded_ohlcv = {item.pool for _, item in items if item.name == "ohlcv"}
        self.sio = _Server(
            async_mode="aiohttp", cors_allowed_origins="*", logger=False, engineio_logger=False
        )
        self.subs: dict[str, Subscriptions] = {}
        self.delivered: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()
        self._rng = random.Random(server.config.seed)
        self._epoch = server.epoch
        self._reset_market()
        self._register()

    def _reset_market(self) -> None:
        self.books: dict[str, CandleBook] = {}
        for pool, rows in self.recorded_history.items():
            book = self.books.setdefault(pool, CandleBook())
            for row in rows:
                if len(row) >= 6:
                    book.candles[int(row[0])] = _candle(row)
        self.throttles: dict[str, Throttle] = {}
        self.last_rows: dict[str, list[Any]] = {}
        self.sol_price: Any = None

    # --- Emulator protocol ---------------------------------------------------------------------

    def setup(self, app: web.Application) -> None:
        self.sio.attach(app)

    def _next_emission(self) -> float | None:
        times = [t for t in (th.next_emit_at() for th in self.throttles.values()) if t is not None]
        return min(times) if times else None

    def next_wakeup(self) -> float | None:
        times = [t for t in (self.feed.next_time(), self._next_emission()) if t is not None]
        return min(times) if times else None

    def lookahead(self, count: int) -> float | None:
        times = [t for t in (self.feed.time_ahead(count), self._next_emission()) if t is not None]
        return min(times) if times else None

    async def tick(self, now: float) -> None:
        for due in self.feed.take_due(now):
            item = due.item
            if item.name == "sol_price":
                self.sol_price = item.payload
            if item.name == "trade" and item.pool not in self.recorded_ohlcv:
                self._add_trade(item, now)
            await self._deliver(item.name, item.payload, item.room, item)
        for pool, throttle in self.throttles.items():
            due_at = throttle.next_emit_at()
            if due_at is not None and due_at <= now:
                rows = throttle.emit(now, self.books[pool])
                if self.config.flat_empty_seconds and pool in self.last_rows and rows:
                    rows = self._with_flat(pool, rows)
                if rows:
                    self.last_rows[pool] = rows[-1]
                    await self._deliver("ohlcv", rows, room("ohlcv", pool), None)

    def _add_trade(self, item: Item, now: float) -> None:
        payload = item.payload
        price, volume, ts = payload.get("price"), payload.get("quote_amount"), payload.get("timestamp")
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (price, volume, ts)):
            return
        book = self.books.setdefault(item.pool, CandleBook())
        candle = book.add_trade(ts, price, volume)
        self.throttles.setdefault(item.pool, Throttle()).touch(candle.t)
        # keep the rolling window bounded (history is served from about two minutes)
        window_ms = int(self.config.history_window_s * 1000)
        if len(book.candles) > 2 * window_ms // 1000 + 16:
            book.prune(candle.t - window_ms)

    def _with_flat(self, pool: str, rows: list[Any]) -> list[Any]:
        prev = _candle(self.last_rows[pool])
        candles = [_candle(r) for r in rows]
        if candles[0].t <= prev.t:
            return rows
        return [c.row() for c in fill_flat([prev, *candles])[1:]]

    async def _deliver(self, event: str, payload: Any, room_name: str, item: Item | None) -> None:
        members = self.sio.manager.rooms.get("/", {}).get(room_name)
        if not members:
            return
        if self.server.config.validate and (item is None or not item.checked):
            if item is not None:
                item.checked = True
            self.server.check_frame(SioEvent(self.server.now(), "feed", S2C, event, (payload,)), conn="feed")
        if self.server.fuzz.armed(self.name):
            text = json.dumps([event, payload], separators=(",", ":"))  # as python-socketio encodes
            await self.server.fuzz.deliver(self.name, [(sid, text) for sid in members], self)
        else:
            await self.sio.emit(event, payload, room=room_name)
        self.counters["events_sent"] += len(members)
        if self.config.billing_error_after is not None:
            for sid in list(members):
                self.delivered[sid] += 1
                if self.delivered[sid] == self.config.billing_error_after:
                    # CONTRACTS.md 2.1: billing_error, then a disconnect
                    self.counters["billing_errors"] += 1
                    await self.sio.emit("billing_error", BILLING_ERROR, to=sid)
                    await self.sio.disconnect(sid)

    def active(self) -> bool:
        return any(subs.rooms for subs in self.subs.values())

    async def drained(self, timeout: float) -> None:
        # max mode: let engine.io's per-client queues (unbounded, and exposing no event to wait
        # on) empty below a low-water mark before the next batch, so memory stays flat.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and any(  # noqa: ASYNC110 (engine.io offers no event to await)
            getattr(sock, "queue", None) is not None and sock.queue.qsize() > LOW_WATER
            for sock in list(self.sio.eio.sockets.values())
        ):
            await asyncio.sleep(0.0005)

    async def reset(self) -> None:
        for sid in list(self.subs):
            await self.sio.disconnect(sid)
        self.subs.clear()
        self.delivered.clear()
        self.counters.clear()
        self.feed.rewind()
        self._reset_market()

    def state(self) -> dict[str, Any]:
        return {
            "events": len(self.feed),
            "pools": len(self.index.pools),
            "clients": {sid: sorted(s.rooms) for sid, s in self.subs.items()},
            "counters": dict(self.counters),
            "max_subscriptions": self.config.max_subscriptions,
        }

    async def close(self) -> None:
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
        # CONTRACTS.md 2.3: "unavailable" is transient and safe to retry
        return json.dumps(["subscription_error", Failure(Code.UNAVAILABLE, UNAVAILABLE_MESSAGE).payload()])

    # --- handlers ------------------------------------------------------------------------------

    def _register(self) -> None:
        sio = self.sio

        @sio.event  # type: ignore[untyped-decorator]
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
            key = auth.get("api_key") if isinstance(auth, dict) else None
            if self.config.require_api_key and (not isinstance(key, str) or not key.strip()):
                self.counters["refused_connects"] += 1
                raise socketio.exceptions.ConnectionRefusedError(
                    "api_key is required: connect with auth={'api_key': 'pd_...'}"
                )
            self.server.touch()
            self.subs[sid] = Subscriptions(self.config.max_subscriptions)

        @sio.event  # type: ignore[untyped-decorator]
        async def disconnect(sid: str, reason: Any = None) -> None:
            # Rooms are per connection: a disconnect drops them all (CONTRACTS.md 2.1 [inferred]).
            self.subs.pop(sid, None)
            self.delivered.pop(sid, None)

        for event in CLIENT_EVENTS:
            sio.on(event, self._handler(event))

        @sio.on("*")  # type: ignore[untyped-decorator]
        async def unknown(event: str, sid: str, *args: Any) -> Any:
            self._check_client(sid, event, args)
            return await self._answer(sid, Failure(Code.INVALID_REQUEST, f"unknown event {event!r}"))

    def _handler(self, event: str) -> Any:
        async def handle(sid: str, *args: Any) -> Any:
            self.server.touch()
            self._check_client(sid, event, args)
            outcome = await self._handle(sid, event, args[0] if args else None)
            self.server.wake()
            return await self._answer(sid, outcome)

        return handle

    def _check_client(self, sid: str, event: str, args: tuple[Any, ...]) -> None:
        ack_id = 0 if ACK_REQUESTED.get() else None
        self.server.check_frame(SioEvent(self.server.now(), sid, C2S, event, args, ack_id), conn=sid)

    async def _answer(self, sid: str, outcome: dict[str, Any] | Failure) -> Any:
        if not isinstance(outcome, Failure):
            return outcome
        self.counters[f"errors.{outcome.code.value}"] += 1
        if ACK_REQUESTED.get():
            return outcome.payload()
        # CONTRACTS.md 2.3: "Without an ack callback, the same payload is emitted as the
        # subscription_error event."
        await self.sio.emit("subscription_error", outcome.payload(), to=sid)
        return None

    async def _handle(self, sid: str, event: str, payload: Any) -> dict[str, Any] | Failure:
        subs = self.subs.get(sid)
        if subs is None:
            return Failure(Code.INVALID_REQUEST, "not connected")
        if event in PLAIN_EVENTS:
            return await self._sol_price(sid, subs, subscribe=PLAIN_EVENTS[event][1])
        if event in PROTOCOL_EVENTS:
            kind, joining = PROTOCOL_EVENTS[event]
            default = ("PUMPFUN",) if kind == "migrations" else ()
            protocols = parse_protocols(payload, default=default if joining else PROTOCOLS)
            if isinstance(protocols, Failure):
                return protocols
            return await self._rooms(
                sid, subs, [room(kind, p) for p in protocols], joining, protocols=list(protocols)
            )
        kind, joining = TARGETED[event]
        target = parse_target(payload)
        if isinstance(target, Failure):
            return target
        limit = parse_limit(payload) if event == "ohlcv_history" else None
        if isinstance(limit, Failure):
            return limit
        pool = self.index.resolve(target, self.server.now())
        if isinstance(pool, Failure):
            return pool
        if self.config.unavailable_rate and joining and self._rng.random() < self.config.unavailable_rate:
            return Failure(Code.UNAVAILABLE, UNAVAILABLE_MESSAGE)
        if limit is not None:
            now_ms = int((self._epoch + self.server.now()) * 1000)
            book = self.books.get(pool, CandleBook())
            window = int(self.config.history_window_s * 1000)
            data = book.history(now_ms, window, limit, flat=self.config.flat_empty_seconds)
            return {"ok": True, "pool": pool, "data": data}
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
        answer: dict[str, Any] = {"ok": True, **extra}
        if joining and len(rooms) == 1:
            answer["room"] = rooms[0]
        return answer

    async def _sol_price(self, sid: str, subs: Subscriptions, *, subscribe: bool) -> dict[str, Any] | Failure:
        name = room("sol_price")
        if not subscribe:
            subs.leave([name])
            await self.sio.leave_room(sid, name)
            return {"ok": True}
        failure = subs.join([name])
        if failure is not None:
            return failure
        await self.sio.enter_room(sid, name)
        if self.sol_price is not None:
            # CONTRACTS.md 2.2: "the snapshot is also sent immediately on subscribe"
            await self.sio.emit("sol_price", self.sol_price, to=sid)
        return {"ok": True, "snapshot": self.sol_price}


def _candle(row: list[Any]) -> Candle:
    t = int(row[0])
    return Candle(t, row[1], row[2], row[3], row[4], row[5], t, t)


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


def config_from_args(args: argparse.Namespace) -> PumpdataConfig:
    if args.max_subscriptions < 1:
        raise ValueError(f"--max-subscriptions must be >= 1, got {args.max_subscriptions}")
    if not 0 <= args.unavailable_rate <= 1:
        raise ValueError(f"--unavailable-rate must be in [0, 1], got {args.unavailable_rate}")
    if args.billing_error_after is not None and args.billing_error_after < 1:
        raise ValueError(f"--billing-error-after must be >= 1, got {args.billing_error_after}")
    if not args.history_window > 0:
        raise ValueError(f"--history-window must be > 0, got {args.history_window}")
    return PumpdataConfig(
        require_api_key=args.require_api_key,
        max_subscriptions=args.max_subscriptions,
        history_window_s=args.history_window,
        unavailable_rate=args.unavailable_rate,
        billing_error_after=args.billing_error_after,
        flat_empty_seconds=args.flat_candles,
    )
