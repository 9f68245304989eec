"""PumpData OHLCV: 1-second candles from trades, and when to emit them (CONTRACTS.md 2.2, 2.4).

A candle is ``[t_ms, open, high, low, close, volume]``: ``t`` is the bucket start in ms, volume is
quote (SOL) volume [inferred, 2.4(c)]. Candles are keyed by ``t`` and upserted, so a late trade
updates its own (older) bucket, open and close following trade time, not arrival order. A trade
exactly on a bucket edge belongs to the bucket it starts.

Emission ("every time the current bucket changes (<=1 update/sec)", 2.4(a)) is a throttle per
pool: candles changed since the last emission are sent together, at most once per replay second;
the forming candle may be sent again with new values (clients upsert by ``t``), and a boundary may
carry two tuples. Silent seconds are skipped unless flat candles are asked for (2.4(b), 6.6).
Pure: times are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def touch(self, t_ms: int) -> None:
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
