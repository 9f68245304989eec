"""``harness validate PATH...``: check tapes and JSON message files against the contract."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

NAME = "validate"
HELP = "check tapes or JSON messages against the APIs' JSON Schemas (exit 1 on violations)"
DESCRIPTION = """\
Check every message of tapes (both directions, by protocol and path or event) or of JSON files
holding one message or a list of messages. Without --family the family of each message is found
from the message itself. Exit 0 when everything is valid, 1 when violations were found, 2 for
unreadable input or bad usage.

examples:
  harness validate fixtures/demo
  harness validate event.json --api corto --family trade --format json
  harness validate --list
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="tapes, directories or JSON files"
    )
    parser.add_argument("--api", choices=("pumpfun", "pumpdata", "corto"), help="only this API")
    parser.add_argument("--family", help="check messages against this family only")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--list", action="store_true", help="print the families per API and exit")
    parser.add_argument("--max", type=int, default=200, metavar="N", help="print at most N violations (text)")


def run(args: argparse.Namespace) -> int:
    from harness.cli.main import UsageError
    from harness.cli.progress import Progress
    from harness.store import find_tapes
    from harness.validation import UnknownFamily, Violation, families, validate, validate_tape

    if args.list:
        for api, names in families().items():
            print(f"{api}: {' '.join(names)}")
        return 0
    if not args.paths:
        raise UsageError("give at least one PATH (a tape, a directory of tapes, or a JSON file), or --list")
    if args.family and args.api and args.family not in families()[args.api]:
        raise UsageError(
            f"unknown family {args.family!r} for {args.api} (known: {', '.join(families()[args.api])})"
        )
    if args.family and not any(args.family in names for names in families().values()):
        raise UsageError(f"unknown family {args.family!r} (see harness validate --list)")
    violations: list[Violation] = []
    checked = 0
    for path in find_tapes(list(args.paths)):
        if _is_tape(path):
            with Progress(f"validating {path.name}", path.stat().st_size) as bar:
                violations.extend(
                    validate_tape(
                        path, api=args.api, family=args.family, progress=lambda done, _t: bar.update(done)
                    )
                )
            checked += 1
            continue
        try:
            content = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: not a tape and not JSON ({exc})") from None
        for index, message in enumerate(_messages(content, args.api, args.family)):
            try:
                found = validate(message, api=args.api, family=args.family)
            except UnknownFamily as exc:
                raise UsageError(str(exc)) from None
            pointer = f"/{index}" if isinstance(content, list) and message is not content else ""
            violations.extend(
                Violation(v.api, v.family, pointer + v.pointer, v.rule, v.message, file=str(path), line=1)
                for v in found
            )
        checked += 1
    _report(violations, args)
    return 1 if violations else 0


def _is_tape(path: Path) -> bool:
    if path.name.endswith(".gz"):
        return True
    with path.open("rb") as f:
        first = f.readline(4096)
    return b'"format"' in first and b"harness-tape" in first


def _messages(content: Any, api: str | None, family: str | None) -> list[Any]:
    """One message, or a list of them. A list that is itself a message (a trade list, an ohlcv
    emission) counts as one when its family says so."""
    from harness.core.families import family_of

    if family is not None or not isinstance(content, list):
        return [content]
    found = family_of(content, api)
    if found is not None:
        return [content]
    return list(content)


def _report(violations: list[Any], args: argparse.Namespace) -> None:
    counts = Counter(f"{v.api} {v.family}".strip() for v in violations)
    if args.format == "json":
        print(json.dumps({"violations": [v.as_dict() for v in violations], "counts": dict(counts)}, indent=2))
        return
    for v in violations[: args.max]:
        print(v)
    if len(violations) > args.max:
        print(f"... {len(violations) - args.max} more (use --max or --format json)")
    if violations:
        print(f"\n{len(violations)} violations")
        for name, count in counts.most_common():
            print(f"  {count:6d}  {name}")
    else:
        print("all valid")
