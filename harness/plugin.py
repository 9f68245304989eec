"""The pytest plugin, registered through the ``pytest11`` entry point as ``harness``.

Registers the ``harness`` option group and marker. Fixtures arrive with the plugin issue.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "record-and-replay harness")
    group.addoption(
        "--harness-tapes-dir",
        default=None,
        help="directory of tapes the harness fixtures replay (default: the bundled demo tapes)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "harness(tape=None, speed=None, clock=None, faults=None): "
        "configure the harness mock server for this test",
    )
