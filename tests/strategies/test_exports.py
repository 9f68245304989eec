"""The public names of ``harness.strategies`` and the fuzzing API, pinned."""

from __future__ import annotations

import harness
import harness.strategies


def test_strategies_exports() -> None:
    assert harness.strategies.__all__ == [
        "Feed",
        "NearValid",
        "fault_plans",
        "feeds",
        "frames",
        "messages",
        "near_valid",
    ]
    for name in harness.strategies.__all__:
        assert getattr(harness.strategies, name).__doc__, name


def test_fuzzing_api_exports() -> None:
    assert {"FuzzKind", "FuzzPlan", "ScheduledFault", "MockServer"} <= set(harness.__all__)
    from harness.core.fuzz import FuzzPlan

    assert harness.FuzzPlan is FuzzPlan
    assert callable(harness.MockServer.set_fuzz)
