"""The guides of harness report and harness diff: their console examples run from the repository
root and print what the guides show; their screenshots are there and small."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

GUIDES = [ROOT / "docs" / "guides" / "report.md", ROOT / "docs" / "guides" / "diff.md"]


def examples() -> list[tuple[str, str, list[str]]]:
    """``(guide, command, the output lines shown under it)`` of every ```console block."""
    out = []
    for guide in GUIDES:
        for block in re.findall(r"```console\n(.*?)```", guide.read_text(), flags=re.S):
            lines = block.splitlines()
            assert lines[0].startswith("$ "), block
            out.append((guide.name, lines[0][2:], [line for line in lines[1:] if line.strip()]))
    return out


@pytest.mark.parametrize(("guide", "command", "shown"), examples())
def test_console_example(guide: str, command: str, shown: list[str]) -> None:
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    done = subprocess.run(
        command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    # a docs example runs to success: one whose command fails shows its status ("exit status 1")
    assert done.returncode == 0, f"{guide}: $ {command}\n{done.stdout}\n{done.stderr}"
    printed = done.stdout.splitlines()
    for line in shown:
        if line != "...":  # the guide leaves out the rest
            assert line in printed, f"{guide}: $ {command} does not print {line!r}"


@pytest.mark.parametrize("name", ["report.png", "diff.png"])
def test_screenshots(name: str) -> None:
    image = ROOT / "docs" / "images" / name
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.stat().st_size < 300_000
    assert any(f"../images/{name}" in guide.read_text() for guide in GUIDES)
