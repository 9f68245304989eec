"""PumpData OHLCV: 1-second candles from trades, and when to emit them (contract §2.2, 2.4).

A candle is ``[t_ms, open, high, low, close, volume]``: ``t`` is the bucket start in ms, volume is
quote (SOL) volume [inferred, 2.4(c)]. Candles are keyed by ``t`` and upserted, so a late trade
updates its own (older) bucket, open and close following trade time, not arrival order. A trade
exactly on a bucket edge belongs to the bucket it starts.

Emission ("every time the current bucket changes (<=1 update/sec)", 2.4(a)) is a throttle per
pool: candles changed since the last emission are sent together, at most once per replay second;
the forming candle may be sent again with new values (clients upsert by ``t``), and a boundary may
carry two tuples. Silent seconds are skipped unless flat candles are asked for (2.4(b), 6.6).

:class:`Candles` is every pool's candles as the emulation keeps them: made from the pool's
``trade`` events, or taken from the candles the tape recorded for it, bounded to the history
window, emitted through each pool's throttle. Pure: times are arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

BUCKET_MS = 1000
EMIT_INTERVAL = 1.0
"""Replay seconds between two emissions for one pool."""


def bucket_start(timestamp_ms: int) -> int:
    return timestamp_ms - timestamp_ms % BUCKET_MS


def to_ms(timestamp: float) -> int:
    """A trade timestamp in s or ms (PumpData trades carry s) as integer ms."""
    return int(timestamp) if timestamp > 1e11 else round(timestamp * 1000)


@dataclass(slots=True)
class Candle:
    t: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    first_ms: int
    last_ms: int

    def row(self) -> list[float | int]:
        return [self.t, self.open, self.high, self.low, self.close, self.volume]


@dataclass(slots=True)
class CandleBook:
    """The candles of one pool, by bucket start; trades upsert them."""

    candles: dict[int, Candle] = field(default_factory=dict)

    def add_trade(self, timestamp: float, price: float, volume: float) -> Candle:
        ms = to_ms(timestamp)
        t = bucket_start(ms)
        candle = self.candles.get(t)
        if candle is None:
            candle = Candle(t, price, price, price, price, 0.0, ms, ms)
            self.candles[t] = candle
        candle.high = max(candle.high, price)
        candle.low = min(candle.low, price)
        if ms < candle.first_ms:
            candle.open, candle.first_ms = price, ms
        if ms >= candle.last_ms:
            candle.close, candle.last_ms = price, ms
        candle.volume += volume
        return candle

    def history(
        self, until_ms: int, window_ms: int, limit: int, *, flat: bool = False
    ) -> list[list[float | int]]:
        """Candles with ``until_ms - window_ms < t <= until_ms``, oldest first, the last ``limit``."""
        rows = [c for t, c in sorted(self.candles.items()) if until_ms - window_ms < t <= until_ms]
        if flat:
            rows = fill_flat(rows)
        return [c.row() for c in rows[-limit:]] if limit > 0 else []

    def prune(self, before_ms: int) -> None:
        for t in [t for t in self.candles if t < before_ms]:
            del self.candles[t]


def fill_flat(candles: list[Candle]) -> list[Candle]:
    """Candles with the silent seconds between them filled by flat ones (last close, volume 0)."""
    out: list[Candle] = []
    for candle in candles:
        if out:
            prev = out[-1]
            for t in range(prev.t + BUCKET_MS, candle.t, BUCKET_MS):
                out.append(Candle(t, prev.close, prev.close, prev.close, prev.close, 0.0, t, t))
        out.append(candle)
    return out


@dataclass(slots=True)
class Throttle:
    """When one pool's changed candles may be emitted: at most once per ``interval``."""

    interval: float = EMIT_INTERVAL
    last_emit: float | None = None
    dirty: set[int] = field(default_factory=set)

    def changed(self, t_ms: int) -> None:
        """The candle at ``t_ms`` changed: it goes out with the next emission."""
        self.dirty.add(t_ms)

    def next_emit_at(self) -> float | None:
        """Replay time of the next emission, or None when nothing changed."""
        if not self.dirty:
            return None
        return 0.0 if self.last_emit is None else self.last_emit + self.interval

    def emit(self, now: float, book: CandleBook) -> list[list[float | int]]:
        """The changed candles (oldest first) if an emission is due at ``now``, else []."""
        due = self.next_emit_at()
        if due is None or now < due:
            return []
        rows = [book.candles[t].row() for t in sorted(self.dirty) if t in book.candles]
        self.dirty.clear()
        self.last_emit = now
        return rows


Row = list[float | int]
"""A candle as the wire carries it: ``[t_ms, open, high, low, close, volume]``."""


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def candle_of(row: Any) -> Candle | None:
    """A wire candle (``[t_ms, o, h, l, c, v, ...]``) as a :class:`Candle`; None if it is not one."""
    if not isinstance(row, list) or len(row) < 6 or not all(_number(x) for x in row[:6]):
        return None
    t = int(row[0])
    return Candle(t, row[1], row[2], row[3], row[4], row[5], t, t)


