"""Reports of test sessions (``--harness-report DIR``, ``HarnessConfig.report_dir``).

Owns the session tape of one test: every frame the test's server sees (opens, messages both
ways, closes) is written, redacted by the default rules, to ``DIR/<test>.jsonl``; at teardown the tape
becomes ``DIR/<test>.html``, the report ``harness report`` makes of a tape, whose violations are
linked to lines of that tape. Nothing is written for a test whose server records (no replay).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from harness import __version__
from harness.core.frames import Frame, Recorded, TapeHeader
from harness.core.redact import RedactionRules, Redactor
from harness.core.tape import utc_timestamp
from harness.store import TapeWriter

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 120


def report_name(nodeid: str) -> str:
    """A file name (no suffix) for a test id: ``tests/test_feed.py::test_x[a]`` ->
    ``tests-test_feed.py-test_x-a``; a long id is cut and keeps a short hash, to stay unique."""
    name = _UNSAFE.sub("-", nodeid).strip("-.") or "test"
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(nodeid.encode()).hexdigest()[:10]
        name = f"{name[:MAX_NAME]}-{digest}"
    return name


class SessionReport:
    """The session tape of one test, then its report (module docstring)."""

    def __init__(self, directory: Path, test: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        name = report_name(test)
        self.tape = directory / f"{name}.jsonl"
        self.html = directory / f"{name}.html"
        header = TapeHeader(
            created=utc_timestamp(datetime.now(UTC)),
            harness_version=__version__,
            recorded=Recorded(apis=("pumpfun", "pumpdata", "corto"), label=test, source="pytest session"),
            redaction=RedactionRules().describe(),
        )
        # the client under test may send real credentials: the session tape (and its report, a CI
        # artifact) is redacted like a recording, with the default rules
        self._redactor = Redactor(RedactionRules(), secrets.token_bytes(32))
        self.tape.unlink(missing_ok=True)
        self._writer: TapeWriter | None = TapeWriter(self.tape, header)

    def write(self, frame: Frame) -> None:
        """Called in the server's thread for each frame it sees."""
        if self._writer is not None:
            self._writer.write(self._redactor.frame(frame))

    def finish(self) -> Path:
        """Close the tape and write the report; returns the report's path."""
        from harness.report import write_report

        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return write_report([self.tape], self.html, title=f"harness session report: {self.tape.stem}")
