"""A headless Chromium from Debian's packages driven by Playwright (no browser is downloaded):
what the report's browser test and the docs' screenshots share."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL = (
    "apt-get update && apt-get install -y chromium (and pip install playwright; never 'playwright install')"
)


def chromium() -> Path | None:
    """Debian's chromium binary, if installed."""
    if CHROMIUM.is_file():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


def missing() -> str:
    """Why the browser cannot run here ("" when it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"the playwright package is not installed: {INSTALL}"
    if chromium() is None:
        return f"no chromium at {CHROMIUM}: {INSTALL}"
    return ""


@dataclass
class Visit:
    """What a page did while it loaded: console errors and every request it made."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    binary = chromium()
    assert binary is not None
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(binary), args=ARGS, env={**os.environ, "TZ": "UTC"})
        try:
            yield launched
        finally:
            launched.close()


def visit(launched: Any, path: Path, *, width: int = 1280, height: int = 900) -> Visit:
    """Open ``path`` (file://) in a fresh offline context and wait until its charts are drawn."""
    context = launched.new_context(offline=True, viewport={"width": width, "height": height})
    page = context.new_page()
    seen = Visit(page)
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.on("request", lambda r: seen.requests.append(r.url))
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("body[data-charts=drawn]", state="attached", timeout=60_000)
    return seen
