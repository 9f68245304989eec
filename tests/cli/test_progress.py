"""Progress on a terminal: drawn on stderr when it is a terminal, silent in pipes and logs."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from harness.cli.progress import Progress
from tests.helpers import ROOT


def test_draws_a_bar_redraws_at_most_ten_times_a_second_and_clears_itself() -> None:
    stream = io.StringIO()
    with Progress("reading t.jsonl", total=2_000_000, stream=stream, enabled=True) as bar:
        bar.update(1_000_000, "3 torn")
        bar.update(1_500_000)  # within 0.1 s of the last draw: skipped
        drawn = stream.getvalue()
        bar.update(2_000_000, force=True)
    assert drawn.startswith("\rreading t.jsonl [############------------]  50.0% 1.0 MB of 2.0 MB")
    assert drawn.endswith("  3 torn") and drawn.count("\r") == 1
    assert "100.0% 2.0 MB" in stream.getvalue()
    assert stream.getvalue().endswith("\r")  # the line is blanked at the end


def test_silent_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress("x", total=10, stream=stream) as bar:
        bar.update(5, force=True)
    assert stream.getvalue() == ""


def _synth(out: Path, stderr: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "synth", "--out", str(out), "--duration", "30", "--api", "corto"],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        timeout=60,
        check=False,
    )


def test_harness_synth_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        out = _synth(tmp_path / "tty", terminal)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal side is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert out.returncode == 0
    assert b"simulating the market [" in shown and b"0 of 30 s" in shown  # market seconds of --duration
    assert b"writing corto.jsonl" in shown
    piped = _synth(tmp_path / "pipe", subprocess.PIPE)
    assert piped.returncode == 0 and piped.stderr == ""
    assert "corto.jsonl" in piped.stdout
