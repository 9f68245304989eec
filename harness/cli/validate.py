"""``harness validate PATH...``: check tapes and JSON message files against the contract."""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cli.main import plural

if TYPE_CHECKING:
    from harness.cli.progress import Progress
    from harness.validation import Tally, Violation

NAME = "validate"
HELP = "check tapes or JSON messages against the APIs' JSON Schemas (exit 1 on violations)"
DESCRIPTION = """\
Check every message of tapes (both directions, by protocol and path or event), of JSON files
holding one message or a list of messages, or of JSON Lines files (one message a line, such as a
feed's messages dumped as they came: *.jsonl or *.ndjson that are no tape, gzipped or not); a
directory stands for the tapes (*.jsonl, *.jsonl.gz), JSON Lines and JSON files (*.json) in it.
Without --family the family of each message is found from the message itself. Exit 0 when
everything is valid, 1 when violations were found, 2 for unreadable input or bad usage.

examples:
  harness validate fixtures/demo
  harness validate event.json --api corto --family trade --format json
  harness validate feed-dump.jsonl --api corto
  harness validate --list
"""

JSON_SUFFIX = ".json"
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
"""A file so named that is no tape holds a message a line; it is read a line at a time."""
BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark some Windows tools start a file with: ignored (RFC 8259 8.1)."""
MAX_JSON_BYTES = 128 << 20
"""A JSON message file is decoded whole: a bigger one (or ``/dev/zero``) is refused before it
exhausts memory. Tapes are streamed and have no such limit."""
LIST_FAMILIES = {"trade_list": 1, "coin_list": 1, "ohlcv": 2}
"""Families whose message is itself a list, and how deep its lists nest (trades, coins: a list
of objects; ohlcv: a list of candles, each a list)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="tapes, JSON or JSON Lines files, directories"
    )
    parser.add_argument("--api", choices=("pumpfun", "pumpdata", "corto", "pumpportal"), help="only this API")
    parser.add_argument(
        "--family",
        help="check messages against this family only (on a tape, create* picks every create at that level)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="one line per violation and a table (default), or one JSON document",
    )
    parser.add_argument("--list", action="store_true", help="print the families per API and exit")
    parser.add_argument("--max", type=int, default=200, metavar="N", help="print at most N violations (text)")
    from harness.cli.limits import add_tape_options

    add_tape_options(parser)


def run(args: argparse.Namespace) -> int:
    from harness.cli.limits import tape_limits
    from harness.cli.main import UsageError
    from harness.validation import Tally, UnknownFamily, families, require_known

    if args.list:
        if args.format == "json":
            print(json.dumps(families(), indent=2))
        else:
            for api, names in families().items():
                print(f"{api}: {' '.join(names)}")
        return 0
    if not args.paths:
        raise UsageError("give at least one PATH (a tape, a JSON or JSON Lines file, a directory), or --list")
    if args.max < 0:
        raise UsageError(f"--max must be 0 or more, got {args.max}")
    try:
        require_known(args.api, args.family)
        args.limits = tape_limits(args)
    except (UnknownFamily, ValueError) as exc:
        raise UsageError(str(exc)) from None
    tally = Tally()
    paths = _inputs(args.paths)
    report = _Report(args)
    for path in paths:
        try:
            if _is_tape(path):
                _check_tape(path, args, tally, report)
            else:
                _check_file(path, args, tally, report)
        except MemoryError:
            raise UsageError(f"{path}: out of memory: a line or message too big to hold") from None
        report.warn(tally)
    report.finish(tally, len(paths))
    return 1 if report.total else 0


def _check_tape(path: Path, args: argparse.Namespace, tally: Tally, report: _Report) -> None:
    """Stream a tape's violations into the report, with a progress bar on a terminal."""
    from harness.cli.progress import Progress
    from harness.validation import validate_tape

    with Progress(f"validating {path.name}", path.stat().st_size) as bar:
        report.bar = bar

        def progress(done: int, _total: int) -> None:
            bar.update(done, plural(report.total, "violation") if report.total else "")

        try:
            for violation in validate_tape(
                path, api=args.api, family=args.family, progress=progress, tally=tally, limits=args.limits
            ):
                report.add(violation)
        finally:
            report.bar = None


def _check_file(path: Path, args: argparse.Namespace, tally: Tally, report: _Report) -> None:
    """Check a JSON file holding one message or a list of messages, or a JSON Lines file."""
    if path.name.endswith(JSON_LINES_SUFFIXES) or _holds_json_lines(path):
        _check_json_lines(path, args, tally, report)
        return
    _check_content(path, 1, _load(path), args, tally, report)


