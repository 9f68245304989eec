"""HAR files: export a tape as HAR 1.2, import a HAR (a browser's recording) as a redacted tape.

The adapter around :mod:`harness.core.har`: reading and writing files, redaction through a
:class:`~harness.recorder.session.RecordingSession` (a HAR from a browser holds cookies,
Authorization headers and API keys), and the Socket.IO packets a HAR carries inside WebSocket
messages and polling bodies, encoded and decoded with python-socketio's own codec.

A browser's Socket.IO session (``/socket.io/?EIO=4``: long-polling requests, then a WebSocket)
becomes Socket.IO frames: the connect with its ``auth`` (redacted like any recording), events and
acks with their ids, ``connect_error``, disconnects; Engine.IO pings and handshakes are left out.
Nothing of such a session is written as raw HTTP or WebSocket frames, so an API key inside a
connect packet never reaches the tape unredacted. A tape's Socket.IO connections export the other
way: one WebSocket entry each, its messages the Socket.IO packets (``42["trade",{...}]``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from engineio import packet as eio_packet
from engineio import payload as eio_payload
from socketio import packet as sio_packet

from harness import __version__
from harness.core.frames import (
    C2S,
    S2C,
    Direction,
    Frame,
    HttpExchange,
    Recorded,
    SioAck,
    SioConnect,
    SioConnectError,
    SioDisconnect,
    SioEvent,
    WsBinary,
    WsClose,
    WsOpen,
    WsText,
)
from harness.core.har import (
    MESSAGES,
    PROGRESS_EVERY,
    HarError,
    HarImport,
    absolute,
    default_bases,
    export_har,
    import_har,
)
from harness.core.redact import RedactionRules
from harness.recorder.relay_sio import CLIENT_DISCONNECT, SERVER_DISCONNECT, jsonable
from harness.recorder.session import RecordingSession
from harness.store import TapeReader

TRANSPORT_CLOSE = "transport close"
"""python-socketio's reason for a connection whose transport went away."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    entries: int
    exchanges: int
    sockets: int
    messages: int


@dataclass(frozen=True, slots=True)
class ImportResult:
    path: Path
    frames: dict[str, int]
    notes: tuple[str, ...]


# --- export ------------------------------------------------------------------------------------


