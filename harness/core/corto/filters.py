"""corto.fun filters: the subscription vocabulary, request parsing, and what a filter selects.

Owns contract §3.2 and 3.5: quick modes and their expansion, focused filters, the ``trade``
alias, subscription event names vs ``txType`` values, dotted filter pools vs hyphenated event
pools, ``create.detail``, unsubscribe, and the ``effectiveFilter`` the service echoes. Requests
that break these rules become :class:`FilterError` values carrying the documented error message
and details. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.core.corto.config import SubscribeMerge
from harness.core.corto.detail import Detail
from harness.core.excerpt import LISTED_ITEMS, clip, echo, listed

DEFAULT_POOLS: tuple[str, ...] = (
    "bags.fm", "pump.fun", "pump.swap", "raydium.amm", "raydium.cpmm", "meteora.dlmm",
    "letsbonk.fun", "meteora.damm-v1", "meteora.damm-v2",
)  # fmt: skip
"""The site's pool list (the corto.fun contract page). A recorded handshake's list wins: never hard-code it
(3.3)."""
DEFAULT_EVENTS: tuple[str, ...] = (
    "create", "trade", "buy", "sell", "migration", "createPool", "addLiquidity", "removeLiquidity", "burn",
)  # fmt: skip
MODES: tuple[str, ...] = ("all", "mints", "trades", "migrations", "pools")
MESSAGES: tuple[str, ...] = ("subscribe", "unsubscribe", "current_state")
DETAILS: tuple[str, ...] = ("min", "mid", "full")

DELIVERABLE = ("create", "buy", "sell", "migration", "createPool", "addLiquidity", "removeLiquidity", "burn")
# contract §3.2: quick-mode expansion used by the reference client
QUICK = {
    "all": DELIVERABLE,
    "mints": ("create",),
    "trades": ("buy", "sell"),
    "migrations": ("migration",),
    "pools": ("createPool", "addLiquidity", "removeLiquidity", "burn"),
}
# contract §3.5: subscription event <- txType of the event payload
EVENT_OF_TXTYPE = {
    "create": "create",
    "buy": "buy",
    "sell": "sell",
    "migrate": "migration",
    "createPool": "createPool",
    "add": "addLiquidity",
    "remove": "removeLiquidity",
    "burn": "burn",
}

ERROR_CODE = "invalid_subscription"


def dotted_pool(event_pool: str) -> str:
    """Contract §3.5: events name pools hyphenated (``pump-fun``, ``meteora-damm-v2``), filters
    dotted (``pump.fun``, ``meteora.damm-v2``): the first hyphen is the dot."""
    return event_pool.replace("-", ".", 1)


def expand_events(events: Iterable[str]) -> list[str]:
    """Contract §3.2: "trade" expands to buy+sell. Order kept, duplicates dropped."""
    out: list[str] = []
    for event in events:
        for name in ("buy", "sell") if event == "trade" else (event,):
            if name not in out:
                out.append(name)
    return out


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What this service offers (from the recorded handshake, else the seed's)."""

    pools: tuple[str, ...] = DEFAULT_POOLS
    events: tuple[str, ...] = DEFAULT_EVENTS
    modes: tuple[str, ...] = MODES
    messages: tuple[str, ...] = MESSAGES


