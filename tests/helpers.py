"""Helpers shared by the test suite."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pty
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness.core.frames import Recorded, TapeHeader

if TYPE_CHECKING:
    from harness.server.app import MockServer

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m harness ARGS`` against this source tree, as a user would run the command."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_cli_on_terminal(*args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """Run ``python -m harness ARGS`` with stderr on a pseudo-terminal, as at a user's terminal:
    the finished process (its stdout captured) and everything the terminal was sent."""
    controller, terminal = pty.openpty()
    shown = bytearray()

    def watch() -> None:  # read as it is drawn, so a chatty command never fills the terminal
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side is closed: all read
                return
            if not chunk:
                return
            shown.extend(chunk)

    watcher = threading.Thread(target=watch)
    try:
        with subprocess.Popen(
            [sys.executable, "-m", "harness", *args],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
        ) as proc:
            os.close(terminal)
            watcher.start()
            try:
                stdout, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
        watcher.join(timeout)
    finally:
        os.close(controller)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, None), bytes(shown)


async def until(condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Wait until ``condition()`` holds, polling, for at most ``timeout`` host seconds: for what
    crosses sockets, tasks and threads (a packet on its way, a client's disconnect). Replay time
    never needs it: the manual clock delivers everything due before ``advance`` returns."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what or 'the condition'}")
        await asyncio.sleep(0.005)


def header(**recorded: object) -> TapeHeader:
    return TapeHeader(
        created="2026-11-23T00:00:00Z",
        harness_version="test",
        recorded=Recorded(**recorded),  # type: ignore[arg-type]
    )


SEEDS = ROOT / "fixtures" / "seeds"


def seed_json_blocks(name: str) -> list[Any]:
    """The JSON objects a seed page shows, each a block from a line '{' to a line '}'."""
    blocks: list[Any] = []
    current: list[str] | None = None
    for line in (SEEDS / name).read_text().splitlines():
        if line == "{":
            current = [line]
        elif current is not None:
            current.append(line)
            if line == "}":
                blocks.append(json.loads("\n".join(current)))
                current = None
    return blocks


@contextmanager
def threaded_upstream() -> Iterator[MockServer]:
    """The demo feed served in its own thread (manual clock, port 0): a local "live" upstream for
    synchronous tests of recording."""
    from harness.server.app import MockServer
    from harness.server.threaded import BackgroundLoop

    with BackgroundLoop() as background:
        server = background.run(MockServer([ROOT / "fixtures" / "demo"], manual=True, port=0).start())
        try:
            yield server
        finally:
            background.run(server.close())


def stalled_websocket(url: str, *texts: str) -> socket.socket:
    """A WebSocket client on a raw TCP socket that upgrades at ``url`` (path and query kept), sends
    ``texts`` as text frames and then never reads again (a small receive buffer, so the server
    feels it quickly). The caller closes it."""
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    key = base64.b64encode(os.urandom(16)).decode()
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    sock.sendall(
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert b" 101 " in sock.recv(1024)
    for text in texts:
        payload = text.encode()
        assert len(payload) < 126, "a short frame"
        mask = os.urandom(4)
        sock.sendall(
            bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        )
    return sock
