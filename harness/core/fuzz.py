"""Fuzzing: seeded fault schedules that mix hostile traffic into a replayed feed.

Owns which faults exist, how a schedule is drawn from a seed, how it is written down (so a run can
be reproduced or shrunk), and what each fault does to one outgoing message or request. A
schedule names faults by API and message ordinal: for the streams (corto, PumpData) the
``index``-th message the API's stream delivers (a feed item or candle emission that reaches at
least one client, counted from 0 since the plan was set), for REST the ``index``-th request. So
a client that receives every message sees every scheduled fault. Pure: the seed is an argument
and the draws come from a ``random.Random`` made from it, so the same seed always gives the same
schedule.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FuzzKind(StrEnum):
    MALFORMED = "malformed"
    """A message cut in half: not valid JSON any more."""
    DUPLICATE = "duplicate"
    """The message twice."""
    REORDER = "reorder"
    """The message swapped with the one after it."""
    DELAY = "delay"
    """The message ``value`` replay seconds late."""
    DROP = "drop"
    """The message never arrives."""
    CLOSE = "close"
    """WebSocket: the server closes with code ``value`` (1006: the TCP connection just drops)."""
    DISCONNECT = "disconnect"
    """Socket.IO: the server disconnects the client in mid-subscription."""
    SUBSCRIPTION_ERROR = "suberror"
    """An injected subscription error (PumpData ``subscription_error``, corto ``error``)."""
    OVERSIZED = "oversized"
    """The message in a frame of ``value`` bytes (JSON whitespace after it: the same message)."""
    STORM_429 = "429"
    """REST: this request and the ``value - 1`` after it get 429."""
    HTTP_5XX = "5xx"
    """REST: this request gets status ``value`` (500, 502, 503 or 504)."""


API_KINDS: Mapping[str, frozenset[FuzzKind]] = {
    "corto": frozenset(
        {
            FuzzKind.MALFORMED,
            FuzzKind.DUPLICATE,
            FuzzKind.REORDER,
            FuzzKind.DELAY,
            FuzzKind.DROP,
            FuzzKind.CLOSE,
            FuzzKind.SUBSCRIPTION_ERROR,
            FuzzKind.OVERSIZED,
        }
    ),
    "pumpdata": frozenset(
        {
            FuzzKind.DUPLICATE,
            FuzzKind.REORDER,
            FuzzKind.DELAY,
            FuzzKind.DROP,
            FuzzKind.DISCONNECT,
            FuzzKind.SUBSCRIPTION_ERROR,
            FuzzKind.OVERSIZED,
            FuzzKind.MALFORMED,
        }
    ),
    "pumpfun": frozenset({FuzzKind.STORM_429, FuzzKind.HTTP_5XX, FuzzKind.DELAY, FuzzKind.MALFORMED}),
}
"""Which faults make sense for which API."""
API_KINDS = {**API_KINDS, "pumpportal": API_KINDS["corto"]}  # a plain WebSocket, as the Data Stream

VALUED: frozenset[FuzzKind] = frozenset(
    {FuzzKind.DELAY, FuzzKind.CLOSE, FuzzKind.OVERSIZED, FuzzKind.STORM_429, FuzzKind.HTTP_5XX}
)
"""Kinds that take a value (``delay=0.5``, ``close=1011`` ...); the others take none."""

CLOSE_CODES = (1001, 1006, 1011, 1012, 1013, 4000)
"""Close codes a fuzzed WebSocket may see (1006: no close frame, the connection drops)."""
SERVER_ERRORS = (500, 502, 503, 504)
OVERSIZED_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True, order=True)
class ScheduledFault:
    api: str
    index: int
    kind: FuzzKind
    value: float = 0.0

    def __str__(self) -> str:
        number = int(self.value) if float(self.value).is_integer() else self.value
        value = f"={number}" if self.value else ""
        return f"{self.api}#{self.index}:{self.kind.value}{value}"

    @classmethod
    def parse(cls, text: str) -> ScheduledFault:
        """Read one fault as ``str`` writes it (``corto#3:delay=0.5``); raises ValueError
        saying what is wrong."""
        head, _, rest = text.strip().partition(":")
        api, _, index = head.partition("#")
        name, has_value, value = rest.partition("=")
        if api not in API_KINDS:
            raise ValueError(f"{text!r}: unknown api {api!r} (known: {', '.join(API_KINDS)})")
        if not index.isdigit():
            raise ValueError(f"{text!r}: write a fault as API#ORDINAL:KIND[=VALUE], e.g. corto#3:duplicate")
        try:
            kind = FuzzKind(name)
        except ValueError:
            raise ValueError(f"{text!r}: unknown fault {name!r} (known: {', '.join(FuzzKind)})") from None
        if kind not in API_KINDS[api]:
            raise ValueError(f"{text!r}: {api} takes {', '.join(sorted(API_KINDS[api]))}, not {kind}")
        if bool(has_value) != (kind in VALUED):
            wants = "takes a value (=...)" if kind in VALUED else "takes no value"
            raise ValueError(f"{text!r}: {kind} {wants}")
        try:
            number = float(value) if has_value else 0.0
        except ValueError:
            raise ValueError(f"{text!r}: {value!r} is not a number") from None
        if not 0 < number < float("inf") and has_value:
            raise ValueError(f"{text!r}: the value must be a positive finite number")
        return cls(api, int(index), kind, number)


@dataclass(frozen=True, slots=True)
class FuzzPlan:
    """A reproducible schedule: the seed it was drawn from and the faults, in order."""

    seed: int
    faults: tuple[ScheduledFault, ...] = ()

    def for_api(self, api: str) -> dict[int, list[ScheduledFault]]:
        out: dict[int, list[ScheduledFault]] = {}
        for fault in self.faults:
            if fault.api == api:
                out.setdefault(fault.index, []).append(fault)
        return out

    def describe(self) -> str:
        """One line per fault, as ``harness fuzz`` prints the schedule."""
        count = len(self.faults)
        lines = [f"seed {self.seed}: {count} fault{'' if count == 1 else 's'}"]
        lines += [f"  {fault}" for fault in self.faults]
        return "\n".join(lines)

    @classmethod
    def parse(cls, text: str, seed: int = 0) -> FuzzPlan:
        """A plan from its faults as ``describe`` prints them, separated by spaces or commas
        (``FuzzPlan.parse("corto#0:duplicate pumpfun#2:429=3")``), in the order given; raises
        ValueError naming the fault it cannot read."""
        return cls(seed, tuple(ScheduledFault.parse(item) for item in text.replace(",", " ").split()))

    def __repr__(self) -> str:
        # what a test report prints (Hypothesis' falsifying example too): readable, and code
        # that makes the same plan again
        seed = f", seed={self.seed}" if self.seed else ""
        return f"FuzzPlan.parse({' '.join(map(str, self.faults))!r}{seed})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis' (and IPython's) pretty printer: the ``repr``, not how a strategy built it."""
        printer.text(repr(self))

    def to_json(self) -> str:
        return json.dumps(
            {
                "seed": self.seed,
                "faults": [[f.api, f.index, f.kind.value, f.value] for f in self.faults],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> FuzzPlan:
        """Read a schedule written by :meth:`to_json`; raises ValueError saying what is wrong."""
        try:
            raw = json.loads(text)
            faults = tuple(
                sorted(ScheduledFault(str(a), int(i), FuzzKind(k), float(v)) for a, i, k, v in raw["faults"])
            )
            return cls(int(raw["seed"]), faults)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a fault schedule: {exc}") from None


def parse_kinds(spec: str) -> frozenset[FuzzKind]:
    """``"all"`` or a comma-separated list of fault names; raises ValueError naming the unknown."""
    if spec.strip() in ("", "all"):
        return frozenset(FuzzKind)
    kinds = set()
    for name in spec.split(","):
        try:
            kinds.add(FuzzKind(name.strip()))
        except ValueError:
            known = ", ".join(k.value for k in FuzzKind)
            raise ValueError(f"unknown fault {name.strip()!r} (known: {known}, or all)") from None
    return frozenset(kinds)


def _value(kind: FuzzKind, rng: random.Random) -> float:
    if kind is FuzzKind.DELAY:
        return round(rng.uniform(0.2, 3.0), 3)
    if kind is FuzzKind.CLOSE:
        return float(rng.choice(CLOSE_CODES))
    if kind is FuzzKind.HTTP_5XX:
        return float(rng.choice(SERVER_ERRORS))
    if kind is FuzzKind.STORM_429:
        return float(rng.randint(2, 6))
    if kind is FuzzKind.OVERSIZED:
        return float(OVERSIZED_BYTES)
    return 0.0


def generate(seed: int, kinds: Iterable[FuzzKind], counts: Mapping[str, int], rate: float = 0.05) -> FuzzPlan:
    """Draw a schedule: each of the ``counts[api]`` messages of an API gets a fault with
    probability ``rate``, of a kind chosen among ``kinds`` that fit that API. A fault that ends a
    connection (close, disconnect) is drawn at most once per API, so the rest stays observable."""
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be in [0, 1], got {rate}")
    wanted = frozenset(kinds)
    rng = random.Random(seed)
    faults = []
    for api in sorted(counts):
        usable = sorted(API_KINDS.get(api, frozenset()) & wanted)
        ended = False
        for index in range(counts[api]):
            if not usable or rng.random() >= rate:
                continue
            kind = rng.choice(usable)
            if kind in (FuzzKind.CLOSE, FuzzKind.DISCONNECT):
                if ended:
                    continue
                ended = True
            faults.append(ScheduledFault(api, index, kind, _value(kind, rng)))
    return FuzzPlan(seed, tuple(faults))


# --- what a fault does to one outgoing message ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``text`` ``delay`` replay seconds after its scheduled time (0: now)."""

    text: str
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Hold:
    """Keep ``text`` back and send it right after the next message (a reorder)."""

    text: str


@dataclass(frozen=True, slots=True)
class End:
    """End the connection: WebSocket close ``code`` (1006: drop without a close frame), or a
    Socket.IO server disconnect (``code`` 0)."""

    code: int


StreamAction = Send | Hold | End


def stream_actions(
    faults: Iterable[ScheduledFault], text: str, *, error_text: str | None = None
) -> list[StreamAction]:
    """What to do, in order, with outgoing message ``text`` given the faults scheduled for it.

    ``error_text`` is the API's injected subscription-error message, sent before the message.
    Faults apply in the order given (``ScheduledFault`` order: by kind name when they share an
    index). No fault: ``[Send(text)]``.
    """
    actions: list[StreamAction] = []
    message: list[StreamAction] = [Send(text)]
    for fault in faults:
        kind = fault.kind
        if kind is FuzzKind.MALFORMED:
            message = [Send(text[: max(1, len(text) // 2)])]
        elif kind is FuzzKind.DUPLICATE:
            message = message + message
        elif kind is FuzzKind.REORDER:
            message = [Hold(a.text) if isinstance(a, Send) else a for a in message]
        elif kind is FuzzKind.DELAY:
            message = [Send(a.text, a.delay + fault.value) if isinstance(a, Send) else a for a in message]
        elif kind is FuzzKind.DROP:
            message = []
        elif kind is FuzzKind.OVERSIZED:
            message = [
                Send(padded(a.text, int(fault.value)), a.delay) if isinstance(a, Send) else a for a in message
            ]
        elif kind is FuzzKind.SUBSCRIPTION_ERROR and error_text is not None:
            actions.append(Send(error_text))
        elif kind in (FuzzKind.CLOSE, FuzzKind.DISCONNECT):
            return [*actions, *message, End(int(fault.value))]
    return actions + message


def padded(text: str, size: int) -> str:
    """``text`` followed by JSON whitespace up to ``size`` characters: the same message (number
    formats and all) in a frame that big."""
    return text + " " * max(0, size - len(text))


# --- what a fault does to one request ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestFault:
    """What to do with one REST request: answer ``status`` at once (429 or 5xx, nothing else
    runs), else answer it ``delay`` replay seconds late, its body cut in half when ``malformed``."""

    status: int | None = None
    delay: float = 0.0
    malformed: bool = False


def request_fault(faults: Sequence[ScheduledFault], storm_left: int) -> tuple[RequestFault, int]:
    """The faults of one request, given ``storm_left`` requests of a 429 storm still to answer;
    returns what to do and the storm left after this request."""
    status: int | None = None
    delay = 0.0
    malformed = False
    for fault in faults:
        if fault.kind is FuzzKind.STORM_429:
            storm_left = max(storm_left, int(fault.value))
        elif fault.kind is FuzzKind.HTTP_5XX and status is None:
            status = int(fault.value)
        elif fault.kind is FuzzKind.DELAY:
            delay += fault.value
        elif fault.kind is FuzzKind.MALFORMED:
            malformed = True
    if storm_left > 0:
        return RequestFault(429, delay), storm_left - 1
    return RequestFault(status, delay, malformed and status is None), storm_left
