"""Rewriting a tape in place, a frame at a time (``harness redact``).

Owns the file handling of a rewrite: the tape is streamed (memory stays flat whatever its size,
plain or gzip, which it stays), each frame goes through the caller's function, and the result is
written to a temporary file beside the tape (mode 0600), synced to disk and renamed over it, so a
crash at any point leaves either the old tape or the new one, never a mix. When nothing changed
(no frame, not the header), the temporary file is removed and the tape is left untouched. A torn
last line (a killed recorder) is dropped from the rewritten tape and reported.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.core.frames import Frame, TapeHeader
from harness.store.tapes import GZIP_MAGIC, TapeError, TapeProblem, TapeReader, TapeWriter


@dataclass(frozen=True, slots=True)
class Rewritten:
    """What a rewrite did to one tape."""

    path: Path
    frames: int
    """Frames read (and written)."""
    changed: int
    """Frames the function changed."""
    replaced: bool
    """Whether the tape on disk was replaced (False: nothing changed, or a dry run)."""
    problems: tuple[TapeProblem, ...]


def rewrite_tape(
    path: Path,
    header: Callable[[TapeHeader], TapeHeader],
    frame: Callable[[Frame], Frame],
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Rewritten:
    """Rewrite the tape at ``path`` with ``header`` applied to its header and ``frame`` to every
    frame. ``dry_run``: read and transform, write nothing. ``progress(bytes read, size)`` is
    called every thousand frames. Raises :class:`TapeError` (the tape left as it was)."""
    with TapeReader(path) as reader:
        compressed = _is_gzip(path)
        new_header = header(reader.header)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.redacting")
        writer = None if dry_run else TapeWriter(tmp, new_header, compress=compressed)
        frames = changed = 0
        try:
            for old in reader:
                new = frame(old)
                frames += 1
                if new != old:
                    changed += 1
                if writer is not None:
                    writer.write(new)
                if progress is not None and frames % 1000 == 0:
                    progress(reader.position, reader.size)
            problems = tuple(reader.problems)
            replace = not dry_run and (changed > 0 or new_header != reader.header or bool(problems))
            if writer is not None:
                writer.close(sync=replace)
                writer = None
                if replace:
                    os.replace(tmp, path)
                    _sync_directory(path.parent)
        except BaseException:
            if writer is not None:
                writer.close()
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    return Rewritten(path, frames, changed, replace, problems)


def _is_gzip(path: Path) -> bool:
    try:
        with path.open("rb") as raw:
            return raw.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    except OSError as exc:
        raise TapeError(path, None, f"cannot read: {exc.strerror or exc}") from None


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX: the directory entry is synced on its own)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