def export_file(
    tape: Path,
    out: Path | None = None,
    *,
    reading: Callable[[int, int, int], None] | None = None,
    writing: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write ``tape`` as a HAR file (default: beside it, ``.har`` for ``.jsonl[.gz]``).

    ``reading(bytes_done, bytes_total, entries)`` is called now and then while the tape is read
    (bytes of the file on disk, compressed for a gzip tape), ``writing(done, total)`` while the
    HAR is written (its entries and WebSocket messages).
    """
    with TapeReader(tape) as reader:
        header = reader.header
        bases = default_bases(header)
        frames = _reported(socketio_as_websocket(reader, bases), reader, reading)
        document = export_har(header, frames, creator_version=__version__, bases=bases)
    out = har_path(tape) if out is None else out
    try:
        with out.open("w", encoding="utf-8", errors="surrogatepass") as f:
            for text in har_text(document, writing):
                f.write(text)
            f.write("\n")
    except OSError as exc:
        raise HarError(f"cannot write {out}: {exc.strerror or exc}") from None
    entries = document["log"]["entries"]
    sockets = [e for e in entries if e.get("_resourceType") == "websocket"]
    return ExportResult(
        out,
        len(entries),
        len(entries) - len(sockets),
        len(sockets),
        sum(len(e[MESSAGES]) for e in sockets),
    )


def har_path(tape: Path) -> Path:
    """Where a tape's HAR goes by default: beside it, ``.har`` for ``.jsonl[.gz]``."""
    return tape.with_name(tape.name.removesuffix(".gz").removesuffix(".jsonl") + ".har")


def _reported(
    frames: Iterator[Frame], reader: TapeReader, reading: Callable[[int, int, int], None] | None
) -> Iterator[Frame]:
    """``frames`` (read by ``reader``), telling ``reading`` how far into the file the reader is
    and how many HAR entries (an exchange, a WebSocket opened) have gone by."""
    if reading is None:
        yield from frames
        return
    total, entries = reader.size, 0
    reading(0, total, 0)
    for count, frame in enumerate(frames, 1):
        entries += isinstance(frame, HttpExchange | WsOpen)
        if count % PROGRESS_EVERY == 0:
            reading(reader.position, total, entries)
        yield frame
    reading(total, total, entries)


# json.dumps(document, indent=2) of a whole HAR runs json's pure-Python encoder over every value
# at once (its C encoder does not indent) and holds the text, and then its UTF-8 bytes, in memory.
# The same text written entry by entry is faster, needs no copy of the file in memory, and lets a
# progress bar move.
_JSON = json.JSONEncoder(indent=2, ensure_ascii=False)


def har_text(document: dict[str, Any], writing: Callable[[int, int], None] | None = None) -> Iterator[str]:
    """``json.dumps(document, indent=2, ensure_ascii=False)`` of an exported HAR, in pieces: the
    same characters, produced an entry (and a WebSocket message) at a time.

    ``writing(done, total)`` counts the entries and WebSocket messages produced."""
    log = document["log"]
    entries: list[dict[str, Any]] = log["entries"]
    total = len(entries) + sum(len(e.get(MESSAGES) or ()) for e in entries)
    done = 0

    def count() -> None:
        nonlocal done
        done += 1
        if writing is not None and (done % PROGRESS_EVERY == 0 or done == total):
            writing(done, total)

    def message(item: Any, depth: int) -> Iterator[str]:
        count()
        yield _indented(item, depth)

    def entry(item: dict[str, Any], depth: int) -> Iterator[str]:
        count()
        if item.get(MESSAGES):
            yield from _spliced(item, MESSAGES, depth, _items(item[MESSAGES], depth + 1, message))
        else:
            yield _indented(item, depth)

    if writing is not None:
        writing(0, total)
    yield from _spliced(document, "log", 0, _spliced(log, "entries", 1, _items(entries, 2, entry)))


def _indented(value: Any, depth: int) -> str:
    """``value`` as json.dumps(indent=2) writes it ``depth`` levels deep."""
    return _JSON.encode(value).replace("\n", "\n" + "  " * depth)


def _spliced(obj: dict[str, Any], key: str, depth: int, value: Iterator[str]) -> Iterator[str]:
    """The object ``obj`` as json.dumps(indent=2) writes it ``depth`` levels deep, the text of
    ``obj[key]`` taken from ``value``."""
    text = _indented({**obj, key: []}, depth)
    # JSON strings escape their newlines, so a line break is always layout: this line is the key's
    line = "\n" + "  " * (depth + 1) + json.dumps(key) + ": "
    head, _, tail = text.partition(line + "[]")
    yield head + line
    yield from value
    yield tail


def _items(items: list[Any], depth: int, each: Callable[[Any, int], Iterator[str]]) -> Iterator[str]:
    """The list ``items`` as json.dumps(indent=2) writes it ``depth`` levels deep, each item's text
    from ``each(item, depth + 1)``."""
    if not items:
        yield "[]"
        return
    pad = "\n" + "  " * (depth + 1)
    for i, item in enumerate(items):
        yield ("," if i else "[") + pad
        yield from each(item, depth + 1)
    yield "\n" + "  " * depth + "]"


def _socketio_url(connect: SioConnect | None, bases: dict[str, str]) -> str:
    """The WebSocket URL a Socket.IO connection used (``ws(s)://host/socket.io/?EIO=4&...``)."""
    base = bases.get("socketio") or bases.get("rest") or "http://localhost"
    url = absolute(connect.url if connect and connect.url else "", base, "http")
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("EIO", "transport")
    ]
    query = [("EIO", "4"), ("transport", "websocket"), *query]
    path = parts.path if parts.path.rstrip("/").endswith("socket.io") else "/socket.io/"
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))


