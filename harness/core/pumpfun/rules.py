"""Pump.fun REST contract rules around the timeline: who a client is, what its query may hold, and
how a refused request is answered.

Owns what the emulation decides about a request before the timeline answers it (contract §1.5):
* the client a rate budget belongs to: its bearer token, hashed (the key shows in
  ``/_harness/state``, a credential must not), else its remote address;
* the documented numeric and boolean query parameters: a malformed value is a 400;
* every error answer: its status, its message, the header RFC 9110 asks of it (``WWW-Authenticate``
  on 401, ``Allow`` on 405; ``Retry-After`` on 429) and its body, NestJS-style
  ``{statusCode, message, error, ...}`` (contract §1.5 and 6.11: likely, unverified [inferred]).
Pure: header values, query mappings and addresses in; statuses, headers and bytes out. The order in
which the refusals are tried, and turning aiohttp requests into these inputs, are the adapter's
(:mod:`harness.server.rest`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.core.excerpt import clip, quote
from harness.core.pumpfun.timeline import JSON, QueryError, encode_json, parse_trades_query

NUMERIC_PARAMS = ("limit", "offset", "minimumSize")
BOOLEAN_PARAMS = ("sync", "includeNsfw", "complete")
BOOLEAN_VALUES = frozenset({"true", "false", "1", "0", ""})
"""What a boolean parameter may be (an empty value is a flag without one)."""

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
"""The ``error`` of a body by status (NestJS's reason phrases); any other status says ``Error``."""

TOO_MANY_REQUESTS = "ThrottlerException: Too Many Requests"
"""The message of a 429, as NestJS's throttler words it."""

Header = tuple[str, str]


# --- who is asking -------------------------------------------------------------------------------


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value, None without one (another scheme,
    or nothing after it). The scheme is case-insensitive (RFC 9110 11.1)."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def client_key(authorization: str | None, remote: str | None) -> str:
    """Whose rate budget a request spends: its bearer token's when it sends one, else its remote
    address's. The token is hashed: the key shows in ``/_harness/state``, a credential never does."""
    token = bearer(authorization)
    if token:
        return "bearer:" + hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"addr:{remote}"


# --- the query -----------------------------------------------------------------------------------


def check_query(query: Mapping[str, str]) -> QueryError | None:
    """The first malformed value of the documented numeric and boolean query parameters (each
    parameter's first value), else None: a numeric one is read as ``/trades/all`` reads it, a
    boolean one is ``true``, ``false``, ``1``, ``0`` or empty."""
    present = {name: query[name] for name in NUMERIC_PARAMS if name in query}
    if present:
        parsed = parse_trades_query(present)
        if isinstance(parsed, QueryError):
            return parsed
    for name in BOOLEAN_PARAMS:
        if name in query and query[name] not in BOOLEAN_VALUES:
            return QueryError(name, f"{name} must be true or false, got {quote(query[name])}")
    return None


# --- error answers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """A refused request: its status, message and the headers its status asks for."""

    status: int
    message: str
    headers: tuple[Header, ...] = ()
    """What the status asks for (``Allow``, ``WWW-Authenticate``, ``Retry-After``), sent after the
    rate-limit headers and before ``Content-Type``."""
    extra: tuple[tuple[str, object], ...] = ()
    """More members of the body, after the NestJS three (``parameter``, ``closest``)."""

    @property
    def error(self) -> str:
        return REASONS.get(self.status, "Error")

    def body(self) -> bytes:
        # contract §1.5/6.11: a NestJS-style error body, the likely shape for 4xx [inferred].
        return encode_json(
            {"statusCode": self.status, "message": self.message, "error": self.error, **dict(self.extra)}
        )

    def response_headers(self) -> tuple[Header, ...]:
        """:attr:`headers` and the body's ``Content-Type``."""
        return (*self.headers, ("Content-Type", JSON))


def too_many_requests(retry_after: int) -> ErrorAnswer:
    """429 (contract §1.5) with ``Retry-After`` in whole seconds (RFC 9110 10.2.3)."""
    return ErrorAnswer(429, TOO_MANY_REQUESTS, (("Retry-After", str(retry_after)),))


UNAUTHORIZED = ErrorAnswer(
    401, "Unauthorized: send Authorization: Bearer <token>", (("WWW-Authenticate", "Bearer"),)
)
"""401 with the challenge RFC 9110 11.6.1 requires (RFC 6750 3: the ``Bearer`` scheme)."""


def bad_query(problem: QueryError) -> ErrorAnswer:
    """400 naming the parameter whose value is malformed."""
    return ErrorAnswer(400, problem.message, extra=(("parameter", problem.parameter),))


def not_found(path: str, closest: Sequence[str]) -> ErrorAnswer:
    """404 for a path the tape has no recording of, naming the closest recorded paths."""
    hint = f"; closest recorded: {', '.join(closest)}" if closest else ""
    return ErrorAnswer(404, f"no recorded path {clip(path)}{hint}", extra=(("closest", list(closest)),))


def method_not_allowed(method: str, path: str, allowed: Sequence[str]) -> ErrorAnswer:
    """405 with the ``Allow`` list RFC 9110 15.5.6 requires."""
    answer = f"method {clip(method, 40)} not allowed on {clip(path)}"
    return ErrorAnswer(405, answer, (("Allow", ", ".join(allowed)),))


def injected(status: int, source: str) -> ErrorAnswer:
    """A status a fault asked for (``source``: ``fault injected`` for ``--fault``, ``fuzz`` for a
    fuzz plan's)."""
    return ErrorAnswer(status, f"{source}: status {status}")
