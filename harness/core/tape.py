"""The tape format: canonical JSON Lines encoding of a header and frames, and its migrations.

Owns the mapping between :mod:`harness.core.frames` values and the dicts that are one tape line
each (docs/architecture.md "Tape format"; the JSON Schema is ``schemas/tape/tape.json``). Pure: strings and
dicts in, values out. Reading and writing files is :mod:`harness.store`'s job.

Canonical encoding: keys sorted, no insignificant white space, UTF-8 kept as is (``\\u``
escapes only in a line that carries a lone surrogate), ``t`` and ``latency`` rounded to the
microsecond. Bodies and binary payloads are text when they are valid
UTF-8 (``body``) and base64 otherwise (``body_b64``).

Versioning follows mitmproxy's flow files: the format version is independent of the release; a
reader migrates every record of an older tape through a chain of small converters, one per
version step, and refuses a newer tape with a message that says to upgrade.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.core.frames import (
    FRAME_TYPE_BY_KEY,
    Direction,
    Frame,
    Headers,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    JsonValue,
    Protocol,
    Recorded,
    SioAck,
    SioConnect,
    SioConnectError,
    SioDisconnect,
    SioEvent,
    TapeHeader,
    WsBinary,
    WsClose,
    WsOpen,
    WsText,
)

FORMAT_NAME = "harness-tape"
FORMAT_VERSION = 1

Record = dict[str, Any]
Migration = Callable[[Record], Record]

MIGRATIONS: dict[int, Migration] = {}
"""``MIGRATIONS[n]`` turns a version-``n`` record (header or frame) into a version ``n + 1`` one.

