"""``harness har``: a browser's HAR (Chrome DevTools, with ``_webSocketMessages`` and a Socket.IO
session over polling then WebSocket) becomes a redacted tape that replays; a tape exports as HAR
1.2 and comes back with every HTTP exchange, WebSocket message and Socket.IO frame."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import requests
import socketio
import websockets
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.frames import (
    C2S,
    S2C,
    Frame,
    HttpExchange,
    HttpRequest,
    HttpResponse,
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
from harness.core.har import HarError, export_har, import_har
from harness.recorder.har import har_text
from harness.server.app import MockServer
from harness.store import dump_tape, read_tape
from harness.strategies.frames import header_values, json_scalars
from tests.credentials import API_KEY, BEARER, COOKIE, CREDENTIALS, QUERY_KEY, QUERY_TOKEN
from tests.helpers import ROOT, run_cli, run_cli_on_terminal

CHROME_HAR = Path(__file__).parent / "fixtures" / "chrome-pump.har"
POOL = "F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Z"

HAR_1_2 = {
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {"type": "object", "required": ["name", "version"]},
                "pages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["startedDateTime", "id", "title", "pageTimings"],
                    },
                },
                "entries": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
            },
        }
    },
    "$defs": {
        "nameValues": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
            },
        },
        "entry": {
            "type": "object",
            "required": ["startedDateTime", "time", "request", "response", "cache", "timings"],
            "properties": {
                "startedDateTime": {
                    "type": "string",
                    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$",
                },
                "time": {"type": "number", "minimum": 0},
                "request": {
                    "type": "object",
                    "required": [
                        "method",
                        "url",
                        "httpVersion",
                        "cookies",
                        "headers",
                        "queryString",
                        "headersSize",
                        "bodySize",
                    ],
                    "properties": {
                        "headers": {"$ref": "#/$defs/nameValues"},
                        "queryString": {"$ref": "#/$defs/nameValues"},
                        "postData": {"type": "object", "required": ["mimeType", "text"]},
                    },
                },
                "response": {
                    "type": "object",
                    "required": [
                        "status",
                        "statusText",
                        "httpVersion",
                        "cookies",
                        "headers",
                        "content",
                        "redirectURL",
                        "headersSize",
                        "bodySize",
                    ],
                    "properties": {
                        "headers": {"$ref": "#/$defs/nameValues"},
                        "content": {"type": "object", "required": ["size", "mimeType"]},
                    },
                },
                "timings": {
                    "type": "object",
                    "required": ["send", "wait", "receive"],
                    "properties": {
                        "send": {"type": "number", "minimum": 0},
                        "wait": {"type": "number", "minimum": 0},
                        "receive": {"type": "number", "minimum": 0},
                    },
                },
                "_webSocketMessages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "time", "opcode", "data"],
                        "properties": {
                            "type": {"enum": ["send", "receive"]},
                            "time": {"type": "number"},
                            "opcode": {"enum": [1, 2]},
                            "data": {"type": "string"},
                        },
                    },
                },
            },
        },
    },
}
"""What HAR 1.2 requires of a file (softwareishard.com/blog/har-12-spec) and Chrome's WebSocket
messages, as a JSON Schema."""


def test_a_chrome_har_imports_as_a_redacted_tape(tmp_path: Path) -> None:
    given = CHROME_HAR.read_text()
    assert all(secret in given for secret in CREDENTIALS), "the fixture holds every kind of credential"
    out = run_cli("har", "import", str(CHROME_HAR), "--out", str(tmp_path), "--label", "browser")
    assert out.returncode == 0, out.stderr
    assert out.stderr == "", "no progress drawn into a pipe"
    (tape,) = tmp_path.iterdir()
    assert tape.name == "20261123T020000Z-browser.jsonl" and str(tape) in out.stdout
    assert "22 frames (http 4, sio 8, ws 10)" in out.stdout
    assert "trades/latest: left out, no response (net::ERR_CONNECTION_RESET)" in out.stdout
    header, frames = read_tape(tape)
    assert header.created == "2026-11-23T02:00:00Z" and header.recorded.source == "har"

    exchanges = [f for f in frames if isinstance(f, HttpExchange)]
    assert [(urlsplit(e.request.url).path, e.response.status) for e in exchanges] == [
        ("/favicon.png", 200),
        ("/coins/latest", 200),
        ("/coins/latest", 304),
        ("/sol-price", 200),
    ]
    favicon, latest, not_modified, price = exchanges
    assert favicon.response.body.startswith(b"\x89PNG"), "a base64 body is decoded"
    assert (latest.t, latest.latency) == (0.412, 0.087412), "t from startedDateTime, latency from time"
    assert latest.request.header("authorization").startswith("Bearer REDACTED-")
    assert latest.request.header("cookie").startswith("session=REDACTED-")
    assert latest.response.header("set-cookie").startswith("session=REDACTED-")
    assert not any(name.startswith(":") for name, _ in latest.request.headers), "no HTTP/2 pseudo-headers"
    assert json.loads(latest.response.body)["name"] and latest.response.header("etag").startswith('W/"')
    assert not_modified.request.header("if-none-match") == latest.response.header("etag")
    assert "api_key=REDACTED-" in price.request.url

    opened = next(f for f in frames if isinstance(f, WsOpen))
    assert opened.url.startswith("wss://corto.fun/data-stream?token=REDACTED-")
    corto = [f for f in frames if isinstance(f, WsText | WsBinary)]
    assert [(f.direction, type(f).__name__) for f in corto][:3] == [
        (S2C, "WsText"),
        (C2S, "WsText"),
        (S2C, "WsText"),
    ]
    assert json.loads(corto[0].data)["name"] == "handshake" and corto[0].t == 1.104
    assert isinstance(corto[-1], WsBinary) and corto[-1].data == b"\x00\x01\x02binary"

    sio = [f for f in frames if f.protocol.value == "sio"]
    assert [type(f).__name__ for f in sio] == [
        "SioConnect",
        "SioEvent",
        "SioAck",
        "SioEvent",
        "SioAck",
        "SioEvent",
        "SioEvent",
        "SioDisconnect",
    ]
    connect = sio[0]
    assert isinstance(connect, SioConnect) and connect.auth["api_key"].startswith("REDACTED-")
    assert connect.t == 2.07, "the connect packet went in a polling POST"
    subscribe, ack = sio[1], sio[2]
    assert isinstance(subscribe, SioEvent) and isinstance(ack, SioAck)
    assert (subscribe.name, subscribe.ack_id, ack.ack_id) == ("subscribe_trades", 0, 0)
    assert ack.args[0]["room"] == f"trades:{POOL}"
    assert isinstance(sio[-1], SioDisconnect) and sio[-1].reason == "client disconnect"


async def test_a_browser_recording_replays(tmp_path: Path) -> None:
    run_cli("har", "import", str(CHROME_HAR), "--out", str(tmp_path / "tapes"))
    (tape,) = (tmp_path / "tapes").iterdir()
    _, frames = read_tape(tape)
    recorded_events = [json.loads(f.data) for f in frames if isinstance(f, WsText) and "txType" in f.data]
    async with MockServer([tape], manual=True, port=0) as server:
        latest = await asyncio.to_thread(requests.get, server.urls["rest"] + "/coins/latest", timeout=5)
        sio = socketio.AsyncClient(reconnection=False)
        trades: list[Any] = []
        sio.on("trade", trades.append)
        await sio.connect(server.urls["socketio"], auth={"api_key": API_KEY}, transports=["websocket"])
        assert (await sio.call("subscribe_trades", {"pool": POOL}))["ok"] is True
        async with websockets.connect(server.urls["websocket"]) as ws:
            await ws.recv()
            await ws.send('{"type":"subscribe","mode":"all"}')
            await ws.recv()
            await server.advance(10)
            events = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in recorded_events]
        for _ in range(200):
            if len(trades) == 2:
                break
            await asyncio.sleep(0.01)
        await sio.disconnect()
    assert latest.status_code == 200 and latest.json()["name"]
    assert events == recorded_events and len(events) == 3
    assert [t["pool"] for t in trades] == [POOL, POOL]


def test_import_keeps_only_the_hosts_asked_for(tmp_path: Path) -> None:
    out = run_cli(
        "har", "import", str(CHROME_HAR), "--out", str(tmp_path), "--host", "frontend-api-v3.pump.fun"
    )
    assert out.returncode == 0, out.stderr
    (tape,) = tmp_path.iterdir()
    _, frames = read_tape(tape)
    assert {urlsplit(f.request.url).hostname for f in frames if isinstance(f, HttpExchange)} == {
        "frontend-api-v3.pump.fun"
    }
    assert all(isinstance(f, HttpExchange) for f in frames) and len(frames) == 3


def test_bad_har_files_are_one_line_errors(tmp_path: Path) -> None:
    given = tmp_path / "given"
    given.mkdir()
    cases = {
        "not-json.har": ("{", "not JSON"),
        "no-log.har": ('{"entries": []}', "the HAR's 'log' must be a JSON object"),
        "bad-time.har": (
            '{"log": {"entries": [{"startedDateTime": "yesterday", "request": {"url": "x"}}]}}',
            "log.entries[0].startedDateTime is not an ISO 8601 time",
        ),
        "bad-ws.har": (
            json.dumps(
                {
                    "log": {
                        "entries": [
                            {
                                "startedDateTime": "2026-01-01T00:00:00Z",
                                "_resourceType": "websocket",
                                "request": {"url": "wss://x/y"},
                                "response": {"status": 101},
                                "_webSocketMessages": [{"type": "sideways", "data": "x"}],
                            }
                        ]
                    }
                }
            ),
            "log.entries[0]._webSocketMessages[0] needs type send|receive",
        ),
    }
    for name, (text, message) in cases.items():
        (given / name).write_text(text)
        out = run_cli("har", "import", str(given / name), "--out", str(tmp_path / "tapes"))
        assert out.returncode == 2 and message in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert not (tmp_path / "tapes").exists(), "no tape is started for a file that is not a HAR"
    out = run_cli("har", "export", str(tmp_path / "missing.jsonl"))
    assert out.returncode == 2 and "no such file" in out.stderr


def test_export_and_import_show_their_progress_on_a_terminal(tmp_path: Path) -> None:
    """Each stage draws on a terminal (stderr) as it starts, however short: reading the tape (its
    bytes, and the entries met) and writing the HAR; parsing the HAR, converting its entries and
    messages, writing the tape. The line is blanked before the report is printed."""
    har = tmp_path / "corto.har"
    out, shown = run_cli_on_terminal("har", "export", str(ROOT / "fixtures/demo/corto.jsonl"), "-o", str(har))
    assert out.returncode == 0 and out.stdout.startswith(
        f"{har}  1 entry (0 HTTP exchanges, 1 WebSocket connection with"
    ), out.stdout
    assert b"\rreading corto.jsonl [------------------------]   0.0% 0 B of 827.0 KB" in shown
    assert re.search(rb"of 827.0 KB +[\d.]+s  0 entries\r", shown)
    assert b"\rwriting corto.har [------------------------]   0.0% 0 of 777 entries and messages" in shown
    assert shown.endswith(b"\r") and "entries and messages" not in out.stdout

    out, shown = run_cli_on_terminal("har", "import", str(har), "--out", str(tmp_path / "tapes"))
    assert out.returncode == 0 and "  777 frames (ws 777)" in out.stdout, out.stdout
    assert b"\rparsing corto.har 877.5 KB" in shown
    assert b"\rconverting corto.har [------------------------]   0.0% 0 of 777 entries and messages" in shown
    assert b"\rwriting the tape [------------------------]   0.0% 0 of 777 frames" in shown
    assert shown.endswith(b"\r")


def every_kind_of_frame() -> list[Frame]:
    """A proxy tape's worth of frames: every HTTP, WebSocket and Socket.IO frame kind."""
    json_headers = (("Content-Type", "application/json"), ("ETag", 'W/"a1"'), ("x-ratelimit-remaining", "7"))
    return [
        HttpExchange(
            0.1,
            "http-1",
            HttpRequest(
                "GET", "/coins/latest?limit=2", (("Authorization", "Bearer REDACTED-0123456789abcdef"),)
            ),
            HttpResponse(200, json_headers, b'{"name":"first"}', "OK"),
            0.012345,
        ),
        HttpExchange(
            0.2,
            "http-2",
            HttpRequest("GET", "/coins/latest", (("If-None-Match", 'W/"a1"'),)),
            HttpResponse(304, (("ETag", 'W/"a1"'),), b"", "Not Modified"),
            0.004,
        ),
        HttpExchange(
            0.3,
            "http-3",
            HttpRequest("POST", "/upload", (("Content-Type", "application/octet-stream"),), b"\x00\xffraw"),
            HttpResponse(
                502, (("X-Harness-Upstream-Error", "refused"),), b"\xfe\xff binary answer", "Bad Gateway"
            ),
            0.5,
        ),
        WsOpen(0.4, "ws-1", "/data-stream?x=1", (("User-Agent", "t"),), "corto.v1"),
        WsText(0.45, "ws-1", S2C, '{"type":"service","name":"handshake"}'),
        WsText(0.5, "ws-1", C2S, '{"type":"subscribe","mode":"all"}'),
        WsBinary(0.55, "ws-1", S2C, b"\x00\x01"),
        WsClose(0.6, "ws-1", C2S, 4000, "bye"),
        WsClose(0.601, "ws-1", S2C, 1000, ""),
        WsOpen(0.7, "ws-2", "/data-stream", ()),
        WsClose(0.7, "ws-2", S2C, None, "upstream refused: ConnectionRefusedError: [Errno 111]"),
        SioConnect(
            1.0,
            "sio-1",
            "/",
            {"api_key": "REDACTED-0123456789abcdef"},
            "/socket.io/?EIO=4&transport=websocket",
        ),
        SioEvent(1.1, "sio-1", C2S, "subscribe_trades", ({"pool": POOL},), 0),
        SioAck(1.2, "sio-1", S2C, 0, ({"ok": True, "pool": POOL},)),
        SioEvent(1.3, "sio-1", S2C, "trade", ({"pool": POOL, "price": 4.5e-08, "n": [1, None, "x"]},)),
        SioEvent(1.4, "sio-1", S2C, "question", ({"q": 1}, "two"), 7),
        SioAck(1.5, "sio-1", C2S, 7, ({"yes": True},)),
        SioEvent(1.55, "sio-1", C2S, "no_args", ()),
        SioDisconnect(1.6, "sio-1", S2C, "transport close"),
        SioConnect(2.0, "sio-2", "/admin", None, "/socket.io/?EIO=4&transport=websocket"),
        SioConnectError(
            2.1, "sio-2", "invalid api_key", {"message": "invalid api_key", "data": {"code": 4401}}, "/admin"
        ),
        SioConnect(
            3.0,
            "sio-3",
            "/",
            {"api_key": "REDACTED-0123456789abcdef"},
            "/socket.io/?EIO=4&transport=websocket",
        ),
        SioEvent(3.1, "sio-3", C2S, "echo", ({"_binary_b64": "AP8="},), 0),
        SioDisconnect(3.2, "sio-3", C2S, "client disconnect"),
    ]


