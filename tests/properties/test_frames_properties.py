"""Properties of the tape format and redaction over generated frames of every kind."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.frames import (
    C2S,
    FRAME_TYPES,
    S2C,
    Frame,
    HttpExchange,
    HttpRequest,
    HttpResponse,
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
from harness.core.redact import PLACEHOLDER, RedactionRules, Redactor
from harness.core.tape import decode_frame, decode_line, encode_frame
from harness.store import TapeReader, TapeWriter, read_tape
from harness.strategies.frames import frames
from tests.helpers import header

RULES = RedactionRules.with_extra(
    headers=["x-session"], json_keys=["password"], patterns=[r"pd_[A-Za-z0-9]{8,}"]
)


@given(frames())
def test_every_frame_kind_round_trips(frame: Frame) -> None:
    line = encode_frame(frame)
    assert "\n" not in line
    assert decode_frame(decode_line(line)) == frame
    assert encode_frame(decode_frame(decode_line(line))) == line


def test_the_strategy_reaches_every_frame_kind() -> None:
    seen: set[type] = set()

    @given(frames())
    @settings(max_examples=300)
    def collect(frame: Frame) -> None:
        seen.add(type(frame))

    collect()
    assert seen == set(FRAME_TYPES)


@given(frames(), st.binary(min_size=1, max_size=16))
def test_redaction_is_idempotent(frame: Frame, key: bytes) -> None:
    redactor = Redactor(RULES, key)
    once = redactor.frame(frame)
    assert redactor.frame(once) == once
    assert decode_frame(decode_line(encode_frame(once))) == once


secrets = st.text(st.characters(blacklist_categories=("Cs",)), min_size=8, max_size=24).map(
    lambda s: "S3cr" + s
)
"""Anything a JSON value, a Socket.IO payload or a (percent-encoded) URL can carry."""
token_secrets = st.text(
    st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters=";,"), min_size=8, max_size=24
).map(lambda s: "S3cr" + s)
"""What a header value or a cookie can carry."""
pattern_secrets = st.from_regex(r"\Apd_[A-Za-z0-9]{8,20}\Z")
"""What the user's pattern matches, for free text and binary data."""
secret_query_names = st.sampled_from(["api_key", "token", "apikey"]).flatmap(
    lambda name: st.sampled_from([name, name.upper(), name.title()])
)


def _secret_frames(secret: str, token: str, pattern: str, query: str) -> list[Frame]:
    """Frames of every kind with the secrets in every place a rule covers."""
    quoted = quote(secret, safe="")
    return [
        HttpExchange(
            t=0,
            conn="http-1",
            request=HttpRequest(
                "POST",
                f"https://me:{quoted}@frontend-api-v3.pump.fun/coins/latest?{query}={quoted}&limit=5",
                (
                    ("Authorization", f"Bearer {token}"),
                    ("Proxy-Authorization", f"Basic {token}"),
                    ("Cookie", f"sid={token}; theme=dark"),
                    ("X-Session", token),
                    ("X-Api-Key", token),
                    ("User-Agent", f"bot {pattern}"),
                ),
                json.dumps({"user": {"password": secret}, "note": f"key {pattern}"}).encode(),
            ),
            response=HttpResponse(
                200,
                (("Set-Cookie", f"sid={token}; Path=/; HttpOnly"),),
                b"\xff\xfe binary " + pattern.encode() + b" \x80",
            ),
        ),
        WsOpen(
            t=1,
            conn="ws-1",
            url=f"wss://corto.fun/data-stream?{query}={quoted}",
            headers=(("Cookie", f"sid={token}"), ("Authorization", token)),
        ),
        WsText(t=2, conn="ws-1", direction=C2S, data=json.dumps({"password": secret, "n": 1})),
        WsText(t=2.5, conn="ws-1", direction=S2C, data=f"plain text with {pattern} in it"),
        WsBinary(t=2.6, conn="ws-1", direction=S2C, data=b"\x00\x9f" + pattern.encode() + b"\xc3"),
        WsClose(t=2.7, conn="ws-1", direction=S2C, code=4000, reason=f"bad key {pattern}"),
        SioConnect(
            t=3,
            conn="sio-1",
            auth={"api_key": secret, "nested": {"token": secret, "list": [secret]}},
            url=f"https://api.pumpdata.fun/socket.io/?EIO=4&{query}={quoted}",
        ),
        SioEvent(
            t=4,
            conn="sio-1",
            direction=C2S,
            name="subscribe",
            args=({"pool": "x", "deep": [{"password": secret}]},),
            ack_id=1,
        ),
        SioAck(t=4.1, conn="sio-1", direction=S2C, ack_id=1, args=({"password": secret},)),
        SioEvent(t=5, conn="sio-1", direction=C2S, name="note", args=(f"my key is {pattern}",)),
        SioConnectError(t=6, conn="sio-2", message=f"unknown key {pattern}", data={"password": secret}),
        SioDisconnect(t=7, conn="sio-1", direction=S2C, reason=f"billing_error {pattern}"),
    ]


