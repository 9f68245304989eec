"""Pump.fun REST replay: what each resource looked like at replay time T.

Owns the timeline rules of the REST emulation (issue "Mock server core"):
* a resource shows the representation the tape observed last at or before T (the earliest one
  before the first observation), so a client polling every few seconds sees the data change as it
  changed when recorded; a recorded 304 confirms the representation before it;
* ``/trades/all/{mint}`` is answered from every trade of that mint known at T (from any recorded
  ``/trades/all`` or ``/trades/latest`` body), newest first, with ``limit`` / ``offset`` /
  ``minimumSize`` applied, also for values never recorded, with the ETag the tape shows for the
  same body, else one computed as Express does;
* a miss names the closest recorded paths.
Pure: frames in, bytes out.
"""

from __future__ import annotations

import bisect
import difflib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from harness.core.etag import compute_etag
from harness.core.frames import Frame, Headers, HttpExchange

TRADES_ALL_PREFIX = "/trades/all/"
TRADES_LATEST = "/trades/latest"

# Headers the emulator sets itself rather than replaying (framing, caching, rate limits).
OWN_HEADERS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "date",
        "etag",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
        "content-encoding",
        "set-cookie",
    }
)

JSON = "application/json; charset=utf-8"
"""``Content-Type`` of JSON the emulator sends (Express's)."""

DEFAULT_TRADES_LIMIT = 50
"""``limit`` when a ``/trades/all`` request has none (undocumented; the OpenAPI dump marks it required)."""

LOOP_GAP = 1.0
"""With ``--loop``: replay seconds between the last exchange and the timeline's restart."""

MAX_HINT_GROUP = 64
"""A 404 compares the path with the recorded paths of a shape only when there are at most this many."""

MAX_HINT_PATH = 200
"""Characters of a missed path compared with the recorded ones."""

SYNTHESISED_HEADERS = (("Content-Type", JSON),)
"""What an answer the timeline makes (not replays) sends besides the emulator's own headers."""

MAX_DIGITS = 100
"""Longer numeric query values are refused (400) rather than parsed (the answer would be the same)."""


@dataclass(frozen=True, slots=True)
class Representation:
    t: float
    status: int
    headers: Headers
    """As recorded."""
    body: bytes
    etag: str | None
    """The recorded ETag, verbatim (``W/`` kept); computed as Express does for a 200 the tape has
    none for; else None."""
    replayed: Headers = ()
    """The recorded headers the emulator sends again (not :data:`OWN_HEADERS`), with a JSON
    ``Content-Type`` where the tape has none and the body is JSON."""


def replayed_headers(headers: Headers, body: bytes) -> Headers:
    kept = tuple((name, value) for name, value in headers if name.lower() not in OWN_HEADERS)
    if body[:1] in (b"{", b"[") and not any(name.lower() == "content-type" for name, _ in kept):
        kept += (("Content-Type", JSON),)
    return kept


@dataclass(frozen=True, slots=True)
class QueryError:
    """A malformed query value: 400 with this message."""

    parameter: str
    message: str


@dataclass(frozen=True, slots=True)
class TradesQuery:
    limit: int = DEFAULT_TRADES_LIMIT
    offset: int = 0
    minimum_size: float = 0.0
    """Minimum ``sol_amount`` in lamports [inferred: contract §6.12 leaves the unit open]."""


Query = tuple[tuple[str, str], ...]


def _query_key(pairs: Iterable[tuple[str, str]]) -> Query:
    return tuple(sorted(pairs))


def split_target(url: str) -> tuple[str, list[tuple[str, str]]]:
    """Path and query pairs of a request target (a path or an absolute URL), percent-decoded
    as a server sees them (``/coins/a%20b`` is asked for as ``/coins/a b``)."""
    parts = urlsplit(url)
    return unquote(parts.path) or "/", parse_qsl(parts.query, keep_blank_values=True)


# The query.trades_all schema's patterns: plain ASCII decimals. Python's int() and float() also take
# "1_0", " 7 ", "１" (fullwidth), "inf" and "infinity", which no HTTP API means by a number.
_INTEGER = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _non_negative_int(name: str, raw: str) -> int | QueryError:
    if not _INTEGER.fullmatch(raw):
        return QueryError(name, f"{name} must be a non-negative integer, got {raw[:40]!r}")
    if len(raw) > MAX_DIGITS:
        return QueryError(name, f"{name} is out of range (more than {MAX_DIGITS} digits)")
    return int(raw)


