"""Tape files on disk: a streaming reader and an append-and-flush writer.

Owns file handling only (plain ``.jsonl`` or gzip ``.jsonl.gz``); the line format is
:mod:`harness.core.tape`'s. The reader never holds more than one line in memory, reports and
skips a torn last line (a killed writer), and turns every other defect into a :class:`TapeError`
that names the file and the line. The writer never overwrites a tape and creates it readable by its owner
only (mode 0600: a tape may hold what a redaction rule missed); a file it cannot create or write is
a :class:`TapeError` too.
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from harness.core.frames import Frame, TapeHeader
from harness.core.tape import (
    FORMAT_VERSION,
    TapeFormatError,
    TapeLimits,
    decode_frame,
    decode_header,
    decode_line,
    decode_line_checked,
    encode_frame,
    encode_header,
    header_version,
    is_header_record,
    migrate,
    tape_filename,
)

TAPE_SUFFIXES = (".jsonl", ".jsonl.gz")
GZIP_MAGIC = b"\x1f\x8b"
HEADER_LIMIT = 1 << 20
"""A header line is a few hundred bytes: a file without a newline in its first MiB is no tape
(and ``harness inspect /dev/zero`` must not read forever)."""
TAPE_MODE = 0o600
"""A new tape's permissions: its owner's to read and write, nobody else's (set when the file is
created, so it is never readable by others, not even for a moment; a rename keeps it)."""
LINE_LIMIT = 64 << 20
"""The longest frame line a tape may hold (64 MiB): a reader never holds more than this of one
line in memory, and a writer refuses a frame that would not read back."""


class TapeError(Exception):
    """A tape that cannot be read. ``str()`` is one line: ``file:line: what is wrong``."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class TapeProblem:
    """A defect the reader tolerated (today: only a torn last line)."""

    line: int
    message: str


def is_gzip_path(path: Path | str) -> bool:
    return str(path).endswith(".gz")


def open_by_content(raw: IO[bytes]) -> IO[bytes]:
    """A file opened for reading, decompressed when it is gzip: told by its content (the magic
    bytes), not its name, so a renamed file still reads. ``raw`` stays the caller's to close and
    its position (``raw.tell()``) tells progress in bytes on disk."""
    compressed = raw.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw) if compressed else raw  # type: ignore[return-value]


def find_tapes(paths: list[Path]) -> list[Path]:
    """Expand directories into the tapes they hold (sorted); keep files as given.

    Raises :class:`TapeError` for a missing path or a directory without tapes.
    """
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.name.endswith(TAPE_SUFFIXES))
            if not found:
                raise TapeError(path, None, "directory holds no tapes (*.jsonl, *.jsonl.gz)")
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise TapeError(path, None, "no such file or directory")
    return out


