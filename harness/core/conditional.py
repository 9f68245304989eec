"""Conditional requests: ``If-None-Match`` against an ETag (RFC 9110 section 13.1.2).

Pure string rules: join a request's field lines, parse an entity-tag list, compare weakly, decide
whether an answer becomes a 304. Parses are memoised (a poller sends the same value again and
again), in bounded caches.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

# RFC 9110 8.8.3: entity-tag = [ weak ] opaque-tag ; weak = %s"W/" ; opaque-tag = DQUOTE *etagc DQUOTE
_ETAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')


@functools.lru_cache(maxsize=1024)
def opaque(etag: str) -> str | None:
    """The opaque tag of an entity-tag (``W/"x"`` and ``"x"`` both give ``x``), or None if malformed."""
    match = _ETAG.fullmatch(etag)
    return match.group(2) if match else None


@functools.lru_cache(maxsize=1024)
def parse_if_none_match(value: str) -> frozenset[str] | None:
    """The opaque tags listed in an ``If-None-Match`` value; None means ``*`` (any).

    Malformed members are skipped, as a recipient may ignore them (RFC 9110 13.1.2).
    """
    if value.strip() == "*":
        return None
    tags: set[str] = set()
    pos = 0
    while pos < len(value):
        match = _ETAG.match(value, pos)
        if match is None:
            comma = value.find(",", pos)
            if comma < 0:
                break
            pos = comma + 1
            continue
        tags.add(match.group(2))
        pos = match.end()
        if pos < len(value) and value[pos] == ",":
            pos += 1
    return frozenset(tags)


def not_modified(if_none_match: str | None, etag: str | None) -> bool:
    """Whether a GET/HEAD with ``If-None-Match`` gets 304 for a representation with ``etag``.

    RFC 9110 13.1.2: "*" matches any current representation; otherwise the weak comparison
    function is used (13.1.2: "A recipient MUST use the weak comparison function"), so ``W/"a"``
    matches ``"a"``.
    """
    if if_none_match is None or etag is None:
        return False
    current = opaque(etag)
    if current is None:
        return False
    tags = parse_if_none_match(if_none_match)
    return tags is None or current in tags


def field_value(lines: Sequence[str]) -> str | None:
    """One value of a list-based field sent on several lines (RFC 9110 5.3: they are one
    comma-separated list, in order), None when none was sent."""
    if not lines:
        return None
    return lines[0] if len(lines) == 1 else ", ".join(lines)


def answers_not_modified(method: str, status: int, if_none_match: Sequence[str], etag: str | None) -> bool:
    """Whether an answer of ``status`` with ``etag`` to ``method`` becomes a 304, given the
    request's ``If-None-Match`` field lines.

    Only a GET or HEAD (RFC 9110 13.1.2; another method would get 412, which the emulation never
    sends: it answers as if there were no condition) whose answer would be a 200 (13.2.1 applies
    preconditions to a 2xx; the emulation to 200, the answer pollers get; other recorded statuses
    replay as recorded).
    """
    return method in ("GET", "HEAD") and status == 200 and not_modified(field_value(if_none_match), etag)
