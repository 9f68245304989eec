"""``harness inspect TAPE...``: what a tape holds, as a readable table (or JSON)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.core.expiry import describe_age, tape_age

NAME = "inspect"
HELP = "summarise tapes: duration, connections, frames per protocol/direction/family, rates"
DESCRIPTION = """\
Summarise one or more tapes: header (creation time and age, which the pytest plugin's max_age
compares; source, redaction rules), time span and
duration, connections per protocol, frames per protocol / direction / kind / message family with
their rates, and any torn or unreadable lines. Warns when a tape holds values that look like
secrets under the current redaction rules (counted per rule, never printed; 'harness redact'
replaces them).

example:
  harness inspect fixtures/demo/corto.jsonl
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tapes", nargs="+", type=Path, metavar="TAPE", help="tape file or directory")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text tables (default) or JSON for machines",
    )
    from harness.cli.limits import add_tape_options

    add_tape_options(parser)


def run(args: argparse.Namespace) -> int:
    from harness.cli.limits import tape_limits
    from harness.cli.main import UsageError
    from harness.cli.progress import Progress
    from harness.core.redact import Redactor
    from harness.core.summary import TapeSummary
    from harness.store import TapeReader, find_tapes

    try:
        limits = tape_limits(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    reports = []
    for path in find_tapes(args.tapes):
        summary = TapeSummary()
        classify = _classifier()
        scan = Redactor.masking()  # counts what the current rules would replace; prints nothing of it
        with TapeReader(path, limits) as reader, Progress(f"reading {path.name}", reader.size) as bar:
            scan.recorded(reader.header.recorded)
            for frame in reader:
                summary.add(frame, classify)
                scan.frame(frame)
                if summary.frames % 2000 == 0:
                    bar.update(reader.position)
            reports.append(_report(path, reader, summary, scan.counts))
    if args.format == "json":
        print(json.dumps(reports if len(reports) > 1 else reports[0], indent=2))
    else:
        print("\n\n".join(_text(r) for r in reports))
    return 0


def _classifier() -> Any:
    """``(api, family)`` of each message a frame carries, as the validators classify them."""
    from harness.core.families import FamilyTracker

    tracker = FamilyTracker()
    return lambda frame: ((api, fam) for api, fam, *_ in tracker.classify(frame) if fam is not None)


def _report(path: Path, reader: Any, s: Any, secrets: Any) -> dict[str, Any]:
    from harness.core.redact import shown

    h = reader.header
    return {
        "tape": str(path),
        "created": h.created,
        "age": _age(h.created),
        "harness": h.harness_version,
        "source": h.recorded.source,
        "label": h.recorded.label,
        "apis": list(h.recorded.apis),
        "upstreams": {name: shown(url) for name, url in h.recorded.upstreams},
        "redaction": list(h.redaction),
        "frames": s.frames,
        "start": s.first_t,
        "end": s.last_t,
        "duration": s.duration,
        "connections": {p: len(c) for p, c in sorted(s.conns_by_protocol.items())},
        "protocols": {p: {"frames": n, "per_s": s.rate(n)} for p, n in sorted(s.by_protocol.items())},
        "directions": {f"{p} {d}": n for (p, d), n in sorted(s.by_direction.items())},
        "kinds": {f"{p} {k}": n for (p, k), n in sorted(s.by_kind.items())},
        "families": {
            f"{a} {f}": {"messages": n, "per_s": s.rate(n)} for (a, f), n in sorted(s.by_family.items())
        },
        "out_of_order_frames": s.out_of_order,
        "problems": [{"line": p.line, "message": p.message} for p in reader.problems],
        "secrets": dict(sorted(secrets.items())),
    }


def _age(created: str) -> float | None:
    """Seconds since the header's creation time (what ``max_age`` compares), None if unreadable."""
    try:
        return round(tape_age(created, time.time()), 3)
    except ValueError:
        return None


def _text(r: dict[str, Any]) -> str:
    lines = [f"tape      {r['tape']}"]
    age = "" if r["age"] is None else f" ({describe_age(r['age'])} ago)"
    lines.append(f"created   {r['created']}{age} by harness {r['harness']}")
    made = ", ".join(x for x in (r["source"], r["label"]) if x)
    if made:
        lines.append(f"made by   {made}" + (f" ({', '.join(r['apis'])})" if r["apis"] else ""))
    for name, url in r["upstreams"].items():
        lines.append(f"upstream  {name}: {url}")
    lines.append(f"redaction {', '.join(r['redaction']) or 'none recorded'}")
    if r["frames"]:
        lines.append(f"span      t={r['start']:.3f}s .. {r['end']:.3f}s  (duration {r['duration']:.3f} s)")
    if not r["frames"]:
        lines.append("frames    none: the tape holds only its header")
        return "\n".join(lines + [f"\nline {p['line']}: {p['message']}" for p in r["problems"]])
    conns = ", ".join(f"{p} {n}" for p, n in r["connections"].items())
    lines.append(f"frames    {r['frames']} in {sum(r['connections'].values())} connections ({conns})")
    rows: list[tuple[str, ...]] = [("protocol", "frames", "per s")]
    rows += [(p, str(v["frames"]), f"{v['per_s']:.2f}") for p, v in r["protocols"].items()]
    lines += ["", *_table(rows)]
    rows = [("protocol direction", "frames")]
    rows += [(k, str(v)) for k, v in r["directions"].items()]
    lines += ["", *_table(rows)]
    rows = [("protocol kind", "frames")] + [(k, str(v)) for k, v in r["kinds"].items()]
    lines += ["", *_table(rows)]
    if r["families"]:
        rows = [("api family", "messages", "per s")]
        rows += [(k, str(v["messages"]), f"{v['per_s']:.2f}") for k, v in r["families"].items()]
        lines += ["", *_table(rows)]
    if r["secrets"]:
        from harness.cli.main import plural

        found = ", ".join(f"{rule} {n}" for rule, n in r["secrets"].items())
        lines.append(
            f"\nwarning: {plural(sum(r['secrets'].values()), 'value')} look like secrets ({found}):"
            f" 'harness redact {r['tape']}' replaces them"
        )
    if r["out_of_order_frames"]:
        lines.append(f"\nwarning: {r['out_of_order_frames']} frames are earlier than the one before")
    lines += [f"\nline {p['line']}: {p['message']}" for p in r["problems"]]
    return "\n".join(lines)


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        out.append("  ".join(cells))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return out