class TapeReader:
    """Streams a tape: ``header`` at once, then frames one line at a time.

    >>> with TapeReader(path) as tape:                         # doctest: +SKIP
    ...     for line_no, frame in tape.records():
    ...         ...
    ...     tape.problems                                       # a torn last line, if any
    """

    def __init__(self, path: Path | str, limits: TapeLimits | None = None, *, nonfinite: bool = True) -> None:
        """``limits``: what one line may cost (:class:`TapeLimits` defaults). ``nonfinite``: read
        NaN and Infinity as null, each line with some noted in :attr:`problems` (False: keep them,
        for a validator that reports them where they are)."""
        self.path = Path(path)
        self.limits = limits or TapeLimits()
        self.nonfinite = nonfinite
        self.problems: list[TapeProblem] = []
        self.bytes_read = 0
        if self.path.is_dir():
            raise TapeError(self.path, None, "is a directory, not a tape")
        try:
            raw: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 (closed in close())
        except FileNotFoundError:
            raise TapeError(self.path, None, "no such file") from None
        except OSError as exc:
            raise TapeError(self.path, None, f"cannot open: {exc.strerror}") from None
        self._raw = raw
        self._file = open_by_content(raw)
        self._line_no = 0
        self._pending: bytes | None = None
        self._version = FORMAT_VERSION
        try:
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise

    @property
    def size(self) -> int:
        """Size of the file on disk in bytes (compressed size for gzip tapes)."""
        return os.fstat(self._raw.fileno()).st_size

    @property
    def position(self) -> int:
        """How far into the file on disk the reader is, for progress bars."""
        return self._raw.tell()

    def _next_line(self, limit: int = -1) -> bytes | None:
        """The next raw line (with its newline if it had one; at most ``limit`` bytes), or None at
        the end."""
        if self._pending is not None:
            line, self._pending = self._pending, None
            return line
        try:
            line = self._file.readline(limit)
        except EOFError as exc:
            # A gzip stream cut short by a killed writer: what was flushed before is intact.
            self.problems.append(
                TapeProblem(self._line_no + 1, f"compressed stream ends early ({exc}); rest skipped")
            )
            return None
        except (zlib.error, gzip.BadGzipFile) as exc:
            where = f"after line {self._line_no}" if self._line_no else "at the start"
            raise TapeError(self.path, self._line_no + 1, f"corrupt compressed data {where}: {exc}") from None
        except OSError as exc:
            raise TapeError(self.path, self._line_no + 1, f"cannot read: {exc.strerror or exc}") from None
        if not line:
            return None
        self._line_no += 1
        self.bytes_read += len(line)
        return line

    def _read_header(self) -> TapeHeader:
        line = self._next_line(HEADER_LIMIT)
        if line is None:
            if self.problems:
                raise TapeError(self.path, 1, "no header line: the compressed stream ends before it")
            raise TapeError(self.path, None, "empty file: a tape starts with a header line")
        if len(line) == HEADER_LIMIT and not line.endswith(b"\n"):
            raise TapeError(self.path, 1, f"not a tape: no header line in the first {HEADER_LIMIT:,} bytes")
        try:
            record = decode_line(line)
        except TapeFormatError as exc:
            raise TapeError(self.path, 1, f"header line: {exc}") from None
        if not is_header_record(record):
            raise TapeError(self.path, 1, 'no tape header: line 1 must be {"format": "harness-tape", ...}')
        try:
            self._version = header_version(record)
            return decode_header(record)
        except TapeFormatError as exc:
            raise TapeError(self.path, 1, str(exc)) from None

    def records(self) -> Iterator[tuple[int, Frame]]:
        """Yield ``(line number, frame)`` for every frame, in file order."""
        cap = min(self.limits.line_bytes, LINE_LIMIT)
        while (line := self._next_line(cap + 1)) is not None:
            line_no = self._line_no
            if len(line) > cap:
                raise TapeError(self.path, line_no, f"a line longer than {cap:,} bytes: not a frame")
            too_many = self.limits.too_many_values(line)
            if too_many is not None:
                raise TapeError(self.path, line_no, f"{too_many}: not read")
            if not line.strip():
                continue
            torn = not line.endswith(b"\n")
            try:
                record, nonfinite = decode_line_checked(line) if self.nonfinite else (decode_line(line), "")
                if nonfinite:
                    # RFC 8259 6: no NaN or Infinity in JSON; never sent as bare tokens
                    message = (
                        f"NaN or Infinity in {nonfinite} (JSON has no such numbers): read and served as null"
                    )
                    self.problems.append(TapeProblem(line_no, message))
                if is_header_record(record):
                    raise TapeFormatError("a second tape header: one file holds one tape (concatenated?)")
                if self._version != FORMAT_VERSION:
                    record = migrate(record, self._version)
                frame = decode_frame(record)
            except TapeFormatError as exc:
                if torn and self._at_end():
                    self.problems.append(
                        TapeProblem(line_no, f"torn last line ({len(line)} bytes) skipped: {exc}")
                    )
                    return
                raise TapeError(self.path, line_no, str(exc)) from None
            yield line_no, frame

    def _at_end(self) -> bool:
        nxt = self._next_line(min(self.limits.line_bytes, LINE_LIMIT) + 1)
        if nxt is None:
            return True
        self._pending = nxt
        self._line_no -= 1
        self.bytes_read -= len(nxt)
        return False

    def __iter__(self) -> Iterator[Frame]:
        for _, frame in self.records():
            yield frame

    def close(self) -> None:
        if self._file is not self._raw:
            self._file.close()
        self._raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_tape(path: Path | str) -> tuple[TapeHeader, list[Frame]]:
    """Load a whole tape into memory (for small tapes and tests; stream big ones)."""
    with TapeReader(path) as reader:
        return reader.header, list(reader)


