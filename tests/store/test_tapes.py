"""Tape files: streaming reads, torn last lines, gzip, refusals with file and line."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.core import tape
from harness.core.frames import S2C, WsText
from harness.store import (
    TapeError,
    TapeReader,
    TapeWriter,
    create_tape,
    dump_tape,
    find_tapes,
    read_tape,
)
from tests.helpers import ROOT, header, run_cli

FRAMES = [WsText(t=i * 0.5, conn="ws-1", direction=S2C, data=f'{{"n":{i}}}') for i in range(5)]


@pytest.mark.parametrize("name", ["t.jsonl", "t.jsonl.gz"])
def test_write_then_read(tmp_path: Path, name: str) -> None:
    path = dump_tape(tmp_path / name, header(label="x"), FRAMES)
    h, frames = read_tape(path)
    assert h.recorded.label == "x"
    assert frames == FRAMES


def test_records_carry_line_numbers(tmp_path: Path) -> None:
    path = dump_tape(tmp_path / "t.jsonl", header(), FRAMES)
    with TapeReader(path) as reader:
        assert [n for n, _ in reader.records()] == [2, 3, 4, 5, 6]


def test_torn_last_line_is_reported_and_skipped(tmp_path: Path) -> None:
    path = dump_tape(tmp_path / "t.jsonl", header(), FRAMES)
    with path.open("a") as f:
        f.write('{"t":9,"conn":"ws-1","pro')
    with TapeReader(path) as reader:
        assert list(reader) == FRAMES
        assert len(reader.problems) == 1
        assert reader.problems[0].line == 7
        assert "torn last line" in reader.problems[0].message


def test_bad_line_in_the_middle_is_fatal_with_file_and_line(tmp_path: Path) -> None:
    path = dump_tape(tmp_path / "t.jsonl", header(), FRAMES)
    lines = path.read_text().splitlines()
    lines.insert(3, "garbage")
    path.write_text("\n".join(lines) + "\n")
    with TapeReader(path) as reader, pytest.raises(TapeError) as err:
        list(reader)
    assert str(err.value).startswith(f"{path}:4: not JSON")


def test_unknown_kind_names_file_and_line(tmp_path: Path) -> None:
    path = dump_tape(tmp_path / "t.jsonl", header(), FRAMES)
    with path.open("a") as f:
        f.write(json.dumps({"t": 1, "conn": "c", "proto": "ws", "kind": "pong", "dir": "s2c"}) + "\n")
    with (
        TapeReader(path) as reader,
        pytest.raises(TapeError, match=r":7: unknown frame kind 'pong'"),
    ):
        list(reader)


def test_newer_version_says_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "new.jsonl"
    path.write_text(json.dumps({"format": "harness-tape", "version": 99, "created": "x"}) + "\n")
    with pytest.raises(TapeError, match=r"new.jsonl:1: tape format version 99 is newer.*please upgrade"):
        TapeReader(path)


def test_older_version_runs_the_migration_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend the current format is 2 and version 1 named the text payload "text" instead of "data".
    def v1_to_v2(record: dict[str, object]) -> dict[str, object]:
        if record.get("kind") == "text" and "text" in record:
            record = dict(record)
            record["data"] = record.pop("text")
        return record

    monkeypatch.setattr(tape, "FORMAT_VERSION", 2)
    monkeypatch.setattr(tape, "MIGRATIONS", {1: v1_to_v2})
    monkeypatch.setattr("harness.store.tapes.FORMAT_VERSION", 2)
    path = tmp_path / "old.jsonl"
    old_header = {"format": "harness-tape", "version": 1, "created": "2025-01-01T00:00:00Z"}
    old_frame = {
        "t": 0.5,
        "conn": "ws-1",
        "proto": "ws",
        "kind": "text",
        "dir": "s2c",
        "text": "hi",
    }
    path.write_text(json.dumps(old_header) + "\n" + json.dumps(old_frame) + "\n")
    h, frames = read_tape(path)
    assert h.created == "2025-01-01T00:00:00Z"
    assert frames == [WsText(t=0.5, conn="ws-1", direction=S2C, data="hi")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("not json\n", ":1: header line: not JSON"),
        ("garbage", ":1: header line: not JSON"),
        ('{"t": 0}\n', ":1: no tape header"),
    ],
)
def test_unreadable_starts(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(content)
    with pytest.raises(TapeError, match=message):
        TapeReader(path)


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(TapeError, match="no such file"):
        TapeReader(tmp_path / "absent.jsonl")
    with pytest.raises(TapeError, match="is a directory"):
        TapeReader(tmp_path)
    with pytest.raises(TapeError, match="holds no tapes"):
        find_tapes([tmp_path])
    with pytest.raises(TapeError, match="no such file or directory"):
        find_tapes([tmp_path / "nope"])


def test_find_tapes_expands_directories_sorted(tmp_path: Path) -> None:
    for name in ("b.jsonl", "a.jsonl.gz", "notes.txt"):
        (tmp_path / name).write_text("")
    assert [p.name for p in find_tapes([tmp_path])] == ["a.jsonl.gz", "b.jsonl"]


def test_writer_refuses_to_overwrite(tmp_path: Path) -> None:
    path = dump_tape(tmp_path / "t.jsonl", header(), FRAMES)
    with pytest.raises(TapeError, match=r"t.jsonl: already exists \(a tape is never overwritten\)"):
        TapeWriter(path, header())
    assert read_tape(path)[1] == FRAMES


def test_writer_that_cannot_create_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TapeError, match=r"file/sub/t.jsonl: cannot create a tape: "):
        TapeWriter(blocker / "sub" / "t.jsonl", header())


def test_record_into_an_unwritable_place_is_one_line_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = run_cli(
        "record", "poll", "http://127.0.0.1:9/coins/latest", "--duration", "1", "--out", str(blocker)
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("harness record: error: ") and "cannot create a tape" in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_create_tape_names_by_utc_second_and_label_and_never_collides(tmp_path: Path) -> None:
    moment = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)
    names = []
    for _ in range(3):
        with create_tape(tmp_path / "rec", moment, "poll", header()) as writer:
            writer.write(FRAMES[0])
            names.append(writer.path.name)
    assert names == [
        "20261123T010203Z-poll.jsonl",
        "20261123T010203Z-poll-2.jsonl",
        "20261123T010203Z-poll-3.jsonl",
    ]
    with create_tape(tmp_path / "rec", moment, "poll", header(), gzip=True) as writer:
        assert writer.path.name == "20261123T010203Z-poll.jsonl.gz"
    assert all(read_tape(tmp_path / "rec" / name)[1] == FRAMES[:1] for name in names)


@pytest.mark.parametrize(
    ("written", "named"), [("t.jsonl.gz", "renamed.jsonl"), ("t.jsonl", "renamed.jsonl.gz")]
)
def test_compression_is_read_from_the_content_not_the_name(tmp_path: Path, written: str, named: str) -> None:
    path = dump_tape(tmp_path / written, header(), FRAMES)
    path = path.rename(tmp_path / named)
    assert read_tape(path)[1] == FRAMES


def test_corrupt_compressed_data_is_fatal_with_file_and_line(tmp_path: Path) -> None:
    path = dump_tape(tmp_path / "t.jsonl.gz", header(), FRAMES * 50)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 40] = bytes(40)
    path.write_bytes(bytes(data))
    with TapeReader(path) as reader, pytest.raises(TapeError) as err:
        list(reader)
    assert err.value.line is not None and err.value.line > 1
    assert "corrupt compressed data after line" in str(err.value) or "not JSON" in str(err.value)


def test_a_second_header_is_refused_with_its_line(tmp_path: Path) -> None:
    one = dump_tape(tmp_path / "a.jsonl", header(), FRAMES)
    path = tmp_path / "both.jsonl"
    path.write_bytes(one.read_bytes() * 2)
    with TapeReader(path) as reader, pytest.raises(TapeError, match=r"both.jsonl:7: a second tape header"):
        list(reader)


@pytest.mark.parametrize("name", ["killed.jsonl", "killed.jsonl.gz"])
def test_killed_writer_leaves_a_readable_tape(tmp_path: Path, name: str) -> None:
    """A writer process killed mid-stream (SIGKILL: no cleanup runs) leaves every flushed frame."""
    path = tmp_path / name
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from harness.core.frames import S2C, Recorded, TapeHeader, WsText
        from harness.store import TapeWriter
        w = TapeWriter({str(path)!r}, TapeHeader(created="x", harness_version="t"))
        for i in range(100):
            w.write(WsText(t=i, conn="ws-1", direction=S2C, data="x" * 50))
        w._file.write(b'{{"t": 100, "conn": "ws-1", "pr')   # half a line, as a crash mid-write
        w._file.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -9
    with TapeReader(path) as reader:
        frames = list(reader)
        assert len(frames) == 100
        assert reader.problems, "the torn tail is reported"


def test_gzip_tape_cut_short_keeps_whole_lines(tmp_path: Path) -> None:
    path = dump_tape(tmp_path / "t.jsonl.gz", header(), FRAMES)
    data = path.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[:-12])  # lose the gzip trailer and a little more
    with TapeReader(cut) as reader:
        frames = list(reader)
    assert frames == FRAMES[: len(frames)]
    assert len(frames) >= 3
    assert reader.problems
    assert gzip.decompress(data).count(b"\n") == 6


def test_streaming_reader_holds_one_line_at_a_time(tmp_path: Path) -> None:
    path = dump_tape(tmp_path / "t.jsonl", header(), FRAMES * 200)
    with TapeReader(path) as reader:
        iterator = reader.records()
        next(iterator)
        assert reader.bytes_read < 400, "only the header and one frame were read"


def test_a_gzip_tape_cut_inside_its_header_is_refused(tmp_path: Path) -> None:
    path = dump_tape(tmp_path / "t.jsonl.gz", header(), FRAMES)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(path.read_bytes()[:12])
    with pytest.raises(
        TapeError, match=r"cut.jsonl.gz:1: no header line: the compressed stream ends before it"
    ):
        TapeReader(cut)


def test_a_file_without_a_header_line_is_not_read_to_its_end(tmp_path: Path) -> None:
    path = tmp_path / "video.jsonl"
    path.write_bytes(b"\0" * (3 << 20))
    with pytest.raises(TapeError, match=r"video.jsonl:1: not a tape: no header line in the first 1,048,576"):
        TapeReader(path)
    out = run_cli("inspect", "/dev/zero", timeout=30)
    assert out.returncode == 2 and "/dev/zero:1: not a tape" in out.stderr


@pytest.mark.parametrize("name", ["t.jsonl", "t.jsonl.gz"])
def test_a_line_over_the_limit_is_refused_without_being_held(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader holds at most LINE_LIMIT bytes of one line; a writer refuses a frame that would
    not read back, before writing a byte of it, so the tape stays whole."""
    monkeypatch.setattr("harness.store.tapes.LINE_LIMIT", 200)
    big = WsText(t=3.0, conn="ws-1", direction=S2C, data="x" * 500)
    with TapeWriter(tmp_path / name, header()) as writer:
        writer.write(FRAMES[0])
        with pytest.raises(TapeError, match=r"cannot write a frame of .* bytes"):
            writer.write(big)
        writer.write(FRAMES[1])
    assert read_tape(tmp_path / name)[1] == FRAMES[:2]
    # A longer line, written by something else, is refused with its line number.
    monkeypatch.setattr("harness.store.tapes.LINE_LIMIT", 100_000)
    dump_tape(tmp_path / f"long-{name}", header(), [FRAMES[0], big])
    monkeypatch.setattr("harness.store.tapes.LINE_LIMIT", 200)
    with pytest.raises(TapeError, match=r":3: a line longer than"):
        read_tape(tmp_path / f"long-{name}")