@dataclass(slots=True)
class Candles:
    """Every pool's candles (module docstring). ``recorded``: the pools whose ``ohlcv`` the tape
    holds, which keep those candles and make none of their own from trades; ``window_ms``: how
    much history ``ohlcv_history`` serves (contract §2.2: about two minutes); ``flat``: fill
    silent seconds (6.6)."""

    window_ms: int
    flat: bool = False
    recorded: frozenset[str] = frozenset()
    books: dict[str, CandleBook] = field(default_factory=dict)
    throttles: dict[str, Throttle] = field(default_factory=dict)
    _last: dict[str, Candle] = field(default_factory=dict)
    """Each pool's last candle emitted (flat candles fill from it)."""
    skew_ms: int = 0
    """How far the candles' own times run from the clock ``history`` is asked at, when that is
    more than the window (a tape whose candles and header clock disagree); else 0."""

    @classmethod
    def of(
        cls,
        history: Mapping[str, Iterable[Any]],
        *,
        window_ms: int,
        flat: bool = False,
        recorded: Iterable[str] = (),
        at_ms: int | None = None,
    ) -> Candles:
        """Candles starting from recorded ``ohlcv_history`` rows, by pool (shown at ``at_ms``)."""
        candles = cls(window_ms, flat, frozenset(recorded))
        for pool, rows in history.items():
            candles.add_rows(pool, rows, at_ms)
        return candles

    def _observe(self, at_ms: int | None, t_ms: int) -> None:
        """A candle of time ``t_ms`` came at clock time ``at_ms``: history follows the candles'
        times when the two differ by more than the window."""
        if at_ms is not None:
            skew = t_ms - at_ms
            self.skew_ms = skew if abs(skew) > self.window_ms else 0

    def add_trade(self, pool: str, trade: Any, at_ms: int | None = None) -> None:
        """A PumpData ``trade`` event: its ``price`` and its ``quote_amount`` (volume is quote, SOL:
        contract §2.4(c)) at its ``timestamp`` (s) go into the pool's candle, unless the tape
        recorded this pool's candles; a trade without those numbers makes none."""
        if pool in self.recorded or not isinstance(trade, Mapping):
            return
        price, volume, ts = trade.get("price"), trade.get("quote_amount"), trade.get("timestamp")
        if not (_number(price) and _number(volume) and _number(ts)):
            return
        book = self.books.setdefault(pool, CandleBook())
        candle = book.add_trade(ts, price, volume)
        self._observe(at_ms, candle.t)
        self.throttles.setdefault(pool, Throttle()).changed(candle.t)
        self._bound(book, candle.t)

    def add_rows(self, pool: str, rows: Iterable[Any], at_ms: int | None = None) -> None:
        """Recorded candles (history, or a live ``ohlcv``) upsert the pool's book by ``t``
        (``at_ms``: the clock time they came at, as in :meth:`history`)."""
        book = self.books.setdefault(pool, CandleBook())
        latest = None
        for row in rows:
            candle = candle_of(row)
            if candle is not None:
                book.candles[candle.t] = candle
                self._bound(book, candle.t)
                latest = candle.t if latest is None else max(latest, candle.t)
        if latest is not None:
            self._observe(at_ms, latest)

    def _bound(self, book: CandleBook, t_ms: int) -> None:
        # the book stays bounded: history is served from the window only
        if len(book.candles) > 2 * self.window_ms // BUCKET_MS + 16:
            book.prune(t_ms - self.window_ms)

    def next_emit_at(self) -> float | None:
        """Replay time of the next emission of any pool, or None when nothing changed."""
        times = [t for t in (th.next_emit_at() for th in self.throttles.values()) if t is not None]
        return min(times) if times else None

    def due(self, now: float) -> list[tuple[str, list[Row]]]:
        """The emissions due at ``now``: each pool's changed candles, oldest first (with the silent
        seconds since its last emission filled when ``flat``)."""
        out = []
        for pool, throttle in self.throttles.items():
            at = throttle.next_emit_at()
            if at is None or at > now:
                continue
            rows = throttle.emit(now, self.books[pool])
            if not rows:
                continue
            last = self._last.get(pool)
            if self.flat and last is not None and rows[0][0] > last.t:
                rows = [c.row() for c in fill_flat([last, *map(_row_candle, rows)])[1:]]
            self._last[pool] = _row_candle(rows[-1])
            out.append((pool, rows))
        return out

    def history(self, pool: str, until_ms: int, limit: int) -> list[Row]:
        """``ohlcv_history``'s ``data``: the pool's candles in the window up to ``until_ms``, oldest
        first, the last ``limit`` (contract §2.2); ``until_ms`` is moved by :attr:`skew_ms`, so
        history follows the candles' own times."""
        book = self.books.get(pool)
        until = until_ms + self.skew_ms
        return [] if book is None else book.history(until, self.window_ms, limit, flat=self.flat)


def _row_candle(row: Row) -> Candle:
    candle = candle_of(row)
    assert candle is not None  # rows this module made
    return candle
