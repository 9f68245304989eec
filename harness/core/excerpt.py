"""Excerpts: what the harness shows of a client's input is cut to a fixed size, with the full size.

Owns the one rule every echo of outside input follows (violation excerpts, error answers, close
reasons, ack payloads, log lines): at most :data:`EXCERPT_CHARS` characters of it, and when it was
longer, how long it was (README "Input limits"). What it costs is bounded by the limit, not by the
input: a value is encoded lazily and the encoding stops once the limit is passed. Pure.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

EXCERPT_CHARS = 200
"""Characters of a client's input the harness echoes or keeps (about 200 bytes)."""
LISTED_ITEMS = 5
"""Bad items a refusal or a violation that counts them lists by name."""
CLOSE_REASON_BYTES = 123
"""RFC 6455 5.5: a control frame's payload is at most 125 bytes, 2 of which are the close code."""

CUT = "… (cut)"
"""How an excerpt whose full size was not measured ends."""

_LAZY = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=repr, check_circular=False)
"""Without ``indent``, ``iterencode`` is the pure-Python encoder, which yields as it goes."""


def clip(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` itself when at most ``limit`` characters, else its start and its full size."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} chars)"


def quote(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A JSON value for a message: a string as Python quotes it, anything else as compact JSON;
    cut as :func:`clip` cuts text."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else f"{value[:limit]!r}… ({len(value)} chars)"
    return encode(value, limit)


def encode(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """Compact JSON of ``value`` cut to ``limit`` characters, at a cost bounded by ``limit``: a
    long value says it was cut but not its size, which would take encoding all of it."""
    try:
        chunks = _LAZY.iterencode(value)
        taken: list[str] = []
        size = 0
        for chunk in itertools.islice(chunks, 4 * limit):
            taken.append(chunk)
            size += len(chunk)
            if size > limit:
                break
        else:
            if size <= limit and next(chunks, None) is None:
                return "".join(taken)
    except (ValueError, RecursionError):  # never fail an error message
        return clip(repr(value)[: limit + 1], limit)
    return "".join(taken)[:limit] + CUT


def echo(value: Any, limit: int = EXCERPT_CHARS) -> Any:
    """A JSON value a client sent, for an answer that names it: the value itself when short, else
    the excerpt :func:`quote` makes of it (a string)."""
    if isinstance(value, str):
        return clip(value, limit)
    text = encode(value, limit)
    return text if text.endswith(CUT) else value


def listed(items: Sequence[Any], limit: int = LISTED_ITEMS) -> list[Any]:
    """The first ``limit`` of ``items``, each cut to a short excerpt when it is a long string."""
    return [clip(item, 40) if isinstance(item, str) else item for item in items[:limit]]


def reason(text: str) -> str:
    """A close reason that fits a close frame: at most :data:`CLOSE_REASON_BYTES` of UTF-8."""
    data = text.encode("utf-8")
    if len(data) <= CLOSE_REASON_BYTES:
        return text
    return data[: CLOSE_REASON_BYTES - 3].decode("utf-8", "ignore") + "…"
