"""The replay clock driver: wakes emulators at the replay times they asked for.

Owns the one replay clock of a server (docs/architecture.md "Time"). Every emulator reports its next
wake-up; the scheduler moves the clock to each wake-up in turn and ticks the emulators there, so
a manual ``advance(10)`` passes through every second boundary, grace deadline and feed item on the
way, exactly as ten seconds of real time would.

* real: a background task sleeps until the next wake-up (scaled by the speed factor).
* max: while some client is subscribed, the clock jumps to the next wake-up as soon as the
  clients have drained what was sent; with nobody listening it waits.
* manual: nothing moves until :meth:`Scheduler.advance`.

One advance does bounded work whatever the time asked (``max_steps`` wake-ups): past the cap the
replay jumps to the target, as a seek does. What the feeds held in the rest of the stretch is
skipped, never sent (counted in :attr:`Scheduler.skipped`); timers that fell in it (a grace
deadline) act once, at the target. A looping feed lands where its pass is at the target time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import Sequence

from harness.core.clock import ClockMode, ReplayClock
from harness.server.config import DEFAULT_MAX_ADVANCE_STEPS
from harness.server.context import Emulator

LATENESS_SAMPLES = 100_000

SPIN_BEFORE = 0.002
"""Real mode: host seconds before a wake-up at which the driver stops sleeping and yields instead."""

MAX_MODE_BATCH = 512
"""In max mode, wake-ups acted on before waiting for the clients to drain."""

MAX_MODE_DRAIN_TIMEOUT = 1.0
"""In max mode, how long (host seconds) to wait for slow clients before moving on; clients that are
still behind then meet their queue's overflow policy instead of stalling everyone."""


class Scheduler:
    def __init__(
        self,
        clock: ReplayClock,
        emulators: Sequence[Emulator] = (),
        *,
        max_steps: int = DEFAULT_MAX_ADVANCE_STEPS,
    ) -> None:
        self._initial = clock
        self.max_steps = max_steps
        """Wake-ups one :meth:`advance` walks through before the replay jumps (module docstring)."""
        self.skipped = 0
        """Feed items the last :meth:`advance` skipped (0: it delivered everything due)."""
        self.clock = clock
        self.emulators: list[Emulator] = list(emulators)
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.lateness: deque[float] = deque(maxlen=LATENESS_SAMPLES)
        """Real mode: host seconds each wake-up was acted on after its scheduled time (recent ones)."""

    # --- time ----------------------------------------------------------------------------------

    @staticmethod
    def host_now() -> float:
        return asyncio.get_running_loop().time()

    def now(self) -> float:
        return self.clock.now(self.host_now())

    def touch(self) -> None:
        """First client activity starts a real-time clock that has not started yet."""
        if self.clock.mode is ClockMode.REAL and not self.clock.started:
            self.clock = self.clock.start(self.host_now())
            self.wake()

    def wake(self) -> None:
        self._wake.set()

    def start_now(self) -> None:
        """Start the clock at once (``--start listen``) instead of on the first client."""
        self.clock = self.clock.start(self.host_now())
        self.wake()

    def next_wakeup(self) -> float | None:
        times = [t for t in (e.next_wakeup() for e in self.emulators) if t is not None]
        return min(times) if times else None

    # --- stepping ------------------------------------------------------------------------------

    async def _tick(self, now: float) -> None:
        for emulator in self.emulators:
            due = emulator.next_wakeup()
            if due is not None and due <= now:
                await emulator.tick(now)
        self.ticks += 1

    async def advance(self, seconds: float) -> float:
        """Move replay time forward by ``seconds``, acting at every wake-up on the way.

        Works in every mode (a real-time clock jumps ahead and keeps running). Returns the new
        replay time.
        """
        async with self._lock:
            target = self.now() + seconds
            if not 0 <= seconds < math.inf:
                raise ValueError(
                    f"the replay clock only moves forward by a finite time (asked for {seconds} s)"
                )
            self.clock = self.clock.start(self.host_now())
            self.skipped = steps = 0
            while (nxt := self.next_wakeup()) is not None and nxt <= target:
                if steps >= self.max_steps:
                    # bounded work: the rest of the stretch is jumped (module docstring)
                    self.skipped = sum(emulator.skip(target) for emulator in self.emulators)
                    break
                self.clock = self.clock.advance_to(nxt, self.host_now())
                await self._tick(max(nxt, self.now()))
                steps += 1
                # Let clients' senders run between wake-ups, as they would between real-time ticks.
                await asyncio.sleep(0)
            self.clock = self.clock.advance_to(target, self.host_now())
            await self._tick(self.now())
            now = self.now()
        self.wake()
        return now

    async def reset(self) -> None:
        async with self._lock:
            self.clock = self._initial.reset()
            for emulator in self.emulators:
                await emulator.reset()
        self.wake()

    # --- background driver ---------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="harness-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _sleep_or_wake(self, delay: float | None) -> None:
        self._wake.clear()
        if delay is None:
            await self._wake.wait()
            return
        if delay <= SPIN_BEFORE:
            # The selector sleeps in whole milliseconds: yield instead for the last stretch, so a
            # frame leaves within a fraction of a millisecond of its time.
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay - SPIN_BEFORE)

    async def _run(self) -> None:
        while True:
            mode = self.clock.mode
            if mode is ClockMode.MANUAL or (not self.clock.started and mode is ClockMode.REAL):
                await self._sleep_or_wake(None)
                continue
            nxt = self.next_wakeup()
            if mode is ClockMode.REAL:
                delay = None if nxt is None else self.clock.host_delay(nxt, self.host_now())
                if nxt is not None and delay is not None and delay <= 0:
                    async with self._lock:
                        now = self.now()
                        self.lateness.append((now - nxt) / self.clock.speed)
                        await self._tick(now)
                    await asyncio.sleep(0)
                else:
                    await self._sleep_or_wake(delay)
                continue
            # max: jump to the next wake-up while someone listens
            if nxt is None or not any(e.active() for e in self.emulators):
                await self._sleep_or_wake(None)
                continue
            async with self._lock:
                # Jump over a batch of feed items (never past a timer), then let the clients
                # drain: as fast as they read.
                ahead = [t for t in (e.lookahead(MAX_MODE_BATCH) for e in self.emulators) if t is not None]
                target = max(nxt, min(ahead)) if ahead else nxt
                self.clock = self.clock.advance_to(target, self.host_now())
                await self._tick(self.now())
            for emulator in self.emulators:
                await emulator.drained(MAX_MODE_DRAIN_TIMEOUT)
            await asyncio.sleep(0)
