"""Helpers shared by the test suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.frames import Recorded, TapeHeader

if TYPE_CHECKING:
    from harness.server.app import MockServer

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m harness ARGS`` against this source tree, as a user would run the command."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def header(**recorded: object) -> TapeHeader:
    return TapeHeader(
        created="2026-11-23T00:00:00Z",
        harness_version="test",
        recorded=Recorded(**recorded),  # type: ignore[arg-type]
    )


SEEDS = ROOT / "fixtures" / "seeds"


def seed_json_blocks(name: str) -> list[Any]:
    """The JSON objects a seed page shows, each a block from a line '{' to a line '}'."""
    blocks: list[Any] = []
    current: list[str] | None = None
    for line in (SEEDS / name).read_text().splitlines():
        if line == "{":
            current = [line]
        elif current is not None:
            current.append(line)
            if line == "}":
                blocks.append(json.loads("\n".join(current)))
                current = None
    return blocks


@contextmanager
def threaded_upstream() -> Iterator[MockServer]:
    """The demo feed served in its own thread (manual clock, port 0): a local "live" upstream for
    synchronous tests of recording."""
    from harness.server.app import MockServer
    from harness.server.threaded import BackgroundLoop

    with BackgroundLoop() as background:
        server = background.run(MockServer([ROOT / "fixtures" / "demo"], manual=True, port=0).start())
        try:
            yield server
        finally:
            background.run(server.close())
