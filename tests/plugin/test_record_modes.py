"""Record modes through the plugin: one suite run in each mode against a local "live" upstream (a
MockServer on port 0 in its own thread), and what lands on disk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.core.frames import HttpExchange
from harness.server.app import MockServer
from harness.store import read_tape
from tests.helpers import threaded_upstream
from tests.plugin.inner import project

CONFTEST = """
import pytest
from harness.plugin import HarnessConfig


@pytest.fixture
def harness_config():
    return HarnessConfig(tape="tapes/feed.jsonl", rest_upstream="{rest}", ws_upstream="{ws}")
"""

TESTS = """
import json

import requests
import websocket

EXTRA = {extra!r}


def test_feed(harness_server, harness_tape, harness_clock):
    assert requests.get(harness_server.urls["rest"] + "/sol-price", timeout=5).json() == {{"solPrice": 180.0}}
    for path in EXTRA:
        assert requests.get(harness_server.urls["rest"] + path, timeout=5).status_code == 200
    ws = websocket.create_connection(harness_server.urls["websocket"], timeout=5)
    assert json.loads(ws.recv())["name"] == "handshake"
    ws.send(json.dumps({{"type": "subscribe", "mode": "migrations"}}))
    assert json.loads(ws.recv())["name"] == "subscription_ack"
    ws.close()
    assert harness_clock.advance(0.05) >= 0.05  # live: a real wait; replay: the clock moves
    if {interrupt!r}:
        raise KeyboardInterrupt
"""


@pytest.fixture
def upstream() -> Iterator[MockServer]:
    with threaded_upstream() as server:
        yield server


def _requests(server: MockServer) -> int:
    count: int = server.state()["apis"]["pumpfun"]["requests"]
    return count


def _run(
    pytester: pytest.Pytester, mode: str | None, *, extra: tuple[str, ...] = (), interrupt: bool = False
) -> pytest.RunResult:
    pytester.makepyfile(test_feed=TESTS.format(extra=extra, interrupt=interrupt))
    args = ["--harness-record-mode", mode] if mode else []
    # in process, pytester re-raises an inner Ctrl-C in the outer run
    run = pytester.runpytest_subprocess if interrupt else pytester.runpytest
    return run(*args)


def test_once_then_none_then_new_episodes_then_all(pytester: pytest.Pytester, upstream: MockServer) -> None:
    project(pytester, conftest=CONFTEST.format(rest=upstream.urls["rest"], ws=upstream.urls["websocket"]))
    tape = pytester.path / "tapes" / "feed.jsonl"

    _run(pytester, "once").assert_outcomes(passed=1)
    assert tape.exists() and _requests(upstream) == 1
    _, frames = read_tape(tape)
    assert [f.request.url for f in frames if isinstance(f, HttpExchange)] == ["/sol-price"]

    result = _run(pytester, None)  # the default, none: replayed, the upstream untouched
    result.assert_outcomes(passed=1)
    assert _requests(upstream) == 1
    result = _run(pytester, "once")  # exists: replayed too
    result.assert_outcomes(passed=1)
    assert _requests(upstream) == 1 and "recorded" not in result.stdout.str()

    result = _run(pytester, "new_episodes", extra=("/coins/latest",))
    result.assert_outcomes(passed=1)
    assert _requests(upstream) == 2, "only the request the tape does not hold went upstream"
    (episode,) = (pytester.path / "tapes" / "feed.episodes").iterdir()
    result.stdout.fnmatch_lines(["*= harness =*", f"new episodes recorded to {episode} (1 frames)"])
    _run(pytester, None, extra=("/coins/latest",)).assert_outcomes(passed=1)  # tape + episode replay it
    assert _requests(upstream) == 2

    before = tape.read_bytes()
    result = _run(pytester, "all", interrupt=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert tape.read_bytes() == before, "an interrupted recording does not replace the tape"
    result.stdout.fnmatch_lines([f"*the recording did not finish cleanly: {tape} left as it was*"])
    assert episode.exists()

    _run(pytester, "all").assert_outcomes(passed=1)
    assert tape.read_bytes() != before
    assert not episode.exists(), "a tape recorded anew drops the old episodes"


PER_TEST = """
import requests
import pytest
from harness.plugin import HarnessConfig


@pytest.fixture
def harness_config():
    return HarnessConfig(rest_upstream="{rest}", ws_upstream="{ws}")


def test_price(harness_server, harness_tape):
    assert requests.get(harness_server.urls["rest"] + "/sol-price", timeout=5).json() == {{"solPrice": 180.0}}


@pytest.mark.parametrize("path", ["/coins/latest"])
def test_path(harness_server, harness_tape, path):
    assert requests.get(harness_server.urls["rest"] + path, timeout=5).status_code == 200


class TestGrouped:
    def test_in_a_class(self, harness_server, harness_tape):
        assert requests.get(harness_server.urls["rest"] + "/sol-price", timeout=5).status_code == 200


@pytest.mark.harness(tape="shared.jsonl")                  # the marker names its own
def test_named(harness_server, harness_tape):
    assert harness_tape.path.name == "shared.jsonl"


def test_demo_until_recorded(harness_server, harness_tape):
    assert harness_tape.path is None or harness_tape.path.name == "test_demo_until_recorded.jsonl"
"""


def test_each_test_records_its_own_tape_by_default(pytester: pytest.Pytester, upstream: MockServer) -> None:
    project(pytester)
    pytester.makepyfile(test_feed=PER_TEST.format(rest=upstream.urls["rest"], ws=upstream.urls["websocket"]))
    own = pytester.path / "tapes" / "test_feed"
    result = pytester.runpytest("--harness-record-mode", "once", "-p", "no:randomly")
    result.assert_outcomes(passed=5)
    assert sorted(p.name for p in own.iterdir()) == [
        "TestGrouped.test_in_a_class.jsonl",
        "test_demo_until_recorded.jsonl",
        "test_path[_coins_latest].jsonl",
        "test_price.jsonl",
    ]
    assert (pytester.path / "shared.jsonl").exists()
    _, frames = read_tape(own / "test_price.jsonl")
    assert [f.request.url for f in frames if isinstance(f, HttpExchange)] == ["/sol-price"]
    recorded = _requests(upstream)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=5)  # replayed, each from its own
    assert _requests(upstream) == recorded
    before = (own / "test_price.jsonl").read_bytes()
    pytester.runpytest("--harness-record-mode", "rewrite", "-k", "test_price").assert_outcomes(
        passed=1, deselected=4
    )
    assert _requests(upstream) == recorded + 1 and (own / "test_price.jsonl").read_bytes() != before
