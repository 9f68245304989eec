"""Replay clock arithmetic: real, max and manual modes, with host time passed in."""

from __future__ import annotations

import math

import pytest

from harness.core.clock import ClockMode, ReplayClock, parse_speed


def test_manual_clock_moves_only_when_advanced() -> None:
    clock = ReplayClock.for_speed(1.0, manual=True).start(100.0)
    assert clock.now(500.0) == 0.0
    clock = clock.advance(2.5, 500.0)
    assert clock.now(9999.0) == 2.5
    assert clock.host_delay(3.0, 0.0) is None
    assert clock.host_delay(2.0, 0.0) == 0.0


def test_real_clock_scales_by_speed() -> None:
    clock = ReplayClock.for_speed(4.0).start(10.0)
    assert clock.now(11.0) == 4.0
    assert clock.host_delay(6.0, 11.0) == pytest.approx(0.5)


def test_real_clock_stands_still_until_started() -> None:
    clock = ReplayClock.for_speed(1.0)
    assert clock.now(50.0) == 0.0 and clock.host_delay(1.0, 50.0) is None
    started = clock.start(50.0)
    assert started.start(60.0) == started, "start is idempotent"


def test_advance_in_real_mode_jumps_ahead_and_keeps_running() -> None:
    clock = ReplayClock.for_speed(1.0).start(0.0).advance(10.0, 5.0)
    assert clock.now(5.0) == 15.0 and clock.now(6.0) == 16.0


def test_max_mode_is_stepped_by_advance_to() -> None:
    clock = ReplayClock.for_speed(math.inf).start(0.0)
    assert clock.mode is ClockMode.MAX
    assert clock.now(100.0) == 0.0
    clock = clock.advance_to(3.0, 100.0)
    assert clock.now(1000.0) == 3.0
    assert clock.advance_to(1.0, 0.0).now(0.0) == 3.0, "never backwards"


def test_reset_and_negative_advance() -> None:
    clock = ReplayClock.for_speed(1.0, manual=True).advance(5, 0)
    assert clock.reset().now(0) == 0 and not clock.reset().started
    for seconds in (-1, math.nan, math.inf):
        with pytest.raises(ValueError, match="only moves forward, a finite time"):
            clock.advance(seconds, 0)


@pytest.mark.parametrize(("text", "value"), [("max", math.inf), ("MAX", math.inf), ("2", 2.0), ("0.5", 0.5)])
def test_parse_speed(text: str, value: float) -> None:
    assert parse_speed(text) == value


@pytest.mark.parametrize("text", ["0", "-1", "fast", "nan"])
def test_parse_speed_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="positive number or 'max'"):
        parse_speed(text)
