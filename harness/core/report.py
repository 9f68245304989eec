"""What a report shows of a tape, aggregated with bounded memory: the numbers behind ``harness report``.

Owns the aggregation of one tape's frames (and their contract violations) into the values the
HTML report draws: messages per second by API and family in time buckets, connections and their
lifecycles, each REST path's statuses, ETag changes and rate-limit budget over time, OHLCV candles
(recorded ones, or built from trades with :mod:`harness.core.ohlcv`), violations with their tape
line and a sample of messages per family. Memory does not grow with the tape: time buckets widen
(two merge into one) when there would be more than :data:`MAX_BUCKETS`, and every table is capped
with a count of what was left out; :meth:`TapeReport.limits` says which caps were reached, so the
page can say so. Pure: frames, classified messages and violations in, a JSON-ready dict out;
reading tapes and rendering HTML are :mod:`harness.report`'s.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from harness.core.frames import (
    C2S,
    Frame,
    HttpExchange,
    SioConnect,
    SioConnectError,
    SioDisconnect,
    SioEvent,
    TapeHeader,
    WsClose,
    WsOpen,
    WsText,
)
from harness.core.ohlcv import CandleBook, candle_of, to_ms
from harness.core.pumpportal.families import is_pumpportal_url

MAX_BUCKETS = 720
"""Time buckets per chart: a longer tape gets wider buckets (1 s, 2 s, 4 s ...)."""
MAX_CONNECTIONS = 300
"""Connections listed with their lifecycle; more are counted."""
MAX_SUBSCRIPTIONS = 12
"""Subscription messages listed per connection; more are counted."""
MAX_VIOLATION_ROWS = 500
"""Violations listed with their tape line; more are counted per rule."""
MAX_PATHS = 40
"""REST path templates charted; requests to others are counted as ``other``."""
MAX_ETAGS = 5_000
"""Resources whose last ETag is remembered (to count changes)."""
MAX_CANDLE_SERIES = 24
"""Pools or mints whose candles are built; the busiest :data:`CHARTED_CANDLE_SERIES` are drawn."""
CHARTED_CANDLE_SERIES = 4
MAX_CANDLES = 600
"""Candles kept per series (the latest ones)."""
SAMPLES_PER_FAMILY = 2
SAMPLE_CHARS = 1_500
TRADES_PER_MESSAGE = 100
"""Trades of one list message (a REST page of trades) that go into candles."""
LINE_CHARS = 4_000
"""A violating tape line is shown up to this many characters."""

API_OF_PROTOCOL = {"http": "pumpfun", "sio": "pumpdata", "ws": "corto"}
_LONG_SEGMENT = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")


def path_template(url: str) -> str:
    """``/coins/{mint}`` for ``/coins/Haz1...pump``: base58 keys in a path become ``{mint}``."""
    path = urlsplit(url).path or "/"
    return "/".join("{mint}" if _LONG_SEGMENT.match(part) else part for part in path.split("/"))


def age_text(created: str, now: datetime) -> str:
    """``3 days`` between a header's ``created`` and ``now`` (``unknown`` if it does not parse)."""
    try:
        then = datetime.fromisoformat(created.replace("Z", "+00:00"))
        seconds = (now - then).total_seconds()
    except (ValueError, TypeError):
        return "unknown"
    if seconds < 0:
        return "in the future (clock skew?)"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{int(seconds)} seconds"


