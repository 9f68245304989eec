"""The fixtures as a user's suite meets them: sync and async tests, one server per config, reset
per test, the clock, the tape, and clear errors for bad settings."""

from __future__ import annotations

import pytest

from tests.helpers import ROOT
from tests.plugin.inner import project

SYNC_AND_ASYNC = """
import json

import aiohttp
import pytest
import requests
import websocket
import websockets

PORTS = []


def test_sync_clients(harness_server, harness_clock):
    PORTS.append(harness_server.urls["rest"])
    first = requests.get(harness_server.urls["rest"] + "/coins/latest", timeout=5)
    again = requests.get(
        harness_server.urls["rest"] + "/coins/latest", headers={"If-None-Match": first.headers["ETag"]}, timeout=5
    )
    assert again.status_code == 304
    ws = websocket.create_connection(harness_server.urls["websocket"], timeout=5)
    assert json.loads(ws.recv())["name"] == "handshake"
    ws.send(json.dumps({"type": "subscribe", "mode": "mints", "create": {"detail": "min"}}))
    assert json.loads(ws.recv())["name"] == "subscription_ack"
    assert harness_clock.advance(60) == 60.0 == harness_clock.now()
    assert json.loads(ws.recv())["txType"] == "create"
    ws.close()


async def test_async_clients_after_a_reset(harness_server, harness_clock):
    PORTS.append(harness_server.urls["rest"])
    assert harness_clock.now() == 0.0, "the clock was reset for this test"
    assert harness_server.state()["apis"]["pumpfun"]["requests"] == 0
    async with aiohttp.ClientSession() as http:
        async with http.get(harness_server.urls["rest"] + "/sol-price") as response:
            assert response.status == 200
    async with websockets.connect(harness_server.urls["websocket"]) as ws:
        assert json.loads(await ws.recv())["name"] == "handshake"
        await ws.send(json.dumps({"type": "subscribe", "mode": "migrations"}))
        await ws.recv()
        assert await harness_clock.advance(180) == 180.0  # awaitable, as with MockServer
        assert json.loads(await ws.recv())["txType"] == "migrate"


@pytest.mark.harness(speed="max")
def test_another_config_gets_another_server(harness_server, harness_tape, harness_clock):
    assert harness_server.urls["rest"] not in PORTS
    assert not harness_clock.manual and harness_server.state()["clock"]["mode"] == "max"
    assert harness_tape.path is None and harness_tape.action == "replay" and not harness_tape.recording


def test_the_first_server_is_kept_for_the_session(harness_server):
    assert PORTS == [harness_server.urls["rest"]] * 2
"""


def test_sync_and_async_tests_share_a_server_reset_per_test(pytester: pytest.Pytester) -> None:
    project(pytester, test_feed=SYNC_AND_ASYNC)
    result = pytester.runpytest()
    result.assert_outcomes(passed=4)


