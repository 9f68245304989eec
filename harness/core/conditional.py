"""Conditional requests: ``If-None-Match`` against an ETag (RFC 9110 section 13.1.2).

Pure string rules: parse an entity-tag list, compare weakly, decide whether a GET gets 304.
Parses are memoised (a poller sends the same value again and again), in bounded caches.
"""

from __future__ import annotations

import functools
import re

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
