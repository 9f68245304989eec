"""Tape files on disk (reading, writing, naming). See :mod:`harness.store.tapes`."""

from harness.store.tapes import (
    TapeError,
    TapeProblem,
    TapeReader,
    TapeWriter,
    create_tape,
    dump_tape,
    encode_tape,
    find_tapes,
    read_tape,
)

__all__ = [
    "TapeError",
    "TapeProblem",
    "TapeReader",
    "TapeWriter",
    "create_tape",
    "dump_tape",
    "encode_tape",
    "find_tapes",
    "read_tape",
]
