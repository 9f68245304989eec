"""Record modes, with vcrpy's names: what a test run (or ``harness serve``) does with a tape.

Owns the choice between replaying, recording and recording new episodes, where a tape's new
episodes live, and the upstreams recorded from by default (docs/guides/record.md "Record modes"):

* ``none``: replay only. The tape must exist; nothing ever goes upstream.
* ``once``: replay a tape that exists; record one that does not (next run replays it).
* ``new_episodes``: replay the tape, and relay what it does not hold to the upstream, recording it
  as a new episode (``harness.core.episodes`` says what that is) in a sibling tape
  ``<name>.episodes/<UTC>-episode.jsonl``; the tape itself is never rewritten. A tape is always
  replayed together with its episodes. A missing tape is recorded, as with ``once``.
* ``all``: always record. The recording goes to a scratch file and replaces the old tape (and
  its episodes) only when it finishes cleanly.
* ``rewrite``: ``all`` by the name pytest-recording gives it.

The deciding is pure (:func:`plan`, given whether the tape exists); the file helpers only look.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from harness.store import TapeError, find_tapes
from harness.store.tapes import TAPE_SUFFIXES

DEFAULT_UPSTREAMS = {
    "rest": "https://frontend-api-v3.pump.fun",
    "sio": "https://api.pumpdata.fun",
    "ws": "wss://corto.fun/data-stream",
}
"""The live services a recording goes to unless told otherwise (contract §1, 2, 3)."""

EPISODES_SUFFIX = ".episodes"


@dataclass(frozen=True, slots=True)
class Upstreams:
    """The live services a recording relays to."""

    rest: str = DEFAULT_UPSTREAMS["rest"]
    sio: str = DEFAULT_UPSTREAMS["sio"]
    ws: str = DEFAULT_UPSTREAMS["ws"]


class RecordMode(StrEnum):
    NONE = "none"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"
    REWRITE = "rewrite"
    """``all``, as pytest-recording names it."""


class Action(StrEnum):
    """What is done with one tape in one run."""

    REPLAY = "replay"
    RECORD = "record"
    """Everything goes upstream and is recorded into the tape."""
    EPISODES = "episodes"
    """Replay, and record what the tape does not hold as a new episode."""


class MissingTape(TapeError):
    """Record mode ``none`` asked for a tape that does not exist. The message suggests the
    command line's way to record it; :meth:`for_pytest` the plugin's."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, None, f"no such tape, and record mode 'none' only replays ({CLI_HINT})")

    def for_pytest(self) -> str:
        return f"{self.path}: no such tape, and record mode 'none' only replays ({PYTEST_HINT})"


CLI_HINT = "record it with harness serve --record-mode once TAPE, or harness record"
PYTEST_HINT = "record it with pytest --harness-record-mode once"


def plan(mode: RecordMode, tape_exists: bool) -> Action:
    """What ``mode`` does with a tape that exists or not (a missing tape in mode ``none`` is
    :func:`tape_files`' to report)."""
    if mode is RecordMode.NONE:
        return Action.REPLAY
    if mode in (RecordMode.ALL, RecordMode.REWRITE) or not tape_exists:
        return Action.RECORD
    return Action.EPISODES if mode is RecordMode.NEW_EPISODES else Action.REPLAY


def episodes_dir(tape: Path) -> Path:
    """Where ``new_episodes`` keeps the episodes of ``tape``: ``feed.jsonl`` -> ``feed.episodes/``."""
    name = tape.name
    for suffix in sorted(TAPE_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return tape.with_name(name + EPISODES_SUFFIX)


def tape_files(tapes: list[Path]) -> list[Path]:
    """The files replayed for ``tapes``: each tape (a directory stands for its tapes) followed by
    its episodes. Raises :class:`MissingTape` naming a tape that does not exist."""
    for tape in tapes:
        if not tape.exists():
            raise MissingTape(tape)
    files: list[Path] = []
    for tape in find_tapes(tapes):
        files.append(tape)
        episodes = episodes_dir(tape)
        if episodes.is_dir():
            files.extend(sorted(p for p in episodes.iterdir() if p.name.endswith(TAPE_SUFFIXES)))
    return files


def check_recordable(tapes: list[Path]) -> Path:
    """The one tape file a recording writes; raises ValueError when ``tapes`` is not one file path."""
    if len(tapes) != 1:
        raise ValueError(f"recording needs exactly one tape path, got {len(tapes)}")
    (tape,) = tapes
    if tape.is_dir() or not tape.name.endswith(TAPE_SUFFIXES):
        raise ValueError(f"{tape}: a recorded tape is a file named *.jsonl or *.jsonl.gz")
    return tape