def test_a_marker_alone_brings_the_server_and_the_guard(pytester: pytest.Pytester) -> None:
    project(
        pytester,
        test_marked="""
import socket
import _socket

import pytest


@pytest.mark.harness
def test_marked(request):
    assert "harness_server" in request.fixturenames
    assert socket.socket.connect is not _socket.socket.connect, "the guard is on"


def test_plain():
    assert socket.socket.connect is _socket.socket.connect, "no harness, no guard"
""",
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_tapes_are_found_next_to_the_test_and_replayed_with_their_episodes(pytester: pytest.Pytester) -> None:
    tapes = pytester.mkdir("tapes")
    (tapes / "corto.jsonl").write_bytes((ROOT / "fixtures" / "demo" / "corto.jsonl").read_bytes())
    (tapes / "corto.episodes").mkdir()
    (tapes / "corto.episodes" / "20260101T000000Z-episode.jsonl").write_bytes(
        (ROOT / "fixtures" / "demo" / "pumpfun.jsonl").read_bytes()
    )
    project(
        pytester,
        test_tape="""
import pytest
import requests


@pytest.mark.harness("tapes/corto.jsonl")
def test_replays_tape_and_episode(harness_server, harness_tape):
    assert harness_tape.path.name == "corto.jsonl" and harness_tape.mode == "none"
    assert [p.name for p in harness_tape.replayed] == ["corto.jsonl", "20260101T000000Z-episode.jsonl"]
    assert requests.get(harness_server.urls["rest"] + "/sol-price", timeout=5).status_code == 200
""",
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('"tapes/missing.jsonl"', "tapes/missing.jsonl: no such tape, and record mode 'none' only replays"),
        (
            "colour='red'",
            "@pytest.mark.harness does not know colour; it takes allow_hosts, allow_misses, allow_network",
        ),
        ("speed='warp'", "speed must be a positive number or 'max', got 'warp'"),
        ("clock='sundial'", "clock must be 'manual' or 'real', got 'sundial'"),
        ("record_mode='sometimes'", "record_mode must be one of none, once, new_episodes, all, rewrite"),
        ("faults=['/coins:explode']", "fault '/coins:explode'"),
        ("max_age='a while'", "max_age takes seconds or a number with a unit s, m, h, d or w"),
        ("max_age=1, expired='shrug'", "expired takes one of warn, fail, rerecord, got 'shrug'"),
    ],
)
def test_bad_settings_are_a_one_line_setup_error(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    project(
        pytester,
        test_bad=f"""
import pytest


@pytest.mark.harness({marker})
def test_bad(harness_server):
    pass
""",
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*harness: *{message}*"])
    assert "Traceback" not in result.stdout.str()


def test_harness_config_must_be_a_harness_config(pytester: pytest.Pytester) -> None:
    project(
        pytester,
        test_config="""
import pytest


@pytest.fixture
def harness_config():
    return {"tape": "x.jsonl"}


def test_it(harness_server):
    pass
""",
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the harness_config fixture must return a HarnessConfig, got dict*"])


def test_options_are_one_group_and_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    project(pytester)
    help_text = pytester.runpytest("--help").stdout.str()
    group = help_text[help_text.index("harness: replay and record") :]
    assert "--harness-record-mode={none,once,new_episodes,all,rewrite}" in group
    assert "--harness-tapes-dir=DIR" in group
    for option in (
        "--harness-max-age=AGE",
        "--harness-expired={warn,fail,rerecord}",
        "--harness-block-network",
    ):
        assert option in group
    assert "--harness-allow-hosts=HOST[,HOST...]" in group
    markers = pytester.runpytest("--markers").stdout.str()
    assert "@pytest.mark.harness(tape=None, *, speed=None, clock=None, faults=()" in markers


CONTROL_FROM_A_CLIENT = """
import os

import requests

def test_a_client_drives_the_control_endpoints(harness_server):
    control = harness_server.urls["control"]
    headers = harness_server.control_headers
    assert headers["Content-Type"] == "application/json"
    assert headers.get("X-Harness-Token") == os.environ.get("HARNESS_CONTROL_TOKEN")
    answer = requests.post(control + "/advance", json={"seconds": 3}, headers=headers, timeout=5)
    assert answer.json() == {"now": 3}
    forged = requests.post(control + "/advance?seconds=3", data="x", headers={"Content-Type": "text/plain"})
    assert forged.status_code == 415
    without = requests.post(control + "/advance?seconds=3", json={}, timeout=5)
    assert without.status_code == (401 if "X-Harness-Token" in headers else 200)
"""


@pytest.mark.parametrize("token", [None, "tok-from-env"])
def test_the_plugin_sets_the_control_token_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    if token is None:
        monkeypatch.delenv("HARNESS_CONTROL_TOKEN", raising=False)
    else:
        monkeypatch.setenv("HARNESS_CONTROL_TOKEN", token)
    project(pytester, test_control=CONTROL_FROM_A_CLIENT)
    pytester.runpytest().assert_outcomes(passed=1)
