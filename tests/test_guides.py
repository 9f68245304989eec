"""The guides' console examples (docs/guides/*.md, ```console blocks, `$ ` lines) run from the
root of the repository, as the README's do."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.helpers import ROOT
from tests.test_readme import _env

GUIDES = sorted((ROOT / "docs" / "guides").glob("*.md"))


def _commands() -> list[tuple[str, str]]:
    return [
        (guide.name, line[2:])
        for guide in GUIDES
        for body in re.findall(r"```console\n(.*?)```", guide.read_text(), flags=re.S)
        for line in body.splitlines()
        if line.startswith("$ ")
    ]


def test_the_pumpportal_guide_has_examples() -> None:
    assert [name for name, _ in _commands()].count("pumpportal.md") >= 2


@pytest.mark.parametrize(("guide", "command"), _commands())
def test_guide_console_example_runs(guide: str, command: str) -> None:
    out = subprocess.run(
        command, shell=True, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, f"{guide}: $ {command}\n{out.stdout}\n{out.stderr}"
