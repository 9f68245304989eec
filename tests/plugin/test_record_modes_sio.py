"""``--harness-record-mode`` for PumpData: a suite whose test subscribes over Socket.IO (python-socketio,
the test's API key in ``auth``) run once, then new_episodes with a new subscription, then none,
against a local "live" upstream (a MockServer on port 0 in its own thread). Every tape it writes is
scanned for the key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import socketio  # noqa: F401  (imported once for the inner runs, see tests/plugin/inner.py)

from harness.core.frames import SioConnect, SioEvent
from harness.server.app import MockServer
from harness.store import read_tape
from tests.credentials import API_KEY, no_credential_on_disk
from tests.helpers import threaded_upstream
from tests.plugin.inner import project
from tests.server.test_pumpdata import trade_pools

__all__ = ["no_credential_on_disk"]

CONFTEST = """
import pytest
from harness.plugin import HarnessConfig


@pytest.fixture
def harness_config():
    return HarnessConfig(tape="tapes/feed.jsonl", sio_upstream="{sio}", rest_upstream="{rest}")
"""

TESTS = """
import socketio


def test_feed(harness_server):
    sio = socketio.Client(reconnection=False)
    sio.connect(harness_server.urls["socketio"], auth={{"api_key": "{key}"}}, transports=["websocket"])
    ack = sio.call("subscribe_trades", {{"pool": "{pool}"}}, timeout=5)
    sio.disconnect()
    assert ack == {{"ok": True, "pool": "{pool}", "room": "trades:{pool}"}}
"""


@pytest.fixture
def upstream() -> Iterator[MockServer]:
    with threaded_upstream() as server:
        yield server


def _run(pytester: pytest.Pytester, mode: str, pool: str) -> pytest.RunResult:
    pytester.makepyfile(test_feed=TESTS.format(key=API_KEY, pool=pool))
    return pytester.runpytest("--harness-record-mode", mode)


def _subscribed(tape: Path) -> list[str]:
    _, frames = read_tape(tape)
    assert all(f.auth["api_key"].startswith("REDACTED-") for f in frames if isinstance(f, SioConnect))
    return [f.args[0]["pool"] for f in frames if isinstance(f, SioEvent) and f.name == "subscribe_trades"]


def test_once_then_new_episodes_then_none(
    pytester: pytest.Pytester, upstream: MockServer, no_credential_on_disk: list[Path]
) -> None:
    no_credential_on_disk.append(pytester.path)
    held, new = trade_pools(upstream)[:2]
    conftest = CONFTEST.format(sio=upstream.urls["socketio"], rest=upstream.urls["rest"])
    project(pytester, conftest=conftest)
    tape = pytester.path / "tapes" / "feed.jsonl"

    _run(pytester, "once", held).assert_outcomes(passed=1)
    assert _subscribed(tape) == [held]

    result = _run(pytester, "new_episodes", new)
    result.assert_outcomes(passed=1)
    (episode,) = (pytester.path / "tapes" / "feed.episodes").iterdir()
    result.stdout.fnmatch_lines([f"new episodes recorded to {episode} (*"])
    assert _subscribed(episode) == [new]

    # the replay needs no upstream: none is reachable now
    project(pytester, conftest=CONFTEST.format(sio="http://127.0.0.1:9", rest="http://127.0.0.1:9"))
    for pool in (held, new):
        _run(pytester, "none", pool).assert_outcomes(passed=1)
