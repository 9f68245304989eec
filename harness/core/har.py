"""HAR 1.2 (HTTP Archive): a tape's HTTP exchanges and WebSocket messages as a HAR, and back.

Owns the mapping between tape frames and HAR entries (http://www.softwareishard.com/blog/har-12-spec/)
with the extension fields browsers write: Chrome's ``_resourceType: "websocket"`` and
``_webSocketMessages`` (``type`` send/receive, ``time`` since the Unix epoch, ``opcode`` 1 text or
2 binary in base64, ``data``), and ``_error`` on an entry that got no response. Chrome's DevTools
writes ``time`` in seconds, Playwright's ``record_har_path`` in milliseconds: an import tells the
unit of each entry from its values and the entry's own start (:func:`message_time_scale`). Close frames, which
Chrome does not export, go in ``_harnessCloses`` so a round trip keeps them.

Pure: values in, values out. Times are computed from the tape's ``created`` and the frames'
``t``; nothing reads a clock or a file (:mod:`harness.recorder.har` does the file I/O, redaction
and the Socket.IO packets inside WebSocket messages).

Export: an exchange is an entry with ``time`` and ``timings.wait`` from its latency, bodies as
text (``encoding: "base64"`` when not UTF-8), cookies parsed from the headers; a WebSocket
connection is one entry (101) holding its messages. Relative URLs (a proxy records paths) are
made absolute with the tape's recorded upstreams. One page stands for the tape: its
``startedDateTime`` is the tape's time 0, which an import reads back.

Import: entries in time order; t = 0 is the earliest page or entry start, to the whole second (a
tape header's ``created`` has seconds). HTTP/2 pseudo-headers (``:authority`` ...) are dropped; an
entry without a response (status 0) is left out with a note, or, for a WebSocket, kept as a
connection the server closed without a status.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from harness.core.frames import (
    C2S,
    S2C,
    Frame,
    Headers,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    TapeHeader,
    WsBinary,
    WsClose,
    WsOpen,
    WsText,
    header_value,
)

HAR_VERSION = "1.2"
PROGRESS_EVERY = 1000
"""Entries (frames, messages) between two calls of a progress callback."""
HTTP_VERSION = "HTTP/1.1"
MESSAGES = "_webSocketMessages"
"""Chrome's extension field that holds a WebSocket entry's messages."""
CLOSES = "_harnessCloses"
"""The extension field that keeps a WebSocket's close frames (Chrome exports none)."""


class HarError(ValueError):
    """Not a HAR, or an entry that cannot be read. The message says where."""


class NameValue(TypedDict):
    name: str
    value: str


class WebSocketMessage(TypedDict):
    type: str
    time: float
    opcode: int
    data: str


@dataclass(frozen=True, slots=True)
class HarImport:
    start: datetime
    """The time t = 0 stands for (UTC, whole seconds): the tape's ``created``."""
    frames: tuple[Frame, ...]
    notes: tuple[str, ...] = ()
    """What was left out, and why."""


# --- export ------------------------------------------------------------------------------------