@dataclass(frozen=True, slots=True)
class Filter:
    """A connection's filter. ``subscriptions`` maps event -> pools, None meaning every pool."""

    mode: str = "none"
    subscriptions: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    detail: Detail = Detail.FULL

    def selects(self, event: Mapping[str, Any]) -> bool:
        name = EVENT_OF_TXTYPE.get(str(event.get("txType")), "")
        return self.selects_parts(name, dotted_pool(str(event.get("pool", ""))))

    def selects_parts(self, name: str, dotted: str) -> bool:
        """:meth:`selects` for an event already reduced to its subscription name and dotted pool."""
        if name not in self.subscriptions:
            return False
        pools = self.subscriptions[name]
        return pools is None or dotted in pools

    def effective(self, vocabulary: Vocabulary, grace_active: bool) -> dict[str, Any]:
        """``effectiveFilter`` as the service shows it (the corto.fun contract page): subscriptions ``{}`` in
        quick modes."""
        subs: dict[str, list[str]] = {}
        if self.mode == "custom":
            for event, pools in self.subscriptions.items():
                subs[event] = sorted(vocabulary.pools if pools is None else pools)
        return {
            "mode": self.mode,
            "subscriptions": subs,
            "createDetail": self.detail.value,
            "graceActive": grace_active,
        }

    def explicit(self) -> dict[str, frozenset[str] | None]:
        return dict(self.subscriptions)


@dataclass(frozen=True, slots=True)
class FilterError:
    """An ``invalid_subscription`` error: message and details as the service words them."""

    message: str
    details: Mapping[str, Any] | None = None
    code: str = ERROR_CODE

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            out["details"] = dict(self.details)
        return out


@dataclass(frozen=True, slots=True)
class Subscribe:
    mode: str | None
    events: tuple[str, ...] | None
    pools: tuple[str, ...] | None
    detail: Detail | None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    events: tuple[str, ...] | None
    pools: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class CurrentState:
    pass


@dataclass(frozen=True, slots=True)
class Ping:
    pass


Request = Subscribe | Unsubscribe | CurrentState | Ping


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (what a client in any language sent)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _string_list(message: Mapping[str, Any], name: str) -> tuple[str, ...] | FilterError | None:
    if name not in message:
        return None
    value = message[name]
    if not isinstance(value, list):
        return FilterError(
            f"Field {name} must be an array of strings.",
            {"field": name, "expected": "array of strings", "received": json_type(value)},
        )
    for index, item in enumerate(value):
        if not isinstance(item, str):
            return FilterError(
                f"Field {name} must be an array of strings.",
                {"field": name, "expected": "array of strings", "received": f"{json_type(item)} at {index}"},
            )
    if not value:
        # Omitting the field means all (contract §3.2); an empty list would select nothing.
        return FilterError(
            f"Field {name} must not be empty; omit it to mean all.",
            {"field": name, "expected": "non-empty array of strings", "received": "empty array"},
        )
    return tuple(value)


def _invalid(name: str, unknown: list[str]) -> dict[str, Any]:
    """``{name: the first few, name + "Count": how many}`` when there are more than a few
    (README "Input limits"), else ``{name: all of them}`` as the service words it."""
    if len(unknown) <= LISTED_ITEMS:
        return {name: [clip(item, 64) for item in unknown]}
    return {name: listed(unknown), f"{name}Count": len(unknown)}


