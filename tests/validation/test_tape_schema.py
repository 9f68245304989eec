"""The tape format's own JSON Schema accepts every frame kind and the header, and rejects junk."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from jsonschema import Draft202012Validator

from harness.core.frames import Frame
from harness.core.tape import encode_frame, encode_header
from harness.strategies.frames import frames
from tests.helpers import ROOT, header

SCHEMA = Draft202012Validator(json.loads((ROOT / "schemas" / "tape" / "tape.json").read_text()))


@given(frames())
def test_every_frame_kind_matches_the_tape_schema(frame: Frame) -> None:
    assert SCHEMA.is_valid(json.loads(encode_frame(frame)))


def test_header_matches() -> None:
    assert SCHEMA.is_valid(json.loads(encode_header(header(apis=("corto",)))))


@pytest.mark.parametrize(
    "record",
    [
        {"t": 0, "conn": "c", "proto": "ws", "kind": "ping", "dir": "s2c"},
        {"t": -1, "conn": "c", "proto": "ws", "kind": "text", "dir": "s2c", "data": ""},
        {"t": 0, "conn": "c", "proto": "ws", "kind": "text", "dir": "s2c"},
        {"t": 0, "conn": "c", "proto": "sio", "kind": "connect_error", "dir": "c2s", "message": "x"},
        {"format": "harness-tape", "version": 1},
    ],
)
def test_malformed_records_do_not(record: dict[str, object]) -> None:
    assert not SCHEMA.is_valid(record)