def tape_start(header: TapeHeader) -> datetime:
    """The moment a tape's t = 0 stands for, from its header."""
    try:
        return datetime.fromisoformat(header.created.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise HarError(f"the tape's creation time {header.created!r} is not an ISO 8601 time") from None


def iso(moment: datetime) -> str:
    """``2026-11-23T01:02:03.456Z``: milliseconds, as browsers write HAR times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def default_bases(header: TapeHeader) -> dict[str, str]:
    """Where relative URLs on a tape point: the recorded upstreams (``rest``, ``websocket``,
    ``socketio`` for a proxy tape), else the first http(s) and ws(s) upstream."""
    upstreams = dict(header.recorded.upstreams)
    bases = {k: v for k, v in upstreams.items() if k in ("rest", "websocket", "socketio")}
    for url in upstreams.values():
        if url.startswith(("http://", "https://")):
            bases.setdefault("rest", url)
        elif url.startswith(("ws://", "wss://")):
            bases.setdefault("websocket", url)
    return bases


def absolute(url: str, base: str | None, default_scheme: str) -> str:
    """``url`` if it is absolute, else joined to ``base``'s scheme and host."""
    if urlsplit(url).scheme:
        return url
    origin = urlsplit(base) if base else urlsplit(f"{default_scheme}://localhost")
    path, _, query = url.partition("?")
    return urlunsplit((origin.scheme, origin.netloc, path or "/", query, ""))


def export_har(
    header: TapeHeader,
    frames: Iterable[Frame],
    *,
    creator_version: str,
    bases: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The HAR 1.2 document of a tape's HTTP exchanges and WebSocket connections."""
    start = tape_start(header)
    bases = default_bases(header) if bases is None else dict(bases)
    entries: list[tuple[float, dict[str, Any]]] = []
    sockets: dict[str, _Socket] = {}
    for frame in frames:
        if isinstance(frame, HttpExchange):
            entries.append((frame.t, _exchange_entry(frame, start, bases.get("rest"))))
        elif isinstance(frame, WsOpen):
            sockets[frame.conn] = _Socket(frame, _socket_entry(frame, start, bases.get("websocket")))
            entries.append((frame.t, sockets[frame.conn].entry))
        elif isinstance(frame, WsText | WsBinary | WsClose) and frame.conn in sockets:
            sockets[frame.conn].add(frame, start)
    for socket in sockets.values():
        socket.finish()
    entries.sort(key=lambda pair: pair[0])
    return {
        "log": {
            "version": HAR_VERSION,
            "creator": {"name": "harness", "version": creator_version},
            "pages": [
                {
                    "startedDateTime": iso(start),
                    "id": "tape",
                    "title": header.recorded.label or "harness tape",
                    "pageTimings": {"onContentLoad": -1, "onLoad": -1},
                }
            ],
            "entries": [entry for _, entry in entries],
            "comment": f"harness tape {header.recorded.label!r} ({header.recorded.source or '?'}), "
            f"created {header.created}",
        }
    }


def _name_values(headers: Headers) -> list[NameValue]:
    return [{"name": k, "value": v} for k, v in headers]


def _cookies(headers: Headers, name: str) -> list[dict[str, Any]]:
    """Cookies as HAR lists them: from ``Cookie`` (request) or each ``Set-Cookie`` (response)."""
    out: list[dict[str, Any]] = []
    for key, value in headers:
        if key.lower() != name:
            continue
        pairs = [value.split(";")[0]] if name == "set-cookie" else value.split(";")
        for pair in pairs:
            cookie, eq, val = pair.strip().partition("=")
            if eq:
                out.append({"name": cookie, "value": val})
    return out


def _content(body: bytes, mime: str) -> dict[str, Any]:
    content: dict[str, Any] = {"size": len(body), "mimeType": mime}
    if body:
        try:
            content["text"] = body.decode("utf-8")
        except UnicodeDecodeError:
            content["text"] = base64.b64encode(body).decode("ascii")
            content["encoding"] = "base64"
    return content


def _exchange_entry(frame: HttpExchange, start: datetime, base: str | None) -> dict[str, Any]:
    request, response = frame.request, frame.response
    url = absolute(request.url, base, "http")
    latency_ms = round(frame.latency * 1000, 3)
    har_request: dict[str, Any] = {
        "method": request.method,
        "url": url,
        "httpVersion": HTTP_VERSION,
        "cookies": _cookies(request.headers, "cookie"),
        "headers": _name_values(request.headers),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, True)],
        "headersSize": -1,
        "bodySize": len(request.body),
    }
    if request.body:
        post = _content(request.body, request.header("Content-Type") or "application/octet-stream")
        har_request["postData"] = {"mimeType": post["mimeType"], "text": post["text"]}
        if "encoding" in post:
            har_request["postData"]["_encoding"] = post["encoding"]
    return {
        "startedDateTime": iso(start + timedelta(seconds=frame.t)),
        "time": latency_ms,
        "request": har_request,
        "response": {
            "status": response.status,
            "statusText": response.reason,
            "httpVersion": HTTP_VERSION,
            "cookies": _cookies(response.headers, "set-cookie"),
            "headers": _name_values(response.headers),
            "content": _content(response.body, response.header("Content-Type") or "x-unknown"),
            "redirectURL": response.header("Location") or "",
            "headersSize": -1,
            "bodySize": len(response.body),
        },
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "send": 0,
            "wait": latency_ms,
            "receive": 0,
            "ssl": -1,
        },
        "connection": frame.conn,
        "pageref": "tape",
    }