def _encode(packet_type: int, data: Any, namespace: str, ack_id: int | None = None) -> str:
    encoded = sio_packet.Packet(packet_type, data=data, namespace=namespace, id=ack_id, binary=False).encode()
    return str(eio_packet.Packet(eio_packet.MESSAGE, data=encoded).encode())


def socketio_as_websocket(frames: Iterable[Frame], bases: dict[str, str]) -> Iterator[Frame]:
    """``frames`` with each Socket.IO connection as a WebSocket carrying its Socket.IO packets,
    as a browser's HAR shows it."""
    opened: set[str] = set()
    for frame in frames:
        if not isinstance(frame, SioConnect | SioEvent | SioAck | SioConnectError | SioDisconnect):
            yield frame
            continue
        conn, ns = frame.conn, frame.namespace
        if conn not in opened:
            opened.add(conn)
            connect = frame if isinstance(frame, SioConnect) else None
            yield WsOpen(frame.t, conn, _socketio_url(connect, bases))
        match frame:
            case SioConnect():
                yield WsText(frame.t, conn, C2S, _encode(sio_packet.CONNECT, frame.auth, ns))
            case SioEvent():
                event = [frame.name, *frame.args]
                yield WsText(
                    frame.t, conn, frame.direction, _encode(sio_packet.EVENT, event, ns, frame.ack_id)
                )
            case SioAck():
                yield WsText(
                    frame.t,
                    conn,
                    frame.direction,
                    _encode(sio_packet.ACK, list(frame.args), ns, frame.ack_id),
                )
            case SioConnectError():
                refusal = frame.data if frame.data is not None else {"message": frame.message}
                yield WsText(frame.t, conn, S2C, _encode(sio_packet.CONNECT_ERROR, refusal, ns))
            case SioDisconnect() if frame.reason in (CLIENT_DISCONNECT, SERVER_DISCONNECT):
                yield WsText(frame.t, conn, frame.direction, _encode(sio_packet.DISCONNECT, None, ns))
            case SioDisconnect():  # the transport went: a close, with the reason
                yield WsClose(frame.t, conn, frame.direction, None, frame.reason)


# --- import ------------------------------------------------------------------------------------


