"""MkDocs hook: ``contract §3.2`` in a page's text links to section 3.2 of the contract reference.

The code, the schemas and the guides cite the contract as ``contract §N.M``; on the site each such
citation becomes a link to its heading in docs/reference/contracts/ (sections 1 to 4 on the API
pages, 5 and 6 on the index, the open questions 6.1 to 6.13 to section 6). Code spans and code
blocks are left as they are. A citation of a section that has no heading stays text;
tests/test_docs.py fails on it first.
"""

from __future__ import annotations

import posixpath
import re
from functools import cache
from pathlib import Path
from typing import Any

from markdown.extensions.toc import slugify

CONTRACTS = Path(__file__).resolve().parents[1] / "reference" / "contracts"
CITATION = re.compile(r"\b([Cc]ontract) §(\d+(?:\.\d+)?)")
HEADING = re.compile(r"^#+ ((\d+(?:\.\d+)*)\.? .*)$", re.M)
CODE = re.compile(r"(^```.*?^```[^\n]*$|`[^`\n]+`)", re.M | re.S)


@cache
def sections() -> dict[str, str]:
    """``{"3.2": "reference/contracts/corto.md#32-client-messages", ...}``."""
    found: dict[str, str] = {}
    for page in sorted(CONTRACTS.glob("*.md")):
        for heading, number in HEADING.findall(page.read_text(encoding="utf-8")):
            found.setdefault(number, f"reference/contracts/{page.name}#{slugify(heading, '-')}")
    for minor in range(1, 14):  # the open questions are rows of section 6
        if "6" in found:
            found.setdefault(f"6.{minor}", found["6"])
    return found


def link(text: str, page_path: str) -> str:
    """``text`` with each citation outside code linked, relative to the page at ``page_path``."""
    here = posixpath.dirname(page_path)

    def one(match: re.Match[str]) -> str:
        target = sections().get(match[2])
        if target is None:
            return match[0]
        return f"[{match[0]}]({posixpath.relpath(target.split('#')[0], here or '.')}#{target.split('#')[1]})"

    parts = CODE.split(text)
    return "".join(part if i % 2 else CITATION.sub(one, part) for i, part in enumerate(parts))


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    return link(markdown, page.file.src_uri)
