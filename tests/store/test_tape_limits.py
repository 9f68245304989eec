"""What one tape line may cost before it is decoded, and NaN / Infinity on a tape: read as null with
a warning naming the line (never sent as bare tokens), refused lines named with their number, by
the reader and by ``harness inspect`` / ``harness validate`` as a user runs them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from harness.core.frames import S2C, HttpExchange, HttpRequest, HttpResponse, SioEvent, WsText
from harness.core.tape import TapeLimits, encode_header
from harness.store import TapeError, TapeReader, dump_tape, read_tape
from tests.helpers import header, run_cli

WS = '{"conn":"ws-1","dir":"s2c","kind":"text","proto":"ws","t":1.0,"data":'


def write_lines(path: Path, *lines: str) -> Path:
    text = "\n".join([encode_header(header()), *lines]) + "\n"
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def bomb(tmp_path: Path) -> Path:
    """A gzipped tape of about 60 KB whose one frame line holds twenty million empty arrays."""
    return write_lines(tmp_path / "bomb.jsonl.gz", WS + '"{}","x":[' + "[]," * 20_000_000 + "[]]}")


def test_a_line_of_too_many_values_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    path = bomb(tmp_path)
    assert path.stat().st_size < 100_000
    with TapeReader(path) as reader, pytest.raises(TapeError) as refused:
        list(reader)
    assert (
        str(refused.value)
        == f"{path}:2: a line of more than 1,000,000 JSON values (--tape-line-values): not read"
    )
    # configurable, both ways
    small = write_lines(tmp_path / "small.jsonl", WS + '"{}","x":[[],[],[],[]]}')
    with (
        TapeReader(small, TapeLimits(line_values=3)) as reader,
        pytest.raises(TapeError, match=":2: a line of more"),
    ):
        list(reader)
    with (
        TapeReader(small, TapeLimits(line_bytes=40)) as reader,
        pytest.raises(TapeError, match=":2: a line longer"),
    ):
        list(reader)
    assert len(read_tape(small)[1]) == 1


def test_nan_and_infinity_are_read_as_null_with_a_warning_naming_the_line(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "nan.jsonl",
        '{"conn":"s","dir":"s2c","kind":"event","name":"sol_price","proto":"sio","t":0.5,'
        '"args":[{"price":NaN,"time":-Infinity}]}',
        WS + json.dumps('{"txType":"buy","price":Infinity,"name":"NaN"}') + "}",
        WS + json.dumps('{"name":"NaN and Infinity in a string are text"}') + "}",
    )
    with TapeReader(path) as reader:
        frames = list(reader)
        problems = [(p.line, p.message) for p in reader.problems]
    assert problems == [
        (2, "NaN or Infinity in its values (JSON has no such numbers): read and served as null"),
        (3, "NaN or Infinity in the text frame (JSON has no such numbers): read and served as null"),
    ]
    sio, ws, text = frames
    assert isinstance(sio, SioEvent) and sio.args == ({"price": None, "time": None},)
    assert isinstance(ws, WsText) and json.loads(ws.data) == {"txType": "buy", "price": None, "name": "NaN"}
    assert isinstance(text, WsText) and text.data == '{"name":"NaN and Infinity in a string are text"}'


def test_nan_in_a_recorded_body_is_read_as_null(tmp_path: Path) -> None:
    exchange = HttpExchange(
        0.0, "h", HttpRequest("GET", "/sol-price"), HttpResponse(200, (), b'{"solPrice":NaN}')
    )
    path = dump_tape(tmp_path / "rest.jsonl", header(), [exchange])
    with TapeReader(path) as reader:
        [frame] = list(reader)
        assert [p.line for p in reader.problems] == [2]
    assert isinstance(frame, HttpExchange) and frame.response.body == b'{"solPrice":null}'


def test_inspect_and_validate_name_the_costly_line_and_exit_2(tmp_path: Path) -> None:
    path = bomb(tmp_path)
    for command in ("inspect", "validate"):
        done = run_cli(command, str(path))
        assert done.returncode == 2, done.stderr
        assert f"{path}:2: a line of more than 1,000,000 JSON values" in done.stderr
        assert "Traceback" not in done.stderr
    done = run_cli("validate", "--tape-line-values", "0", str(path))
    assert done.returncode == 2 and "--tape-line-values must be >= 1" in done.stderr


def test_validate_reports_nan_on_a_tape_as_a_violation_of_its_line(tmp_path: Path) -> None:
    frames = [WsText(0.0, "w", S2C, '{"txType":"buy","price":NaN}')]
    path = dump_tape(tmp_path / "t.jsonl", header(), frames)
    done = run_cli("validate", str(path))
    assert done.returncode == 1 and f"{path}:2: corto " in done.stdout and "Traceback" not in done.stderr
