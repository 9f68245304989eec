"""The examples of the reference pages under docs/ run: every ``$ `` line of a ```console block (from
the repository root, as the README's are) and every ```python block."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.test_readme import _env

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
def test_console_example_runs(page: str, command: str) -> None:
    out = subprocess.run(
        command, shell=True, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, f"{page}: $ {command}\n{out.stdout}\n{out.stderr}"


@pytest.mark.parametrize(("page", "code"), _blocks("python"))
def test_python_example_runs(page: str, code: str, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, f"{page}:\n{code}\n{out.stdout}\n{out.stderr}"
