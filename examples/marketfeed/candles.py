"""1-second OHLCV candles of one pool from PumpData's Socket.IO API, upserted by their time.

``CandleBook(url, api_key=..., pool=...).run()`` connects with ``auth.api_key``, subscribes the
pool's candles (``subscribe_ohlcv``), backfills them from ``ohlcv_history`` and then keeps every
``ohlcv`` tuple ``[t, open, high, low, close, volume]`` by its ``t``: PumpData emits the forming
candle again as trades come in, so a second is a key to update, not a row to append. A second
only fills up (its volume grows, its high and low widen), so of two states of one candle the one
with more volume is the later, and a repeated or late emission never takes a candle back.

An ``ohlcv`` emission does not name its pool, so a book follows one pool on its own connection.
Rooms do not survive a reconnect: after any (python-socketio's own, or ours after the server
disconnected us) the book subscribes again and backfills what it missed. A transient
``unavailable`` error (in the ack, or as a ``subscription_error`` event) is retried; a
``billing_error`` stops the book: reconnecting would not help.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import socketio

from marketfeed.background import Background

PUMPDATA = "https://api.pumpdata.fun"
KEPT_SECONDS = 3600
"""Candles kept per book (the oldest are dropped first)."""


def backoff(attempt: int) -> float:
    """Seconds before reconnect ``attempt``: 1 s doubling, at most 30 s."""
    return min(2.0**attempt, 30.0)


class HistoryError(Exception):
    """PumpData answered ``ohlcv_history`` with an error."""


@dataclass(frozen=True, slots=True)
class Candle:
    t: int
    """Start of the second, unix ms."""
    open: float
    high: float
    low: float
    close: float
    volume: float

    @classmethod
    def from_row(cls, row: object) -> Candle | None:
        """A candle from ``[t, o, h, l, c, v]``; None for anything else."""
        if not isinstance(row, list) or len(row) < 6:
            return None
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in row[:6]):
            return None
        return cls(int(row[0]), *(float(x) for x in row[1:6]))


class CandleBook(Background):
    """The candles of one pool, kept current (see the module docstring)."""

    def __init__(
        self,
        url: str = PUMPDATA,
        *,
        api_key: str,
        pool: str,
        history: int = 120,
        retry_delay: Callable[[int], float] = backoff,
    ) -> None:
        self.url, self.api_key, self.pool, self.history_size = url, api_key, pool, history
        self.retry_delay = retry_delay
        self.candles: dict[int, Candle] = {}
        self.errors: list[Any] = []
        self.stopped: Any = None
        """The ``billing_error`` that stopped the book, if one did."""
        self.ready = asyncio.Event()
        """Set while the pool is subscribed on the current connection."""
        self._ended = asyncio.Event()
        self._gone = asyncio.Event()
        """Set when the current connection goes."""
        self._tasks: set[asyncio.Task[None]] = set()
        self.sio = self._client()

    def _client(self) -> Any:
        """A Socket.IO client with the book's handlers. python-socketio reconnects one by itself
        after a network failure; after a server disconnect the book makes a new one."""
        sio = socketio.AsyncClient(reconnection_delay=1, reconnection_delay_max=30)
        sio.on("connect", self._on_connect)
        sio.on("disconnect", self._on_disconnect)
        sio.on("ohlcv", self._on_ohlcv)
        sio.on("subscription_error", self._on_subscription_error)
        sio.on("billing_error", self._on_billing_error)
        return sio

    async def run(self) -> None:
        """Keep the book until cancelled (or stopped by a ``billing_error``)."""
        attempt = 0
        try:
            while self.stopped is None:
                self._ended.clear()
                try:
                    await self.sio.connect(
                        self.url, auth={"api_key": self.api_key}, transports=["websocket"], wait_timeout=10
                    )
                except socketio.exceptions.ConnectionError:
                    await asyncio.sleep(self.retry_delay(attempt))
                    attempt += 1
                    continue
                attempt = 0
                await self._ended.wait()  # a disconnect python-socketio does not repair itself
                await self.sio.disconnect()
                self.sio = self._client()
                if self.stopped is None:
                    await asyncio.sleep(self.retry_delay(0))
        finally:
            for task in list(self._tasks):
                task.cancel()
            await self.sio.disconnect()

    async def history(self, timeout: float = 30.0) -> list[Candle]:
        """The pool's recent candles as PumpData has them now (``ohlcv_history``, oldest first),
        asked again after a reconnect if the connection drops meanwhile. Everything the server
        sent before the answer has been taken in when this returns."""
        async with asyncio.timeout(timeout):
            while True:
                await self.ready.wait()
                try:
                    return await self._history()
                except socketio.exceptions.SocketIOError:
                    await asyncio.sleep(0.05)  # disconnected: the book subscribes again first

    async def _history(self) -> list[Candle]:
        answer = await self._call("ohlcv_history", {"pool": self.pool, "limit": self.history_size})
        if not isinstance(answer, dict) or not answer.get("ok"):
            raise HistoryError(f"ohlcv_history for {self.pool} failed: {answer!r}")
        return [c for c in map(Candle.from_row, answer.get("data", [])) if c is not None]

    def upsert(self, candle: Candle) -> None:
        known = self.candles.get(candle.t)
        if known is None or candle.volume >= known.volume:
            self.candles[candle.t] = candle
        if len(self.candles) > KEPT_SECONDS:
            del self.candles[min(self.candles)]

    # --- events ------------------------------------------------------------------------------------

    async def _call(self, event: str, data: Any) -> Any:
        """``sio.call``, failing as soon as the connection goes (python-socketio forgets a call
        then, and its caller would wait out the whole timeout)."""
        gone = self._gone
        call = asyncio.ensure_future(self.sio.call(event, data, timeout=10))
        lost = asyncio.ensure_future(gone.wait())
        try:
            done, _ = await asyncio.wait({call, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not call.done():
                call.cancel()
        if call not in done:
            raise socketio.exceptions.DisconnectedError(f"disconnected before {event} was answered")
        return call.result()

    async def _on_connect(self) -> None:
        self._gone = asyncio.Event()
        self._spawn(self._subscribe())

    async def _subscribe(self) -> None:
        for attempt in range(5):
            try:
                ack = await self._call("subscribe_ohlcv", {"pool": self.pool})
                if isinstance(ack, dict) and ack.get("ok"):
                    for candle in await self._history():  # what we missed while away
                        self.upsert(candle)
                    self.ready.set()
                    return
            except socketio.exceptions.SocketIOError:
                return  # disconnected meanwhile: the next connect subscribes again
            except HistoryError as exc:
                self.errors.append(str(exc))
                self.ready.set()  # subscribed all the same
                return
            self.errors.append(ack)
            if not isinstance(ack, dict) or ack.get("error") != "unavailable":
                return  # not_found, invalid_request, limit_exceeded: asking again will not help
            await asyncio.sleep(self.retry_delay(attempt))

    async def _on_disconnect(self, reason: Any = None) -> None:
        self.ready.clear()
        self._gone.set()
        if reason == self.sio.reason.SERVER_DISCONNECT:
            self._ended.set()

    async def _on_ohlcv(self, rows: Any) -> None:
        for row in rows if isinstance(rows, list) else []:
            candle = Candle.from_row(row)
            if candle is not None:
                self.upsert(candle)

    async def _on_subscription_error(self, error: Any) -> None:
        self.errors.append(error)
        if isinstance(error, dict) and error.get("error") == "unavailable" and self.sio.connected:
            self._spawn(self._subscribe())  # transient: PumpData says it is safe to retry

    async def _on_billing_error(self, error: Any) -> None:
        self.stopped = error
        self._ended.set()

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
