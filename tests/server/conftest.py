from __future__ import annotations

from pathlib import Path

import pytest

from tests.server import pumpfun_tape


@pytest.fixture
def pumpfun_tape_path(tmp_path: Path) -> Path:
    return pumpfun_tape.write(tmp_path / "pumpfun.jsonl")
