"""The examples of the reference pages under docs/ run as the README's do (tests/test_readme.py):
every ``$ `` line of a ```console block, from the repository root, and every ```python block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import test_readme
from tests.helpers import ROOT

PAGES = sorted((ROOT / "docs").rglob("*.md"))


def _blocks(lang: str) -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for body in re.findall(rf"```{lang}\n(.*?)```", page.read_text(), flags=re.S):
            found.append((page.relative_to(ROOT).as_posix(), body))
    return found


COMMANDS = [
    (page, line[2:])
    for page, body in _blocks("console")
    for line in body.splitlines()
    if line.startswith("$ ")
]


def test_the_redaction_page_has_examples() -> None:
    assert any(page == "docs/reference/redaction.md" for page, _ in COMMANDS)


@pytest.mark.parametrize(("page", "command"), COMMANDS)
def test_console_example_runs(page: str, command: str, tmp_path: Path) -> None:
    test_readme.test_console_example_runs(command, tmp_path)


@pytest.mark.parametrize(("page", "code"), _blocks("python"))
def test_python_example_runs(page: str, code: str) -> None:
    test_readme.test_python_example_runs(code)
