"""Progress on a terminal: drawn on stderr when it is a terminal, silent in pipes and logs."""

from __future__ import annotations

import io
from pathlib import Path

from harness.cli.progress import Progress
from tests.helpers import run_cli, run_cli_on_terminal


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


def test_a_new_stage_draws_at_once_under_its_own_label() -> None:
    stream = io.StringIO()
    with Progress("reading t.jsonl", total=100, stream=stream, enabled=True) as bar:
        bar.update(100, "3 entries")
        bar.stage("writing t.har", 40, "entries and messages")
        bar.update(10)  # within 0.1 s of the last draw, but a new stage
        bar.stage("writing t.har", 40, "entries and messages")
        bar.update(20)  # the same stage: skipped
    drawn = stream.getvalue().split("\r")
    assert drawn[1].startswith("reading t.jsonl [") and drawn[1].endswith("  3 entries")
    assert drawn[2].startswith(
        "writing t.har [######------------------]  25.0% 10 of 40 entries and messages"
    )
    assert len(drawn) == 5 and not drawn[3].strip(), "two lines drawn, then blanked"


def test_silent_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress("x", total=10, stream=stream) as bar:
        bar.update(5, force=True)
    assert stream.getvalue() == ""


def test_harness_synth_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    synth = ("synth", "--duration", "30", "--api", "corto", "--out")
    out, shown = run_cli_on_terminal(*synth, str(tmp_path / "tty"))
    assert out.returncode == 0
    assert b"simulating the market [" in shown and b"0 of 30 s" in shown  # market seconds of --duration
    assert b"writing corto.jsonl" in shown
    piped = run_cli(*synth, str(tmp_path / "pipe"))
    assert piped.returncode == 0 and piped.stderr == ""
    assert "corto.jsonl" in piped.stdout
