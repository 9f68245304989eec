"""The examples of the pages under docs/ run: ``$ `` lines of ```console blocks from the repository
root, and ```python blocks, as tests/test_readme.py runs the README's."""

from __future__ import annotations

import re

import pytest

from tests.helpers import ROOT
from tests.test_readme import run_console_example, run_python_example

PAGES = sorted((ROOT / "docs").rglob("*.md"))
BLOCKS = [
    (page.relative_to(ROOT).as_posix(), lang, body)
    for page in PAGES
    for lang, body in re.findall(r"```(console|python)\n(.*?)```", page.read_text(), flags=re.S)
]


@pytest.mark.parametrize(
    "command",
    [
        line[2:]
        for _, lang, body in BLOCKS
        if lang == "console"
        for line in body.splitlines()
        if line.startswith("$ ")
    ],
)
def test_console_example_runs(command: str) -> None:
    run_console_example(command)


@pytest.mark.parametrize(
    "code", [body for _, lang, body in BLOCKS if lang == "python"], ids=lambda c: c.splitlines()[0][:40]
)
def test_python_example_runs(code: str) -> None:
    run_python_example(code)


def test_the_control_plane_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docs/reference/control-plane.md" in readme
    assert (
        (ROOT / "docs/reference/control-plane.md")
        .read_text()
        .startswith("# Control plane, timeouts and connection caps\n")
    )
