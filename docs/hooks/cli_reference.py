"""The CLI reference page (docs/reference/cli.md), generated from the ``harness`` argument parsers.

``python docs/hooks/cli_reference.py --write`` writes the page; without ``--write`` it exits 1 when
the page differs from what the parsers say (tests/test_docs.py runs the same check). As a MkDocs
hook (mkdocs.yml ``hooks:``) it stops ``mkdocs build`` when the page has drifted, so the published
reference is always the parsers' own help.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "reference" / "cli.md"
WIDTH = "100"  # argparse wraps help text to $COLUMNS: the page must not depend on a terminal

HEAD = """\
# CLI reference

Every command's `--help`, as `harness` prints it. This page is generated from the argument
parsers (`python docs/hooks/cli_reference.py --write`); a test fails when it differs from them.

"""


def _commands(parser: argparse.ArgumentParser, words: list[str]) -> Iterator[tuple[list[str], str]]:
    yield words, parser.format_help()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, [*words, name])


def render() -> str:
    """The page's Markdown."""
    from harness.cli.main import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        sections = list(_commands(build_parser(), ["harness"]))
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    out = [HEAD]
    out += [f"- [`{' '.join(words)}`](#{'-'.join(words)})\n" for words, _ in sections[1:]]
    for words, text in sections:
        out.append(f"\n## {' '.join(words)} {{#{'-'.join(words)}}}\n\n```text\n{text.rstrip()}\n```\n")
    return "".join(out)


def on_pre_build(config: object) -> None:
    """MkDocs hook: refuse to build a reference that differs from the parsers."""
    if PAGE.read_text(encoding="utf-8") != render():
        from mkdocs.exceptions import PluginError

        raise PluginError(f"{PAGE} differs from the parsers: run python docs/hooks/cli_reference.py --write")


def main(argv: list[str]) -> int:
    page = render()
    if "--write" in argv:
        PAGE.write_text(page, encoding="utf-8")
        return 0
    if PAGE.read_text(encoding="utf-8") != page:
        print(f"{PAGE} differs from the parsers: run python docs/hooks/cli_reference.py --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
