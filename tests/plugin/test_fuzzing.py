"""Fuzzing in a user's suite: ``harness_server.fuzz(plan)`` under Hypothesis' ``@given`` (a fresh
server for every example, no health check to silence, a failure that shrinks to the one fault
that breaks the client and prints it), seeded schedules from the marker, and their reports."""

from __future__ import annotations

import pytest

from tests.plugin.inner import project

CLIENTS = """
import json

import websocket
from hypothesis import given, settings

from harness.strategies import fault_plans

SETTINGS = settings(max_examples=25, database=None, derandomize=True, deadline=None)
PLANS = fault_plans("corto", kinds=["duplicate", "drop", "malformed"], messages=5)


def trades(server, *, trusting):
    ws = websocket.create_connection(server.urls["websocket"], timeout=5)
    booked = []
    try:
        ws.recv()
        ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
        ws.recv()
        server.advance(3)
        ws.send(json.dumps({"type": "current_state"}))  # answered after what was sent before
        while True:
            try:
                message = json.loads(ws.recv())
            except ValueError:
                continue  # a malformed frame
            if message.get("name") == "current_state":
                return booked
            if trusting or message["signature"] not in booked:
                booked.append(message["signature"])
    finally:
        ws.close()


@SETTINGS
@given(plan=PLANS)
def test_a_client_that_trusts_the_stream(harness_server, plan):
    harness_server.fuzz(plan)
    booked = trades(harness_server, trusting=True)
    assert len(set(booked)) == len(booked), "booked twice"


@SETTINGS
@given(plan=PLANS)
def test_a_client_that_does_not(harness_server, plan):
    harness_server.fuzz(plan)
    booked = trades(harness_server, trusting=False)
    assert booked and len(set(booked)) == len(booked)


@settings(max_examples=30, database=None, derandomize=True, deadline=None)
@given(plan=fault_plans("corto", kinds=["suberror", "duplicate"], messages=4))
def test_a_client_that_answers_an_error_wrongly(harness_server, plan):
    harness_server.fuzz(plan)
    ws = websocket.create_connection(harness_server.urls["websocket"], timeout=5)
    try:
        ws.recv()
        ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
        ws.recv()
        harness_server.advance(3)
        ws.send(json.dumps({"type": "current_state"}))
        while (message := json.loads(ws.recv())).get("name") != "current_state":
            if message.get("name") == "error":  # subscribes again, with a filter the service refuses
                ws.send(json.dumps({"type": "subscribe", "mode": "trades", "create": {"detail": "wide"}}))
    finally:
        ws.close()
"""

FRESH_EXAMPLES = """
import pytest
import websocket
import websockets
from hypothesis import HealthCheck, given, settings, strategies as st

from harness import FuzzPlan

LEFT_OPEN = []


@settings(max_examples=8, database=None, deadline=None)
@given(seconds=st.integers(1, 60))
def test_every_example_gets_a_fresh_server(harness_server, harness_clock, harness_tape, seconds):
    assert harness_clock.now() == 0 and harness_server.fuzzing is None
    state = harness_server.state()
    assert state["apis"]["corto"]["clients"] == [] and state["fuzz"]["scheduled"] == []
    ws = websocket.create_connection(harness_server.urls["websocket"], timeout=5)
    LEFT_OPEN.append(ws)  # the next example must not find it connected
    ws.recv()
    harness_server.fuzz(FuzzPlan.parse("corto#0:drop"))
    harness_clock.advance(seconds)


@settings(max_examples=5, database=None, deadline=None)
@given(seconds=st.integers(1, 60))
async def test_async_examples_too(harness_server, harness_clock, seconds):
    assert harness_clock.now() == 0
    async with websockets.connect(harness_server.urls["websocket"]) as ws:
        await ws.recv()
        await harness_clock.advance(seconds)


def test_the_examples_ran(harness_server):
    for ws in LEFT_OPEN:
        ws.close()
    assert len(LEFT_OPEN) == 8


@pytest.fixture
def notebook():
    return []


@given(seconds=st.integers(1, 60))
def test_a_function_scoped_fixture_of_ones_own(harness_server, notebook, seconds):
    pass


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=3)
@given(seconds=st.integers(1, 60))
def test_which_the_test_says_is_safe_to_share(harness_server, notebook, seconds):
    notebook.append(seconds)
"""


