"""Upstream failures the recording proxy saw: what kind, on which connection, and a report.

Owns the classification of a library exception (aiohttp, websockets, python-socketio, the OS)
into a :class:`FailureKind`, the :class:`UpstreamFailure` value the proxy keeps, and the text of
the failure part of the proxy's report. It decides nothing about what the client is told; the
relays do (docs/guides/record.md "Recording", "Upstream failures").
"""

from __future__ import annotations

import asyncio
import ssl
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import aiohttp

MAX_KEPT = 1000
"""Failures kept with their detail (later ones are only counted), so memory stays bounded."""


class FailureKind(StrEnum):
    REFUSED = "refused"
    """Nothing listens at the upstream's address (TCP connection refused)."""
    TLS = "tls"
    """The TLS handshake failed: a bad certificate, a wrong hostname, or not TLS at all."""
    TIMEOUT = "timeout"
    """The upstream did not answer in time (connect or response)."""
    UNREACHABLE = "unreachable"
    """No connection for another reason: DNS, no route, ..."""
    DROPPED = "dropped"
    """The upstream closed the connection in the middle of an exchange or a stream."""
    SERVER_ERROR = "5xx"
    """The upstream answered with a 5xx status (passed through unchanged)."""


@dataclass(frozen=True, slots=True)
class UpstreamFailure:
    t: float
    """Seconds since the recording started."""
    protocol: str
    """``http``, ``ws`` or ``sio``."""
    conn: str
    """The tape's connection id of the client that saw it."""
    kind: FailureKind
    detail: str


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or during (python-socketio and engineio wrap
    the aiohttp error that says what happened)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(exc: BaseException, *, connected: bool = False) -> FailureKind:
    """The kind of failure ``exc`` stands for; ``connected``: the connection was up already, so an
    OS-level error means the upstream dropped it."""
    for cause in _chain(exc):
        if isinstance(cause, aiohttp.ClientResponseError) and cause.status >= 500:
            return FailureKind.SERVER_ERROR  # a WebSocket handshake (Socket.IO's) answered 5xx
        if isinstance(cause, ssl.SSLError | aiohttp.ClientSSLError):
            return FailureKind.TLS
        if isinstance(cause, ConnectionRefusedError):
            return FailureKind.REFUSED
        if isinstance(cause, aiohttp.ClientConnectorError) and isinstance(
            cause.os_error, ConnectionRefusedError
        ):
            return FailureKind.REFUSED
        if isinstance(cause, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            return FailureKind.TIMEOUT
        if isinstance(
            cause, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | ConnectionResetError
        ):
            return FailureKind.DROPPED
    for cause in _chain(exc):
        if isinstance(cause, aiohttp.ClientConnectorError):
            return FailureKind.UNREACHABLE
    return FailureKind.DROPPED if connected else FailureKind.UNREACHABLE


def describe(exc: BaseException) -> str:
    """One line naming the deepest cause: ``ConnectionRefusedError: [Errno 111] Connect call ...``."""
    causes = list(_chain(exc))
    for cause in reversed(causes):
        text = str(cause)
        if text:
            return f"{type(cause).__name__}: {text}"
    return type(causes[-1]).__name__


class FailureLog:
    """Counts every failure by kind and protocol and keeps the first :data:`MAX_KEPT`."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[FailureKind, str]] = Counter()
        self.kept: list[UpstreamFailure] = []

    def add(self, failure: UpstreamFailure) -> None:
        self.counts[(failure.kind, failure.protocol)] += 1
        if len(self.kept) < MAX_KEPT:
            self.kept.append(failure)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """``2 upstream failures (refused 1, dropped 1)``, or empty when there were none."""
        if not self.counts:
            return ""
        by_kind: Counter[str] = Counter()
        for (kind, _proto), n in self.counts.items():
            by_kind[kind.value] += n
        total = len(self)
        kinds = ", ".join(f"{kind} {n}" for kind, n in by_kind.most_common())
        return f"{total} upstream failure{'s' if total != 1 else ''} ({kinds})"

    def report_lines(self) -> Iterable[str]:
        """One line per kind and protocol with its count and the first failure's detail."""
        first: dict[tuple[FailureKind, str], UpstreamFailure] = {}
        for failure in self.kept:
            first.setdefault((failure.kind, failure.protocol), failure)
        for (kind, proto), n in self.counts.most_common():
            example = first.get((kind, proto))
            where = f"  first: {example.conn} at {example.t:.3f}s: {example.detail}" if example else ""
            yield f"  {kind.value:<11} {proto:<4} x{n}{where}"
