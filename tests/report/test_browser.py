"""harness report in a real browser (headless Chromium, Playwright): the demo tapes, a violating
test session and a large synthetic tape each load offline with no console errors and no network
request, every chart draws, and the violation list holds the expected rows, whose links work.

Skipped with the reason when Chromium or Playwright is missing, except under CI (the ``CI``
variable set), where that fails: .ci/run installs both."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.core.frames import C2S, S2C, WsOpen, WsText
from harness.store import dump_tape
from tests.helpers import ROOT, header, run_cli
from tests.plugin.inner import project
from tests.plugin.test_violations import CLIENT
from tests.report.browser import browser, missing, visit


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    why = missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the report's browser test needs Chromium under CI: {why}")
        pytest.skip(why)
    with browser() as launched:
        yield launched


def report(tmp_path: Path, *tapes: Path | str) -> Path:
    out = tmp_path / "report.html"
    done = run_cli("report", *map(str, tapes), "--out", str(out), timeout=180)
    assert done.returncode == 0, done.stderr
    return out


def charts(page: Any) -> dict[str, int]:
    """Each chart's id and how many shapes its plot drew."""
    drawn: dict[str, int] = page.eval_on_selector_all(
        "[data-figure]",
        "els => Object.fromEntries(els.map(e => [e.id,"
        " e.dataset.drawn === 'true' ? e.querySelectorAll('.main-svg g.trace path').length : -1]))",
    )
    return drawn


def check_loaded(seen: Any, path: Path) -> dict[str, int]:
    assert seen.errors == []
    assert seen.requests == [path.resolve().as_uri()], "the page fetched something besides itself"
    drawn = charts(seen.page)
    assert drawn and all(n > 0 for n in drawn.values()), drawn
    return drawn


def test_the_demo_tapes(chromium: Any, tmp_path: Path) -> None:
    path = report(tmp_path, ROOT / "fixtures" / "demo")
    seen = visit(chromium, path)
    drawn = check_loaded(seen, path)
    for chart in (
        "rates-0-corto",
        "conns-0-corto",
        "rates-1-pumpdata",
        "rest-2-0",
        "budget-2",
        "rates-3-pumpportal",
    ):
        assert chart in drawn
    kinds = {c.split("-")[0] for c in drawn}
    assert kinds == {"rates", "conns", "rest", "budget", "candles"}
    # a candlestick chart draws its boxes
    assert seen.page.locator("#candles-1-pumpdata-0 g.trace.boxes path").count() > 0
    assert seen.page.locator("tr.violation").count() == 0
    assert seen.page.get_by_text("No message of this tape breaks the contract.").count() == 4
    assert "(synthetic: secrets are placeholders)" not in seen.page.content()  # shown as a cell
    assert seen.page.locator("table.kv td", has_text="synthetic: secrets are placeholders").count() == 4


def violating_tape(tmp_path: Path) -> Path:
    good = '{"type":"subscribe","mode":"all"}'
    frames = [
        WsOpen(0.0, "ws-1", "/data-stream"),
        WsText(0.1, "ws-1", C2S, '{"type":"subscribe","mode":"all","events":["trade"]}'),  # line 3
        WsText(0.2, "ws-1", C2S, good),
        WsText(0.3, "ws-1", C2S, '{"type":"subscribe","mode":"all","create":{"detail":"wide"}}'),  # line 5
        WsText(0.4, "ws-1", S2C, "not json"),  # line 6
    ]
    return dump_tape(tmp_path / "bad.jsonl", header(apis=("corto",)), frames)


def test_violations_link_to_their_tape_line_and_rule(chromium: Any, tmp_path: Path) -> None:
    path = report(tmp_path, violating_tape(tmp_path))
    seen = visit(chromium, path, height=500)
    check_loaded(seen, path)
    page = seen.page
    rows = page.locator("tr.violation")
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    assert [(c[0], c[3], c[4], c[5]) for c in cells] == [
        ("line 3", "corto request.subscribe", "/", "not"),
        ("line 5", "corto request.subscribe", "/create/detail", "enum"),
        ("line 6", "corto ?", "/", "json"),
    ]
    for i in range(rows.count()):
        for link in ("a.line-link", "a.rule-link"):
            target = rows.nth(i).locator(link).get_attribute("href")
            assert target is not None and page.locator(target).count() == 1, target
    rows.nth(1).locator("a.line-link").click()
    target = page.locator("#line-0-5")
    assert page.evaluate("location.hash") == "#line-0-5"
    assert target.is_visible() and page.evaluate("document.querySelector(':target').id") == "line-0-5"
    box = target.bounding_box()
    assert box is not None and 0 <= box["y"] < 500, "the line's row is scrolled into view"
    assert r"\"detail\":\"wide\"" in target.inner_text()  # the tape line, as the tape has it
    rows.nth(2).locator("a.rule-link").click()
    assert page.evaluate("document.querySelector(':target').textContent") == "corto ? json"


def test_a_violating_test_session(chromium: Any, pytester: pytest.Pytester) -> None:
    project(
        pytester,
        test_client=CLIENT + "\n\ndef test_reported(harness_server):\n    send_wide(harness_server)\n",
    )
    result = pytester.runpytest("-p", "no:randomly", "--harness-report", "reports")
    result.assert_outcomes(passed=1, errors=1)
    path = pytester.path / "reports" / "test_client.py-test_reported.html"
    result.stdout.fnmatch_lines([f"Report of the session: {path} *"])
    seen = visit(chromium, path)
    drawn = check_loaded(seen, path)
    assert {"rates-0-corto", "conns-0-corto", "violation-rate-0"} <= set(drawn)
    (row,) = seen.page.locator("tr.violation").all()
    line, _, conn, family, pointer, rule, message = row.locator("td").all_inner_texts()
    assert line.startswith("line ")
    assert (conn, family, pointer, rule) == ("ws-1 c2s", "corto request.subscribe", "/create/detail", "enum")
    assert "'wide' is not one of" in message
    row.locator("a.line-link").click()
    target = seen.page.locator(":target")
    assert target.is_visible() and json.loads(target.locator("code").inner_text())["data"] == (
        '{"type": "subscribe", "mode": "all", "create": {"detail": "wide"}}'
    )
    # the session's lifecycle: the client's open, its messages, its close
    assert seen.page.locator("details", has_text="connection").locator("td", has_text="/data-stream").count()


def test_a_large_synthetic_tape(chromium: Any, tmp_path: Path) -> None:
    done = run_cli(
        "synth", "--out", str(tmp_path / "synth"), "--api", "corto", "--seed", "5", "--duration", "900"
    )
    assert done.returncode == 0, done.stderr
    tape = tmp_path / "synth" / "corto.jsonl"
    assert tape.stat().st_size > 2_000_000
    path = report(tmp_path, tape)
    seen = visit(chromium, path)
    drawn = check_loaded(seen, path)
    assert sum(c.startswith("candles-0-corto") for c in drawn) == 4
    note = seen.page.locator("p.note", has_text="bounded memory").inner_text()
    assert "counted in 2-second buckets (at most 720 buckets a chart)" in note
    assert path.stat().st_size < tape.stat().st_size + 6_000_000