def test_a_failure_shrinks_to_the_one_fault_and_prints_it(pytester: pytest.Pytester) -> None:
    project(pytester, hypothesis=True, test_clients=CLIENTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=2)
    output = result.stdout.str()
    assert "FailedHealthCheck" not in output and "function_scoped_fixture" not in output
    result.stdout.fnmatch_lines(
        [
            "*_ test_a_client_that_trusts_the_stream _*",
            "E*AssertionError: booked twice",
            "E*plan=FuzzPlan.parse('corto#0:duplicate'),",
            "E*harness fuzz: seed 0: 1 fault",
            "E*  corto#0:duplicate",
            "E*applied: 1 of 1",
            "E*  t=1.119s corto#0:duplicate",
            "E*reproduce: harness_server.fuzz(FuzzPlan.parse('corto#0:duplicate'))",
        ]
    )
    # the client's contract violation fails the example it happened in, so it shrinks too
    result.stdout.fnmatch_lines(
        [
            "*_ test_a_client_that_answers_an_error_wrongly _*",
            "E*harness.plugin.fuzzing.HarnessFailure: harness: 1 contract violation(s) seen by the server*",
            "E*1. client ws-* sent corto request.subscribe at t=3s",
            "E*/create/detail: enum: 'wide' is not one of *'min', 'mid', 'full'*",
            "E*plan=FuzzPlan.parse('corto#0:suberror'),",
        ]
    )
    # in the failure, not again in a report section; the short summary is left out because pytest
    # prints whole messages there when it runs on CI (the CI environment variable), cut ones elsewhere
    failures = output.split("short test summary info")[0]
    assert failures.count("/create/detail: enum") == 1


def test_each_example_starts_from_a_fresh_server(pytester: pytest.Pytester) -> None:
    project(pytester, hypothesis=True, test_examples=FRESH_EXAMPLES)
    result = pytester.runpytest()
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_a_function_scoped_fixture_of_ones_own*",
            "harness: test_examples.py::test_a_function_scoped_fixture_of_ones_own takes the"
            " function-scoped fixture(s) 'notebook' under @given: Hypothesis runs every example inside"
            " one instance of them*suppress_health_check=*HealthCheck.function_scoped_fixture*",
        ]
    )


MARKER = """
import pytest
import requests

from harness import FuzzPlan, ScheduledFault

PORTS = []


def status(server):
    return requests.get(server.urls["rest"] + "/sol-price", timeout=5).status_code


@pytest.mark.harness(fuzz=7, fuzz_faults="duplicate,429", fuzz_rate=0.5)
def test_a_seeded_schedule(harness_server):
    PORTS.append(harness_server.urls["rest"])
    plan = harness_server.fuzzing.plan
    assert plan.seed == 7 and {f.kind.value for f in plan.faults} == {"duplicate", "429"}
    assert harness_server.state()["fuzz"]["scheduled"] == [str(f) for f in plan.faults]
    statuses = [status(harness_server) for _ in range(6)]
    assert statuses == [200] * 6, statuses  # fails: the schedule has 429 storms


@pytest.mark.harness(fuzz=FuzzPlan.parse("pumpfun#1:5xx=503"))
def test_a_plan(harness_server):
    PORTS.append(harness_server.urls["rest"])
    assert [status(harness_server) for _ in range(3)] == [200, 503, 200]


def test_the_next_test_has_none_on_the_same_server(harness_server):
    PORTS.append(harness_server.urls["rest"])
    assert len(set(PORTS)) == 1 and harness_server.fuzzing is None
    assert harness_server.state()["fuzz"]["scheduled"] == []
    with harness_server.fuzz(FuzzPlan.parse("pumpfun#0:429=2")) as run:
        assert [status(harness_server) for _ in range(3)] == [429, 429, 200]
        assert [fault for _, fault in run.applied] == [ScheduledFault.parse("pumpfun#0:429=2")]
    assert harness_server.fuzzing is None and status(harness_server) == 200


def test_a_seed_from_the_test(harness_server):
    run = harness_server.fuzz(3, faults=["5xx"], rate=1.0)
    assert run.plan.faults and {f.kind.value for f in run.plan.faults} == {"5xx"}
    assert run.describe().endswith("reproduce: harness_server.fuzz(3, faults='5xx', rate=1)")
    assert status(harness_server) >= 500
    harness_server.fuzz(None)
    assert status(harness_server) == 200


@pytest.mark.harness(fuzz="7")
def test_not_a_seed(harness_server):
    pass


@pytest.mark.harness(fuzz=1, fuzz_faults="teleport")
def test_not_a_fault(harness_server):
    pass
"""


def test_the_marker_gives_a_test_its_schedule_and_its_report(pytester: pytest.Pytester) -> None:
    project(pytester, test_marker=MARKER)
    result = pytester.runpytest()
    result.assert_outcomes(passed=3, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*- harness fuzz -*",
            "harness fuzz: seed 7: * faults",
            "  corto#0:duplicate",
            "  ... and * more",
            "applied: 3 of *",
            "  t=0s pumpfun#0:429=*",
            "reproduce: harness_server.fuzz(7, faults='429,duplicate', rate=0.5)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_not_a_seed*",
            "harness: fuzz takes a FuzzPlan or a seed (an int >= 0), got '7'",
            "*ERROR at setup of test_not_a_fault*",
            "harness: fuzz_faults: unknown fault 'teleport'*",
        ]
    )
