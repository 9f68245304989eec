"""``harness.strategies.fault_plans`` drives a client test: a deliberately fragile client fails,
and Hypothesis shrinks the schedule to the one fault that breaks it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator

import pytest
import websockets
from hypothesis import HealthCheck, given, settings

from harness.core.fuzz import API_KINDS, FuzzKind, FuzzPlan, ScheduledFault
from harness.server.app import MockServer
from harness.strategies import fault_plans
from tests.helpers import ROOT

DEMO = ROOT / "fixtures" / "demo"


async def fragile_client(server: MockServer) -> list[str]:
    """A corto trade consumer that copes with bad JSON, errors, closes and lost messages, but
    trusts every trade to arrive once: it books the same signature twice."""
    booked: list[str] = []
    async with websockets.connect(server.urls["websocket"], max_size=None) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
        await ws.recv()
        await server.advance(3)
        with contextlib.suppress(TimeoutError, websockets.ConnectionClosed):
            while True:
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
                except ValueError:
                    continue
                if "signature" in message:
                    assert message["signature"] not in booked, "booked twice"
                    booked.append(message["signature"])
    return booked


@pytest.fixture
def loop_and_server() -> Iterator[tuple[asyncio.AbstractEventLoop, MockServer]]:
    loop = asyncio.new_event_loop()
    server = MockServer([DEMO], manual=True, port=0)
    loop.run_until_complete(server.start())
    try:
        yield loop, server
    finally:
        loop.run_until_complete(server.close())
        loop.close()


def test_a_fragile_client_fails_and_the_plan_shrinks_to_one_duplicate(
    loop_and_server: tuple[asyncio.AbstractEventLoop, MockServer],
) -> None:
    loop, server = loop_and_server
    tried: list[FuzzPlan] = []

    @settings(
        max_examples=60,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(fault_plans("corto", messages=6, max_faults=4))
    def client_survives(plan: FuzzPlan) -> None:
        tried.append(plan)

        async def once() -> None:
            await server.reset()
            server.set_fuzz(plan)
            await fragile_client(server)

        loop.run_until_complete(once())

    with pytest.raises(AssertionError, match="booked twice"):
        client_survives()
    # the last plan run is the minimal failing one Hypothesis reports
    assert tried[-1] == FuzzPlan(0, (ScheduledFault("corto", 0, FuzzKind.DUPLICATE),))
    assert len(tried) > 2


@given(fault_plans(messages=20, max_faults=8))
def test_plans_fit_their_apis(plan: FuzzPlan) -> None:
    assert len(plan.faults) <= 8 and list(plan.faults) == sorted(plan.faults)
    for fault in plan.faults:
        assert fault.kind in API_KINDS[fault.api] and 0 <= fault.index < 20
    assert FuzzPlan.from_json(plan.to_json()) == plan


@given(fault_plans("pumpfun", kinds=[FuzzKind.STORM_429, FuzzKind.DROP], min_faults=1))
def test_only_the_asked_kinds_that_fit(plan: FuzzPlan) -> None:
    assert {f.kind for f in plan.faults} == {FuzzKind.STORM_429}


def test_bad_arguments_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="unknown api 'binance'"):
        fault_plans("binance")
    with pytest.raises(ValueError, match="none of the kinds"):
        fault_plans("pumpfun", kinds=[FuzzKind.DROP])
