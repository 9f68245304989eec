"""Rate-limit budgets: a fixed window per client, and the ``x-ratelimit-*`` headers it implies.

contract §1.5: ``x-ratelimit-limit``, ``x-ratelimit-remaining``, ``x-ratelimit-reset`` and 429
when limited; the unit of ``reset`` is undocumented (6.10), so it is a choice: ``delta`` (seconds
until the window resets, the default) or ``epoch`` (unix seconds of the reset). A tape's recorded
headers calibrate limit, window and unit (:func:`calibrate`). :class:`Budgets` keeps every
client's budget in a table of bounded size. Pure: time is an argument.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple


class ResetUnit(StrEnum):
    DELTA = "delta"
    EPOCH = "epoch"


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    limit: int = 120
    """Requests per window per client."""
    window: float = 60.0
    """Window length in replay seconds."""
    reset_unit: ResetUnit = ResetUnit.DELTA
    enabled: bool = True
    max_clients: int = 10_000
    """Budgets kept at most; past that the least recently seen client is forgotten."""
    headers: bool | None = None
    """Send the ``x-ratelimit-*`` headers: None, as the tape shows (when any recorded response
    carries one; a recording without them gets none: the service's observed behaviour wins),
    True always, False never."""


def shows_headers(observed: Iterable[tuple[str | None, str | None, str | None]]) -> bool:
    """Whether any recorded response carried an ``x-ratelimit-*`` header."""
    return any(value is not None for row in observed for value in row)


# Budget and Decision are made on every REST request: immutable NamedTuples cost a fifth of a
# frozen dataclass to build.
class Budget(NamedTuple):
    window_start: float
    used: int


class Decision(NamedTuple):
    allowed: bool
    limit: int
    remaining: int
    reset_in: float
    """Seconds until the window resets."""

    @property
    def retry_after(self) -> int:
        """Whole seconds a client must wait (``Retry-After``), at least 1."""
        return self.retry_after_at(1.0)

    def retry_after_at(self, speed: float) -> int:
        """``Retry-After`` for a client whose clock sees replay time run ``speed`` times as fast
        (real-time replay at ``--speed``): waiting that long, its window has reset."""
        return max(1, math.ceil(self.reset_in / speed))

    def headers(self, config: RateLimitConfig, epoch_now: float, speed: float = 1.0) -> list[tuple[str, str]]:
        """The ``x-ratelimit-*`` headers. ``epoch_now`` is the unix time the client's clock reads
        now, ``speed`` as in :meth:`retry_after_at`: a reset is told in the client's time."""
        if config.reset_unit is ResetUnit.EPOCH:
            reset = str(math.ceil(epoch_now + self.reset_in / speed))
        else:
            reset = str(max(0, math.ceil(self.reset_in / speed)))
        return [
            ("x-ratelimit-limit", str(self.limit)),
            ("x-ratelimit-remaining", str(self.remaining)),
            ("x-ratelimit-reset", reset),
        ]


def consume(budget: Budget | None, config: RateLimitConfig, now: float) -> tuple[Budget, Decision]:
    """Spend one request of a client's budget at replay time ``now``.

    Fixed windows aligned to the client's first request: a request past the window's end opens a
    new window. A refused request does not spend anything.
    """
    if budget is None or now >= budget.window_start + config.window or now < budget.window_start:
        budget = Budget(window_start=now, used=0)
    reset_in = budget.window_start + config.window - now
    if budget.used >= config.limit:
        return budget, Decision(False, config.limit, 0, reset_in)
    budget = Budget(budget.window_start, budget.used + 1)
    return budget, Decision(True, config.limit, config.limit - budget.used, reset_in)


class Budgets:
    """Every client's budget (by key: a token's hash, an address) under one config.

    The table holds at most ``config.max_clients`` budgets: past that the least recently seen
    client is forgotten and starts a fresh window when it returns, so a flood of distinct
    tokens cannot grow memory without bound.
    """

    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self._max_clients = max(1, config.max_clients)
        self._table: OrderedDict[str, Budget] = OrderedDict()

    def consume(self, key: str, now: float) -> Decision:
        """Spend one request of ``key``'s budget at replay time ``now`` (see :func:`consume`)."""
        budget, decision = consume(self._table.pop(key, None), self.config, now)
        self._table[key] = budget  # now the most recently seen
        if len(self._table) > self._max_clients:
            self._table.popitem(last=False)
        return decision

    def used(self) -> dict[str, int]:
        """Requests spent in the current window, by client."""
        return {key: budget.used for key, budget in self._table.items()}

    def clear(self) -> None:
        self._table.clear()

    def __len__(self) -> int:
        return len(self._table)


def peek(budget: Budget | None, config: RateLimitConfig, now: float) -> Decision:
    """The decision a request would get now, without spending."""
    return consume(budget, config, now)[1] if budget is None else _peek(budget, config, now)


def _peek(budget: Budget, config: RateLimitConfig, now: float) -> Decision:
    if now >= budget.window_start + config.window:
        return Decision(True, config.limit, config.limit, config.window)
    remaining = max(0, config.limit - budget.used)
    return Decision(remaining > 0, config.limit, remaining, budget.window_start + config.window - now)


def calibrate(
    observed: Iterable[tuple[str | None, str | None, str | None]], default: RateLimitConfig
) -> RateLimitConfig:
    """Limit, window and reset unit from recorded ``(limit, remaining, reset)`` header values.

    The most common recorded limit wins. A reset above 1e9 is taken as epoch seconds, else as
    seconds until the reset; in delta mode the window is the largest recorded reset rounded up.
    Values that do not parse are ignored; with nothing usable the default stands.
    """
    limits: dict[int, int] = {}
    deltas: list[float] = []
    epochs = 0
    for limit, _remaining, reset in observed:
        if limit is not None and limit.strip().isdigit():
            limits[int(limit)] = limits.get(int(limit), 0) + 1
        try:
            value = float(reset) if reset is not None else math.nan
        except ValueError:
            continue
        if math.isnan(value) or value < 0:
            continue
        if value > 1e9:
            epochs += 1
        else:
            deltas.append(value)
    config = default
    if limits:
        config = replace(config, limit=max(limits, key=lambda k: (limits[k], k)))
    if epochs > len(deltas):
        config = replace(config, reset_unit=ResetUnit.EPOCH)
    elif deltas:
        config = replace(config, reset_unit=ResetUnit.DELTA, window=float(math.ceil(max(deltas))) or 1.0)
    return config
