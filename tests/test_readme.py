"""The README's examples run, and CI runs the README's test command."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(console|python)\n(.*?)```", README, flags=re.S)
GUIDES = sorted((ROOT / "docs").rglob("*.md"))
"""Pages beside the README (``docs/``): their examples run as the README's do."""
GUIDE_BLOCKS = [
    (page, lang, body)
    for page in GUIDES
    for lang, body in re.findall(r"```(console|python)\n(.*?)```", page.read_text(), flags=re.S)
]


def _commands() -> list[str]:
    return [
        line[2:]
        for lang, body in BLOCKS
        if lang == "console"
        for line in body.splitlines()
        if line.startswith("$ ")
    ]


def _env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"], PYTHONPATH=str(ROOT))


def test_readme_opens_with_the_two_commands() -> None:
    sh = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    assert "harness" in sh[0] and "pip install -e ." in sh[0]
    assert "pytest" in sh[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert sh[1] in ci, "CI must run the README's test command verbatim"


def _guide_commands() -> list[str]:
    return [
        line[2:]
        for _, lang, body in GUIDE_BLOCKS
        if lang == "console"
        for line in body.splitlines()
        if line.startswith("$ ")
    ]


@pytest.mark.parametrize("command", _commands() + _guide_commands())
def test_console_example_runs(command: str, tmp_path: Path) -> None:
    out = subprocess.run(
        command,
        shell=True,
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, f"$ {command}\n{out.stdout}\n{out.stderr}"


def is_test_file(code: str) -> bool:
    """A block that is a file of a user's test suite (``# test_x.py`` or ``# conftest.py`` on its
    first line): tests/plugin/test_readme_examples.py runs those with pytest."""
    first = code.splitlines()[0]
    return first.startswith("# ") and first.endswith(".py") and not is_excerpt(code)


def is_excerpt(code: str) -> bool:
    """A block that shows part of a file in examples/ (``# examples/...py`` on its first line):
    the file runs in CI, and the block must be that text."""
    return code.startswith("# examples/")


@pytest.mark.parametrize(
    "code",
    [body for lang, body in BLOCKS if lang == "python" and is_excerpt(body)],
    ids=lambda c: c.splitlines()[0][2:],
)
def test_usage_shows_the_example_files_as_they_are(code: str) -> None:
    first, _, shown = code.partition("\n")
    assert shown.strip() in (ROOT / first[2:]).read_text(), f"README's {first[2:]} is not the file's text"


def test_the_usage_section_shows_a_contract_test_and_a_fuzz_test() -> None:
    usage = README.split("## Usage", 1)[1].split("\n## ", 1)[0]
    assert "# examples/tests/test_contract.py" in usage and "# examples/tests/test_fuzz.py" in usage
    assert README.index("## Usage") < README.index("## Serving tapes")


@pytest.mark.parametrize(
    "code",
    [body for lang, body in BLOCKS if lang == "python" and not is_test_file(body) and not is_excerpt(body)],
    ids=lambda c: c.splitlines()[0][:40],
)
def test_python_example_runs(code: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, f"{code}\n{out.stdout}\n{out.stderr}"


SERVING = [
    body
    for body in re.findall(r"```text\n(.*?)```", README, flags=re.S)
    if body.startswith(("$ harness serve", "$ harness fuzz")) and body.splitlines()[1].startswith("harness ")
]


@pytest.mark.parametrize("shown", SERVING, ids=lambda body: body.splitlines()[0][2:])
def test_a_server_prints_what_the_readme_shows(shown: str) -> None:
    """A ``text`` block that starts ``$ harness serve`` or ``$ harness fuzz`` shows what the command
    prints on its default port, in order (``...`` stands for lines left out)."""
    command, *expected = shown.splitlines()
    proc = subprocess.Popen(
        [*command[2:].split(), "--port", "0"],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    printed: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the banner ends with the control endpoint
            printed.append(line.rstrip("\n"))
            if line.lstrip().startswith("control"):
                break
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    port = re.search(r"127\.0\.0\.1:(\d+)", "\n".join(printed))
    assert port is not None, printed
    at = 0
    for line in expected:
        if line.strip() == "...":
            continue
        wanted = line.replace(":8765", f":{port[1]}")
        assert wanted in printed[at:], f"README shows {line!r}; the command printed:\n" + "\n".join(printed)
        at = printed.index(wanted, at) + 1


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_to_a_section_finds_it() -> None:
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.*)$", README, flags=re.M)}
    links = re.findall(r"\]\(#([^)]+)\)", README)
    assert links, "the orientation links to the sections"
    assert [link for link in links if link not in anchors] == []
