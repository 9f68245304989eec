"""What the server saw go wrong fails the test at teardown with a readable report, unless the test
opts out; an already failing test carries the report instead of a second error."""

from __future__ import annotations

import pytest

from tests.plugin.inner import project

CLIENT = """
import json

import pytest
import websocket

WIDE = {"type": "subscribe", "mode": "all", "create": {"detail": "wide"}}


def send_wide(harness_server):
    ws = websocket.create_connection(harness_server.urls["websocket"], timeout=5)
    ws.recv()
    ws.send(json.dumps(WIDE))
    assert json.loads(ws.recv())["name"] == "error"
    ws.close()
"""

TESTS = (
    CLIENT
    + """

def test_reported(harness_server):
    send_wide(harness_server)


@pytest.mark.harness(allow_violations=True)
def test_allowed_by_marker(harness_server):
    send_wide(harness_server)


def test_allowed_in_the_test(harness_server):
    harness_server.allow_violations()
    send_wide(harness_server)


def test_taken_and_asserted(harness_server):
    send_wide(harness_server)
    (violation,) = harness_server.clear_violations()
    assert (violation.rule, violation.pointer, violation.source) == ("enum", "/create/detail", "client")


def test_next_test_starts_clean(harness_server):
    assert harness_server.violations == []


def test_failing_anyway(harness_server):
    send_wide(harness_server)
    assert 1 == 2, "the test's own failure"
"""
)


def test_violations_fail_at_teardown_with_a_report(pytester: pytest.Pytester) -> None:
    project(pytester, test_client=TESTS)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=5, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_reported*",
            "harness: 1 contract violation(s) seen by the server during test_client.py::test_reported:",
            "  1. client ws-1 sent corto request.subscribe at t=0s",
            "     /create/detail: enum: 'wide' is not one of ['min', 'mid', 'full']",
            '     message: {"type":"subscribe","mode":"all","create":{"detail":"wide"}}',
            "Fix the messages, or opt out: @pytest.mark.harness(allow_violations=True),"
            " harness_server.allow_violations(), or take them with harness_server.clear_violations().",
            "*_ test_failing_anyway _*",
            "*AssertionError: the test's own failure*",
            "*- harness -*",
            "harness: 1 contract violation(s) seen by the server during test_client.py::test_failing_anyway:",
        ]
    )
    assert "ERROR at teardown of test_failing_anyway" not in result.stdout.str()


def test_errors_in_the_server_thread_fail_the_test(pytester: pytest.Pytester) -> None:
    project(
        pytester,
        test_thread="""
def test_server_callback_raises(harness_server):
    loop = harness_server._running.background.loop
    loop.call_soon_threadsafe(lambda: 1 / 0)
    harness_server.state()  # a round trip: the callback ran before it


def test_advance_raises_where_it_is_called(harness_clock):
    import pytest

    with pytest.raises(ValueError, match="only moves forward"):
        harness_clock.advance(-1)
""",
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_server_callback_raises*",
            "harness: 1 error(s) in the server during test_thread.py::test_server_callback_raises:",
            "  event loop: Exception in callback*",
            "*ZeroDivisionError: division by zero",
        ]
    )
