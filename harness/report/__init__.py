"""HTML reports of tapes: ``harness report`` and the pytest plugin's ``--harness-report``.

Owns reading tapes for a report: each tape is streamed (memory does not grow with it) through the
family classifier and the validators into a :class:`~harness.core.report.TapeReport`, then
:mod:`harness.report.html` renders one self-contained page. ``write_report(tapes, out)`` is the
whole job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.core.report import TapeReport
from harness.core.tape import encode_frame, utc_timestamp
from harness.report.html import MissingPlotly, plotly_js, render

__all__ = ["MissingPlotly", "read_tape_report", "write_report"]

Progress = Callable[[int, int, int], None]
"""``progress(bytes_done, bytes_total, frames)``, called now and then while a tape is read."""


def read_tape_report(
    path: Path, *, progress: Progress | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The report data of one tape (:meth:`TapeReport.result`), its violations found by the
    validators as ``harness validate`` finds them."""
    from harness.core.families import FamilyTracker
    from harness.store import TapeReader
    from harness.validation import default_validator

    validator = default_validator()
    tracker = FamilyTracker()
    with TapeReader(path) as reader:
        report = TapeReport(str(path), reader.header)
        total = reader.size
        for count, (line, frame) in enumerate(reader.records()):
            if progress is not None and count % 2000 == 0:
                progress(reader.position, total, count)
            messages = []
            violations = []
            for api, family, message, prefix in tracker.classify(frame):
                messages.append((api, family, message))
                for v in validator.classified(message, api, family):
                    found = v.as_dict()
                    found.update(api=v.api or api, pointer=prefix + v.pointer)
                    violations.append(found)
            report.add(line, frame, messages, violations, encode_frame(frame) if violations else "")
        if progress is not None:
            progress(total, total, report.frames)
        report.problems.extend(f"line {p.line}: {p.message}" for p in reader.problems)
    return report.result(now or datetime.now(UTC))


def write_report(
    tapes: Sequence[Path],
    out: Path,
    *,
    title: str | None = None,
    progress: Callable[[Path], Progress | None] | None = None,
) -> Path:
    """Read ``tapes`` and write their report to ``out`` (one HTML file); returns ``out``.
    Raises :class:`MissingPlotly` without the plotly package, ``TapeError`` for a bad tape."""
    js = plotly_js()
    now = datetime.now(UTC)
    reports = [read_tape_report(p, progress=progress(p) if progress else None, now=now) for p in tapes]
    page = render(
        reports,
        title=title or f"harness report: {', '.join(p.name for p in tapes)}",
        generated=utc_timestamp(now),
        js=js,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