def parse_trades_query(query: Mapping[str, str]) -> TradesQuery | QueryError:
    """``limit``, ``offset`` and ``minimumSize`` of ``/trades/all/{mint}``, checked."""
    limit = _non_negative_int("limit", query["limit"]) if "limit" in query else DEFAULT_TRADES_LIMIT
    if isinstance(limit, QueryError):
        return limit
    offset = _non_negative_int("offset", query["offset"]) if "offset" in query else 0
    if isinstance(offset, QueryError):
        return offset
    minimum = 0.0
    if "minimumSize" in query:
        raw = query["minimumSize"]
        if not _NUMBER.fullmatch(raw):
            return QueryError("minimumSize", f"minimumSize must be a number >= 0, got {raw[:40]!r}")
        minimum = float(raw) if len(raw) <= MAX_DIGITS else math.inf
        if not math.isfinite(minimum):
            return QueryError("minimumSize", "minimumSize is out of range (not a finite number)")
    return TradesQuery(limit, offset, minimum)


def _trade_key(trade: Mapping[str, object]) -> tuple[float, float, float]:
    def num(name: str) -> float:
        value = trade.get(name)
        return float(value) if isinstance(value, int | float) else 0.0

    return num("timestamp"), num("slot"), num("tx_index")


def _backdate(known: dict[str, tuple[float, dict[str, object]]]) -> None:
    """A trade existed by the time any newer trade of its mint was shown: an older one that only a
    later page (``offset=5``) or a longer one (``limit=20``) showed was there when the first page
    was taken, so replaying each request gives what was recorded."""
    earliest = math.inf
    for signature, (first_seen, trade) in sorted(
        known.items(), key=lambda kv: _trade_key(kv[1][1]), reverse=True
    ):
        earliest = min(earliest, first_seen)
        known[signature] = (earliest, trade)


def _json_list(body: bytes) -> list[object] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return None


@dataclass(slots=True)
class _Resource:
    times: list[float] = field(default_factory=list)
    reps: list[Representation] = field(default_factory=list)

    def add(self, rep: Representation) -> None:
        index = bisect.bisect_right(self.times, rep.t)
        self.times.insert(index, rep.t)
        self.reps.insert(index, rep)

    def at(self, now: float) -> Representation:
        index = bisect.bisect_right(self.times, now) - 1
        return self.reps[max(index, 0)]


