"""A replay feed's cursor: a jump (``seek``) costs at most a pass however far it goes."""

from __future__ import annotations

import pytest

from harness.core.feed import Feed


def _feed(loop: bool) -> Feed[str]:
    return Feed([(0.0, "a"), (0.5, "b"), (0.5, "c"), (2.0, "d")], loop=loop)  # period 3.0


@pytest.mark.parametrize("start", [0.0, 0.5, 4.0, 7.9])
@pytest.mark.parametrize("now", [0.4, 0.5, 2.0, 3.0, 3.5, 8.9, 9.0, 100.2])
def test_seek_skips_exactly_what_taking_would_take(start: float, now: float) -> None:
    if now < start:
        return
    taken, sought = _feed(loop=True), _feed(loop=True)
    taken.take_due(start)
    sought.take_due(start)
    assert sought.seek(now) == len(taken.take_due(now))
    assert sought.next_time() == taken.next_time()


def test_seek_far_ahead_lands_in_the_right_pass_at_once() -> None:
    feed = _feed(loop=True)
    assert feed.seek(3e12 + 0.7) == 4 * 10**12 + 3  # 10^12 whole passes, then a, b, c
    assert feed.next_time() == pytest.approx(3e12 + 2.0)


def test_seek_without_loop_ends_the_feed() -> None:
    feed = _feed(loop=False)
    assert feed.seek(1e9) == 4 and feed.exhausted
