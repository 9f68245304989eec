"""The scheduler drives one replay clock through every emulator wake-up, in every clock mode."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from aiohttp import web

from harness.core.clock import ReplayClock
from harness.core.feed import Feed
from harness.server.scheduler import Scheduler


class Recorder:
    """A minimal emulator: a feed of items and a repeating timer, recording when it acted."""

    name = "recorder"

    def __init__(self, times: list[float], timer_every: float | None = None, active: bool = True) -> None:
        self.feed: Feed[str] = Feed([(t, f"item@{t}") for t in times])
        self.timer_every = timer_every
        self.next_timer = timer_every
        self.log: list[tuple[float, str]] = []
        self.is_active = active
        self.done = asyncio.Event()

    def setup(self, app: web.Application) -> None:
        return None

    def next_wakeup(self) -> float | None:
        times = [t for t in (self.feed.next_time(), self.next_timer) if t is not None]
        return min(times) if times else None

    def lookahead(self, count: int) -> float | None:
        ahead = self.feed.time_ahead(count)
        times = [t for t in (ahead, self.next_timer) if t is not None]
        return min(times) if times else None

    async def tick(self, now: float) -> None:
        while self.next_timer is not None and self.next_timer <= now:
            self.log.append((now, f"timer@{self.next_timer}"))
            self.next_timer += self.timer_every or math.inf
        for due in self.feed.take_due(now):
            self.log.append((now, due.item))
        if self.feed.exhausted:
            self.done.set()

    def active(self) -> bool:
        return self.is_active

    async def drained(self, timeout: float) -> None:
        return None

    async def reset(self) -> None:
        self.feed.rewind()
        self.log.clear()
        self.next_timer = self.timer_every

    def state(self) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        return None


async def test_manual_advance_stops_at_every_wakeup_on_the_way() -> None:
    emulator = Recorder([0.5, 2.0, 2.0, 7.25], timer_every=3.0)
    scheduler = Scheduler(ReplayClock.for_speed(1.0, manual=True), [emulator])
    assert await scheduler.advance(10) == 10
    assert emulator.log == [
        (0.5, "item@0.5"),
        (2.0, "item@2.0"),
        (2.0, "item@2.0"),
        (3.0, "timer@3.0"),
        (6.0, "timer@6.0"),
        (7.25, "item@7.25"),
        (9.0, "timer@9.0"),
    ]


async def test_manual_clock_does_not_move_by_itself() -> None:
    emulator = Recorder([0.0, 0.001])
    scheduler = Scheduler(ReplayClock.for_speed(1.0, manual=True), [emulator])
    scheduler.start()
    scheduler.touch()
    await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert emulator.log == [] and scheduler.now() == 0
    await scheduler.stop()


async def test_real_clock_delivers_on_time_once_touched() -> None:
    emulator = Recorder([0.0, 1.0, 2.0])
    scheduler = Scheduler(ReplayClock.for_speed(1000.0), [emulator])
    scheduler.start()
    await asyncio.sleep(0)
    assert emulator.log == [], "a real clock waits for the first client"
    scheduler.touch()
    await asyncio.wait_for(emulator.done.wait(), 5)
    assert [item for _, item in emulator.log] == ["item@0.0", "item@1.0", "item@2.0"]
    assert all(now >= float(item.split("@")[1]) for now, item in emulator.log)
    await scheduler.stop()


async def test_max_mode_runs_only_while_someone_listens() -> None:
    emulator = Recorder([float(i) for i in range(100)], active=False)
    scheduler = Scheduler(ReplayClock.for_speed(math.inf), [emulator])
    scheduler.start()
    scheduler.touch()
    await asyncio.sleep(0.01)
    assert emulator.log == []
    emulator.is_active = True
    scheduler.wake()
    await asyncio.wait_for(emulator.done.wait(), 5)
    assert len(emulator.log) == 100 and scheduler.now() == 99.0
    await scheduler.stop()


async def test_reset_rewinds() -> None:
    emulator = Recorder([1.0])
    scheduler = Scheduler(ReplayClock.for_speed(1.0, manual=True), [emulator])
    await scheduler.advance(2)
    await scheduler.reset()
    assert scheduler.now() == 0 and emulator.log == []
    await scheduler.advance(1)
    assert emulator.log == [(1.0, "item@1.0")]