class TapeWriter:
    """Appends frames to a new tape, flushing each one, so a killed writer leaves a readable tape.

    Frames are written as given: redact them first (:class:`harness.core.redact.Redactor`);
    the recorder does.
    """

    def __init__(self, path: Path | str, header: TapeHeader, *, compress: bool | None = None) -> None:
        """``compress``: write gzip (None: when the name ends in ``.gz``)."""
        self.path = Path(path)
        self.frames_written = 0
        self.bytes_written = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            message = f"cannot create a tape: {exc.filename} is not a directory"
            raise TapeError(self.path, None, message) from None
        except OSError as exc:
            message = f"cannot create a tape: {exc.strerror or exc} ({exc.filename})"
            raise TapeError(self.path, None, message) from None
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, TAPE_MODE)
            raw: IO[bytes] = os.fdopen(fd, "wb")
        except FileExistsError:
            raise TapeError(self.path, None, "already exists (a tape is never overwritten)") from None
        except OSError as exc:
            raise TapeError(self.path, None, f"cannot create a tape: {exc.strerror or exc}") from None
        self._raw = raw
        self._file: IO[bytes] = raw
        try:
            if is_gzip_path(self.path) if compress is None else compress:
                self._file = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)  # type: ignore[assignment]
            self._write_line(encode_header(header))
        except BaseException:
            self.close()
            raise

    def write(self, frame: Frame) -> None:
        self._write_line(encode_frame(frame))
        self.frames_written += 1

    def _write_line(self, line: str) -> None:
        data = line.encode("utf-8") + b"\n"
        if len(data) > LINE_LIMIT:
            # Refused before a byte is written: the tape stays whole and readable.
            raise TapeError(
                self.path,
                None,
                f"cannot write a frame of {len(data):,} bytes"
                f" (a tape line holds at most {LINE_LIMIT >> 20} MiB)",
            )
        try:
            self._file.write(data)
            self._file.flush()  # gzip: Z_SYNC_FLUSH, so every whole line is decodable
            if self._file is not self._raw:
                self._raw.flush()
        except OSError as exc:
            raise TapeError(self.path, None, f"cannot write: {exc.strerror or exc}") from None
        self.bytes_written += len(data)

    def close(self, *, sync: bool = False) -> None:
        """Finish the file; ``sync``: and wait until it is on the disk (before a rename that
        replaces another file with it)."""
        if self._file is not self._raw:
            self._file.close()
        try:
            if sync:
                self._raw.flush()
                os.fsync(self._raw.fileno())
        except OSError as exc:
            raise TapeError(self.path, None, f"cannot write: {exc.strerror or exc}") from None
        finally:
            self._raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def create_tape(
    out_dir: Path, moment: datetime, label: str, header: TapeHeader, *, gzip: bool = False
) -> TapeWriter:
    """A writer of the new tape ``out_dir/<UTC YYYYMMDDTHHMMSSZ>-<label>.jsonl[.gz]``.

    When that name is taken (two recordings started in the same second), ``-2``, ``-3`` ... follow
    the label.
    """
    for n in itertools.count(1):
        path = out_dir / tape_filename(moment, label if n == 1 else f"{label}-{n}", gzip=gzip)
        try:
            return TapeWriter(path, header)
        except TapeError:
            if not path.is_file():
                raise
    raise AssertionError("unreachable")


def dump_tape(path: Path | str, header: TapeHeader, frames: list[Frame]) -> Path:
    """Write a whole tape at once; returns its path."""
    with TapeWriter(path, header) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)


def encode_tape(header: TapeHeader, frames: list[Frame]) -> bytes:
    """The bytes of a plain tape, as :class:`TapeWriter` would write them."""
    buf = io.StringIO()
    buf.write(encode_header(header) + "\n")
    for frame in frames:
        buf.write(encode_frame(frame) + "\n")
    return buf.getvalue().encode("utf-8")
