"""The frame model: one value per thing that crossed the wire.

This module owns the in-memory shape of a tape's frames (docs/architecture.md "Tape format"): HTTP exchanges,
WebSocket open / text / binary / close, and Socket.IO connect / event / ack / connect_error /
disconnect. Frames are frozen, slotted dataclasses; they know nothing about files or sockets.
The JSON encoding lives in :mod:`harness.core.tape`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeAlias

JsonValue: TypeAlias = Any
"""A value that came out of (or will go into) ``json.loads`` / ``json.dumps``."""

Headers: TypeAlias = tuple[tuple[str, str], ...]
"""HTTP or handshake headers in wire order, names as sent, duplicates kept."""


class Protocol(StrEnum):
    HTTP = "http"
    WS = "ws"
    SIO = "sio"


class Direction(StrEnum):
    CLIENT_TO_SERVER = "c2s"
    SERVER_TO_CLIENT = "s2c"


C2S = Direction.CLIENT_TO_SERVER
S2C = Direction.SERVER_TO_CLIENT


def header_value(headers: Headers, name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), or None."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    """The request target as the client sent it: a path with query, or an absolute URL."""
    headers: Headers = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Headers = ()
    body: bytes = b""
    reason: str = ""

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)


@dataclass(frozen=True, slots=True)
class HttpExchange:
    """A request and the response it got, ``latency`` seconds later."""

    protocol: ClassVar[Protocol] = Protocol.HTTP
    kind: ClassVar[str] = "exchange"
    t: float
    conn: str
    request: HttpRequest
    response: HttpResponse
    latency: float = 0.0

    @property
    def direction(self) -> Direction:
        return C2S


@dataclass(frozen=True, slots=True)
class WsOpen:
    """The client's opening handshake: the URL it asked for and its headers."""

    protocol: ClassVar[Protocol] = Protocol.WS
    kind: ClassVar[str] = "open"
    t: float
    conn: str
    url: str
    headers: Headers = ()
    subprotocol: str | None = None

    @property
    def direction(self) -> Direction:
        return C2S


@dataclass(frozen=True, slots=True)
class WsText:
    protocol: ClassVar[Protocol] = Protocol.WS
    kind: ClassVar[str] = "text"
    t: float
    conn: str
    direction: Direction
    data: str


@dataclass(frozen=True, slots=True)
class WsBinary:
    protocol: ClassVar[Protocol] = Protocol.WS
    kind: ClassVar[str] = "binary"
    t: float
    conn: str
    direction: Direction
    data: bytes


@dataclass(frozen=True, slots=True)
class WsClose:
    """A close frame from ``direction``'s sender; ``code`` None: no status (RFC 6455 7.1.5)."""

    protocol: ClassVar[Protocol] = Protocol.WS
    kind: ClassVar[str] = "close"
    t: float
    conn: str
    direction: Direction
    code: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SioConnect:
    """A Socket.IO namespace connect with its ``auth`` payload (redacted before it is written)."""

    protocol: ClassVar[Protocol] = Protocol.SIO
    kind: ClassVar[str] = "connect"
    t: float
    conn: str
    namespace: str = "/"
    auth: JsonValue = None
    url: str = ""

    @property
    def direction(self) -> Direction:
        return C2S


@dataclass(frozen=True, slots=True)
class SioEvent:
    protocol: ClassVar[Protocol] = Protocol.SIO
    kind: ClassVar[str] = "event"
    t: float
    conn: str
    direction: Direction
    name: str
    args: tuple[JsonValue, ...] = ()
    ack_id: int | None = None
    namespace: str = "/"


@dataclass(frozen=True, slots=True)
class SioAck:
    """The answer to the event of the other side that carried ``ack_id``."""

    protocol: ClassVar[Protocol] = Protocol.SIO
    kind: ClassVar[str] = "ack"
    t: float
    conn: str
    direction: Direction
    ack_id: int
    args: tuple[JsonValue, ...] = ()
    namespace: str = "/"


@dataclass(frozen=True, slots=True)
class SioConnectError:
    protocol: ClassVar[Protocol] = Protocol.SIO
    kind: ClassVar[str] = "connect_error"
    t: float
    conn: str
    message: str
    data: JsonValue = None
    namespace: str = "/"

    @property
    def direction(self) -> Direction:
        return S2C


@dataclass(frozen=True, slots=True)
class SioDisconnect:
    protocol: ClassVar[Protocol] = Protocol.SIO
    kind: ClassVar[str] = "disconnect"
    t: float
    conn: str
    direction: Direction
    reason: str = ""
    namespace: str = "/"


Frame: TypeAlias = (
    HttpExchange
    | WsOpen
    | WsText
    | WsBinary
    | WsClose
    | SioConnect
    | SioEvent
    | SioAck
    | SioConnectError
    | SioDisconnect
)

FRAME_TYPES: tuple[type[Frame], ...] = (
    HttpExchange,
    WsOpen,
    WsText,
    WsBinary,
    WsClose,
    SioConnect,
    SioEvent,
    SioAck,
    SioConnectError,
    SioDisconnect,
)

FRAME_TYPE_BY_KEY: dict[tuple[Protocol, str], type[Frame]] = {
    (cls.protocol, cls.kind): cls for cls in FRAME_TYPES
}


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a tape holds: which APIs, from which upstreams (secrets removed), made how."""

    apis: tuple[str, ...] = ()
    upstreams: tuple[tuple[str, str], ...] = ()
    label: str = ""
    source: str = ""
    """``proxy``, ``poll``, ``ws``, ``sio``, ``synth``, ``har`` ..."""
    extra: tuple[tuple[str, JsonValue], ...] = field(default=())
    """Free-form facts a producer wants to keep (a synth seed, a recorder's options)."""


@dataclass(frozen=True, slots=True)
class TapeHeader:
    created: str
    """Creation time, ISO 8601 in UTC with a ``Z`` (``2026-11-23T01:00:00Z``)."""
    harness_version: str
    recorded: Recorded = Recorded()
    redaction: tuple[str, ...] = ()
    """Descriptions of the redaction rules that ran before any frame was written."""
