"""Properties of the tape format and redaction over generated frames of every kind."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.frames import (
    C2S,
    FRAME_TYPES,
    Frame,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    SioConnect,
    SioEvent,
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


secrets = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=127),
    min_size=12,
    max_size=24,
).map(lambda s: "S3cr" + s)


def _secret_frames(secret: str) -> list[Frame]:
    api_key = "pd_" + secret
    return [
        HttpExchange(
            t=0,
            conn="http-1",
            request=HttpRequest(
                "GET",
                f"/coins/latest?api_key={secret}&limit=5",
                (
                    ("Authorization", f"Bearer {secret}"),
                    ("Cookie", f"sid={secret}; theme=dark"),
                    ("X-Session", secret),
                    ("X-Api-Key", secret),
                ),
                json.dumps({"password": secret, "note": f"key {api_key}"}).encode(),
            ),
            response=HttpResponse(200, (("Set-Cookie", f"sid={secret}; Path=/; HttpOnly"),), b"{}"),
        ),
        WsOpen(t=1, conn="ws-1", url=f"wss://corto.fun/data-stream?token={secret}&apikey={secret}"),
        WsText(t=2, conn="ws-1", direction=C2S, data=json.dumps({"password": secret, "n": 1})),
        SioConnect(t=3, conn="sio-1", auth={"api_key": api_key, "nested": {"token": secret}}),
        SioEvent(
            t=4,
            conn="sio-1",
            direction=C2S,
            name="subscribe",
            args=({"pool": "x", "password": secret},),
        ),
        SioEvent(t=5, conn="sio-1", direction=C2S, name="note", args=(f"my key is {api_key}",)),
    ]


@given(secrets, st.binary(min_size=1, max_size=16))
@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_generated_secret_survives_in_the_written_bytes(tmp_path: Path, secret: str, key: bytes) -> None:
    redactor = Redactor(RULES, key)
    path = tmp_path / f"{abs(hash((secret, key)))}.jsonl.gz"
    with TapeWriter(path, header()) as writer:
        for frame in _secret_frames(secret):
            writer.write(redactor.frame(frame))
    import gzip

    raw = gzip.decompress(path.read_bytes())
    assert secret.encode() not in raw
    assert secret.encode() not in path.read_bytes()
    _, back = read_tape(path)
    assert all(PLACEHOLDER.search(encode_frame(f)) for f in back)


@given(secrets)
def test_same_secret_same_placeholder_different_secret_different(secret: str) -> None:
    redactor = Redactor(RedactionRules(), b"k")
    a = redactor.frame(_secret_frames(secret)[3])
    b = redactor.frame(_secret_frames(secret)[3])
    c = redactor.frame(_secret_frames(secret + "x")[3])
    assert isinstance(a, SioConnect) and isinstance(c, SioConnect)
    assert a == b
    assert a.auth["api_key"] != c.auth["api_key"]


@given(st.lists(frames(), min_size=1, max_size=8), st.data(), st.booleans())
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
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