class Timeline:
    """Every recorded representation of every path, and every trade by mint, by time."""

    def __init__(self, frames: Iterable[Frame]) -> None:
        self._resources: dict[tuple[str, str], _Resource] = {}
        self._by_query: dict[tuple[str, str, Query], _Resource] = {}
        self._trades: dict[str, dict[str, tuple[float, dict[str, object]]]] = {}
        self._etag_of_body: dict[tuple[str, bytes], str] = {}
        self._mints: set[str] = set()
        self._first_trades: dict[str, float] = {}
        self.exchanges = 0
        self.duration = 0.0
        """Replay time of the last recorded exchange."""
        self.rate_headers: list[tuple[str | None, str | None, str | None]] = []
        for frame in frames:
            if isinstance(frame, HttpExchange):
                self._add(frame)
        for mint, known in self._trades.items():
            _backdate(known)
            self._first_trades[mint] = min(first_seen for first_seen, _ in known.values())
        self.paths = sorted({path for _, path in self._resources})
        """Every recorded path (without its query), sorted."""
        self._shapes: dict[str, list[str]] = {}
        for path in self.paths:
            self._shapes.setdefault(_shape(path), []).append(path)

    def _add(self, ex: HttpExchange) -> None:
        self.exchanges += 1
        self.duration = max(self.duration, ex.t)
        path, query = split_target(ex.request.url)
        resp = ex.response
        self.rate_headers.append(
            (
                resp.header("x-ratelimit-limit"),
                resp.header("x-ratelimit-remaining"),
                resp.header("x-ratelimit-reset"),
            )
        )
        if resp.status in (304, 429):
            return  # 304 confirms what was there; 429 is the recorder's budget, not the data's
        t = ex.t  # the time the request was sent: what a client asking then was shown
        recorded = resp.header("etag")
        etag = recorded or (compute_etag(resp.body) if resp.status == 200 else None)
        replayed = replayed_headers(resp.headers, resp.body)
        rep = Representation(t, resp.status, resp.headers, resp.body, etag, replayed)
        method = ex.request.method.upper()
        self._resources.setdefault((method, path), _Resource()).add(rep)
        self._by_query.setdefault((method, path, _query_key(query)), _Resource()).add(rep)
        if recorded is not None:
            self._etag_of_body[(path, resp.body)] = recorded
        if resp.status != 200:
            return
        if path.startswith(TRADES_ALL_PREFIX):
            self._mints.add(path[len(TRADES_ALL_PREFIX) :])
        if path.startswith(TRADES_ALL_PREFIX) or path == TRADES_LATEST:
            for trade in _json_list(resp.body) or []:
                self._add_trade(t, trade)
        if path.startswith("/coins/"):
            for coin in _json_list(resp.body) or []:
                if isinstance(coin, dict) and isinstance(coin.get("mint"), str):
                    self._mints.add(coin["mint"])

    def _add_trade(self, t: float, trade: object) -> None:
        if not isinstance(trade, dict):
            return
        mint, signature = trade.get("mint"), trade.get("signature")
        if not isinstance(mint, str) or not isinstance(signature, str):
            return
        self._mints.add(mint)
        known = self._trades.setdefault(mint, {})
        # A /trades/latest body lacks tx_index and user details: prefer the richest copy.
        previous = known.get(signature)
        if previous is None or len(trade) > len(previous[1]):
            first_seen = t if previous is None else min(previous[0], t)
            known[signature] = (first_seen, trade)

    # --- queries -------------------------------------------------------------------------------

    def methods(self, path: str) -> list[str]:
        return sorted(method for method, p in self._resources if p == path)

    def representation(
        self, method: str, path: str, now: float, query: Iterable[tuple[str, str]] = ()
    ) -> Representation | None:
        """What ``method path?query`` showed at ``now``: the recordings of that exact query (in
        any order) when the tape has some, else those of the path with any query."""
        method = method.upper()
        key = _query_key(query) if query else ()
        resource = self._by_query.get((method, path, key)) or self._resources.get((method, path))
        if resource is None and method == "HEAD":
            return self.representation("GET", path, now, query)
        return None if resource is None else resource.at(now)

    def local_time(self, now: float, loop: bool) -> float:
        """Replay time within the tape: with ``loop`` the timeline restarts one second after its
        last exchange (as the streams' feeds do), else ``now``."""
        if not loop:
            return now
        return now % max(self.duration + LOOP_GAP, 1e-3)

    def knows_mint(self, mint: str) -> bool:
        return mint in self._mints

    def recorded_etag(self, path: str, body: bytes) -> str | None:
        return self._etag_of_body.get((path, body))

    def trades_all(
        self, path: str, query: Mapping[str, str], now: float
    ) -> Representation | QueryError | None:
        """The answer to ``GET /trades/all/{mint}?query`` at ``now`` (:func:`synthesised`): the
        mint's trades as JSON, a malformed query's error, or None for a mint the tape never shows."""
        parsed = parse_trades_query(query)
        if isinstance(parsed, QueryError):
            return parsed
        mint = path[len(TRADES_ALL_PREFIX) :]
        if not self.knows_mint(mint):
            return None
        body = encode_json(self.trades(mint, parsed, now))
        etag = self.recorded_etag(path, body) or compute_etag(body)
        return Representation(now, 200, (), body, etag, SYNTHESISED_HEADERS)

    def trades(self, mint: str, query: TradesQuery, now: float) -> list[dict[str, object]]:
        """Trades of ``mint`` known at ``now``, newest first, filtered and paged.

        Before the mint's first observation the trades of that observation show (they had
        happened before the recording started), as a resource shows its earliest representation.
        """
        now = max(now, self._first_trades.get(mint, now))
        known = [
            trade
            for first_seen, trade in self._trades.get(mint, {}).values()
            if first_seen <= now and _sol_amount(trade) >= query.minimum_size
        ]
        known.sort(key=_trade_key, reverse=True)
        return known[query.offset : query.offset + query.limit]

    def closest_paths(self, path: str, n: int = 3) -> list[str]:
        """Up to ``n`` recorded paths closest to ``path``, in bounded time however many the tape
        holds (a miss must not stall the server): the closest path shapes (base58 keys as
        ``{key}``), then the closest recorded paths of each shape."""
        path = path[:MAX_HINT_PATH]
        close = difflib.get_close_matches(_shape(path), self._shapes, n=n, cutoff=0.3)
        if not close:
            # Same first segment (e.g. /coins/<other mint>) is the next best hint.
            head = path.strip("/").split("/")[0]
            close = [s for s in self._shapes if s.strip("/").split("/")[0] == head][:n]
        found: list[str] = []
        for shape in close:
            group = self._shapes[shape]
            if len(group) > 1 and len(group) <= MAX_HINT_GROUP:
                group = difflib.get_close_matches(path, group, n=n, cutoff=0.0)
            found += group[: n - len(found)]
            if len(found) >= n:
                break
        return found


def synthesised(method: str, path: str) -> bool:
    """Whether the answer to ``method path`` is made from the known trades (:meth:`Timeline.trades_all`)
    rather than replayed: a GET or HEAD of ``/trades/all/{mint}``."""
    return path.startswith(TRADES_ALL_PREFIX) and method in ("GET", "HEAD")


_KEY = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,88}")


def _shape(path: str) -> str:
    """A path with its base58 keys (mints, signatures) as ``{key}``."""
    return "/".join("{key}" if _KEY.fullmatch(part) else part for part in path.split("/"))


def _sol_amount(trade: Mapping[str, object]) -> float:
    value = trade.get("sol_amount")
    return float(value) if isinstance(value, int | float) else 0.0


def encode_json(value: object) -> bytes:
    """Compact JSON, as Express/NestJS send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
