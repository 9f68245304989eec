"""PumpData contract rules: client requests, acks and error payloads, subscriptions and their limit.

Owns contract §2.1-2.3: every client event takes ``mint`` or ``pool`` (a mint resolves to
its pool), ``ohlcv_history`` a ``limit`` of 1-500 (default 200), ``subscribe_new_tokens`` and
``subscribe_migrations`` a list of protocols; an ack is ``{ok: true, ...}``; failures are
``{error, message}`` with the codes ``invalid_request``, ``not_found``, ``unavailable`` (also a
seeded fault) and ``limit_exceeded``; subscriptions are per-connection rooms with a maximum count
(undocumented: :class:`PumpdataConfig`); ``billing_error``'s payload (undocumented, 6.8). Pure.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PROTOCOLS = ("PUMPFUN", "PUMPSWAP", "METEORA", "RAYDIUM", "ORCA", "BONK")
HISTORY_DEFAULT = 200
HISTORY_MAX = 500


class Code(StrEnum):
    INVALID_REQUEST = "invalid_request"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    LIMIT_EXCEEDED = "limit_exceeded"


@dataclass(frozen=True, slots=True)
class Failure:
    code: Code
    message: str

    def payload(self) -> dict[str, str]:
        """Contract §2.3: the ack (or ``subscription_error``) gets ``{error, message}``."""
        return {"error": self.code.value, "message": self.message}


UNAVAILABLE = Failure(Code.UNAVAILABLE, "transient backend error; safe to retry")
"""Contract §2.3: ``unavailable`` is transient (the server already retried) and safe to retry."""
NOT_CONNECTED = Failure(Code.INVALID_REQUEST, "not connected")


# events that take a mint or pool, and the room kind they join or leave
TARGETED = {
    "subscribe_ohlcv": ("ohlcv", True),
    "unsubscribe_ohlcv": ("ohlcv", False),
    "subscribe_trades": ("trades", True),
    "unsubscribe_trades": ("trades", False),
    "subscribe": ("token", True),
    "unsubscribe": ("token", False),
    "ohlcv_history": ("history", False),
}
PROTOCOL_EVENTS = {
    "subscribe_new_tokens": ("new_tokens", True),
    "unsubscribe_new_tokens": ("new_tokens", False),
    "subscribe_migrations": ("migrations", True),
    "unsubscribe_migrations": ("migrations", False),
}
PLAIN_EVENTS = {"subscribe_sol_price": ("sol_price", True), "unsubscribe_sol_price": ("sol_price", False)}
CLIENT_EVENTS = frozenset(TARGETED) | frozenset(PROTOCOL_EVENTS) | frozenset(PLAIN_EVENTS)
SUBSCRIPTIONS = frozenset(
    event
    for table in (TARGETED, PROTOCOL_EVENTS, PLAIN_EVENTS)
    for event, (_, joining) in table.items()
    if joining
) | {"ohlcv_history"}
"""The calls that ask the backend for data (contract §2.2): every ``subscribe*`` and
``ohlcv_history``; what chooses what a connection receives (``new_episodes`` matches on them)
and what may fail ``unavailable`` (2.3). The ``unsubscribe*`` calls only leave rooms."""
DEFAULT_PROTOCOLS = {"subscribe_migrations": ("PUMPFUN",)}
"""Protocols of a ``subscribe_*`` call that names none: the documented example's for migrations
(contract §2.2); the others must name them. An ``unsubscribe_*`` that names none leaves all."""
API_KEY_HINT = 'connect with auth {"api_key": "pd_..."}'
BILLING_ERROR = {"error": "insufficient_balance", "message": "wallet balance is exhausted; top up to resume"}
"""The ``billing_error`` payload (undocumented, contract §6.8: a choice)."""


@dataclass(frozen=True, slots=True)
class Target:
    mint: str | None
    pool: str | None


def shown(value: str, limit: int = 64) -> str:
    """A client's string as an error message repeats it: cut, so a huge one is not echoed back."""
    return value if len(value) <= limit else f"{value[:limit]}... ({len(value)} characters)"


