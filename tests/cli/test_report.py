"""``harness report``: one self-contained file, progress on a terminal, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from harness.core.frames import S2C, WsOpen, WsText
from harness.store import dump_tape
from tests.helpers import ROOT, header, run_cli, run_cli_on_terminal

DEMO = ROOT / "fixtures" / "demo"


def test_a_report_of_the_demo_tapes_is_one_self_contained_file(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "demo.html"
    done = run_cli("report", str(DEMO), "--out", str(out), "--title", "the demo")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(rf"{re.escape(str(out))}  [\d,]+ bytes  \(4 tapes\)\n", done.stdout)
    page = out.read_text()
    assert "<title>the demo</title>" in page and "plotly.js v" in page
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page), "nothing is loaded from elsewhere"
    assert "default-src 'none'" in page
    figures = json.loads(
        re.search(r'<script type="application/json" id="figures">(.*?)</script>', page, re.S)[1]
    )
    assert {"rates-0-corto", "rates-1-pumpdata", "rates-2-pumpfun", "budget-2"} <= set(figures)
    assert [f.name for f in tmp_path.joinpath("sub").iterdir()] == ["demo.html"]  # no temporary left


def test_a_tape_that_breaks_the_contract(tmp_path: Path) -> None:
    frames = [WsOpen(0.0, "ws-1", "/data-stream"), WsText(0.5, "ws-1", S2C, '{"txType": "buy"}')]
    tape = dump_tape(tmp_path / "t.jsonl", header(apis=("corto",), label="bad"), frames)
    done = run_cli("report", str(tape), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 0, done.stderr  # a report is made, whatever the tape holds
    page = (tmp_path / "r.html").read_text()
    assert "Violations: " in page and 'href="#line-0-3"' in page and 'id="line-0-3"' in page


def test_progress_on_a_terminal(tmp_path: Path) -> None:
    done, shown = run_cli_on_terminal("report", str(DEMO / "corto.jsonl"), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 0
    assert b"reading corto.jsonl" in shown and b"frames" in shown


def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    done = run_cli("report", str(tmp_path / "nope.jsonl"))
    assert done.returncode == 2 and done.stderr.startswith("harness report: error:")
    assert "no such file" in done.stderr and done.stderr.count("\n") == 1
    (tmp_path / "notatape.jsonl").write_text("hello\n")
    done = run_cli("report", str(tmp_path / "notatape.jsonl"), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 2 and "not JSON" in done.stderr


def test_without_plotly_js_it_says_what_to_install(tmp_path: Path) -> None:
    # a plotly package without its plotly.min.js (a broken install) comes first on the path
    (tmp_path / "plotly").mkdir()
    (tmp_path / "plotly" / "__init__.py").write_text("")
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); from harness.cli.main import main;"
        f" sys.exit(main(['report', {str(DEMO)!r}, '--out', {str(tmp_path / 'r.html')!r}]))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "pip install 'memecoin-harness[report]'" in done.stderr and not (tmp_path / "r.html").exists()


def test_out_never_writes_over_a_tape(tmp_path: Path) -> None:
    """A slip of --out (the tape itself, another tape) must not turn a recording into HTML."""
    tape = tmp_path / "corto.jsonl"
    tape.write_bytes((DEMO / "corto.jsonl").read_bytes())
    for out in (tape, tmp_path / "other.jsonl.gz"):
        done = run_cli("report", str(tape), "--out", str(out))
        assert done.returncode == 2 and "would write the HTML report over a tape" in done.stderr
    assert tape.read_bytes() == (DEMO / "corto.jsonl").read_bytes()
    assert not (tmp_path / "other.jsonl.gz").exists()
