"""Tape expiry: how old a tape is, and what a test run does with one older than it may be.

Owns the ``max_age`` setting's syntax, the :class:`ExpiryPolicy` names and the pure decision
(README "pytest conventions"). A tape's age is the time since its header's ``created`` field: it
is never refreshed by reading or replaying the tape (a file's modification time would be, by a
copy or a checkout). Pure: the current time is an argument.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from enum import StrEnum

UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_AGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", re.IGNORECASE)


class ExpiryPolicy(StrEnum):
    WARN = "warn"
    """Replay it, and warn (a pytest warning naming the tape and its age)."""
    FAIL = "fail"
    """Fail the test at setup, saying how to record it anew."""
    RERECORD = "rerecord"
    """Record it anew for this run (as record mode ``all``)."""


def parse_max_age(value: object) -> float:
    """Seconds from ``30d``, ``12h``, ``90m``, ``45s``, ``2w`` or a number of seconds. Raises
    ValueError saying what it takes."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (match := _AGE.fullmatch(value)):
        seconds = float(match.group(1)) * UNITS[(match.group(2) or "s").lower()]
    else:
        raise ValueError(
            f"max_age takes seconds or a number with a unit s, m, h, d or w ('30d'), got {value!r}"
        )
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"max_age must be a positive finite time, got {value!r}")
    return seconds


def parse_created(created: str) -> datetime:
    """The header's ``created`` (ISO 8601, ``Z`` or an offset) as an aware UTC time. Raises
    ValueError for a time that is not one."""
    when = datetime.fromisoformat(created.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def tape_age(created: str, now: float) -> float:
    """Seconds from the header's ``created`` to ``now`` (epoch seconds); never negative."""
    return max(0.0, now - parse_created(created).timestamp())


def describe_age(seconds: float) -> str:
    """``40 days``, ``5 hours``, ``3 minutes``, ``12 seconds`` (the largest unit that fits)."""
    for name, size in (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {name}{'s' if count != 1 else ''}"
    count = int(seconds)
    return f"{count} second{'s' if count != 1 else ''}"


def default_policy(*, ci: bool, max_age_given: bool) -> ExpiryPolicy:
    """The policy when none is given: ``fail`` under CI when the user set a max age, else ``warn``."""
    return ExpiryPolicy.FAIL if ci and max_age_given else ExpiryPolicy.WARN


def parse_policy(value: object) -> ExpiryPolicy:
    try:
        return ExpiryPolicy(str(value))
    except ValueError:
        names = ", ".join(p.value for p in ExpiryPolicy)
        raise ValueError(f"expired takes one of {names}, got {value!r}") from None
