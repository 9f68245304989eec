"""The tape line format: canonical encoding, decoding errors, header versions and migrations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from harness.core import tape
from harness.core.frames import C2S, S2C, HttpExchange, HttpRequest, HttpResponse, SioEvent, WsText
from harness.core.tape import (
    FORMAT_VERSION,
    TapeFormatError,
    decode_frame,
    decode_header,
    decode_line,
    encode_frame,
    encode_header,
    tape_filename,
)
from tests.helpers import header


def test_encoding_is_canonical_sorted_and_compact() -> None:
    line = encode_frame(WsText(t=1.23456789, conn="ws-1", direction=S2C, data="é"))
    assert line == '{"conn":"ws-1","data":"é","dir":"s2c","kind":"text","proto":"ws","t":1.234568}'


def test_binary_body_is_base64_and_text_body_is_text() -> None:
    frame = HttpExchange(
        t=0,
        conn="http-1",
        request=HttpRequest("GET", "/coins/latest"),
        response=HttpResponse(200, (("ETag", 'W/"a"'),), b"\xff\xfe"),
    )
    rec = json.loads(encode_frame(frame))
    assert rec["response"]["body_b64"] == "//4="
    assert rec["request"]["body"] == ""
    assert decode_frame(rec) == frame


def test_header_round_trip_and_fields() -> None:
    h = header(apis=("corto",), label="demo", source="synth", upstreams=(("ws", "wss://x"),))
    rec = json.loads(encode_header(h))
    assert rec["format"] == "harness-tape" and rec["version"] == FORMAT_VERSION
    assert rec["recorded"]["upstreams"] == {"ws": "wss://x"}
    assert decode_header(rec) == h


GOOD_HEADER = {"format": "harness-tape", "version": 1, "created": "2026-01-01T00:00:00Z"}


def test_minimal_header_decodes_with_defaults() -> None:
    decoded = decode_header(GOOD_HEADER)
    assert decoded.recorded.apis == () and decoded.redaction == () and decoded.harness_version == ""


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"format": "other", "version": 1}, "not a harness tape header"),
        ({"format": "harness-tape"}, "no valid format version"),
        (
            {"format": "harness-tape", "version": FORMAT_VERSION + 1, "created": "x"},
            "please upgrade",
        ),
        ({"format": "harness-tape", "version": 1}, "lacks required field 'created'"),
        ({"format": "harness-tape", "version": 1.0, "created": "x"}, "no valid format version"),
        ({"format": "harness-tape", "version": True, "created": "x"}, "no valid format version"),
        ({**GOOD_HEADER, "created": 5}, "'created' must be a string"),
        ({**GOOD_HEADER, "harness": 1}, "'harness' must be a string"),
        ({**GOOD_HEADER, "recorded": []}, "'recorded' must be a JSON object"),
        ({**GOOD_HEADER, "recorded": {"apis": 5}}, "'recorded.apis' must be a list of strings"),
        ({**GOOD_HEADER, "recorded": {"upstreams": {"ws": 5}}}, "'recorded.upstreams.ws' must be a string"),
        ({**GOOD_HEADER, "recorded": {"upstreams": ["x"]}}, "'recorded.upstreams' must be a JSON object"),
        ({**GOOD_HEADER, "recorded": {"extra": 1}}, "'recorded.extra' must be a JSON object"),
        ({**GOOD_HEADER, "redaction": "abc"}, "'redaction' must be a list of strings"),
    ],
)
def test_bad_headers_say_why(record: dict[str, object], message: str) -> None:
    with pytest.raises(TapeFormatError, match=message):
        decode_header(record)


TEXT = {"t": 0, "conn": "c", "proto": "ws", "kind": "text", "dir": "s2c", "data": ""}
EXCHANGE = {
    "t": 0,
    "conn": "h",
    "proto": "http",
    "kind": "exchange",
    "dir": "c2s",
    "request": {"method": "GET", "url": "/", "headers": []},
    "response": {"status": 200, "headers": []},
}


def test_the_good_records_used_below_decode() -> None:
    assert isinstance(decode_frame(TEXT), WsText) and isinstance(decode_frame(EXCHANGE), HttpExchange)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([], "must be a JSON object"),
        ({"t": 0, "conn": "c"}, "lacks required field 'proto'"),
        ({"t": 0, "conn": "c", "proto": "ftp", "kind": "x"}, "unknown protocol 'ftp'"),
        (
            {"t": 0, "conn": "c", "proto": "ws", "kind": "ping"},
            "unknown frame kind 'ping'.*known: binary, close, open, text",
        ),
        (
            {"t": 0, "conn": "c", "proto": "ws", "kind": "text", "dir": "s2c"},
            "lacks required field 'data'",
        ),
        (
            {"t": "0", "conn": "c", "proto": "ws", "kind": "text", "dir": "s2c", "data": ""},
            "'t' must be a number",
        ),
        (
            {"t": 0, "conn": "c", "proto": "ws", "kind": "text", "dir": "up", "data": ""},
            "malformed ws text",
        ),
        (
            {"t": 0, "conn": "c", "proto": "sio", "kind": "ack", "dir": "s2c", "ack_id": "1"},
            "'ack_id' must be an integer",
        ),
        (
            {"t": 0, "conn": "c", "proto": "ws", "kind": "binary", "dir": "s2c", "data_b64": "!!"},
            "malformed ws binary",
        ),
        ({"t": 0, "conn": "c", "proto": "ws", "kind": ["text"]}, "unknown frame kind \\['text'\\]"),
        ({**TEXT, "t": float("inf")}, "'t' must be a finite number of seconds >= 0"),
        ({**TEXT, "t": float("nan")}, "'t' must be a finite number of seconds >= 0"),
        ({**TEXT, "t": -1}, "'t' must be a finite number of seconds >= 0"),
        ({**TEXT, "t": 10**400}, "malformed ws text frame"),
        ({**EXCHANGE, "latency": "1.5"}, "'latency' must be a number"),
        ({**EXCHANGE, "request": []}, "'request' must be a JSON object"),
        ({**EXCHANGE, "dir": "s2c"}, "a http exchange frame is always c2s, got dir 's2c'"),
        (
            {"t": 0, "conn": "c", "proto": "sio", "kind": "connect_error", "dir": "c2s", "message": "x"},
            "always s2c",
        ),
    ],
)
def test_bad_frames_say_why(record: object, message: str) -> None:
    with pytest.raises(TapeFormatError, match=message):
        decode_frame(record)


def test_decode_line_rejects_non_json_and_non_objects() -> None:
    with pytest.raises(TapeFormatError, match="not JSON"):
        decode_line("{nope")
    with pytest.raises(TapeFormatError, match="not JSON: nested too deeply"):
        decode_line('{"args":' + "[" * 100_000)
    with pytest.raises(TapeFormatError, match="not JSON"):
        decode_line(b'{"data": "\xff"}')
    with pytest.raises(TapeFormatError, match="must be a JSON object"):
        decode_line("[1]")


def test_migration_chain_runs_each_step_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # A future format change registers its converter here; the chain runs them in version order.
    monkeypatch.setattr(tape, "FORMAT_VERSION", 3)
    monkeypatch.setattr(
        tape,
        "MIGRATIONS",
        {
            1: lambda r: {**r, "steps": [*r.get("steps", []), 1]},
            2: lambda r: {**r, "steps": [*r.get("steps", []), 2]},
        },
    )
    assert tape.migrate({"x": 1}, 1) == {"x": 1, "steps": [1, 2]}
    assert tape.migrate({"x": 1}, 2) == {"x": 1, "steps": [2]}
    monkeypatch.setattr(tape, "MIGRATIONS", {2: lambda r: r})
    with pytest.raises(TapeFormatError, match="no migration from tape format version 1"):
        tape.migrate({}, 1)


def test_tape_filename_is_utc_stamped_and_label_safe() -> None:
    moment = datetime(2026, 11, 23, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert tape_filename(moment, "pump fun/latest") == "20261123T010405Z-pump-fun-latest.jsonl"
    assert tape_filename(moment.astimezone(UTC), "", gzip=True) == "20261123T010405Z-tape.jsonl.gz"


def test_sio_event_without_ack_id_omits_it() -> None:
    rec = json.loads(encode_frame(SioEvent(t=0, conn="s", direction=C2S, name="subscribe", args=({},))))
    assert "ack_id" not in rec


def test_a_lone_surrogate_from_a_peer_still_makes_a_utf8_line() -> None:
    args = tuple(json.loads('["\\ud800 é", {"k": "\\udfff"}]'))
    frame = SioEvent(t=0, conn="s", direction=S2C, name="trade", args=args)
    line = encode_frame(frame)
    line.encode("utf-8")  # a writer can write it
    assert "\\ud800" in line and decode_frame(decode_line(line.encode("utf-8"))) == frame
    plain = encode_frame(SioEvent(t=0, conn="s", direction=S2C, name="trade", args=("é",)))
    assert "é" in plain, "other lines keep their UTF-8 as is"
