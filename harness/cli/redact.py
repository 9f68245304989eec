"""``harness redact TAPE...``: rewrite existing tapes with the current redaction rules."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

NAME = "redact"
HELP = "rewrite tapes with the current redaction rules (--check: only say whether any secret is left)"
DESCRIPTION = """\
Rewrite each tape with the current redaction rules (docs/reference/redaction.md): frames are streamed, so
memory stays flat for any size, plain or gzip; the new tape is written beside the old one, synced
and renamed over it, so an interrupted run leaves the old tape whole. The header lists the rules
applied. Prints what was redacted per rule (counts, never the values). A tape already redacted
under these rules is left untouched. --check (or --dry-run) writes nothing and exits 1 when something would
be redacted: a pre-commit hook. The same --redact-* and --keep-secret options as harness record.

examples:
  harness redact recordings/                          every tape in the directory
  harness redact --check tapes/*.jsonl                 exit 1 if a tape still holds a secret
  harness redact tapes/feed.jsonl --keep-secret session
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.cli.record import add_redaction_arguments

    parser.add_argument("tapes", nargs="+", type=Path, metavar="TAPE", help="tape file or directory")
    parser.add_argument(
        "--check",
        "--dry-run",
        action="store_true",
        dest="check",
        help="write nothing; exit 1 when something would be redacted",
    )
    add_redaction_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import secrets

    from harness import __version__
    from harness.cli.progress import Progress
    from harness.cli.record import redaction_rules
    from harness.core.frames import TapeHeader
    from harness.core.redact import Redactor
    from harness.store import find_tapes
    from harness.store.rewrite import rewrite_tape

    rules = redaction_rules(args)
    applied = (*rules.describe(), f"harness redact {__version__}")
    key = args.redact_key.encode() if args.redact_key else secrets.token_bytes(32)
    found = 0
    for path in find_tapes(args.tapes):
        redactor = Redactor(rules, key)

        def header(old: TapeHeader, redactor: Redactor = redactor) -> TapeHeader:
            return dataclasses.replace(
                old,
                recorded=redactor.recorded(old.recorded),
                redaction=tuple(dict.fromkeys((*old.redaction, *applied))),
            )

        verb = "checking" if args.check else "redacting"
        with Progress(f"{verb} {path.name}", path.stat().st_size) as bar:

            def progress(done: int, _size: int, bar: Progress = bar, redactor: Redactor = redactor) -> None:
                bar.update(done, f"{sum(redactor.counts.values())} found")

            result = rewrite_tape(path, header, redactor.frame, dry_run=args.check, progress=progress)
        found += sum(redactor.counts.values())
        print(_summary(result, redactor.counts, check=args.check))
    return 1 if args.check and found else 0


def _summary(result: Any, counts: Counter[str], *, check: bool) -> str:
    from harness.cli.main import plural

    total = sum(counts.values())
    rules = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    frames = plural(result.changed, "frame")
    if not total:
        line = f"{result.path}: nothing to redact ({plural(result.frames, 'frame')})"
        if result.replaced:
            line += "; header updated"
    elif check:
        line = f"{result.path}: {plural(total, 'value')} would be redacted in {frames} ({rules})"
    else:
        line = f"{result.path}: {plural(total, 'value')} redacted in {frames} ({rules})"
    for problem in result.problems:
        dropped = "" if check else "; dropped from the rewritten tape"
        line += f"\n  line {problem.line}: {problem.message}{dropped}"
    return line