def _check_content(
    path: Path, line: int, content: Any, args: argparse.Namespace, tally: Tally, report: _Report
) -> None:
    """Check the message, or the messages of the list, that ``line`` of ``path`` holds."""
    from harness.validation import Violation, validate

    for pointer, message in _messages(content, args.api, args.family):
        found = validate(message, api=args.api, family=args.family)
        tally.messages[_family_key(message, args.api, args.family, found)] += 1
        for v in found:
            report.add(
                Violation(v.api, v.family, pointer + v.pointer, v.rule, v.message, file=str(path), line=line)
            )


def _check_line(
    path: Path, number: int, line: str | bytes, args: argparse.Namespace, tally: Tally, report: _Report
) -> None:
    """One line of a JSON Lines file: blank lines are skipped, one that is no JSON is a violation."""
    from harness.core.families import NotJson, decode_json

    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            _check_content(path, number, NotJson("", f"not UTF-8: {exc.reason}"), args, tally, report)
            return
    if line.strip():
        _check_content(path, number, decode_json(line.rstrip("\r\n")), args, tally, report)


def _check_json_lines(path: Path, args: argparse.Namespace, tally: Tally, report: _Report) -> None:
    """Stream a JSON Lines file a line at a time (any size), with a progress bar on a terminal."""
    from harness.cli.main import UsageError
    from harness.cli.progress import Progress
    from harness.store.tapes import LINE_LIMIT, open_by_content

    try:
        raw = path.open("rb")
        f = open_by_content(raw)  # gzip or not; progress in bytes on disk, as for tapes
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with raw, f, Progress(f"validating {path.name}", path.stat().st_size) as bar:
        report.bar = bar
        try:
            number = 0
            cap = min(LINE_LIMIT, args.limits.line_bytes)
            while line := f.readline(cap + 1):
                number += 1
                if number == 1:
                    line = line.removeprefix(BOM)
                if len(line) > cap:
                    raise UsageError(f"{path}:{number}: a line over {_size(cap)}")
                too_many = args.limits.too_many_values(line)
                if too_many is not None:
                    raise UsageError(f"{path}:{number}: {too_many}: not read")
                _check_line(path, number, line, args, tally, report)
                if not number % 1000:
                    bar.update(raw.tell(), plural(report.total, "violation") if report.total else "")
        except EOFError as exc:
            # a gzip stream cut short (a killed logger, a cut download): what came before is
            # checked, the rest skipped with a warning, as for a tape
            tally.problems.append(f"{path}:{number + 1}: compressed stream ends early ({exc}); rest skipped")
        except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            why = getattr(exc, "strerror", None) or exc
            raise UsageError(f"{path}:{number + 1}: cannot read ({why})") from None
        finally:
            report.bar = None


