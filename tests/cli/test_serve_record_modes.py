"""``harness serve --record-mode``: the record modes from the command line, against a local upstream
(REST and PumpData; every tape written is scanned for the credentials used)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from harness.core.frames import SioEvent
from harness.server.app import MockServer
from harness.store import read_tape
from tests.cli.test_serve import _start, _wait_for
from tests.credentials import API_KEY, no_credential_on_disk
from tests.helpers import run_cli, threaded_upstream
from tests.server.test_pumpdata import trade_pools

__all__ = ["no_credential_on_disk"]  # every tape these tests write is scanned for API_KEY


@pytest.fixture
def upstream() -> Iterator[MockServer]:
    with threaded_upstream() as server:
        yield server


def _subscribe(url: str, pool: str) -> Any:
    """A python-socketio client's ``subscribe_trades`` ack, connected with the test's API key."""
    sio = socketio.Client(reconnection=False)
    sio.connect(url, auth={"api_key": API_KEY}, transports=["websocket"], wait_timeout=5)
    try:
        return sio.call("subscribe_trades", {"pool": pool}, timeout=5)
    finally:
        sio.disconnect()


def _serve(
    tmp_path: Path, tape: Path, mode: str, upstream: MockServer, *pools: str
) -> tuple[dict[str, str], str, str]:
    """``harness serve TAPE --record-mode MODE`` against ``upstream``: a REST request, and a
    PumpData subscription to each of ``pools`` (each ack as the live service gave it)."""
    ready = tmp_path / "ready.json"
    ready.unlink(missing_ok=True)
    proc = _start(
        str(tape),
        "--record-mode",
        mode,
        "--rest-upstream",
        upstream.urls["rest"],
        "--sio-upstream",
        upstream.urls["socketio"],
        "--ws-upstream",
        upstream.urls["websocket"],
        "--port",
        "0",
        "--manual",
        "--ready-file",
        str(ready),
    )
    try:
        urls = _wait_for(ready, proc)
        assert requests.get(urls["rest"] + "/sol-price", timeout=5).json() == {"solPrice": 180.0}
        for pool in pools:
            assert _subscribe(urls["socketio"], pool) == {"ok": True, "pool": pool, "room": f"trades:{pool}"}
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return urls, out, err


def test_once_records_and_new_episodes_replays_what_the_tape_holds(
    tmp_path: Path, upstream: MockServer
) -> None:
    tape = tmp_path / "feed.jsonl"
    urls, out, err = _serve(tmp_path, tape, "once", upstream)
    assert f"record mode once: recording {tape} from {upstream.urls['rest']}" in out
    assert "control" not in urls
    assert f"recorded {tape} (1 frames)" in err
    _, frames = read_tape(tape)
    assert len(frames) == 1

    requests_before = upstream.state()["apis"]["pumpfun"]["requests"]
    urls, out, err = _serve(tmp_path, tape, "new_episodes", upstream)
    assert "control" in urls and f"record mode new_episodes: replaying {tape}" in out
    assert f"nothing recorded for {tape}" in err, "the tape held /sol-price"
    assert upstream.state()["apis"]["pumpfun"]["requests"] == requests_before


def test_pumpdata_is_recorded_once_and_a_new_subscription_as_an_episode(
    tmp_path: Path, upstream: MockServer
) -> None:
    held, new = trade_pools(upstream)[:2]
    tape = tmp_path / "feed.jsonl"
    _, _, err = _serve(tmp_path, tape, "once", upstream, held)
    assert f"recorded {tape}" in err
    _, frames = read_tape(tape)
    subscribed = [f.args for f in frames if isinstance(f, SioEvent) and f.name == "subscribe_trades"]
    assert subscribed == [({"pool": held},)]

    _, _, err = _serve(tmp_path, tape, "new_episodes", upstream, new)
    (episode,) = (tmp_path / "feed.episodes").iterdir()
    assert f"new episodes recorded to {episode}" in err
    _, frames = read_tape(episode)
    assert [f.args for f in frames if isinstance(f, SioEvent) and f.direction.value == "c2s"] == [
        ({"pool": new},)
    ]

    with threaded_upstream() as elsewhere:  # the replay never goes upstream: any upstream will do
        _serve(tmp_path, tape, "none", elsewhere, held, new)
        assert elsewhere.state()["apis"]["pumpdata"]["clients"] == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}/missing.jsonl"], "{tmp}/missing.jsonl: no such tape, and record mode 'none' only replays"),
        (["--record-mode", "once"], "record mode once needs a tape path to record into"),
        (["{tmp}/a.jsonl", "{tmp}/b.jsonl", "--record-mode", "all"], "recording needs exactly one tape path"),
        (["--record-mode", "sometimes"], "invalid choice: 'sometimes'"),
    ],
)
def test_bad_record_mode_usage_is_a_one_line_error(tmp_path: Path, args: list[str], message: str) -> None:
    out = run_cli("serve", "--port", "0", *[a.format(tmp=tmp_path) for a in args])
    assert out.returncode == 2
    assert message.format(tmp=tmp_path) in out.stderr and "Traceback" not in out.stderr
