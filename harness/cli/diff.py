"""``harness diff OLD NEW``: contract drift between two recordings, classed breaking or not."""

from __future__ import annotations

import argparse
import json
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.cli.progress import Progress
    from harness.core.drift import Profile

NAME = "diff"
HELP = "contract drift between two recordings (tapes, JSON, JSON Lines): exit 1 on breaking drift"
DESCRIPTION = """\
Compare the messages of two recordings (tapes, JSON files of a message or a list of messages,
JSON Lines files, or directories of them) per API and family: keys added and removed, how often
each key is present, type changes (int, float, string, null, exponent notation such as 4e-9),
nullability, new and vanished values of vocabularies (pools, events, modes, tx types) and their
order, unit or magnitude shifts (milliseconds against seconds, lamports against SOL), and messages
the current schemas reject. Each change is classed as breaking for clients or not, with the
reason. Recordings of any size are streamed: each key is profiled with counters and capped
vocabularies. Exit 0 without breaking drift, 1 with some, 2 for unreadable input.

examples:
  harness diff recordings/old.jsonl recordings/new.jsonl
  harness diff site-examples.jsonl repo-examples.jsonl --api corto --format json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=Path, metavar="OLD", help="the older recording (file or directory)")
    parser.add_argument("new", type=Path, metavar="NEW", help="the newer recording (file or directory)")
    parser.add_argument("--api", choices=("pumpfun", "pumpdata", "corto"), help="only this API")
    parser.add_argument("--family", help="only this family")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="a readable list (default) or one JSON document",
    )


def run(args: argparse.Namespace) -> int:
    from harness.cli.main import UsageError
    from harness.core.drift import compare, describe, profile_dict
    from harness.validation import UnknownFamily, require_known

    try:
        require_known(args.api, args.family)
    except UnknownFamily as exc:
        raise UsageError(str(exc)) from None
    old = read_profile([args.old], args.api, args.family)
    new = read_profile([args.new], args.api, args.family)
    changes = compare(old, new)
    breaking = sum(c.breaking for c in changes)
    if args.format == "json":
        document = {
            "old": str(args.old),
            "new": str(args.new),
            "breaking": breaking,
            "changes": [c.as_dict() for c in changes],
            "profiles": {"old": profile_dict(old), "new": profile_dict(new)},
        }
        print(json.dumps(document, indent=2))
    else:
        print(describe(changes, old, new, f"{args.old} -> {args.new}"))
    return 1 if breaking else 0


def read_profile(paths: list[Path], api: str | None = None, family: str | None = None) -> Profile:
    """The profile of a recording's messages (tapes streamed, JSON Lines read a line at a time,
    as ``harness validate`` reads them), with a progress bar on a terminal."""
    from harness.cli.progress import Progress
    from harness.cli.validate import _inputs, _is_tape
    from harness.core.drift import Profile
    from harness.validation.drift import tape_profile

    profile = Profile()
    for path in _inputs(paths):
        with Progress(f"profiling {path.name}", path.stat().st_size) as bar:
            if _is_tape(path):
                tape_profile(path, profile, want=(api, family), progress=bar.update)
            else:
                _file(path, profile, api, family, bar)
    return profile


def _file(path: Path, profile: Profile, api: str | None, family: str | None, bar: Progress) -> None:
    from harness.cli.main import UsageError
    from harness.cli.validate import BOM, JSON_LINES_SUFFIXES, MAX_JSON_BYTES, _holds_json_lines, _messages
    from harness.store.tapes import LINE_LIMIT, open_by_content
    from harness.validation.drift import add_message

    def messages(text: str) -> None:
        from harness.core.drift import decode
        from harness.core.families import NotJson, decode_json, family_of

        content, plain = decode(text), decode_json(text)  # plain: as the validators take it
        if isinstance(plain, NotJson):
            raise ValueError(plain.reason)
        pairs = zip(_messages(content, api, family), _messages(plain, api, family), strict=True)
        for (_, message), (_, same) in pairs:
            found = family_of(same, api)
            if found is None:
                profile.add(api or "", None, message)
            else:
                add_message(profile, found[0], found[1], message, same, (api, family))

    lines = path.name.endswith(JSON_LINES_SUFFIXES) or _holds_json_lines(path)
    try:
        with path.open("rb") as raw, open_by_content(raw) as f:
            if not lines:
                data = f.read(MAX_JSON_BYTES + 1)
                if len(data) > MAX_JSON_BYTES:
                    raise UsageError(f"{path}: not a tape, and too big for a JSON message file")
                messages(data.decode("utf-8-sig"))
                return
            number = 0
            while line := f.readline(LINE_LIMIT + 1):
                number += 1
                text = (line.removeprefix(BOM) if number == 1 else line).decode("utf-8", "replace")
                if text.strip():
                    try:
                        messages(text)
                    except (ValueError, RecursionError):
                        profile.unclassified += 1
                if number % 1000 == 0:
                    bar.update(raw.tell())
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: not a tape and not JSON ({exc})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise UsageError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
