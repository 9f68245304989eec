"""A recording session: one tape, redacted frames, connection ids and counters.

Owns what every recorder shares (docs/architecture.md "Record"): the tape's name
(``<out>/<UTC YYYYMMDDTHHMMSSZ>-<label>.jsonl[.gz]``), its header, the redaction of every frame
before it is written (a fresh random HMAC key per session unless one is given, so placeholders are
stable within a tape and reveal nothing), ``t`` as seconds since the session started on the
monotonic clock, and per-protocol counters for progress. The writer flushes every frame, so a
killed recorder leaves a readable tape.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from harness import __version__
from harness.core.families import FamilyTracker
from harness.core.frames import S2C, Frame, HttpExchange, Recorded, TapeHeader
from harness.core.redact import RedactionRules, Redactor
from harness.core.tape import utc_timestamp
from harness.store import create_tape
from harness.validation import Violation


class RecordingSession:
    def __init__(
        self,
        out_dir: Path,
        label: str,
        recorded: Recorded,
        *,
        rules: RedactionRules | None = None,
        key: bytes | None = None,
        gzip: bool = False,
        validate: bool = False,
        created: datetime | None = None,
    ) -> None:
        """``created``: the moment t = 0 stands for, when the frames come from elsewhere (an
        imported HAR); by default, now."""
        now = created or datetime.now(UTC)
        self.rules = rules or RedactionRules()
        self.redactor = Redactor(self.rules, key or secrets.token_bytes(32))
        header = TapeHeader(
            created=utc_timestamp(now),
            harness_version=__version__,
            recorded=self.redactor.recorded(recorded),
            redaction=self.rules.describe(),
        )
        self._writer = create_tape(out_dir, now, label, header, gzip=gzip)
        self.path = self._writer.path
        self._start = time.monotonic()
        self._next_conn: Counter[str] = Counter()
        self.frames: Counter[str] = Counter()
        self.heard = 0
        """Frames the upstream sent (answers, messages, closes, connect errors): none means a capture
        that failed never reached it, and its tape holds nothing worth keeping."""
        self.drift: list[Violation] = []
        """With ``validate``: what the recorded traffic broke of the contract (the first 1000)."""
        self.drift_counts: Counter[str] = Counter()
        self._tracker = FamilyTracker() if validate else None

    def t(self) -> float:
        """Seconds since the session started (monotonic)."""
        return time.monotonic() - self._start

    def conn(self, protocol: str) -> str:
        """A new connection id: ``http-1``, ``ws-2`` ..."""
        self._next_conn[protocol] += 1
        return f"{protocol}-{self._next_conn[protocol]}"

    def write(self, frame: Frame) -> Frame:
        """Redact ``frame`` and append it to the tape; returns what was written."""
        clean = self.redactor.frame(frame)
        self._writer.write(clean)
        self.frames[frame.protocol.value] += 1
        if frame.direction is S2C or isinstance(frame, HttpExchange):
            self.heard += 1
        if self._tracker is not None:
            self._check(clean)
        return clean

    def _check(self, frame: Frame) -> None:
        from harness.validation import default_validator

        validator = default_validator()
        assert self._tracker is not None
        for api, family, message, prefix in self._tracker.classify(frame):
            for v in validator.classified(message, api, family):
                self.drift_counts[f"{v.api} {v.family} {prefix}{v.pointer} {v.rule}"] += 1
                if len(self.drift) < 1000:
                    self.drift.append(
                        Violation(
                            v.api,
                            v.family,
                            prefix + v.pointer,
                            v.rule,
                            v.message,
                            conn=frame.conn,
                            direction=frame.direction.value,
                        )
                    )

    def drift_report(self) -> str:
        """Provider drift seen while recording, most frequent first (empty when none)."""
        if not self.drift_counts:
            return ""
        lines = [f"contract drift: {sum(self.drift_counts.values())} violations"]
        lines += [f"  {n:6d}  {what}" for what, n in self.drift_counts.most_common(20)]
        return "\n".join(lines)

    @property
    def bytes_written(self) -> int:
        return self._writer.bytes_written

    def progress_note(self) -> str:
        """Frames per protocol and bytes written (and, with ``validate``, the drift so far)."""
        counts = ", ".join(f"{proto} {n}" for proto, n in sorted(self.frames.items())) or "no frames yet"
        note = f"{counts}; {self.bytes_written:,} bytes"
        drift = sum(self.drift_counts.values())
        return f"{note}; {drift} drift" if drift else note

    def close(self) -> None:
        self._writer.close()

    def discard(self) -> None:
        """Close and delete the tape (a capture that never reached its upstream)."""
        self._writer.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
