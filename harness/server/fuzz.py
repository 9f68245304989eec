"""Fault injection in a running server: a :class:`~harness.core.fuzz.FuzzPlan` applied to what
the emulators send.

Adapter only: which faults exist, what each does to a message (``stream_actions``) or a request
(``request_fault``) is :mod:`harness.core.fuzz`'s. This module counts each API's message
ordinals, holds reordered messages, keeps delayed ones until their replay time (it takes part in
the scheduler like an emulator, so a manual clock delays them too), and counts every fault it
applies (``/_harness/state``: ``fuzz`` and the ``fuzz.<api>.<kind>`` counters).

An emulator hooks in at one place: the streams pass each message they deliver, with its
recipients, to :meth:`Fuzzer.deliver` (the emulator is the :class:`StreamPort` that sends,
ends a connection and words the injected subscription error); REST passes each request to
:meth:`Fuzzer.exchange`. With no plan for an API, both hand straight back.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from harness.core.fuzz import (
    End,
    FuzzKind,
    FuzzPlan,
    Hold,
    ScheduledFault,
    generate,
    request_fault,
    stream_actions,
)
from harness.core.pumpfun.rules import ErrorAnswer, injected, too_many_requests

if TYPE_CHECKING:
    from harness.server.app import MockServer


class StreamPort(Protocol):
    """How a streaming emulator sends to one recipient (a corto client, a Socket.IO sid)."""

    async def fuzz_send(self, key: Any, text: str) -> None:
        """Send ``text`` (the API's wire text of one message; possibly not JSON any more)."""

    async def fuzz_end(self, key: Any, code: int) -> None:
        """End the connection after what was sent: close ``code`` (1006: drop it), or a
        Socket.IO server disconnect."""

    def fuzz_error(self, key: Any) -> str:
        """The injected subscription error, as the wire text :meth:`fuzz_send` takes."""


RequestHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ErrorResponse = Callable[[ErrorAnswer, list[tuple[str, str]]], web.Response]

STORM_RETRY_AFTER = 1
"""``Retry-After`` of a fuzzed 429 (a storm is counted in requests, not seconds)."""


class Fuzzer:
    """The fault schedule of one server, and where each API is in it."""

    name = "fuzz"

    def __init__(self, server: MockServer, plan: FuzzPlan | None = None) -> None:
        self.server = server
        self._pending: list[tuple[float, int, Callable[[], Awaitable[None]]]] = []
        self._seq = itertools.count()
        self.set_plan(plan)

    # --- the plan ------------------------------------------------------------------------------

    def set_plan(self, plan: FuzzPlan | None) -> None:
        """Use ``plan`` from now on (None: no faults); ordinals count again from 0."""
        self.plan = plan
        self._by_api = {api: plan.for_api(api) for api in {f.api for f in plan.faults}} if plan else {}
        self._forget()

    def _forget(self) -> None:
        self.ordinals: Counter[str] = Counter()
        self.applied: list[tuple[float, ScheduledFault]] = []
        """Every fault applied so far, with the replay time it was applied at."""
        self._held: dict[tuple[str, Hashable], str] = {}
        self._storm: dict[str, int] = {}
        self._drop_pending()

    def _drop_pending(self) -> None:
        for _, _, action in self._pending:
            if isinstance(action, _Wake):
                action.cancel()
        self._pending.clear()

    def armed(self, api: str) -> bool:
        return api in self._by_api

    def _next(self, api: str) -> list[ScheduledFault]:
        index = self.ordinals[api]
        self.ordinals[api] += 1
        faults = self._by_api[api].get(index, [])
        now = self.server.now()
        for fault in faults:
            self.applied.append((now, fault))
            self.server.counters[f"fuzz.{api}.{fault.kind.value}"] += 1
        return faults

    # --- streams -------------------------------------------------------------------------------

    async def deliver(self, api: str, targets: Sequence[tuple[Hashable, str]], port: StreamPort) -> None:
        """Send one stream message (``(recipient, text)`` per client that gets it) with the faults
        scheduled for it. A message that reaches nobody takes no ordinal."""
        if not self.armed(api):
            for key, text in targets:
                await port.fuzz_send(key, text)
            return
        if not targets:
            return
        faults = self._next(api)
        for key, text in targets:
            held = self._held.pop((api, key), None)
            error = port.fuzz_error(key) if faults else None
            for action in stream_actions(faults, text, error_text=error):
                if isinstance(action, Hold):
                    self._held[(api, key)] = action.text
                elif isinstance(action, End):
                    await port.fuzz_end(key, action.code)
                elif action.delay:
                    self._later(action.delay, _Send(port, key, action.text))
                else:
                    await port.fuzz_send(key, action.text)
            if held is not None:  # a reorder: the held message goes right after this one
                await port.fuzz_send(key, held)

    # --- REST ----------------------------------------------------------------------------------

    async def exchange(
        self, api: str, request: web.Request, handle: RequestHandler, error: ErrorResponse
    ) -> web.StreamResponse:
        """Answer one request through ``handle``, with the faults scheduled for it."""
        if not self.armed(api):
            return await handle(request)
        decision, self._storm[api] = request_fault(self._next(api), self._storm.get(api, 0))
        if decision.delay:
            wake = _Wake()
            self._later(decision.delay, wake)
            await wake.future
        if decision.status is not None:
            self.server.touch()
            if decision.status == 429:
                return error(too_many_requests(STORM_RETRY_AFTER), [])
            return error(injected(decision.status, "fuzz"), [])
        response = await handle(request)
        if decision.malformed and isinstance(response, web.Response) and response.body:
            body = bytes(response.body)  # type: ignore[arg-type]
            response.body = body[: max(1, len(body) // 2)]
        return response

    # --- delays: a participant of the scheduler ------------------------------------------------

    def _later(self, delay: float, action: Callable[[], Awaitable[None]]) -> None:
        heapq.heappush(self._pending, (self.server.now() + delay, next(self._seq), action))
        self.server.wake()

    def setup(self, app: web.Application) -> None:
        return None

    def next_wakeup(self) -> float | None:
        return self._pending[0][0] if self._pending else None

    def lookahead(self, count: int) -> float | None:
        return self.next_wakeup()

    async def tick(self, now: float) -> None:
        while self._pending and self._pending[0][0] <= now:
            _, _, action = heapq.heappop(self._pending)
            await action()

    def skip(self, now: float) -> int:
        return 0  # the faults already dealt act at the target time, as timers do

    def active(self) -> bool:
        return False

    async def drained(self, timeout: float) -> None:
        return None

    async def reset(self) -> None:
        """Per-test reset: the plan stays, its ordinals start again."""
        self._forget()

    def state(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "seed": plan.seed if plan else None,
            "scheduled": [str(f) for f in plan.faults] if plan else [],
            "ordinals": dict(self.ordinals),
            "applied": [{"t": t, "fault": str(f)} for t, f in self.applied],
        }

    async def close(self) -> None:
        self._drop_pending()


class _Send:
    """A delayed message."""

    def __init__(self, port: StreamPort, key: Hashable, text: str) -> None:
        self.port, self.key, self.text = port, key, text

    async def __call__(self) -> None:
        await self.port.fuzz_send(self.key, self.text)


class _Wake:
    """A delayed request: its handler waits on :attr:`future`."""

    def __init__(self) -> None:
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def __call__(self) -> None:
        if not self.future.done():
            self.future.set_result(None)

    def cancel(self) -> None:
        self.future.cancel()


MIN_REQUESTS = 100
"""REST requests a drawn schedule covers at least (a client polls as long as it likes)."""


def ordinal_counts(server: MockServer) -> dict[str, int]:
    """How many ordinals of each API a schedule drawn for ``server``'s tapes should cover: the
    corto events, the PumpData events plus a candle emission per trade (at most one a second per
    pool, so this is an upper bound), and the recorded REST requests (at least
    :data:`MIN_REQUESTS`)."""
    from harness.server.corto import CortoEmulator
    from harness.server.pumpdata import PumpdataEmulator
    from harness.server.rest import RestEmulator

    counts: dict[str, int] = {}
    for emulator in server.emulators:
        if isinstance(emulator, CortoEmulator):
            counts[emulator.name] = len(emulator.feed)
        elif isinstance(emulator, PumpdataEmulator):
            trades = sum(1 for _, item in emulator.feed.items_until(math.inf) if item.name == "trade")
            counts[emulator.name] = len(emulator.feed) + trades
        elif isinstance(emulator, RestEmulator):
            counts[emulator.name] = max(MIN_REQUESTS, emulator.timeline.exchanges)
    return counts


def draw_plan(server: MockServer, seed: int, kinds: Iterable[FuzzKind], rate: float) -> FuzzPlan:
    """The schedule ``harness fuzz --seed SEED`` serves over ``server``'s tapes."""
    return generate(seed, kinds, ordinal_counts(server), rate)