class _Report:
    """Violations as they are found: printed at once in text (up to ``--max``, above the
    progress bar), kept for the one JSON document of ``--format json``; counted per family."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.total = 0
        self.counts: Counter[str] = Counter()
        self.kept: list[Violation] = []
        self.bar: Progress | None = None
        self._warned = 0

    def add(self, violation: Violation) -> None:
        self.total += 1
        self.counts[_key(violation.api, violation.family)] += 1
        if self.args.format == "json":
            self.kept.append(violation)
        elif self.total <= self.args.max:
            if self.bar is not None:
                self.bar.clear()
            print(violation, flush=True)

    def warn(self, tally: Tally) -> None:
        """Say which tape defects the reader tolerated (a torn last line), once each."""
        for problem in tally.problems[self._warned :]:
            print(f"harness validate: warning: {problem}", file=sys.stderr)
        self._warned = len(tally.problems)

    def finish(self, tally: Tally, files: int) -> None:
        checked = sum(tally.messages.values())
        if self.args.format == "json":
            document = {
                "violations": [v.as_dict() for v in self.kept],
                "counts": dict(self.counts),
                "checked": dict(tally.messages),
                "problems": tally.problems,
            }
            print(json.dumps(document, indent=2))
            return
        if self.total > self.args.max:
            print(f"... {self.total - self.args.max} more (use --max or --format json)")
        where = f"{plural(checked, 'message')} in {plural(files, 'file')}"
        if self.total:
            print(f"\n{plural(self.total, 'violation')} in {where}")
        elif checked:
            print(f"all valid ({where})")
        else:
            what = f" of family {self.args.family}" if self.args.family else ""
            print(f"no messages{what} to check in {plural(files, 'file')}")
            return
        # per api, the families with the most messages first
        print(f"  {'messages':>8}  {'violations':>10}  family")
        names = sorted(
            set(tally.messages) | set(self.counts), key=lambda n: (n.split()[0], -tally.messages[n], n)
        )
        for name in names:
            print(f"  {tally.messages[name]:8d}  {self.counts[name]:10d}  {name}")


def _key(api: str, family: str) -> str:
    """How checked messages and violations are counted: ``"api family"``, ``?`` for none."""
    return f"{api or '?'} {family or '?'}"


def _inputs(paths: list[Path]) -> list[Path]:
    """Files as given; a directory stands for the tapes, JSON Lines and JSON files in it."""
    from harness.cli.main import UsageError
    from harness.store import find_tapes
    from harness.store.tapes import TAPE_SUFFIXES

    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            suffixes = (*TAPE_SUFFIXES, *JSON_LINES_SUFFIXES, JSON_SUFFIX)
            found = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(suffixes))
            if not found:
                what = "tapes (*.jsonl, *.jsonl.gz), JSON Lines (*.ndjson) or JSON files (*.json)"
                raise UsageError(f"{path}: directory holds no {what}")
            out.extend(found)
        else:
            out.extend(find_tapes([path]))
    return out


def _is_tape(path: Path) -> bool:
    from harness.cli.main import UsageError
    from harness.store.tapes import open_by_content

    try:
        with path.open("rb") as raw:
            try:
                first = open_by_content(raw).readline(4096)
            except (OSError, EOFError, zlib.error):
                return path.name.endswith(".gz")  # a broken gzip tape: its reader says what is wrong
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return b'"format"' in first and b"harness-tape" in first


def _load(path: Path) -> Any:
    """The JSON content of a message file (strict JSON, RFC 8259), or a one-line usage error."""
    from harness.cli.main import UsageError
    from harness.core.families import NotJson, decode_json
    from harness.store.tapes import open_by_content

    try:
        with path.open("rb") as raw, open_by_content(raw) as f:
            data = f.read(MAX_JSON_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:  # EOFError: a gzip file cut short
        raise UsageError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if len(data) > MAX_JSON_BYTES:
        raise UsageError(
            f"{path}: not a tape, and over {_size(MAX_JSON_BYTES)}: too big for a JSON message file"
            " (a tape of any size is read a line at a time)"
        )
    try:
        text = data.decode("utf-8-sig")  # a byte order mark is ignored (RFC 8259 8.1 allows it)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a tape and not JSON (not UTF-8: {exc.reason})") from None
    content = decode_json(text)
    if isinstance(content, NotJson):
        raise UsageError(f"{path}: not a tape and not JSON ({content.reason})")
    return content


def _holds_json_lines(path: Path) -> bool:
    """Whether a file that is no tape holds JSON Lines, whatever its name: its first line that is
    not blank is a whole JSON value, and more follows. (A document spanning lines starts with a
    line that is none, such as ``{`` or ``[``; one on a single line has nothing after it.)"""
    from harness.cli.main import UsageError
    from harness.core.families import NotJson, decode_json
    from harness.store.tapes import LINE_LIMIT, open_by_content

    def next_line(f: Any) -> bytes:
        """The next line that is not blank (b"" at the end)."""
        while (line := f.readline(LINE_LIMIT + 1)) and not line.strip():
            pass
        return bytes(line)

    try:
        with path.open("rb") as raw, open_by_content(raw) as f:
            first = f.readline(LINE_LIMIT + 1).removeprefix(BOM)
            first = first if first.strip() else next_line(f)
            if len(first) > LINE_LIMIT or not first.endswith(b"\n") or not next_line(f):
                return False
    except (EOFError, zlib.error):
        return False  # a broken gzip file: reading it as one document says what is wrong
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return not isinstance(decode_json(first.decode("utf-8")), NotJson)
    except UnicodeDecodeError:
        return False


def _messages(content: Any, api: str | None, family: str | None) -> list[tuple[str, Any]]:
    """``(pointer, message)`` of each message of a file: the content itself, or each item of a
    list. A list that is itself a message (a trade or coin list, an ohlcv emission) counts as one."""
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
        return _key(found[0].api or api or "", found[0].family)
    guess = family_of(message, api)
    if family is None:
        return f"{guess[0]} {guess[1]}" if guess else f"{api or '?'} ?"
    candidates = [api] if api else apis_of(family)
    name = guess[0] if guess and guess[0] in candidates else candidates[0]
    return f"{name} {family}"


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count >= 1 << 20 else f"{count:,} bytes"
