"""The docs' screenshots of a report and of a diff, made with the browser test's tooling:
``python -m tests.report.screenshots`` (from the repository root) rewrites docs/images/report.png
and docs/images/diff.png."""

from __future__ import annotations

import html
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.helpers import ROOT
from tests.report.browser import browser, visit

IMAGES = ROOT / "docs" / "images"
TERMINAL = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body{{margin:0;background:#1e1e1e}}pre{{margin:0;padding:16px 20px;color:#e0e0e0;
font:13px/1.45 "DejaVu Sans Mono",monospace;white-space:pre}}b{{color:#ff6b6b}}i{{color:#8bd48b;font-style:normal}}
</style></head><body data-charts="drawn"><pre>{text}</pre></body></html>"""


def harness(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, browser() as launched:
        page_path = Path(tmp) / "report.html"
        harness("report", "fixtures/demo/pumpfun.jsonl", "--out", str(page_path))
        seen = visit(launched, page_path, width=1100, height=1500)
        seen.page.screenshot(path=str(IMAGES / "report.png"))
        command = "harness diff fixtures/drift/corto-site.jsonl fixtures/drift/corto-repo.jsonl"
        out = harness(*command.split()[1:])
        text = html.escape(f"$ {command}\n{out}")
        text = text.replace("BREAKING", "<b>BREAKING</b>").replace("  ok  ", "  <i>ok</i>  ")
        diff_path = Path(tmp) / "diff.html"
        diff_path.write_text(TERMINAL.format(text=text))
        seen = visit(launched, diff_path, width=1100, height=200)
        seen.page.locator("pre").screenshot(path=str(IMAGES / "diff.png"))
    for name in ("report.png", "diff.png"):
        print(IMAGES / name, (IMAGES / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