def _socket_entry(frame: WsOpen, start: datetime, base: str | None) -> dict[str, Any]:
    url = absolute(frame.url, base, "ws")
    response_headers = (
        [] if frame.subprotocol is None else [{"name": "Sec-WebSocket-Protocol", "value": frame.subprotocol}]
    )
    return {
        "startedDateTime": iso(start + timedelta(seconds=frame.t)),
        "time": 0,
        "request": {
            "method": "GET",
            "url": url,
            "httpVersion": HTTP_VERSION,
            "cookies": _cookies(frame.headers, "cookie"),
            "headers": _name_values(frame.headers),
            "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, True)],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 101,
            "statusText": "Switching Protocols",
            "httpVersion": HTTP_VERSION,
            "cookies": [],
            "headers": response_headers,
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 0, "wait": 0, "receive": 0, "ssl": -1},
        "connection": frame.conn,
        "pageref": "tape",
        "_resourceType": "websocket",
        MESSAGES: [],
    }


class _Socket:
    """A WebSocket entry being filled with its connection's frames."""

    def __init__(self, opened: WsOpen, entry: dict[str, Any]) -> None:
        self.opened = opened
        self.entry = entry
        self.messages: list[WebSocketMessage] = entry[MESSAGES]
        self.closes: list[dict[str, Any]] = []
        self.last = opened.t

    def add(self, frame: WsText | WsBinary | WsClose, start: datetime) -> None:
        when = (start + timedelta(seconds=frame.t)).timestamp()
        kind = "send" if frame.direction is C2S else "receive"
        self.last = frame.t
        if isinstance(frame, WsClose):
            self.closes.append({"type": kind, "time": when, "code": frame.code, "reason": frame.reason})
        elif isinstance(frame, WsText):
            self.messages.append({"type": kind, "time": when, "opcode": 1, "data": frame.data})
        else:
            data = base64.b64encode(frame.data).decode("ascii")
            self.messages.append({"type": kind, "time": when, "opcode": 2, "data": data})

    def finish(self) -> None:
        self.entry["time"] = round((self.last - self.opened.t) * 1000, 3)
        if not self.closes:
            return
        self.entry[CLOSES] = self.closes
        first = self.closes[0]
        if not self.messages and first["type"] == "receive" and first["code"] is None:
            # it never opened (the recording proxy's upstream refused): a failed request, as a
            # browser exports one
            self.entry["response"].update(status=0, statusText="")
            self.entry["_error"] = first["reason"]