def _normal(frame: Frame) -> Frame:
    """A frame as a round trip through HAR keeps it: URLs without scheme and host, t in ms."""
    frame = dataclasses.replace(frame, t=round(frame.t, 3))
    if isinstance(frame, HttpExchange):
        parts = urlsplit(frame.request.url)
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        return dataclasses.replace(frame, request=dataclasses.replace(frame.request, url=url))
    if isinstance(frame, WsOpen | SioConnect):
        parts = urlsplit(frame.url)
        query = "&".join(q for q in parts.query.split("&") if q and not q.startswith(("EIO=", "transport=")))
        return dataclasses.replace(frame, url=parts.path + (f"?{query}" if query else ""))
    return frame


def test_tape_to_har_to_tape_keeps_every_exchange_message_and_socketio_frame(tmp_path: Path) -> None:
    header = TapeHeader(
        created="2026-11-23T02:00:00Z",
        harness_version="test",
        recorded=Recorded(
            upstreams=(
                ("rest", "https://frontend-api-v3.pump.fun"),
                ("socketio", "https://api.pumpdata.fun"),
                ("websocket", "wss://corto.fun/data-stream"),
            ),
            label="all kinds",
            source="proxy",
        ),
    )
    original = every_kind_of_frame()
    tape = dump_tape(tmp_path / "tape.jsonl", header, original)
    out = run_cli("har", "export", str(tape))
    assert out.returncode == 0 and out.stderr == "", out.stderr
    har_path = tmp_path / "tape.har"
    assert f"{har_path}  8 entries (3 HTTP exchanges, 5 WebSocket connections with 15 messages)" in out.stdout
    har = json.loads(har_path.read_text())
    assert har_path.read_text() == json.dumps(har, indent=2, ensure_ascii=False) + "\n", "as browsers indent"
    jsonschema.validate(har, HAR_1_2)
    entries = har["log"]["entries"]
    assert entries[0]["request"]["url"] == "https://frontend-api-v3.pump.fun/coins/latest?limit=2"
    assert entries[0]["timings"]["wait"] == 12.345 and entries[0]["time"] == 12.345
    assert entries[0]["startedDateTime"] == "2026-11-23T02:00:00.100Z"
    assert entries[2]["response"]["content"]["encoding"] == "base64"
    corto = entries[3]
    assert (
        corto["_resourceType"] == "websocket" and corto["request"]["url"] == "wss://corto.fun/data-stream?x=1"
    )
    assert corto["_webSocketMessages"][0] == {
        "type": "receive",
        "time": 1795399200.45,
        "opcode": 1,
        "data": '{"type":"service","name":"handshake"}',
    }
    assert corto["_webSocketMessages"][2]["opcode"] == 2 and corto["_webSocketMessages"][2]["data"] == "AAE="
    refused = entries[4]
    assert refused["response"]["status"] == 0 and refused["_error"].startswith("upstream refused")
    pumpdata = entries[5]
    assert pumpdata["request"]["url"] == "wss://api.pumpdata.fun/socket.io/?EIO=4&transport=websocket"
    assert [m["data"] for m in pumpdata["_webSocketMessages"]][:3] == [
        '40{"api_key":"REDACTED-0123456789abcdef"}',
        f'420["subscribe_trades",{{"pool":"{POOL}"}}]',
        f'430[{{"ok":true,"pool":"{POOL}"}}]',
    ]

    back = tmp_path / "back"
    out = run_cli("har", "import", str(har_path), "--out", str(back))
    assert out.returncode == 0, out.stderr
    (again,) = back.iterdir()
    _, frames = read_tape(again)
    assert [_normal(f) for f in frames] == [_normal(f) for f in original]