def parse_request(message: Any, vocabulary: Vocabulary, *, answer_ping: bool = True) -> Request | FilterError:
    """A decoded client message as a request, or the error the service answers it with."""
    if not isinstance(message, dict):
        return FilterError(
            "Messages must be JSON objects.",
            {"received": json_type(message), "supportedMessages": list(vocabulary.messages)},
        )
    kind = message.get("type")
    if kind == "ping" and answer_ping:
        return Ping()
    if kind == "current_state":
        return CurrentState()
    if kind not in ("subscribe", "unsubscribe"):
        return FilterError(
            "Unknown message type.", {"type": echo(kind), "supportedMessages": list(vocabulary.messages)}
        )
    events = _string_list(message, "events")
    pools = _string_list(message, "pools")
    for value in (events, pools):
        if isinstance(value, FilterError):
            return value
    assert not isinstance(events, FilterError) and not isinstance(pools, FilterError)
    if events is not None:
        known = frozenset(vocabulary.events)
        unknown = [e for e in events if e not in known]
        if unknown:
            # the first few by name and how many: an answer's size does not grow with the request
            return FilterError(
                "Unknown event.",
                {**_invalid("invalidEvents", unknown), "supportedEvents": list(vocabulary.events)},
            )
    if pools is not None:
        known = frozenset(vocabulary.pools)
        unknown = [p for p in pools if p not in known]
        if unknown:
            return FilterError(
                "Unknown pool.",
                {**_invalid("invalidPools", unknown), "supportedPools": list(vocabulary.pools)},
            )
    if kind == "unsubscribe":
        if "mode" in message:
            # Ignoring it would make this a bare unsubscribe, which clears everything.
            return FilterError(
                "Unsubscribe takes events and/or pools, not mode.",
                {"mode": echo(message["mode"]), "supportedFields": ["events", "pools"]},
            )
        return Unsubscribe(events, pools)
    mode = message.get("mode")
    if "mode" in message:
        if events is not None or pools is not None:
            return FilterError("Do not combine mode with events or pools in the same subscription message.")
        if not isinstance(mode, str) or mode not in vocabulary.modes:
            return FilterError(
                "Unknown subscription mode.", {"mode": echo(mode), "supportedModes": list(vocabulary.modes)}
            )
    detail: Detail | None = None
    if "create" in message:
        create = message["create"]
        if not isinstance(create, dict):
            return FilterError(
                "Field create must be an object.",
                {"field": "create", "expected": "object", "received": type(create).__name__},
            )
        if "detail" in create:
            raw = create["detail"]
            if raw not in DETAILS:
                # the corto.fun contract page: the "wide" example, word for word
                return FilterError(
                    "Unknown create detail level.",
                    {"invalidCreateDetail": echo(raw), "supportedCreateDetails": list(DETAILS)},
                )
            detail = Detail(raw)
    return Subscribe(mode, events, pools, detail)


def _pools_set(pools: Sequence[str] | None) -> frozenset[str] | None:
    return None if pools is None else frozenset(pools)


def filter_of(request: Subscribe) -> Filter:
    """The filter one subscribe asks for, on its own."""
    detail = request.detail or Detail.FULL
    if request.mode is not None:
        return Filter(request.mode, {event: None for event in QUICK[request.mode]}, detail)
    # contract §3.2: omitted events mean all deliverable events, omitted pools all pools
    events = expand_events(request.events) if request.events is not None else list(DELIVERABLE)
    pools = _pools_set(request.pools)
    return Filter("custom", {event: pools for event in events}, detail)


def subscribe(current: Filter, request: Subscribe, merge: SubscribeMerge) -> Filter:
    """The filter after a subscribe: replace (default) or merge with the current one (6.4)."""
    wanted = filter_of(request)
    if merge is SubscribeMerge.REPLACE or current.mode == "none":
        return wanted
    merged = current.explicit()
    for event, pools in wanted.subscriptions.items():
        if event not in merged:
            merged[event] = pools
        else:
            have = merged[event]  # None (every pool) absorbs any set
            merged[event] = None if have is None or pools is None else have | pools
    detail = request.detail or current.detail
    return Filter("custom", merged, detail)


def unsubscribe(current: Filter, request: Unsubscribe, vocabulary: Vocabulary) -> Filter:
    """The filter after an unsubscribe. A bare one clears all (the reference client relies on it);
    what remains of a quick mode after a partial unsubscribe is shown as ``custom`` (6.4)."""
    if request.events is None and request.pools is None:
        return Filter("none", {}, current.detail)
    events = set(expand_events(request.events)) if request.events is not None else None
    remaining: dict[str, frozenset[str] | None] = {}
    for event, pools in current.subscriptions.items():
        if events is not None and event not in events:
            remaining[event] = pools
            continue
        if request.pools is None:
            continue  # the whole event goes
        left = frozenset(vocabulary.pools if pools is None else pools) - set(request.pools)
        if left:
            remaining[event] = left
    if not remaining:
        return Filter("none", {}, current.detail)
    if remaining == current.subscriptions:
        return current
    return replace(current, mode="custom", subscriptions=remaining)
