"""Record modes: the plan per mode, where episodes live, which files a tape replays as."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.recorder.modes import (
    Action,
    MissingTape,
    RecordMode,
    check_recordable,
    episodes_dir,
    plan,
    tape_files,
)
from harness.store import TapeError, dump_tape
from tests.helpers import header


@pytest.mark.parametrize(
    ("mode", "exists", "action"),
    [
        (RecordMode.NONE, True, Action.REPLAY),
        (RecordMode.NONE, False, Action.REPLAY),  # the missing tape is reported when it is loaded
        (RecordMode.ONCE, True, Action.REPLAY),
        (RecordMode.ONCE, False, Action.RECORD),
        (RecordMode.NEW_EPISODES, True, Action.EPISODES),
        (RecordMode.NEW_EPISODES, False, Action.RECORD),
        (RecordMode.ALL, True, Action.RECORD),
        (RecordMode.ALL, False, Action.RECORD),
    ],
)
def test_plan(mode: RecordMode, exists: bool, action: Action) -> None:
    assert plan(mode, exists) is action


def test_record_modes_have_vcrpys_names() -> None:
    assert [m.value for m in RecordMode] == ["none", "once", "new_episodes", "all", "rewrite"]


def test_episodes_live_next_to_their_tape() -> None:
    assert episodes_dir(Path("t/feed.jsonl")) == Path("t/feed.episodes")
    assert episodes_dir(Path("t/feed.jsonl.gz")) == Path("t/feed.episodes")


def test_a_tape_replays_with_its_episodes(tmp_path: Path) -> None:
    tape = dump_tape(tmp_path / "feed.jsonl", header(), [])
    assert tape_files([tape]) == [tape]
    (tmp_path / "feed.episodes").mkdir()
    later = dump_tape(tmp_path / "feed.episodes" / "20260102T000000Z-episode.jsonl", header(), [])
    earlier = dump_tape(tmp_path / "feed.episodes" / "20260101T000000Z-episode.jsonl", header(), [])
    (tmp_path / "feed.episodes" / "notes.txt").write_text("not a tape")
    assert tape_files([tape]) == [tape, earlier, later]


def test_a_missing_tape_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(MissingTape) as caught:
        tape_files([missing])
    assert isinstance(caught.value, TapeError)
    assert str(missing) in str(caught.value) and "record mode 'none' only replays" in str(caught.value)


@pytest.mark.parametrize(
    ("tapes", "message"),
    [
        ([], "exactly one tape path, got 0"),
        ([Path("a.jsonl"), Path("b.jsonl")], "exactly one tape path, got 2"),
        ([Path("feed.json")], "a recorded tape is a file named *.jsonl or *.jsonl.gz"),
    ],
)
def test_a_recording_needs_one_tape_file(tapes: list[Path], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("*", r"\*").replace(".", r"\.")):
        check_recordable(tapes)
    assert check_recordable([Path("x/feed.jsonl.gz")]) == Path("x/feed.jsonl.gz")
