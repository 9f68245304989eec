"""``harness validate PATH...``: check tapes and JSON message files against the contract."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.validation import Tally, Violation

NAME = "validate"
HELP = "check tapes or JSON messages against the APIs' JSON Schemas (exit 1 on violations)"
DESCRIPTION = """\
Check every message of tapes (both directions, by protocol and path or event) or of JSON files
holding one message or a list of messages; a directory stands for the tapes (*.jsonl,
*.jsonl.gz) and JSON files (*.json) in it. Without --family the family of each message is found
from the message itself. Exit 0 when everything is valid, 1 when violations were found, 2 for
unreadable input or bad usage.

examples:
  harness validate fixtures/demo
  harness validate event.json --api corto --family trade --format json
  harness validate --list
"""

JSON_SUFFIX = ".json"
LIST_FAMILIES = {"trade_list": 1, "ohlcv": 2}
"""Families whose message is itself a list, and how deep its lists nest (trades: a list of
objects; ohlcv: a list of candles, each a list)."""


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
    from harness.validation import Tally, UnknownFamily, Violation, families, validate, validate_tape

    if args.list:
        for api, names in families().items():
            print(f"{api}: {' '.join(names)}")
        return 0
    if not args.paths:
        raise UsageError("give at least one PATH (a tape, a directory of tapes, or a JSON file), or --list")
    if args.max < 0:
        raise UsageError(f"--max must be 0 or more, got {args.max}")
    if args.family and args.api and args.family not in families()[args.api]:
        raise UsageError(
            f"unknown family {args.family!r} for {args.api} (known: {', '.join(families()[args.api])})"
        )
    if args.family and not any(args.family in names for names in families().values()):
        raise UsageError(f"unknown family {args.family!r} (see harness validate --list)")
    violations: list[Violation] = []
    tally = Tally()
    paths = _inputs(args.paths)
    for path in paths:
        if _is_tape(path):
            with Progress(f"validating {path.name}", path.stat().st_size) as bar:
                violations.extend(
                    validate_tape(
                        path,
                        api=args.api,
                        family=args.family,
                        progress=lambda done, _t: bar.update(done),
                        tally=tally,
                    )
                )
            continue
        content = _load(path)
        for pointer, message in _messages(content, args.api, args.family):
            try:
                found = validate(message, api=args.api, family=args.family)
            except UnknownFamily as exc:
                raise UsageError(str(exc)) from None
            tally.messages[_family_key(message, args.api, args.family, found)] += 1
            violations.extend(
                Violation(v.api, v.family, pointer + v.pointer, v.rule, v.message, file=str(path), line=1)
                for v in found
            )
    _report(violations, tally, len(paths), args)
    return 1 if violations else 0


def _inputs(paths: list[Path]) -> list[Path]:
    """Files as given; a directory stands for the tapes and JSON files in it."""
    from harness.cli.main import UsageError
    from harness.store import find_tapes
    from harness.store.tapes import TAPE_SUFFIXES

    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.is_file() and p.name.endswith((*TAPE_SUFFIXES, JSON_SUFFIX))
            )
            if not found:
                raise UsageError(f"{path}: directory holds no tapes (*.jsonl, *.jsonl.gz) or JSON files")
            out.extend(found)
        else:
            out.extend(find_tapes([path]))
    return out


def _is_tape(path: Path) -> bool:
    from harness.cli.main import UsageError

    if path.name.endswith(".gz"):
        return True
    try:
        with path.open("rb") as f:
            first = f.readline(4096)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return b'"format"' in first and b"harness-tape" in first


def _load(path: Path) -> Any:
    """The JSON content of a message file (strict JSON, RFC 8259), or a one-line usage error."""
    from harness.cli.main import UsageError
    from harness.core.families import NotJson, decode_json

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a tape and not JSON (not UTF-8: {exc.reason})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    content = decode_json(text)
    if isinstance(content, NotJson):
        raise UsageError(f"{path}: not a tape and not JSON ({content.reason})")
    return content


def _messages(content: Any, api: str | None, family: str | None) -> list[tuple[str, Any]]:
    """``(pointer, message)`` of each message of a file: the content itself, or each item of a
    list. A list that is itself a message (a trade list, an ohlcv emission) counts as one."""
    from harness.core.families import family_of

    if not isinstance(content, list):
        return [("", content)]
    if family is None:
        one = family_of(content, api) is not None
    else:
        one = family in LIST_FAMILIES and _depth(content) <= LIST_FAMILIES[family]
    return [("", content)] if one else [(f"/{i}", item) for i, item in enumerate(content)]


def _depth(value: Any) -> int:
    """How deep lists nest in ``value``, by its first items (``[[1]]`` is 2, ``[{}]`` 1)."""
    depth = 0
    while isinstance(value, list) and value:
        depth, value = depth + 1, value[0]
    return depth + isinstance(value, list)


def _family_key(message: Any, api: str | None, family: str | None, found: list[Violation]) -> str:
    """``"api family"`` a message was checked as, for the counts of what was checked."""
    from harness.core.families import apis_of, family_of

    if found:
        return f"{found[0].api or api or '?'} {found[0].family or '?'}"
    guess = family_of(message, api)
    if family is None:
        return f"{guess[0]} {guess[1]}" if guess else f"{api or '?'} ?"
    candidates = [api] if api else apis_of(family)
    name = guess[0] if guess and guess[0] in candidates else candidates[0]
    return f"{name} {family}"


def _report(violations: list[Violation], tally: Tally, files: int, args: argparse.Namespace) -> None:
    for problem in tally.problems:
        print(f"harness validate: warning: {problem} (skipped)", file=sys.stderr)
    counts = Counter(
        " ".join(part for part in (v.api, v.family) if part) or "unclassified" for v in violations
    )
    checked = sum(tally.messages.values())
    if args.format == "json":
        report = {
            "violations": [v.as_dict() for v in violations],
            "counts": dict(counts),
            "checked": dict(tally.messages),
            "problems": tally.problems,
        }
        print(json.dumps(report, indent=2))
        return
    for v in violations[: args.max]:
        print(v)
    if len(violations) > args.max:
        print(f"... {len(violations) - args.max} more (use --max or --format json)")
    where = f"{_plural(checked, 'message')} in {_plural(files, 'file')}"
    if violations:
        print(f"\n{_plural(len(violations), 'violation')} in {where}")
        for name, count in counts.most_common():
            print(f"  {count:6d}  {name}")
    elif checked:
        print(f"all valid ({where})")
    else:
        what = f" of family {args.family}" if args.family else ""
        print(f"no messages{what} to check in {_plural(files, 'file')}")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