def import_file(
    har: Path,
    out_dir: Path,
    *,
    label: str = "",
    rules: RedactionRules | None = None,
    key: bytes | None = None,
    gzip: bool = False,
    hosts: Iterable[str] = (),
    parsing: Callable[[int], None] | None = None,
    converting: Callable[[int, int], None] | None = None,
    writing: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Write the HAR file ``har`` as a new tape in ``out_dir``, redacted.

    A HAR is one JSON document, parsed whole: ``parsing(size)`` is called with the file's size
    once it is read, before it is parsed; ``converting(done, total)`` now and then with the
    entries and WebSocket messages converted, ``writing(done, total)`` with the frames written.
    """
    try:
        data = har.read_bytes()
        if parsing is not None:
            parsing(len(data))
        document = json.loads(data.decode("utf-8-sig"))
    except FileNotFoundError:
        raise HarError(f"{har}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HarError(f"{har}: cannot read: {exc}") from None
    except ValueError as exc:
        raise HarError(f"{har}: not JSON: {exc}") from None
    try:
        imported = import_har(document, hosts=hosts, progress=converting)
    except HarError as exc:
        raise HarError(f"{har}: {exc}") from None
    frames, notes = socketio_sessions(imported)
    urls = sorted({f.request.url for f in frames if isinstance(f, HttpExchange)})
    hosts_seen = sorted({f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in urls if urlsplit(u).netloc})
    recorded = Recorded(
        apis=(),
        upstreams=tuple((f"url{i}", host) for i, host in enumerate(hosts_seen, 1)),
        label=label or har.stem,
        source="har",
        extra=(("har", har.name),),
    )
    with RecordingSession(
        out_dir, label or "har", recorded, rules=rules, key=key, gzip=gzip, created=imported.start
    ) as session:
        for done, frame in enumerate(frames):
            if writing is not None and done % PROGRESS_EVERY == 0:
                writing(done, len(frames))
            session.write(frame)
        if writing is not None:
            writing(len(frames), len(frames))
    return ImportResult(session.path, dict(session.frames), tuple(imported.notes) + tuple(notes))


def _is_socketio(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path.rstrip("/").endswith("/socket.io") and "EIO" in dict(parse_qsl(parts.query))


class _Session:
    """One Engine.IO session of a browser, in time order, as Socket.IO frames."""

    def __init__(self, conn: str, url: str) -> None:
        self.conn = conn
        self.url = url
        self.packets: list[tuple[float, Direction, str | bytes]] = []
        self.close_reason = ""
        """Why the WebSocket closed, when the HAR says (a harness export does)."""
        self.namespaces: dict[str, str] = {}

    def frames(self, notes: list[str]) -> list[Frame]:
        out: list[Frame] = []
        pending: dict[Direction, sio_packet.Packet] = {}
        connected: set[str] = set()
        last: tuple[float, Direction] | None = None
        for t, direction, raw in sorted(self.packets, key=lambda p: p[0]):
            try:
                engine = eio_packet.Packet(encoded_packet=raw)
                if engine.packet_type == eio_packet.CLOSE:
                    last = (t, direction)
                    continue
                if engine.packet_type != eio_packet.MESSAGE:
                    continue  # open, ping, pong, upgrade, noop: the transport's own business
                waiting = pending.get(direction)
                if waiting is not None and engine.binary:
                    if waiting.add_attachment(engine.data):
                        del pending[direction]
                        out.extend(self._frame(waiting, t, direction, connected))
                    continue
                packet = sio_packet.Packet(encoded_packet=engine.data)
            except (ValueError, TypeError, IndexError, KeyError) as exc:
                notes.append(f"{self.conn}: a Socket.IO packet left out, not decodable ({exc})")
                continue
            if packet.attachment_count:
                pending[direction] = packet
            else:
                out.extend(self._frame(packet, t, direction, connected))
        end_t, end_dir = last if last is not None else (out[-1].t if out else 0.0, S2C)
        reason = self.close_reason or TRANSPORT_CLOSE
        for namespace in sorted(connected):
            out.append(SioDisconnect(end_t, self._conn(namespace), end_dir, reason, namespace))
        return out

    def _conn(self, namespace: str) -> str:
        """The tape's connection id: the session's for its first namespace (the recording proxy
        keeps one connection per namespace too), suffixed for any other."""
        self.namespaces.setdefault(namespace, self.conn if not self.namespaces else f"{self.conn}{namespace}")
        return self.namespaces[namespace]

    def _frame(
        self, packet: sio_packet.Packet, t: float, direction: Direction, connected: set[str]
    ) -> list[Frame]:
        namespace = packet.namespace or "/"
        conn = self._conn(namespace)
        data = jsonable(packet.data)
        kind = packet.packet_type
        if kind == sio_packet.CONNECT:
            if direction is S2C:
                return []  # the server's accept: implied by the events that follow
            connected.add(namespace)
            return [SioConnect(t, conn, namespace, data, self.url)]
        if kind == sio_packet.CONNECT_ERROR:
            connected.discard(namespace)
            message = data.get("message", "") if isinstance(data, dict) else str(data or "")
            return [SioConnectError(t, conn, str(message), data, namespace)]
        if kind == sio_packet.DISCONNECT:
            connected.discard(namespace)
            reason = CLIENT_DISCONNECT if direction is C2S else SERVER_DISCONNECT
            return [SioDisconnect(t, conn, direction, reason, namespace)]
        if kind in (sio_packet.EVENT, sio_packet.BINARY_EVENT) and isinstance(data, list) and data:
            return [SioEvent(t, conn, direction, str(data[0]), tuple(data[1:]), packet.id, namespace)]
        if kind in (sio_packet.ACK, sio_packet.BINARY_ACK) and packet.id is not None:
            args = tuple(data) if isinstance(data, list) else ()
            return [SioAck(t, conn, direction, packet.id, args, namespace)]
        return []


def socketio_sessions(imported: HarImport) -> tuple[list[Frame], list[str]]:
    """The imported frames with every Engine.IO session (polling requests and its WebSocket)
    turned into Socket.IO frames, and notes on what was left out."""
    notes: list[str] = []
    sessions: dict[str, _Session] = {}
    socket_of: dict[str, _Session] = {}
    out: list[Frame] = []
    for frame in imported.frames:
        if isinstance(frame, HttpExchange) and _is_socketio(frame.request.url):
            _polling(frame, sessions, notes)
        elif isinstance(frame, WsOpen) and _is_socketio(frame.url):
            sid = dict(parse_qsl(urlsplit(frame.url).query)).get("sid")
            session = sessions.get(sid) if sid else None
            if session is None:
                session = sessions.setdefault(
                    sid or frame.conn, _Session(f"sio-{len(sessions) + 1}", frame.url)
                )
            socket_of[frame.conn] = session
        elif isinstance(frame, WsText | WsBinary) and frame.conn in socket_of:
            socket_of[frame.conn].packets.append((frame.t, frame.direction, frame.data))
        elif isinstance(frame, WsClose) and frame.conn in socket_of:
            socket_of[frame.conn].packets.append((frame.t, frame.direction, "1"))  # an Engine.IO close
            socket_of[frame.conn].close_reason = frame.reason
        else:
            out.append(frame)
    for session in {id(s): s for s in sessions.values()}.values():
        out.extend(session.frames(notes))
    out.sort(key=lambda f: f.t)
    return out, notes


def _payload(body: bytes, conn: str, notes: list[str]) -> list[eio_packet.Packet]:
    """The Engine.IO packets of a polling body (``ok``, the answer to a POST, has none)."""
    if body in (b"", b"ok"):
        return []
    try:
        return list(eio_payload.Payload(encoded_payload=body.decode("utf-8")).packets)
    except (ValueError, UnicodeDecodeError, IndexError, TypeError) as exc:
        notes.append(f"{conn}: a Socket.IO polling body left out, not decodable ({exc})")
        return []


def _polling(frame: HttpExchange, sessions: dict[str, _Session], notes: list[str]) -> None:
    """An Engine.IO long-polling request: its body's packets (sent) and its answer's (received)."""
    sid = dict(parse_qsl(urlsplit(frame.request.url).query)).get("sid")
    received = frame.t + frame.latency
    sent, answer = (
        _payload(frame.request.body, frame.conn, notes),
        _payload(frame.response.body, frame.conn, notes),
    )
    if sid is None:  # the handshake: the open packet names the session
        opened = next(
            (p for p in answer if p.packet_type == eio_packet.OPEN and isinstance(p.data, dict)), None
        )
        if opened is None:
            notes.append(f"{frame.conn}: a Socket.IO handshake without an open packet left out")
            return
        sid = str(opened.data.get("sid"))
        sessions.setdefault(sid, _Session(f"sio-{len(sessions) + 1}", frame.request.url))
    session = sessions.setdefault(sid, _Session(f"sio-{len(sessions) + 1}", frame.request.url))
    session.packets += [(frame.t, C2S, p.encode()) for p in sent]
    session.packets += [(received, S2C, p.encode()) for p in answer if p.packet_type != eio_packet.OPEN]