def test_progress_counts_bytes_and_entries_on_export_and_entries_and_messages_on_import(
    tmp_path: Path,
) -> None:
    """What the bars are fed: the gzip file's (compressed) bytes read and the entries met so far,
    rising to the file's size and the HAR's entry count; then the entries and WebSocket messages
    written, converted back, and the frames written to the new tape."""
    from harness.recorder.har import export_file, import_file

    frames = [
        dataclasses.replace(f, t=f.t + 10 * i, conn=f"{f.conn}-{i}")
        for i in range(100)
        for f in every_kind_of_frame()
    ]
    header = TapeHeader(created="2026-11-23T02:00:00Z", harness_version="t", recorded=Recorded())
    tape = dump_tape(tmp_path / "big.jsonl.gz", header, frames)
    read: list[tuple[int, int, int]] = []
    written: list[tuple[int, int]] = []
    exported = export_file(tape, reading=lambda *a: read.append(a), writing=lambda *a: written.append(a))
    size = tape.stat().st_size
    assert read[0] == (0, size, 0) and read[-1] == (size, size, 800) and exported.entries == 800
    assert len(read) == 2 + len(frames) // 1000, "every thousand frames"
    assert [r[0] for r in read] == sorted({r[0] for r in read}) and all(0 < r[0] < size for r in read[1:-1])
    assert [r[2] for r in read] == sorted(r[2] for r in read)
    total = exported.entries + exported.messages
    assert written[0] == (0, total) and written[-1] == (total, total) and len(written) == 2 + total // 1000

    steps: dict[str, list[tuple[int, ...]]] = {"parsing": [], "converting": [], "writing": []}
    imported = import_file(
        exported.path,
        tmp_path / "back",
        parsing=lambda *a: steps["parsing"].append(a),
        converting=lambda *a: steps["converting"].append(a),
        writing=lambda *a: steps["writing"].append(a),
    )
    assert steps["parsing"] == [(exported.path.stat().st_size,)]
    assert steps["converting"][0] == (0, total) and steps["converting"][-1] == (total, total)
    assert len(steps["converting"]) > 2, "now and then, not only at the ends"
    count = sum(imported.frames.values())
    assert steps["writing"][0] == (0, count) and steps["writing"][-1] == (count, count)
    assert len(steps["writing"]) == 2 + (count - 1) // 1000


