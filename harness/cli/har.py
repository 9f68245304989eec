"""``harness har``: HAR 1.2 files to tapes (a browser's recording) and tapes to HAR files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cli.main import plural

if TYPE_CHECKING:
    from harness.cli.progress import Progress

NAME = "har"
HELP = "convert HAR files (a browser's DevTools recording) to tapes, and tapes to HAR 1.2"
DESCRIPTION = """\
import: a HAR file as exported by a browser's developer tools (Chrome, Firefox, Safari: "Save all
as HAR") becomes a tape, redacted like any recording (cookies, Authorization, API keys in query
parameters and Socket.IO auth). HTTP entries become exchanges; WebSocket entries with Chrome's
_webSocketMessages become WebSocket frames; a Socket.IO session (polling and WebSocket) becomes
Socket.IO frames. Entries without a response are left out and listed.
export: a tape's HTTP exchanges and WebSocket connections (Socket.IO ones as their packets) as a
HAR 1.2 file that browsers and HAR viewers open, WebSocket messages in Chrome's _webSocketMessages.

examples:
  harness har import ~/Downloads/pump.fun.har --label browser
  harness har import session.har --host frontend-api-v3.pump.fun --host api.pumpdata.fun
  harness har export recordings/20261123T020000Z-proxy.jsonl -o proxy.har
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.cli.record import add_tape_arguments

    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import",
        help="a HAR file as a new tape (redacted)",
        description="Turn a HAR file (a browser's 'Save all as HAR') into a redacted tape in --out.",
    )
    imp.add_argument("har", type=Path, metavar="FILE.har", help="the HAR file a browser saved")
    imp.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="HOST",
        help="keep only entries to this host (repeatable; default: every entry)",
    )
    add_tape_arguments(imp, "har")
    exp = sub.add_parser(
        "export",
        help="a tape as a HAR 1.2 file",
        description="Write a tape's HTTP exchanges, WebSocket and Socket.IO connections as HAR 1.2.",
    )
    exp.add_argument("tape", type=Path, metavar="TAPE", help="the tape to export")
    exp.add_argument(
        "-o", "--output", type=Path, metavar="OUT.har", help="default: the tape's name with .har, beside it"
    )


def run(args: argparse.Namespace) -> int:
    from harness.cli.main import UsageError
    from harness.cli.progress import Progress
    from harness.core.har import HarError

    try:
        with Progress("") as bar:  # on stderr, when it is a terminal
            report = _export(args, bar) if args.action == "export" else _import(args, bar)
    except HarError as exc:
        raise UsageError(str(exc)) from None
    print("\n".join(report))
    return 0


def _export(args: argparse.Namespace, bar: Progress) -> list[str]:
    from harness.recorder.har import export_file, har_path

    out: Path = args.output or har_path(args.tape)

    def reading(done: int, total: int, entries: int) -> None:
        bar.stage(f"reading {args.tape.name}", total)
        bar.update(done, f"{entries:,} entries")

    def writing(done: int, total: int) -> None:
        bar.stage(f"writing {out.name}", total, "entries and messages")
        bar.update(done)

    exported = export_file(args.tape, out, reading=reading, writing=writing)
    exchanges = plural(exported.exchanges, "HTTP exchange")
    sockets = plural(exported.sockets, "WebSocket connection")
    messages = plural(exported.messages, "message")
    entries = plural(exported.entries, "entry", "entries")
    return [f"{exported.path}  {entries} ({exchanges}, {sockets} with {messages})"]


def _import(args: argparse.Namespace, bar: Progress) -> list[str]:
    from harness.cli.record import redaction_rules
    from harness.recorder.har import import_file

    def parsing(size: int) -> None:
        bar.stage(f"parsing {args.har.name}", None)
        bar.update(size)

    def converting(done: int, total: int) -> None:
        bar.stage(f"converting {args.har.name}", total, "entries and messages")
        bar.update(done)

    def writing(done: int, total: int) -> None:
        bar.stage("writing the tape", total, "frames")
        bar.update(done)

    rules = redaction_rules(args)
    key = args.redact_key.encode() if args.redact_key else None
    imported = import_file(
        args.har,
        args.out,
        label=args.label,
        rules=rules,
        key=key,
        gzip=args.gzip,
        hosts=args.host,
        parsing=parsing,
        converting=converting,
        writing=writing,
    )
    frames = ", ".join(f"{p} {n}" for p, n in sorted(imported.frames.items())) or "no frames"
    return [f"{imported.path}  {sum(imported.frames.values())} frames ({frames})"] + [
        f"  {note}" for note in imported.notes
    ]
