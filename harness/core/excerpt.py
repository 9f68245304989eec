"""Excerpts: what the harness shows of a client's input is cut to a fixed size, with the full size.

Owns the one rule every echo of outside input follows (violation excerpts, error answers, close
reasons, ack payloads, log lines): at most :data:`EXCERPT_CHARS` characters of it, and when it was
longer, how long it was (README "Input limits"). What it costs is bounded by the limit, not by the
input: a value is encoded lazily and the encoding stops once the limit is passed. Pure.
"""

from __future__ import annotations

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
    """Compact JSON of ``value`` cut to ``limit`` characters, at a cost bounded by ``limit``: only
    the first ``limit`` values and characters of it are looked at, so a long value says it was cut
    but not its size, which would take encoding all of it."""
    try:
        text = json.dumps(
            _trimmed(value, [limit], limit), ensure_ascii=False, separators=(",", ":"), default=repr
        )
    except (ValueError, RecursionError):  # never fail an error message
        text = repr(value)[: limit + 1]
    return text if len(text) <= limit else text[:limit] + CUT


SEEN_CHARS = 4096
"""Characters of one string a rule applied before cutting (redaction) sees: a secret longer than
an excerpt (a JWT of a few hundred characters) is still recognised whole, so no part of it shows."""


def trimmed(value: Any, limit: int = EXCERPT_CHARS, chars: int = SEEN_CHARS) -> Any:
    """``value`` with its values past the first ``limit`` left out and its strings cut to
    ``chars``, at a cost bounded by both: what an excerpt can show of it, for a rule (redaction)
    to see before :func:`encode` cuts it."""
    return _trimmed(value, [limit], chars)


def _trimmed(value: Any, budget: list[int], limit: int) -> Any:
    """``value`` with what lies past its first ``limit`` characters or values left out (strings
    cut, lists and objects shortened): whatever is left out, the encoding is longer than ``limit``."""
    budget[0] -= 1
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit + 1]
    if isinstance(value, list | tuple):
        items: list[Any] = []
        for item in value:
            if budget[0] <= 0:
                items.append(None)  # one more, so the encoding runs past the limit
                break
            items.append(_trimmed(item, budget, limit))
        return items
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if budget[0] <= 0:
                out["…"] = None
                break
            out[str(key)[: limit + 1]] = _trimmed(item, budget, limit)
        return out
    return value


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