# --- import ------------------------------------------------------------------------------------


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HarError(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise HarError(f"{where} must be a list, got {type(value).__name__}")
    return value


def _moment(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise HarError(f"{where} must be an ISO 8601 time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HarError(f"{where} is not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _headers(value: Any, where: str) -> Headers:
    out: list[tuple[str, str]] = []
    for i, item in enumerate(_list(value if value is not None else [], where)):
        pair = _object(item, f"{where}[{i}]")
        name, val = pair.get("name"), pair.get("value")
        if not isinstance(name, str) or not isinstance(val, str):
            raise HarError(f"{where}[{i}] needs a string name and value")
        if not name.startswith(":"):  # HTTP/2 pseudo-headers describe the request line
            out.append((name, val))
    return tuple(out)


def _body(container: dict[str, Any], where: str) -> bytes:
    text = container.get("text")
    if text is None:
        return b""
    if not isinstance(text, str):
        raise HarError(f"{where}.text must be a string")
    if container.get("encoding", container.get("_encoding")) == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise HarError(f"{where}.text is not valid base64") from None
    return text.encode("utf-8", "surrogatepass")


def _number(value: Any, default: float = 0.0) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return default


def import_har(
    har: Any, *, hosts: Iterable[str] = (), progress: Callable[[int, int], None] | None = None
) -> HarImport:
    """The frames of a HAR document (parsed JSON); ``hosts``: keep only entries to these hosts.

    ``progress(done, total)`` is called now and then: entries and WebSocket messages converted."""
    log = _object(_object(har, "the HAR").get("log"), "the HAR's 'log'")
    entries = _list(log.get("entries"), "log.entries")
    wanted = {h.lower() for h in hosts}
    kept: list[tuple[datetime, int, dict[str, Any]]] = []
    notes: list[str] = []
    for index, raw in enumerate(entries):
        where = f"log.entries[{index}]"
        entry = _object(raw, where)
        started = _moment(entry.get("startedDateTime"), f"{where}.startedDateTime")
        url = _object(entry.get("request"), f"{where}.request").get("url")
        if not isinstance(url, str):
            raise HarError(f"{where}.request.url must be a string")
        if wanted and (urlsplit(url).hostname or "").lower() not in wanted:
            continue
        kept.append((started, index, entry))
    moments = [started for started, _, _ in kept]
    for i, page in enumerate(_list(log.get("pages") or [], "log.pages")):
        page_start = _object(page, f"log.pages[{i}]").get("startedDateTime")
        if page_start is not None:
            moments.append(_moment(page_start, f"log.pages[{i}].startedDateTime"))
    start = min(moments, default=datetime(1970, 1, 1, tzinfo=UTC)).replace(microsecond=0)
    frames: list[Frame] = []
    total, done = sum(_weight(entry) for _, _, entry in kept), 0
    if progress is not None:
        progress(0, total)
    for started, index, entry in sorted(kept, key=lambda k: (k[0], k[1])):
        where = f"log.entries[{index}]"
        if entry.get("_resourceType") == "websocket" or MESSAGES in entry:
            frames += _socket_frames(entry, started, start, index, where)
        else:
            exchange = _exchange(entry, started, start, index, where)
            if isinstance(exchange, str):
                notes.append(exchange)
            else:
                frames.append(exchange)
        before, done = done, done + _weight(entry)
        if progress is not None and (done // PROGRESS_EVERY > before // PROGRESS_EVERY or done == total):
            progress(done, total)
    frames.sort(key=lambda f: f.t)
    return HarImport(start, tuple(frames), tuple(notes))


def message_time_scale(times: Iterable[object], started: float) -> float:
    """1.0 when a WebSocket entry's message ``times`` are seconds since the epoch (Chrome's
    DevTools), 1000.0 when they are milliseconds (Playwright): whichever puts the first of them
    nearer the entry's own start ``started`` (epoch seconds). A message comes after its
    connection opened, so the two readings are about 10^12 apart and never both near."""
    first = next((float(t) for t in times if isinstance(t, int | float) and not isinstance(t, bool)), None)
    if first is None:
        return 1.0
    return 1.0 if abs(first - started) <= abs(first / 1000.0 - started) else 1000.0


def _weight(entry: dict[str, Any]) -> int:
    """An entry's share of the work of an import: one, and one per WebSocket message it holds."""
    messages = entry.get(MESSAGES)
    return 1 + (len(messages) if isinstance(messages, list) else 0)


def _offset(moment: datetime, start: datetime) -> float:
    return max(0.0, (moment - start).total_seconds())


def _conn(entry: dict[str, Any], prefix: str, index: int) -> str:
    connection = entry.get("connection")
    return connection if isinstance(connection, str) and connection else f"{prefix}-{index + 1}"


def _exchange(
    entry: dict[str, Any], started: datetime, start: datetime, index: int, where: str
) -> HttpExchange | str:
    request = _object(entry.get("request"), f"{where}.request")
    response = _object(entry.get("response"), f"{where}.response")
    method, url = request.get("method"), request["url"]
    status = response.get("status")
    if not isinstance(method, str):
        raise HarError(f"{where}.request.method must be a string")
    if not isinstance(status, int) or isinstance(status, bool):
        raise HarError(f"{where}.response.status must be an integer")
    if not 100 <= status <= 599:
        error = entry.get("_error") or response.get("_error") or "no response"
        return f"{where} {method} {url}: left out, no response ({error})"
    post = request.get("postData")
    body = _body(_object(post, f"{where}.request.postData"), f"{where}.request.postData") if post else b""
    content = _object(response.get("content") or {}, f"{where}.response.content")
    reason = response.get("statusText", "")
    return HttpExchange(
        t=_offset(started, start),
        conn=_conn(entry, "http", index),
        request=HttpRequest(method, url, _headers(request.get("headers"), f"{where}.request.headers"), body),
        response=HttpResponse(
            status,
            _headers(response.get("headers"), f"{where}.response.headers"),
            _body(content, f"{where}.response.content"),
            reason if isinstance(reason, str) else "",
        ),
        latency=round(_number(entry.get("time")) / 1000, 6),
    )


def _socket_frames(
    entry: dict[str, Any], started: datetime, start: datetime, index: int, where: str
) -> list[Frame]:
    request = _object(entry.get("request"), f"{where}.request")
    response = _object(entry.get("response") or {}, f"{where}.response")
    conn = _conn(entry, "ws", index)
    t0 = _offset(started, start)
    subprotocol = header_value(
        _headers(response.get("headers"), f"{where}.response.headers"), "Sec-WebSocket-Protocol"
    )
    frames: list[Frame] = [
        WsOpen(
            t0,
            conn,
            request["url"],
            _headers(request.get("headers"), f"{where}.request.headers"),
            subprotocol,
        )
    ]
    epoch = start.timestamp()
    messages = _list(entry.get(MESSAGES) or [], f"{where}.{MESSAGES}")
    closes = _list(entry.get(CLOSES) or [], f"{where}.{CLOSES}")
    scale = message_time_scale(
        [m.get("time") for m in (*messages, *closes) if isinstance(m, dict)], started.timestamp()
    )
    for i, raw in enumerate(messages):
        message = _object(raw, f"{where}.{MESSAGES}[{i}]")
        kind, opcode, data = message.get("type"), message.get("opcode"), message.get("data", "")
        if kind not in ("send", "receive") or not isinstance(data, str):
            raise HarError(f"{where}.{MESSAGES}[{i}] needs type send|receive and string data")
        direction = C2S if kind == "send" else S2C
        t = max(t0, round(_number(message.get("time"), epoch * scale) / scale - epoch, 6))
        if opcode == 1:
            frames.append(WsText(t, conn, direction, data))
        elif opcode == 2:
            try:
                frames.append(WsBinary(t, conn, direction, base64.b64decode(data, validate=True)))
            except (binascii.Error, ValueError):
                raise HarError(f"{where}.{MESSAGES}[{i}]: binary data is not base64") from None
    for i, raw in enumerate(closes):
        close = _object(raw, f"{where}.{CLOSES}[{i}]")
        code = close.get("code")
        frames.append(
            WsClose(
                max(t0, round(_number(close.get("time"), epoch * scale) / scale - epoch, 6)),
                conn,
                C2S if close.get("type") == "send" else S2C,
                code if isinstance(code, int) and not isinstance(code, bool) else None,
                str(close.get("reason", "")),
            )
        )
    status = response.get("status")
    if status == 0 and not entry.get(CLOSES):
        # the upgrade failed: the connection ends there, as the recording proxy records it
        frames.append(WsClose(t0, conn, S2C, None, str(entry.get("_error") or "no response")))
    return frames
