"""Expired tapes in a test run: reading their age and applying the test's policy.

Owns the plugin's side of tape expiry (README "pytest conventions"): the age of each tape a test
replays, read from its header (never its file's time, and reading never changes it), and what the
test's ``expired`` policy does with a tape older than ``max_age``: a :class:`TapeExpired`
warning, a failure at setup, or a recording anew (record mode ``all``) in this run. The rules
themselves are :mod:`harness.core.expiry`'s.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from pathlib import Path

from harness.core.expiry import ExpiryPolicy, describe_age, tape_age
from harness.plugin.settings import Resolved
from harness.recorder.modes import RecordMode
from harness.store import TapeReader, find_tapes


class TapeExpired(UserWarning):
    """A tape a test replays is older than its ``max_age`` (policy ``warn``)."""


def expired_tapes(tapes: tuple[Path, ...], max_age: float, now: float) -> list[tuple[Path, str, float]]:
    """``(tape, created, age)`` of each tape file among ``tapes`` (directories stand for their
    tapes) older than ``max_age`` seconds at ``now``; tapes that do not exist are skipped."""
    found = []
    for tape in find_tapes([t for t in tapes if t.exists()]):
        with TapeReader(tape) as reader:
            created = reader.header.created
        age = tape_age(created, now)
        if age > max_age:
            found.append((tape, created, age))
    return found


def check_expiry(resolved: Resolved, test: str, now: float | None = None) -> Resolved:
    """Apply the test's expiry policy; returns the settings to run with (record mode ``all``
    for ``rerecord``). Raises ValueError for ``fail``, saying how to record the tape anew."""
    if resolved.max_age is None or resolved.mode in (RecordMode.ALL, RecordMode.REWRITE):
        return resolved
    old = expired_tapes(resolved.tapes, resolved.max_age, time.time() if now is None else now)
    if not old:
        return resolved
    limit = describe_age(resolved.max_age)
    lines = [
        f"{tape}: recorded {created}, {describe_age(age)} ago, over max_age {limit}"
        for tape, created, age in old
    ]
    if resolved.expired is ExpiryPolicy.RERECORD:
        return dataclasses.replace(resolved, mode=RecordMode.ALL)
    if resolved.expired is ExpiryPolicy.FAIL:
        raise ValueError(
            f"expired tape(s) for {test}:\n  "
            + "\n  ".join(lines)
            + "\nRecord anew with --harness-record-mode rewrite (or --harness-expired rerecord),"
            " or raise max_age (--harness-max-age, the marker or harness_config)."
        )
    for line in lines:
        warnings.warn(
            TapeExpired(f"harness: {line} (record it anew with --harness-record-mode rewrite)"), stacklevel=1
        )
    return resolved
