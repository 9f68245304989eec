"""``harness serve --record-mode``: the record modes from the command line, against a local upstream."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.server.app import MockServer
from harness.store import read_tape
from tests.cli.test_serve import _start, _wait_for
from tests.helpers import run_cli, threaded_upstream


@pytest.fixture
def upstream() -> Iterator[MockServer]:
    with threaded_upstream() as server:
        yield server


def _serve(tmp_path: Path, tape: Path, mode: str, upstream: MockServer) -> tuple[dict[str, str], str, str]:
    ready = tmp_path / "ready.json"
    ready.unlink(missing_ok=True)
    proc = _start(
        str(tape),
        "--record-mode",
        mode,
        "--rest-upstream",
        upstream.urls["rest"],
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