@dataclass(slots=True)
class Buckets:
    """Counts (or minimums) per time bucket and series; two buckets merge into one when there
    would be more than :data:`MAX_BUCKETS`."""

    width: float = 1.0
    series: dict[str, dict[int, float]] = field(default_factory=dict)
    mins: set[str] = field(default_factory=set)
    """Series that keep the minimum of a bucket (a budget), not the sum."""

    def add(self, name: str, t: float, value: float = 1.0, *, keep_min: bool = False) -> None:
        index = int(t // self.width)
        while index >= MAX_BUCKETS:
            self._widen()
            index = int(t // self.width)
        row = self.series.setdefault(name, {})
        if keep_min:
            self.mins.add(name)
            row[index] = min(row.get(index, value), value)
        else:
            row[index] = row.get(index, 0.0) + value

    def _widen(self) -> None:
        self.width *= 2
        for name, row in self.series.items():
            merged: dict[int, float] = {}
            for index, value in row.items():
                half = index // 2
                if name in self.mins:
                    merged[half] = min(merged.get(half, value), value)
                else:
                    merged[half] = merged.get(half, 0.0) + value
            self.series[name] = merged

    def points(
        self, name: str, *, rate: bool = False, until: float | None = None
    ) -> tuple[list[float], list[float]]:
        """Bucket start times and values (per second with ``rate``), in time order; with
        ``until``, every bucket from 0 to that time, the empty ones 0."""
        row = self.series.get(name, {})
        if until is None:
            xs = sorted(row)
        else:
            xs = list(range(int(until // self.width) + 1))
            row = {i: row.get(i, 0.0) for i in xs}
        scale = 1 / self.width if rate else 1.0
        return [round(i * self.width, 6) for i in xs], [round(row[i] * scale, 6) for i in xs]


@dataclass(slots=True)
class Connection:
    conn: str
    protocol: str
    api: str
    opened: float
    closed: float | None = None
    last: float = 0.0
    url: str = ""
    close: str = ""
    frames: int = 0
    subscriptions: list[str] = field(default_factory=list)
    more_subscriptions: int = 0
    ohlcv_pools: set[str] = field(default_factory=set)


@dataclass(slots=True)
class TapeReport:
    """One tape's report in the making (module docstring). ``add`` every frame, then ``result``."""

    path: str
    header: TapeHeader
    buckets: Buckets = field(default_factory=Buckets)
    rest: Buckets = field(default_factory=Buckets)
    frames: int = 0
    first_t: float | None = None
    last_t: float | None = None
    families: Counter[str] = field(default_factory=Counter)
    connections: dict[str, Connection] = field(default_factory=dict)
    more_connections: int = 0
    paths: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    etags: dict[str, str] = field(default_factory=dict)
    etag_changes: Counter[str] = field(default_factory=Counter)
    budget_limit: int | None = None
    books: dict[str, CandleBook] = field(default_factory=dict)
    candle_counts: Counter[str] = field(default_factory=Counter)
    candle_source: dict[str, str] = field(default_factory=dict)
    uncharted_trades: int = 0
    """Trades (or candles) of pools beyond :data:`MAX_CANDLE_SERIES`."""
    violations: list[dict[str, Any]] = field(default_factory=list)
    violation_counts: Counter[str] = field(default_factory=Counter)
    lines: dict[int, str] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    # --- input ---------------------------------------------------------------------------------

    def add(
        self,
        line: int,
        frame: Frame,
        messages: Iterable[tuple[str, str | None, Any]] = (),
        violations: Iterable[Mapping[str, Any]] = (),
        encoded: str = "",
    ) -> None:
        """One frame at tape ``line``: the ``(api, family, message)`` it carries, its contract
        violations (``Violation.as_dict()`` shapes) and its tape line as text (shown for a
        violation)."""
        self.frames += 1
        t = frame.t
        self.first_t = t if self.first_t is None else min(self.first_t, t)
        self.last_t = t if self.last_t is None else max(self.last_t, t)
        self._connection(frame)
        for api, family, message in messages:
            name = f"{api} {family or '?'}"
            self.families[name] += 1
            self.buckets.add(name, t)
            self._sample(name, message)
            self._candles(frame, api, family, message)
        if isinstance(frame, HttpExchange):
            self._exchange(frame)
        for violation in violations:
            self._violation(line, frame, violation, encoded)

    def _connection(self, frame: Frame) -> None:
        entry = self.connections.get(frame.conn)
        if entry is None:
            if len(self.connections) >= MAX_CONNECTIONS:
                if _opens(frame):
                    self.more_connections += 1
                return
            proto = frame.protocol.value
            api = API_OF_PROTOCOL.get(proto, proto)
            if isinstance(frame, WsOpen) and is_pumpportal_url(frame.url):
                api = "pumpportal"  # a WebSocket to /api/data is PumpPortal's feed, not the Data Stream
            entry = Connection(frame.conn, proto, api, frame.t)
            self.connections[frame.conn] = entry
        entry.frames += 1
        entry.last = max(entry.last, frame.t)
        match frame:
            case WsOpen(url=url) | SioConnect(url=url):
                entry.url = entry.url or url
            case HttpExchange():
                entry.url = entry.url or path_template(frame.request.url)
                entry.closed = frame.t + frame.latency
                entry.close = f"last response HTTP {frame.response.status}"
            case WsClose():
                entry.closed = frame.t
                side = "client" if frame.direction is C2S else "server"
                code = "no code" if frame.code is None else str(frame.code)
                entry.close = f"{side} closed {code} {frame.reason}".strip()
            case SioDisconnect():
                entry.closed = frame.t
                side = "client" if frame.direction is C2S else "server"
                entry.close = f"{side} disconnected {frame.reason}".strip()
            case SioConnectError():
                entry.closed = frame.t
                entry.close = f"connect_error {frame.message}"
            case WsText() if frame.direction is C2S:
                self._subscription(entry, frame.t, frame.data)
            case SioEvent() if frame.direction is C2S:
                args = json.dumps(list(frame.args), separators=(",", ":"), default=repr)
                self._subscription(entry, frame.t, f"{frame.name} {args}")
                payload = frame.args[0] if frame.args else None
                if frame.name == "subscribe_ohlcv" and isinstance(payload, dict):
                    pool = payload.get("pool") or payload.get("mint")
                    if isinstance(pool, str):
                        entry.ohlcv_pools.add(pool)

    @staticmethod
    def _subscription(entry: Connection, t: float, text: str) -> None:
        if len(entry.subscriptions) >= MAX_SUBSCRIPTIONS:
            entry.more_subscriptions += 1
            return
        entry.subscriptions.append(f"t={t:g}s {_cut(text, 200)}")

    def _exchange(self, frame: HttpExchange) -> None:
        template = path_template(frame.request.url)
        if template not in self.paths and len(self.paths) >= MAX_PATHS:
            template = "other"
        self.paths[template] += 1
        status = frame.response.status
        code = str(status) if status in (200, 304, 429) else "other"
        self.statuses[f"{template} {code}"] += 1
        self.rest.add(f"{template}|{code}", frame.t)
        etag = frame.response.header("etag")
        resource = urlsplit(frame.request.url).path
        if etag is not None and status == 200:
            before = self.etags.get(resource)
            if before is not None and before != etag:
                self.etag_changes[template] += 1
                self.rest.add(f"{template}|etag", frame.t)
            if before is not None or len(self.etags) < MAX_ETAGS:
                self.etags[resource] = etag
        remaining = _int(frame.response.header("x-ratelimit-remaining"))
        if remaining is not None:
            self.rest.add("budget", frame.t, remaining, keep_min=True)
        limit = _int(frame.response.header("x-ratelimit-limit"))
        if limit is not None:
            self.budget_limit = limit

    def _candles(self, frame: Frame, api: str, family: str | None, message: Any) -> None:
        if family == "ohlcv" and isinstance(frame, SioEvent) and isinstance(message, list):
            entry = self.connections.get(frame.conn)
            # an ohlcv emission names no pool: its candles are charted when the connection
            # subscribed to the candles of one pool only
            if entry is not None and len(entry.ohlcv_pools) == 1:
                (pool,) = entry.ohlcv_pools
                for row in message:
                    candle = candle_of(row) if isinstance(row, list) and all(map(_number, row[:6])) else None
                    book = self._book(f"{api} {pool}", "recorded candles")
                    if candle is not None and book is not None:
                        book.candles[candle.t] = candle
                        self._bound(book)
            return
        for key, ts, price, volume in _trades(api, family, message):
            name = f"{api} {key}"
            book = self._book(name, "built from trades")
            if book is not None and self.candle_source.get(name) == "built from trades":
                book.add_trade(ts, price, volume)
                self._bound(book)

    def _book(self, name: str, source: str) -> CandleBook | None:
        book = self.books.get(name)
        if book is None:
            if len(self.books) >= MAX_CANDLE_SERIES:
                self.uncharted_trades += 1
                return None
            book = self.books[name] = CandleBook()
            self.candle_source[name] = source
        self.candle_counts[name] += 1
        return book

    @staticmethod
    def _bound(book: CandleBook) -> None:
        if len(book.candles) > MAX_CANDLES:
            for t in sorted(book.candles)[: len(book.candles) - MAX_CANDLES]:
                del book.candles[t]

    def _violation(self, line: int, frame: Frame, v: Mapping[str, Any], encoded: str) -> None:
        rule = str(v.get("rule", ""))
        what = f"{v.get('api', '')} {v.get('family', '') or '?'}"
        self.violation_counts[f"{what} {rule}"] += 1
        self.buckets.add("violations", frame.t)
        if len(self.violations) >= MAX_VIOLATION_ROWS:
            return
        self.violations.append(
            {
                "line": line,
                "t": frame.t,
                "conn": frame.conn,
                "dir": frame.direction.value,
                "api": v.get("api", ""),
                "family": v.get("family", ""),
                "pointer": v.get("pointer", "") or "/",
                "rule": rule,
                "message": _cut(str(v.get("message", "")), 400),
            }
        )
        if encoded and line not in self.lines:
            self.lines[line] = _cut(encoded, LINE_CHARS)

    def _sample(self, name: str, message: Any) -> None:
        kept = self.samples.setdefault(name, [])
        if len(kept) < SAMPLES_PER_FAMILY:
            try:
                text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=repr)
            except ValueError:
                text = repr(message)
            kept.append(_cut(text, SAMPLE_CHARS))

    # --- output --------------------------------------------------------------------------------

    def limits(self) -> list[str]:
        """What the page shows aggregated or sampled rather than whole, in words."""
        out = [
            f"message rates are counted in {self.buckets.width:g}-second buckets"
            f" (at most {MAX_BUCKETS} buckets a chart)",
            f"{SAMPLES_PER_FAMILY} sample messages per family are shown",
        ]
        if self.more_connections:
            out.append(
                f"the first {MAX_CONNECTIONS} connections are listed, {self.more_connections} more are not"
            )
        total = sum(self.violation_counts.values())
        if total > len(self.violations):
            out.append(
                f"the first {len(self.violations)} of {total} violations are listed; all are counted by rule"
            )
        if self.uncharted_trades:
            out.append(
                f"candles of the first {MAX_CANDLE_SERIES} pools are built; {self.uncharted_trades}"
                " trades of later pools are not"
            )
        if any(len(b.candles) >= MAX_CANDLES for b in self.books.values()):
            out.append(f"each candle chart keeps the latest {MAX_CANDLES} candles")
        return out

    def result(self, now: datetime) -> dict[str, Any]:
        """The report's data, JSON-ready (``now``: the moment the tape's age is counted to)."""
        h = self.header
        width = self.buckets.width
        rates: dict[str, list[dict[str, Any]]] = {}
        for name in sorted(self.buckets.series):
            if name == "violations":
                continue
            api, family = name.split(" ", 1)
            xs, ys = self.buckets.points(name, rate=True, until=self.last_t or 0.0)
            rates.setdefault(api, []).append({"family": family, "t": xs, "per_s": ys})
        rest = []
        for template, count in self.paths.most_common():
            series = {}
            for code in ("200", "304", "429", "other", "etag"):
                xs, ys = self.rest.points(f"{template}|{code}")
                if xs:
                    series[code] = {"t": xs, "n": ys}
            rest.append(
                {
                    "path": template,
                    "requests": count,
                    "statuses": {
                        code: self.statuses[f"{template} {code}"]
                        for code in ("200", "304", "429", "other")
                        if self.statuses[f"{template} {code}"]
                    },
                    "etag_changes": self.etag_changes[template],
                    "series": series,
                }
            )
        bx, by = self.rest.points("budget")
        candles = []
        for name, _ in self.candle_counts.most_common():
            book = self.books.get(name)
            if book is None or not book.candles:
                continue
            rows = [book.candles[t].row() for t in sorted(book.candles)]
            candles.append({"series": name, "source": self.candle_source[name], "candles": rows})
            if len(candles) == CHARTED_CANDLE_SERIES:
                break
        return {
            "tape": self.path,
            "header": {
                "created": h.created,
                "age": age_text(h.created, now),
                "harness": h.harness_version,
                "source": h.recorded.source,
                "label": h.recorded.label,
                "apis": list(h.recorded.apis),
                "upstreams": dict(h.recorded.upstreams),
                "extra": {k: _cut(json.dumps(v, default=repr), 200) for k, v in h.recorded.extra},
                "redaction": list(h.redaction),
            },
            "frames": self.frames,
            "span": [self.first_t or 0.0, self.last_t or 0.0],
            "bucket_seconds": width,
            "families": dict(self.families.most_common()),
            "rates": rates,
            "violation_rate": dict(zip(*self.buckets.points("violations"), strict=True)),
            "connections": [_connection_row(c) for c in self.connections.values()],
            "more_connections": self.more_connections,
            "rest": rest,
            "budget": {"t": bx, "remaining": by, "limit": self.budget_limit},
            "candles": candles,
            "violations": self.violations,
            "violation_counts": dict(self.violation_counts.most_common()),
            "violation_total": sum(self.violation_counts.values()),
            "lines": {str(k): v for k, v in sorted(self.lines.items())},
            "samples": self.samples,
            "limits": self.limits(),
            "problems": self.problems,
        }


def _connection_row(c: Connection) -> dict[str, Any]:
    subs = list(c.subscriptions)
    if c.more_subscriptions:
        subs.append(f"... {c.more_subscriptions} more")
    return {
        "conn": c.conn,
        "protocol": c.protocol,
        "api": c.api,
        "url": c.url,
        "opened": c.opened,
        "closed": c.closed,
        "last": c.last,
        "close": c.close or ("open at the end of the tape" if c.closed is None else ""),
        "frames": c.frames,
        "subscriptions": subs,
    }


def _opens(frame: Frame) -> bool:
    return isinstance(frame, (WsOpen, SioConnect, HttpExchange))


def _number(value: object) -> TypeGuard[float]:
    """A JSON number that can be charted (a tape may hold NaN: Python's decoder takes it)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _trades(api: str, family: str | None, message: Any) -> list[tuple[str, float, float, float]]:
    """``(pool or mint, timestamp s, price, volume in SOL)`` of each trade a message of any API
    holds (a list: its first :data:`TRADES_PER_MESSAGE`).

    PumpData: ``price``, ``quote_amount`` at ``timestamp`` s; corto: ``price``, ``solAmount`` at
    ``timestamp`` ms; Pump.fun: ``sol_amount`` lamports for ``token_amount`` raw (6 decimals) at
    ``timestamp`` s (contract §5: units per API)."""
    if family not in ("trade", "trade_list"):
        return []
    items = message[:TRADES_PER_MESSAGE] if isinstance(message, list) else [message]
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if api == "pumpfun":
            sol, tokens, ts = item.get("sol_amount"), item.get("token_amount"), item.get("timestamp")
            if _number(sol) and _number(tokens) and _number(ts) and tokens:
                out.append((str(item.get("mint")), float(ts), (sol / 1e9) / (tokens / 1e6), sol / 1e9))
            continue
        price = item.get("price")
        volume = item.get("quote_amount" if api == "pumpdata" else "solAmount")
        ts = item.get("timestamp")
        key = item.get("pool" if api == "pumpdata" else "mint")
        if _number(price) and _number(volume) and _number(ts) and isinstance(key, str):
            seconds = to_ms(ts) / 1000 if api == "corto" else float(ts)
            out.append((key, seconds, float(price), float(volume)))
    return out


def _int(text: str | None) -> int | None:
    try:
        return None if text is None else int(text.strip())
    except ValueError:
        return None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