# A property: any HTTP exchanges and any WebSocket conversation survive the round trip.

bodies = st.binary(max_size=30) | st.text(max_size=30).map(lambda s: s.encode("utf-8", "surrogatepass"))
names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,12}\Z")
pairs = st.lists(st.tuples(names, header_values), max_size=3).map(tuple)


@st.composite
def conversations(draw: st.DrawFn) -> list[Frame]:
    frames: list[Frame] = []
    t = 0.0
    for i in range(draw(st.integers(0, 4))):
        t += draw(st.integers(1, 5000)) / 1000
        frames.append(
            HttpExchange(
                t,
                f"http-{i}",
                HttpRequest(
                    draw(st.sampled_from(["GET", "POST", "DELETE"])), "/p" + str(i), draw(pairs), draw(bodies)
                ),
                HttpResponse(
                    draw(st.integers(100, 599)), draw(pairs), draw(bodies), draw(st.sampled_from(["", "OK"]))
                ),
                draw(st.integers(0, 10**6)) / 10**6,
            )
        )
    t += 0.001
    frames.append(WsOpen(t, "ws-1", "/data-stream", draw(pairs)))
    for _ in range(draw(st.integers(0, 6))):
        t += draw(st.integers(1, 3000)) / 1000
        direction = draw(st.sampled_from([C2S, S2C]))
        text = json.dumps(draw(json_scalars))
        frames.append(
            draw(
                st.sampled_from(
                    [WsText(t, "ws-1", direction, text), WsBinary(t, "ws-1", direction, text.encode())]
                )
            )
        )
    return frames