Version 1 is the first published format, so the chain is empty today; a format change adds its
converter here and bumps :data:`FORMAT_VERSION`.
"""


class TapeFormatError(ValueError):
    """A line that is not a valid header or frame of the tape format. The message says why."""


# --- header ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TapeLimits:
    """What one tape line may cost before it is decoded (README "Input limits"): its size, and
    an upper bound of the JSON values it holds (its ``[``, ``{`` and ``,`` bytes, counted in one
    pass), so a line of millions of tiny values is refused before it takes gigabytes."""

    line_bytes: int = 64 << 20
    line_values: int = 1_000_000

    def too_many_values(self, line: bytes) -> str | None:
        """Why ``line`` is refused before it is decoded for the values it may hold, or None."""
        if len(line) > self.line_values:
            values = line.count(b",") + line.count(b"[") + line.count(b"{")
            if values > self.line_values:
                return f"a line of more than {self.line_values:,} JSON values (--tape-line-values)"
        return None


def utc_timestamp(moment: datetime) -> str:
    """``2026-11-23T01:02:03Z`` for an aware datetime (converted to UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def tape_filename(moment: datetime, label: str, *, gzip: bool = False) -> str:
    """``<UTC YYYYMMDDTHHMMSSZ>-<label>.jsonl[.gz]``, the label reduced to safe characters."""
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = _LABEL_UNSAFE.sub("-", label).strip("-.") or "tape"
    return f"{stamp}-{safe}.jsonl" + (".gz" if gzip else "")


def encode_header(header: TapeHeader) -> str:
    return _dumps(header_to_record(header))


def header_to_record(header: TapeHeader) -> Record:
    rec = header.recorded
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created": header.created,
        "harness": header.harness_version,
        "recorded": {
            "apis": list(rec.apis),
            "upstreams": dict(rec.upstreams),
            "label": rec.label,
            "source": rec.source,
            "extra": dict(rec.extra),
        },
        "redaction": list(header.redaction),
    }


def is_header_record(obj: object) -> bool:
    return isinstance(obj, dict) and "format" in obj


def header_version(obj: Mapping[str, Any]) -> int:
    """The format version a header record declares; raises for anything that is not our header."""
    if obj.get("format") != FORMAT_NAME:
        raise TapeFormatError(
            f"not a harness tape header (format is {_shown(obj.get('format'))}, expected {FORMAT_NAME!r})"
        )
    version = obj.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise TapeFormatError(f"header has no valid format version (got {_shown(version)})")
    if version > FORMAT_VERSION:
        raise TapeFormatError(
            f"tape format version {version} is newer than this harness understands "
            f"(up to {FORMAT_VERSION}); please upgrade harness"
        )
    return version


def migrate(record: Record, from_version: int) -> Record:
    """Run ``record`` through the migration chain from ``from_version`` to the current version."""
    for version in range(from_version, FORMAT_VERSION):
        step = MIGRATIONS.get(version)
        if step is None:
            raise TapeFormatError(f"no migration from tape format version {version}")
        record = step(record)
    return record


def decode_header(obj: Mapping[str, Any]) -> TapeHeader:
    """A header record (already migrated) as a :class:`TapeHeader`."""
    version = header_version(obj)
    if version != FORMAT_VERSION:
        obj = migrate(dict(obj), version)
    try:
        created = obj["created"]
        if not isinstance(created, str):
            raise TapeFormatError("header field 'created' must be a string")
        recorded = _object(obj.get("recorded", {}), "recorded")
        return TapeHeader(
            created=created,
            harness_version=_str(obj.get("harness", ""), "harness"),
            recorded=Recorded(
                apis=_strings(recorded.get("apis", []), "recorded.apis"),
                upstreams=tuple(
                    sorted(
                        (name, _str(url, f"recorded.upstreams.{name}"))
                        for name, url in _object(recorded.get("upstreams", {}), "recorded.upstreams").items()
                    )
                ),
                label=_str(recorded.get("label", ""), "recorded.label"),
                source=_str(recorded.get("source", ""), "recorded.source"),
                extra=tuple(sorted(_object(recorded.get("extra", {}), "recorded.extra").items())),
            ),
            redaction=_strings(obj.get("redaction", []), "redaction"),
        )
    except KeyError as exc:
        raise TapeFormatError(f"header lacks required field {exc.args[0]!r}") from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise TapeFormatError(f"malformed header: {exc}") from None


# --- frames ------------------------------------------------------------------------------------


def encode_frame(frame: Frame) -> str:
    """One canonical tape line (no newline) for ``frame``."""
    return _dumps(frame_to_record(frame))


def frame_to_record(frame: Frame) -> Record:
    out: Record = {
        "t": _round(frame.t),
        "conn": frame.conn,
        "proto": frame.protocol.value,
        "kind": frame.kind,
        "dir": frame.direction.value,
    }
    match frame:
        case HttpExchange():
            out["request"] = {
                "method": frame.request.method,
                "url": frame.request.url,
                "headers": _headers_out(frame.request.headers),
                **_bytes_out("body", frame.request.body),
            }
            out["response"] = {
                "status": frame.response.status,
                "reason": frame.response.reason,
                "headers": _headers_out(frame.response.headers),
                **_bytes_out("body", frame.response.body),
            }
            out["latency"] = _round(frame.latency)
        case WsOpen():
            out.update(url=frame.url, headers=_headers_out(frame.headers))
            if frame.subprotocol is not None:
                out["subprotocol"] = frame.subprotocol
        case WsText():
            out["data"] = frame.data
        case WsBinary():
            out.update(_bytes_out("data", frame.data))
        case WsClose():
            out.update(code=frame.code, reason=frame.reason)
        case SioConnect():
            out.update(namespace=frame.namespace, auth=frame.auth)
            if frame.url:
                out["url"] = frame.url
        case SioEvent():
            out.update(namespace=frame.namespace, name=frame.name, args=list(frame.args))
            if frame.ack_id is not None:
                out["ack_id"] = frame.ack_id
        case SioAck():
            out.update(namespace=frame.namespace, ack_id=frame.ack_id, args=list(frame.args))
        case SioConnectError():
            out.update(namespace=frame.namespace, message=frame.message, data=frame.data)
        case SioDisconnect():
            out.update(namespace=frame.namespace, reason=frame.reason)
    return out


def decode_frame(obj: object) -> Frame:
    """A frame record (a parsed tape line, already migrated) as a frame value."""
    if not isinstance(obj, dict):
        raise TapeFormatError(f"a frame must be a JSON object, got {type(obj).__name__}")
    try:
        proto = Protocol(obj["proto"])
    except KeyError:
        raise TapeFormatError("frame lacks required field 'proto'") from None
    except ValueError:
        shown = _shown(obj["proto"])
        raise TapeFormatError(f"unknown protocol {shown} (expected one of http, ws, sio)") from None
    kind = obj.get("kind")
    cls = FRAME_TYPE_BY_KEY.get((proto, kind)) if isinstance(kind, str) else None
    if cls is None:
        known = sorted(k for p, k in FRAME_TYPE_BY_KEY if p is proto)
        raise TapeFormatError(
            f"unknown frame kind {_shown(kind)} for protocol {proto.value!r} (known: {', '.join(known)})"
        )
    try:
        frame = _DECODERS[cls](obj)
    except KeyError as exc:
        raise TapeFormatError(f"{proto.value} {kind} frame lacks required field {exc.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError, OverflowError, binascii.Error) as exc:
        raise TapeFormatError(f"malformed {proto.value} {kind} frame: {exc}") from None
    if "dir" in obj and obj["dir"] != frame.direction.value:
        # An exchange, a WebSocket open and a Socket.IO connect come from the client; a
        # connect_error from the server (the schema pins their "dir").
        raise TapeFormatError(
            f"a {proto.value} {kind} frame is always {frame.direction.value}, got dir {_shown(obj['dir'])}"
        )
    return frame


def _common(obj: Record) -> tuple[float, str]:
    t = _seconds(obj["t"], "t")
    conn = obj["conn"]
    if not isinstance(conn, str):
        raise TypeError(f"'conn' must be a string, got {type(conn).__name__}")
    return t, conn


def _decode_exchange(obj: Record) -> Frame:
    t, conn = _common(obj)
    req, resp = _object(obj["request"], "request"), _object(obj["response"], "response")
    return HttpExchange(
        t=t,
        conn=conn,
        request=HttpRequest(
            method=_str(req["method"], "method"),
            url=_str(req["url"], "url"),
            headers=_headers_in(req.get("headers", [])),
            body=_bytes_in("body", req),
        ),
        response=HttpResponse(
            status=_int(resp["status"], "status"),
            reason=_str(resp.get("reason", ""), "reason"),
            headers=_headers_in(resp.get("headers", [])),
            body=_bytes_in("body", resp),
        ),
        latency=_seconds(obj.get("latency", 0.0), "latency"),
    )


def _decode_ws_open(obj: Record) -> Frame:
    t, conn = _common(obj)
    sub = obj.get("subprotocol")
    return WsOpen(
        t=t,
        conn=conn,
        url=_str(obj["url"], "url"),
        headers=_headers_in(obj.get("headers", [])),
        subprotocol=None if sub is None else _str(sub, "subprotocol"),
    )


def _decode_ws_text(obj: Record) -> Frame:
    t, conn = _common(obj)
    return WsText(t=t, conn=conn, direction=_direction(obj), data=_str(obj["data"], "data"))


def _decode_ws_binary(obj: Record) -> Frame:
    t, conn = _common(obj)
    return WsBinary(t=t, conn=conn, direction=_direction(obj), data=_bytes_in("data", obj))


def _decode_ws_close(obj: Record) -> Frame:
    t, conn = _common(obj)
    code = obj.get("code")
    return WsClose(
        t=t,
        conn=conn,
        direction=_direction(obj),
        code=None if code is None else _int(code, "code"),
        reason=_str(obj.get("reason", ""), "reason"),
    )


def _decode_sio_connect(obj: Record) -> Frame:
    t, conn = _common(obj)
    return SioConnect(
        t=t,
        conn=conn,
        namespace=_str(obj.get("namespace", "/"), "namespace"),
        auth=obj.get("auth"),
        url=_str(obj.get("url", ""), "url"),
    )


def _decode_sio_event(obj: Record) -> Frame:
    t, conn = _common(obj)
    ack = obj.get("ack_id")
    return SioEvent(
        t=t,
        conn=conn,
        direction=_direction(obj),
        namespace=_str(obj.get("namespace", "/"), "namespace"),
        name=_str(obj["name"], "name"),
        args=_args(obj.get("args", [])),
        ack_id=None if ack is None else _int(ack, "ack_id"),
    )


def _decode_sio_ack(obj: Record) -> Frame:
    t, conn = _common(obj)
    return SioAck(
        t=t,
        conn=conn,
        direction=_direction(obj),
        namespace=_str(obj.get("namespace", "/"), "namespace"),
        ack_id=_int(obj["ack_id"], "ack_id"),
        args=_args(obj.get("args", [])),
    )


def _decode_sio_connect_error(obj: Record) -> Frame:
    t, conn = _common(obj)
    return SioConnectError(
        t=t,
        conn=conn,
        namespace=_str(obj.get("namespace", "/"), "namespace"),
        message=_str(obj["message"], "message"),
        data=obj.get("data"),
    )


def _decode_sio_disconnect(obj: Record) -> Frame:
    t, conn = _common(obj)
    return SioDisconnect(
        t=t,
        conn=conn,
        direction=_direction(obj),
        namespace=_str(obj.get("namespace", "/"), "namespace"),
        reason=_str(obj.get("reason", ""), "reason"),
    )


_DECODERS: dict[type[Frame], Callable[[Record], Frame]] = {
    HttpExchange: _decode_exchange,
    WsOpen: _decode_ws_open,
    WsText: _decode_ws_text,
    WsBinary: _decode_ws_binary,
    WsClose: _decode_ws_close,
    SioConnect: _decode_sio_connect,
    SioEvent: _decode_sio_event,
    SioAck: _decode_sio_ack,
    SioConnectError: _decode_sio_connect_error,
    SioDisconnect: _decode_sio_disconnect,
}


def decode_line(line: str | bytes, decode: Callable[[str], Any] | None = None) -> Record:
    """Parse one tape line into a record; a line that is not a JSON object raises."""
    try:
        obj = (decode or _decode)(line.decode("utf-8") if isinstance(line, bytes) else line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TapeFormatError(f"not JSON: {exc}") from None
    except RecursionError:
        raise TapeFormatError("not JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise TapeFormatError(f"a tape line must be a JSON object, got {type(obj).__name__}")
    return obj


_NONFINITE = (b"NaN", b"Infinity")


def decode_line_checked(line: bytes) -> tuple[Record, str]:
    """:func:`decode_line`, with every NaN and Infinity (tokens JSON does not have, RFC 8259 6)
    read as null, both among the line's values and in the JSON text it carries (a WebSocket
    text frame, a body); the second item says where there were some (empty: none). Checked only
    in lines that hold such a token's letters, so other lines cost one byte search."""
    if not any(token in line for token in _NONFINITE):
        return decode_line(line), ""
    seen: list[str] = []

    def constant(name: str) -> None:
        seen.append(name)

    record = decode_line(line, json.JSONDecoder(parse_constant=constant).decode)
    where = ["its values"] if seen else []
    for place, holder, key in _carried_texts(record):
        text = holder[key]
        if not any(token in text for token in ("NaN", "Infinity")):
            continue
        fixed = _null_nonfinite(text)
        if fixed is not None:
            holder[key] = fixed
            where.append(place)
    if not where:
        return record, ""
    return record, " and ".join(where)


def _carried_texts(record: Record) -> list[tuple[str, Record, str]]:
    """``(what, holder, key)`` of the JSON texts a frame record carries as strings."""
    out: list[tuple[str, Record, str]] = []
    if isinstance(record.get("data"), str) and record.get("kind") == "text":
        out.append(("the text frame", record, "data"))
    for side in ("request", "response"):
        part = record.get(side)
        if isinstance(part, dict) and isinstance(part.get("body"), str):
            out.append((f"the {side} body", part, "body"))
    return out


def _null_nonfinite(text: str) -> str | None:
    """``text`` re-encoded with null for NaN and Infinity, when it is JSON but for them."""
    try:
        json.loads(text, parse_constant=_refuse)
        return None  # strict JSON already (the letters were inside a string)
    except ValueError:
        pass
    except RecursionError:
        return None
    try:
        value = json.loads(text, parse_constant=lambda name: None)
    except (ValueError, RecursionError):
        return None  # not JSON at all: reported as such where it is checked
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _refuse(name: str) -> None:
    raise ValueError(name)


# --- helpers -----------------------------------------------------------------------------------


_decode = json.JSONDecoder().decode
_PROTOCOLS = {p.value: p for p in Protocol}
_DIRECTIONS = {d.value: d for d in Direction}


def _direction(obj: Record) -> Direction:
    value = obj["dir"]
    direction = _DIRECTIONS.get(value) if isinstance(value, str) else None
    if direction is None:
        raise ValueError(f"'dir' must be c2s or s2c, got {_shown(value)}")
    return direction


def _dumps(obj: Record) -> str:
    line = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (a peer's JSON "\ud800" decodes to one) cannot be UTF-8: this line keeps
        # every non-ASCII character escaped instead, and still decodes to the same values.
        line = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return line


def _round(value: float) -> float:
    return round(float(value), 6)


def _shown(value: object) -> str:
    """A wrong value as an error shows it: short names in full, anything longer cut (an error about
    a tape line must not print a secret or a megabyte that the line held)."""
    text = repr(value)
    return text if len(text) <= 24 else f"a {type(value).__name__} of {len(text)} characters"


def _headers_out(headers: Headers) -> list[list[str]]:
    return [[k, v] for k, v in headers]


def _headers_in(raw: JsonValue) -> Headers:
    if not isinstance(raw, list):
        raise TypeError("headers must be a list of [name, value] pairs")
    out: list[tuple[str, str]] = []
    for i, pair in enumerate(raw):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise TypeError(f"header {i} is not a [name, value] pair of strings")
        out.append((pair[0], pair[1]))
    return tuple(out)


def _bytes_out(name: str, data: bytes) -> Record:
    try:
        return {name: data.decode("utf-8")}
    except UnicodeDecodeError:
        return {f"{name}_b64": base64.b64encode(data).decode("ascii")}


def _bytes_in(name: str, obj: Mapping[str, Any]) -> bytes:
    if f"{name}_b64" in obj:
        return base64.b64decode(_str(obj[f"{name}_b64"], f"{name}_b64"), validate=True)
    return _str(obj.get(name, ""), name).encode("utf-8")


def _args(raw: JsonValue) -> tuple[JsonValue, ...]:
    if not isinstance(raw, list):
        raise TypeError(f"'args' must be a list, got {type(raw).__name__}")
    return tuple(raw)


def _seconds(value: JsonValue, name: str) -> float:
    """A time or duration: a finite, non-negative number of seconds."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"{name!r} must be a number, got {type(value).__name__}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name!r} must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def _object(value: JsonValue, name: str) -> Record:
    if not isinstance(value, dict):
        raise TypeError(f"{name!r} must be a JSON object, got {type(value).__name__}")
    return value


def _strings(value: JsonValue, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name!r} must be a list of strings, got {type(value).__name__}")
    return tuple(value)


def _str(value: JsonValue, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name!r} must be a string, got {type(value).__name__}")
    return value


def _int(value: JsonValue, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name!r} must be an integer, got {type(value).__name__}")
    return value
