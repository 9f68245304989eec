"""``harness serve`` as a user runs it: URLs printed, ready file, clean shutdown, clear errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import ROOT, run_cli
from tests.server import pumpfun_tape


def _start(*args: str, command: str = "serve") -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "harness", command, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> dict[str, str]:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.05)
    urls: dict[str, str] = json.loads(path.read_text())
    return urls


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_urls_answers_and_shuts_down_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    tape = pumpfun_tape.write(tmp_path / "p.jsonl")
    ready = tmp_path / "ready.json"
    proc = _start(str(tape), "--port", "0", "--manual", "--ready-file", str(ready))
    try:
        urls = _wait_for(ready, proc)
        assert set(urls) == {"rest", "socketio", "websocket", "pumpportal", "control"}
        assert urls["websocket"].endswith("/data-stream")
        assert requests.get(urls["rest"] + "/sol-price", timeout=5).json() == {"solPrice": 244.2}
        requests.post(urls["control"] + "/advance", json={"seconds": 10}, timeout=5)
        assert requests.get(urls["rest"] + "/coins/latest", timeout=5).json()["name"] == "second"
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    lines = out.splitlines()
    assert any(line.strip().startswith("Pump.fun REST") and urls["rest"] in line for line in lines)
    assert any("corto.fun WebSocket" in line and urls["websocket"] in line for line in lines)
    assert any("PumpData Socket.IO" in line for line in lines)


def test_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    tape = pumpfun_tape.write(tmp_path / "p.jsonl")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run_cli("serve", str(tape), "--port", str(port))
    assert out.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr and "--port 0" in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "fast"], "speed must be a positive number or 'max'"),
        (["--fault", "oops"], "expected PATTERN:ACTION"),
        (["--rate-limit", "ten"], "--rate-limit takes N/SECONDS"),
        (["--port", "70000"], "--port must be 0-65535"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    tape = pumpfun_tape.write(tmp_path / "p.jsonl")
    out = run_cli("serve", str(tape), *args)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_unreadable_tape_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nope\n")
    out = run_cli("serve", str(bad), "--port", "0")
    assert out.returncode == 2 and f"{bad}:1" in out.stderr


def test_no_tape_serves_the_demo_and_stops_promptly_with_stream_clients_connected(tmp_path: Path) -> None:
    """The main job as the README runs it; SIGINT while a Socket.IO and a Data Stream client are
    connected (and a malformed request was refused) ends it at once, with one line per problem."""
    import asyncio

    import socketio
    import websockets

    ready = tmp_path / "ready.json"
    proc = _start("--port", "0", "--ready-file", str(ready))
    try:
        urls = _wait_for(ready, proc)
        coin = requests.get(urls["rest"] + "/coins/latest", timeout=5).json()
        assert coin["name"] == "Moon Cat", "the demo tape's first coin"
        huge = requests.get(urls["rest"] + "/coins/latest", headers={"X-Big": "a" * 100_000}, timeout=5)
        assert huge.status_code == 400

        async def connected_clients() -> None:
            sio = socketio.AsyncClient()
            await sio.connect(urls["socketio"], auth={"api_key": "pd_test"}, transports=["websocket"])
            async with websockets.connect(urls["websocket"]) as ws:
                await ws.recv()
                await ws.send('{"type":"subscribe","mode":"all"}')
                await ws.recv()
                started = time.monotonic()
                proc.send_signal(signal.SIGINT)
                await asyncio.to_thread(proc.wait, 10)
                assert time.monotonic() - started < 4, "shutdown does not wait on open sockets"
            await sio.disconnect()

        asyncio.run(connected_clients())
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "harness serve: bad request from 127.0.0.1 answered 400: Got more than 8190 bytes" in err
    assert "harness serve: 4 tape(s)" in out, "the four demo tapes"