def find_binary(value: Any, pointer: str = "") -> str | None:
    """The JSON pointer of the first binary attachment in a client's payload, if any: PumpData
    events carry JSON (contract §2.2), so bytes where a string belongs are invalid."""
    if isinstance(value, bytes | bytearray):
        return pointer or "/"
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = find_binary(item, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
        if found is not None:
            return found
    return None


def unknown_event(event: str) -> Failure:
    """An event PumpData does not take."""
    return Failure(Code.INVALID_REQUEST, f"unknown event {shown(event)!r}")


def reserved_event(event: str) -> Failure:
    """An event whose name Socket.IO keeps for itself (``connect``, ``disconnect`` ...)."""
    return Failure(Code.INVALID_REQUEST, f"event name {shown(event)!r} is reserved by Socket.IO")


def binary_attachment(pointer: str) -> Failure:
    """A binary attachment at ``pointer`` (:func:`find_binary`): PumpData events carry JSON (2.2)."""
    return Failure(
        Code.INVALID_REQUEST, f"binary attachment at {shown(pointer, 200)}: PumpData events carry JSON"
    )


def ack(joined: Sequence[str] = (), **extra: Any) -> dict[str, Any]:
    """A call's ack: ``{ok: true}`` with ``extra`` (``pool``, ``protocols``, ``data``,
    ``snapshot``), and the room when the call joined exactly one (contract §2.2: ``subscribe``
    acks ``{ok: true, pool, room}``)."""
    answer: dict[str, Any] = {"ok": True, **extra}
    if len(joined) == 1:
        answer["room"] = joined[0]
    return answer


def unavailable(event: str, rate: float, draw: Callable[[], float]) -> Failure | None:
    """The seeded ``unavailable`` fault: a call that asks the backend something
    (:data:`SUBSCRIPTIONS`) fails with a share ``rate`` of ``draw()``s (drawn only for those calls,
    never to leave a room)."""
    if event in SUBSCRIPTIONS and rate and draw() < rate:
        return UNAVAILABLE
    return None


def parse_target(payload: Any) -> Target | Failure:
    """``{mint}`` or ``{pool}``: contract §2.3, neither is ``invalid_request``."""
    if not isinstance(payload, dict):
        return Failure(Code.INVALID_REQUEST, "payload must be an object with mint or pool")
    mint, pool = payload.get("mint"), payload.get("pool")
    for name, value in (("mint", mint), ("pool", pool)):
        if value is not None and (not isinstance(value, str) or not value):
            return Failure(Code.INVALID_REQUEST, f"{name} must be a non-empty string")
    if mint is None and pool is None:
        return Failure(Code.INVALID_REQUEST, "mint or pool is required")
    return Target(mint, pool)


def parse_limit(payload: Mapping[str, Any]) -> int | Failure:
    """``ohlcv_history``'s ``limit``: 1-500, default 200 (contract §2.2)."""
    limit = payload.get("limit", HISTORY_DEFAULT)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= HISTORY_MAX:
        got = shown(repr(limit), 32)
        return Failure(Code.INVALID_REQUEST, f"limit must be an integer from 1 to {HISTORY_MAX}, got {got}")
    return limit


def connect_refusal(auth: Any) -> str | None:
    """Why a connect without a usable ``auth.api_key`` is refused (contract §2.1), else None."""
    if not isinstance(auth, dict) or "api_key" not in auth:
        return f"api_key is required: {API_KEY_HINT}"
    key = auth["api_key"]
    if not isinstance(key, str) or not key.strip():
        return f"api_key must be a non-empty string: {API_KEY_HINT}"
    return None


def event_protocols(event: str, payload: Any) -> tuple[str, ...] | Failure:
    """The protocols a ``subscribe_new_tokens`` / ``subscribe_migrations`` call (or its
    ``unsubscribe_*``) names, each once, with :data:`DEFAULT_PROTOCOLS` where it names none."""
    _, joining = PROTOCOL_EVENTS[event]
    return parse_protocols(payload, default=DEFAULT_PROTOCOLS.get(event, ()) if joining else PROTOCOLS)


def parse_protocols(payload: Any, *, default: tuple[str, ...] = ()) -> tuple[str, ...] | Failure:
    if payload is None and default:
        return default
    protocols = payload.get("protocols") if isinstance(payload, dict) else None
    if protocols is None and default:
        return default
    if not isinstance(protocols, list) or not protocols or not all(isinstance(p, str) for p in protocols):
        return Failure(Code.INVALID_REQUEST, f"protocols must be a non-empty list of {', '.join(PROTOCOLS)}")
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if unknown:
        listed = ", ".join(shown(p, 16) for p in unknown[:5])
        listed += f", ... ({len(unknown)} in all)" if len(unknown) > 5 else ""
        return Failure(Code.INVALID_REQUEST, f"unknown protocols {listed} (known: {', '.join(PROTOCOLS)})")
    return tuple(dict.fromkeys(protocols))


MAX_HINT_KEYS = 2000
"""Recorded keys a ``not_found`` compares the asked one with, at most."""


@dataclass(slots=True)
class PoolIndex:
    """Which pools have data in the tape, and which pool a mint trades in at a replay time."""

    pools: set[str] = field(default_factory=set)
    _mint_times: dict[str, list[float]] = field(default_factory=dict)
    _mint_pools: dict[str, list[str]] = field(default_factory=dict)

    def add_pool(self, pool: str) -> None:
        self.pools.add(pool)

    def link(self, mint: str, pool: str, t: float) -> None:
        """``mint`` trades in ``pool`` from replay time ``t`` (a migration moves it on)."""
        self.pools.add(pool)
        times = self._mint_times.setdefault(mint, [])
        if times and t >= times[-1] and self._mint_pools[mint][-1] == pool:
            return  # still the same pool: every trade of a mint need not be kept
        index = bisect.bisect_right(times, t)
        times.insert(index, t)
        self._mint_pools.setdefault(mint, []).insert(index, pool)

    def closest(self, target: Target, n: int = 3) -> list[str]:
        """The recorded pools (for a pool) or mints (for a mint) closest to ``target``'s, closest
        first; compared with at most :data:`MAX_HINT_KEYS` of them, so a miss stays cheap."""
        value = target.pool if target.pool is not None else target.mint
        known = self.pools if target.pool is not None else self._mint_times.keys()
        if value is None:
            return []
        candidates = sorted(known)[:MAX_HINT_KEYS]
        return difflib.get_close_matches(value[:128], candidates, n=n, cutoff=0.0)

    def resolve(self, target: Target, now: float) -> str | Failure:
        """The pool of a target: the pool itself if it has data, the mint's pool at ``now``."""
        if target.pool is not None:
            if target.pool in self.pools:
                return target.pool
            return Failure(
                Code.NOT_FOUND, f"pool {shown(target.pool)} has neither live data nor candle history"
            )
        assert target.mint is not None
        times = self._mint_times.get(target.mint)
        if not times:
            return Failure(Code.NOT_FOUND, f"no active pool for mint {shown(target.mint)}")
        index = max(0, bisect.bisect_right(times, now) - 1)
        return self._mint_pools[target.mint][index]


@dataclass(slots=True)
class Subscriptions:
    """One connection's rooms, at most ``limit`` of them (contract §2.3 ``limit_exceeded``)."""

    limit: int
    rooms: set[str] = field(default_factory=set)

    def join(self, rooms: list[str]) -> Failure | None:
        new = [r for r in rooms if r not in self.rooms]
        if len(self.rooms) + len(new) > self.limit:
            return Failure(
                Code.LIMIT_EXCEEDED,
                f"this connection already has {len(self.rooms)} of {self.limit} subscriptions",
            )
        self.rooms.update(new)
        return None

    def leave(self, rooms: list[str]) -> None:
        self.rooms.difference_update(rooms)


def room(kind: str, key: str = "") -> str:
    return f"{kind}:{key}" if key else kind
