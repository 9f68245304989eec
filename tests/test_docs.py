"""The documentation site: its generated CLI reference matches the parsers, every section of the
contract reference that the repository cites exists, and nothing in the repository points at a
file outside it.

(The examples of the docs run in tests/test_readme.py, and ``mkdocs build --strict`` in CI checks
the links and the navigation.)
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

DOCS = ROOT / "docs"
CONTRACTS = DOCS / "reference" / "contracts"
SEARCHED = (
    "harness",
    "tests",
    "bench",
    "examples",
    "schemas",
    "docs",
    "README.md",
    ".ci",
    "fixtures/seeds/README.md",
)
SKIPPED = {"node_modules", "__pycache__", ".venv"}
TEXT = {".py", ".md", ".js", ".json", ".toml", ".txt", ".yml", ".yaml", ".sh", ""}


def _files() -> Iterator[Path]:
    for name in SEARCHED:
        path = ROOT / name
        if path.is_file():
            yield path
            continue
        for file in sorted(path.rglob("*")):
            rel = file.relative_to(ROOT)
            if not file.is_file() or SKIPPED & set(rel.parts) or file.suffix not in TEXT:
                continue
            if file.name == "package-lock.json" or ("fixtures" in rel.parts[:-1] and file.suffix == ".json"):
                continue  # dependencies' names and recorded data
            yield file


def _lines() -> Iterator[tuple[str, int, str]]:
    for file in _files():
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            yield file.relative_to(ROOT).as_posix(), number, line


# Files that are not in the repository: the design notes and contract notes the project started
# from, their seed pages' numbers, and the directory that held them. Written so that this file
# does not match itself.
OUTSIDE = re.compile(
    "|".join(
        [
            "CONTRACTS" + r"\.md",
            "DESIGN" + r"\.md",
            "STYLE" + r"\.md",
            "[Ss]eeds? " + r"00\d",
            r"\.\./" + "shared",
            "/work/" + "shared",
        ]
    )
)


def test_nothing_points_outside_the_repository() -> None:
    """The grep of issue 16 (the contract and design notes by file name, the seed pages by
    number, the shared directory), over every file of the repository's code, tests, schemas and
    docs: a user who clones the repository can read everything it cites."""
    found = [
        f"{path}:{number}: {line.strip()[:100]}" for path, number, line in _lines() if OUTSIDE.search(line)
    ]
    assert found == []


def _headings() -> set[str]:
    """The section numbers of the contract reference: ``3.2`` for ``### 3.2 Client messages``,
    ``3`` for ``# 3. corto.fun Data Stream``, and the rows ``| 6.1 |`` of the open questions."""
    numbers = set()
    for page in CONTRACTS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        numbers |= {m.rstrip(".") for m in re.findall(r"^#+ (\d+(?:\.\d+)*\.?)(?= )", text, flags=re.M)}
        numbers |= set(re.findall(r"^\| (\d+\.\d+) \|", text, flags=re.M))
    return numbers


CITATION = re.compile(r"[Cc]ontract §((?:\d+(?:\.\d+)?(?:\([a-z]\))?(?:, |/|-|–)?)+)")


def _citations() -> Iterator[tuple[str, str]]:
    for path, number, line in _lines():
        for match in CITATION.finditer(line):
            for section in re.findall(r"\d+(?:\.\d+)?", match[1]):
                yield f"{path}:{number}", section


def test_every_cited_section_of_the_contract_has_its_heading() -> None:
    headings = _headings()
    assert {"1", "1.2", "2", "2.3", "3", "3.2", "3.7", "4", "5", "6", "6.1", "6.13"} <= headings
    cited = list(_citations())
    assert len(cited) > 20, "the code cites the contract reference"
    assert [f"{where}: §{section}" for where, section in cited if section not in headings] == []


@pytest.mark.parametrize(
    ("line", "sections"),
    [
        ("# contract §3.2: trade expands", ["3.2"]),
        ("(contract §3.3, 3.4; docs/...)", ["3.3", "3.4"]),
        ("contract §1.5/6.11: NestJS", ["1.5", "6.11"]),
        ("Owns contract §2.1-2.3: every", ["2.1", "2.3"]),
        ("contract §2.4(c)) at its", ["2.4"]),
        ('"""Contract §1.2: GET /coins', ["1.2"]),
        ("contract §3.6 Migration: every", ["3.6"]),
    ],
)
def test_citations_are_read_as_written(line: str, sections: list[str]) -> None:
    (match,) = CITATION.finditer(line)
    assert re.findall(r"\d+(?:\.\d+)?", match[1]) == sections


def _hook(name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, DOCS / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_reference_is_what_the_parsers_say() -> None:
    reference = _hook("cli_reference")
    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert page == reference.render(), "run: python docs/hooks/cli_reference.py --write"  # type: ignore[attr-defined]


def test_the_cli_reference_has_every_command() -> None:
    from harness.cli.main import COMMANDS

    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    for module in COMMANDS:
        assert f"\n## harness {module.rsplit('.', 1)[1]} " in page, module
    assert "## harness contract export" in page


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert {page for page in pages if page not in nav} == set()


def test_the_site_links_each_citation_to_its_section() -> None:
    links = _hook("contract_links")
    unknown = "contract " + "§9.9"  # no such section: left as text (and not a citation of this file)
    text = (
        f"as `contract §3.2` shows (contract §3.2, 3.5; contract §6.10; {unknown})\n```\ncontract §2.1\n```"
    )
    assert links.link(text, "guides/replay.md") == (  # type: ignore[attr-defined]
        "as `contract §3.2` shows ([contract §3.2](../reference/contracts/corto.md#32-client-messages), 3.5; "
        "[contract §6.10](../reference/contracts/index.md#6-open-questions-the-docs-leave-ambiguous); "
        f"{unknown})\n```\ncontract §2.1\n```"
    )