@settings(max_examples=60, deadline=None)
@given(conversations())
def test_any_exchanges_and_messages_survive_a_round_trip(frames: list[Frame]) -> None:
    header = TapeHeader(
        created="2026-01-02T03:04:05Z",
        harness_version="t",
        recorded=Recorded(upstreams=(("rest", "https://h"),)),
    )
    back = import_har(json.loads(json.dumps(export_har(header, frames, creator_version="t"))))
    assert back.start.isoformat() == "2026-01-02T03:04:05+00:00"
    assert [_normal(f) for f in back.frames] == [_normal(f) for f in frames]


@settings(max_examples=60, deadline=None)
@given(conversations() | st.just([]), st.text())
def test_the_har_is_written_as_json_dumps_would_write_it_whole(frames: list[Frame], label: str) -> None:
    """Written an entry and a message at a time, the file is still exactly json.dumps(indent=2)
    of the whole HAR (a label holding newlines or '"entries": []' included)."""
    header = TapeHeader(
        created="2026-01-02T03:04:05Z",
        harness_version="t",
        recorded=Recorded(label=label + '\n"entries": []'),
    )
    document = export_har(header, frames, creator_version="t")
    calls: list[tuple[int, int]] = []
    text = "".join(har_text(document, lambda done, total: calls.append((done, total))))
    assert text == json.dumps(document, indent=2, ensure_ascii=False)
    entries = document["log"]["entries"]
    total = len(entries) + sum(len(e.get("_webSocketMessages", ())) for e in entries)
    assert calls[0] == (0, total) and calls[-1] == (total, total)


