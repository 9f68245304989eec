"""``harness inspect``: the table a user reads, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core.frames import C2S, S2C, WsOpen, WsText
from harness.store import dump_tape
from tests.helpers import header, run_cli


@pytest.fixture
def tape(tmp_path: Path) -> Path:
    frames = [
        WsOpen(t=0.0, conn="ws-1", url="/data-stream"),
        WsText(
            t=0.1,
            conn="ws-1",
            direction=S2C,
            data='{"type":"service","name":"handshake","state":{}}',
        ),
        WsText(t=0.5, conn="ws-1", direction=C2S, data='{"type":"subscribe","mode":"all"}'),
        WsText(t=2.1, conn="ws-1", direction=S2C, data='{"txType":"buy"}'),
    ]
    path = dump_tape(tmp_path / "t.jsonl", header(apis=("corto",), label="demo", source="test"), frames)
    with path.open("a") as f:
        f.write('{"t": 3, "con')
    return path


def test_inspect_text_table(tape: Path) -> None:
    out = run_cli("inspect", str(tape))
    assert out.returncode == 0, out.stderr
    assert "duration 2.100 s" in out.stdout
    assert "frames    4 in 1 connections (ws 1)" in out.stdout
    assert "ws c2s" in out.stdout and "ws s2c" in out.stdout
    assert "line 6: torn last line" in out.stdout


def test_inspect_json(tape: Path) -> None:
    out = run_cli("inspect", "--format", "json", str(tape))
    report = json.loads(out.stdout)
    assert report["frames"] == 4 and report["connections"] == {"ws": 4 - 3}
    assert report["kinds"] == {"ws open": 1, "ws text": 3}
    assert report["problems"][0]["line"] == 6


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("hello\n", ":1: header line: not JSON"),
        ('{"no": "header"}\n', ":1: no tape header"),
        ('{"format":"harness-tape","version":7,"created":"x"}\n', "please upgrade"),
        (
            '{"format":"harness-tape","version":1,"created":"x"}\n'
            '{"t":0,"conn":"c","proto":"ws","kind":"smoke","dir":"s2c"}\n',
            ":2: unknown frame kind 'smoke'",
        ),
        ('{"format":"harness-tape","version":"1","created":"x"}\n', ":1: header has no valid format version"),
        (
            '{"format":"harness-tape","version":1,"created":"x"}\n[1]\n{}\n',
            ":2: a tape line must be a JSON object",
        ),
        ('{"format":"harness-tape","version":1,"created":"x"}\n{"t":1}\n', ":2: frame lacks required field"),
    ],
)
def test_bad_tapes_one_line_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    out = run_cli("inspect", str(path))
    assert out.returncode == 2
    assert message in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert str(path) in out.stderr


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    out = run_cli("inspect", str(tmp_path / "nope.jsonl"))
    assert out.returncode == 2 and "no such file or directory" in out.stderr
    out = run_cli("inspect", str(tmp_path))
    assert out.returncode == 2 and "holds no tapes" in out.stderr


def test_a_tape_with_only_its_header_says_so(tmp_path: Path) -> None:
    path = dump_tape(tmp_path / "empty.jsonl", header(label="idle"), [])
    out = run_cli("inspect", str(path))
    assert out.returncode == 0, out.stderr
    assert "frames    none: the tape holds only its header" in out.stdout
    assert "protocol" not in out.stdout


def test_a_broken_gzip_tape_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00 not really gzip data")
    out = run_cli("inspect", str(path))
    assert out.returncode == 2
    assert f"{path}:1: corrupt compressed data at the start" in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
