"""The ``harness`` command itself: what a user meets whatever the subcommand."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    # `harness inspect ... | head -1`: the reader is gone before harness writes its report
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "harness", "inspect", "fixtures/demo", "--format", "json"],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert out.stderr == ""
    assert out.returncode == 1


def test_help_lists_every_command_and_the_python_entry_points() -> None:
    from harness.cli.main import COMMANDS
    from tests.helpers import run_cli

    out = run_cli("--help")
    assert out.returncode == 0
    for module in COMMANDS:
        assert f"\n    {module.rsplit('.', 1)[1]} " in out.stdout
    for entry in ("harness_server", "@pytest.mark.harness", "MockServer", "harness.validate", "fault_plans"):
        assert entry in out.stdout, entry


def test_counts_are_told_in_the_singular_for_one() -> None:
    from harness.cli.main import plural

    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(0, "entry", "entries") == "0 entries"
    assert plural(1, "WebSocket connection") == "1 WebSocket connection"
    assert plural(12345, "message") == "12345 messages"