@pytest.mark.parametrize(
    ("document", "message"),
    [([], "the HAR must be a JSON object"), ({"log": {"entries": {}}}, "log.entries must be a list")],
)
def test_the_core_refuses_what_is_not_a_har(document: Any, message: str) -> None:
    with pytest.raises(HarError, match=message):
        import_har(document)


def test_the_scan_covers_exported_har_files(tmp_path: Path) -> None:
    """A HAR export is scanned like a tape: the fixture's credentials would be found in one."""
    from tests.credentials import credentials_in

    copy = tmp_path / "given" / "copy.har"
    copy.parent.mkdir()
    shutil.copy(CHROME_HAR, copy)
    assert set(credentials_in(copy)) == {BEARER, API_KEY, QUERY_KEY, QUERY_TOKEN, COOKIE}


def _browser_har(unit: float) -> dict[str, Any]:
    """A HAR of one page and one corto.fun WebSocket as a browser writes it: message ``time`` in
    seconds since the epoch (Chrome's DevTools, ``unit`` 1) or milliseconds (Playwright's
    ``record_har_path``, ``unit`` 1000). The page loads at 2026-11-23T02:00:00Z; the socket opens
    0.9 s later and its messages come at 1.2 s and 1.5 s."""
    page = 1795399200.0
    messages = [
        {"type": "receive", "time": (page + 1.2) * unit, "opcode": 1, "data": '{"type":"service"}'},
        {
            "type": "send",
            "time": (page + 1.5) * unit,
            "opcode": 1,
            "data": '{"type":"subscribe","mode":"trades"}',
        },
    ]
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "Playwright" if unit == 1000 else "WebInspector", "version": "1"},
            "pages": [{"startedDateTime": "2026-11-23T02:00:00.000Z", "id": "page@1", "title": "x"}],
            "entries": [
                {
                    "startedDateTime": "2026-11-23T02:00:00.900Z",
                    "time": 600.0,
                    "_resourceType": "websocket",
                    "request": {
                        "method": "GET",
                        "url": "wss://corto.fun/data-stream",
                        "httpVersion": "HTTP/1.1",
                        "headers": [],
                        "queryString": [],
                        "cookies": [],
                        "headersSize": -1,
                        "bodySize": 0,
                    },
                    "response": {
                        "status": 101,
                        "statusText": "Switching Protocols",
                        "httpVersion": "HTTP/1.1",
                        "headers": [],
                        "cookies": [],
                        "content": {"size": 0, "mimeType": "x-unknown"},
                        "redirectURL": "",
                        "headersSize": -1,
                        "bodySize": 0,
                    },
                    "cache": {},
                    "timings": {"send": 0, "wait": 0, "receive": 0},
                    "_webSocketMessages": messages,
                }
            ],
        }
    }


@pytest.mark.parametrize("unit", [1.0, 1000.0], ids=["chrome-seconds", "playwright-milliseconds"])
def test_websocket_message_times_in_seconds_or_milliseconds(unit: float, tmp_path: Path) -> None:
    har = tmp_path / "browser.har"
    har.write_text(json.dumps(_browser_har(unit)))
    out = run_cli("har", "import", str(har), "--out", str(tmp_path / "tapes"), "--label", "browser")
    assert out.returncode == 0, out.stderr
    (tape,) = (tmp_path / "tapes").iterdir()
    _, frames = read_tape(tape)
    assert [(type(f).__name__, f.t) for f in frames] == [("WsOpen", 0.9), ("WsText", 1.2), ("WsText", 1.5)]
    inspected = run_cli("inspect", str(tape), "--format", "json")
    assert json.loads(inspected.stdout)["duration"] == pytest.approx(0.6)
