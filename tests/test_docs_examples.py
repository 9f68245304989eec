"""The examples of the pages under ``docs/`` run from the repository root: every ``$ `` line of a
```console block exits 0, as tests/test_readme.py checks the README's."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.helpers import ROOT
from tests.test_readme import _env

PAGES = sorted((ROOT / "docs").rglob("*.md"))


def _commands() -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        for body in re.findall(r"```console\n(.*?)```", page.read_text(), flags=re.S):
            out += [
                (str(page.relative_to(ROOT)), line[2:]) for line in body.splitlines() if line.startswith("$ ")
            ]
    return out


def test_the_limits_page_has_examples() -> None:
    assert any(page == "docs/reference/limits.md" for page, _ in _commands())


@pytest.mark.parametrize(("page", "command"), _commands())
def test_console_example_runs(page: str, command: str) -> None:
    out = subprocess.run(
        command, shell=True, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, f"{page}: $ {command}\n{out.stdout}\n{out.stderr}"