def _written_forms(secret: str) -> list[bytes]:
    """How a secret could appear in a tape's text: raw, JSON-escaped, percent-encoded."""
    raw = secret.encode("utf-8")
    return [
        raw,
        json.dumps(secret, ensure_ascii=False)[1:-1].encode("utf-8"),
        json.dumps(secret)[1:-1].encode("ascii"),
        quote(secret, safe="").encode("ascii"),
        quote_plus(secret).encode("ascii"),
    ]


def _payloads(frame: Frame) -> list[bytes]:
    """The bytes a frame carries (base64 on the tape when they are not UTF-8)."""
    if isinstance(frame, HttpExchange):
        return [frame.request.body, frame.response.body]
    return [frame.data] if isinstance(frame, WsBinary) else []


@given(secrets, token_secrets, pattern_secrets, secret_query_names, st.binary(min_size=1, max_size=16))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_generated_secret_survives_in_the_written_bytes(
    tmp_path: Path, secret: str, token: str, pattern: str, query: str, key: bytes
) -> None:
    redactor = Redactor(RULES, key)
    frames_in = _secret_frames(secret, token, pattern, query)
    assert {type(f) for f in frames_in} == set(FRAME_TYPES)
    for compressed in (False, True):
        path = tmp_path / ("t.jsonl.gz" if compressed else "t.jsonl")
        path.unlink(missing_ok=True)
        with TapeWriter(path, header()) as writer:
            for frame in frames_in:
                writer.write(redactor.frame(frame))
        on_disk = path.read_bytes()
        text = gzip.decompress(on_disk) if compressed else on_disk
        for value in (secret, token, pattern):
            for form in _written_forms(value):
                assert form not in text, f"{value!r} survives as {form!r}"
                assert form not in on_disk
        _, back = read_tape(path)
        for frame in back:
            for payload in _payloads(frame):
                assert not any(form in payload for v in (secret, pattern) for form in _written_forms(v))
            assert PLACEHOLDER.search(repr(frame)), frame
        assert [redactor.frame(f) for f in back] == back


@given(secrets)
def test_same_secret_same_placeholder_different_secret_different(secret: str) -> None:
    redactor = Redactor(RedactionRules(), b"k")

    def connect(api_key: str) -> Frame:
        return SioConnect(t=3, conn="sio-1", auth={"api_key": api_key})

    a = redactor.frame(connect(secret))
    b = redactor.frame(connect(secret))
    c = redactor.frame(connect(secret + "x"))
    assert isinstance(a, SioConnect) and isinstance(c, SioConnect)
    assert a == b
    assert a.auth["api_key"] != c.auth["api_key"]


@given(st.lists(frames(), min_size=1, max_size=8), st.data(), st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_tape_cut_anywhere_still_reads(
    tmp_path: Path, frame_list: list[Frame], data: st.DataObject, compressed: bool
) -> None:
    """A writer killed at any byte leaves a tape whose whole lines all read; a torn tail is reported."""
    path = tmp_path / ("t.jsonl.gz" if compressed else "t.jsonl")
    path.unlink(missing_ok=True)
    with TapeWriter(path, header()) as writer:
        after_header = path.stat().st_size
        for frame in frame_list:
            writer.write(frame)
        whole = path.read_bytes()  # what was flushed: the gzip trailer is not there yet
    cut = data.draw(st.integers(after_header, len(whole)), label="cut")
    path.write_bytes(whole[:cut])
    with TapeReader(path) as reader:
        back = list(reader)
        problems = reader.problems
    assert back == frame_list[: len(back)]
    if cut == len(whole):
        # Every frame was flushed whole; only a gzip stream lacks its end (the writer never closed).
        assert back == frame_list and bool(problems) == compressed
    elif not compressed:
        kept = whole[:cut]
        # A last line that lost only its newline is still a whole frame; anything shorter is torn.
        torn = not kept.endswith(b"\n")
        lacks_only_newline = torn and whole[cut : cut + 1] == b"\n"
        assert len(back) == kept.count(b"\n") - 1 + lacks_only_newline
        assert bool(problems) == (torn and not lacks_only_newline)
