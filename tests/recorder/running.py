"""``harness record`` as a user runs it: in a subprocess of this source tree."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path

import websockets

from tests.helpers import ROOT


async def start(*args: str, stderr: int = asyncio.subprocess.PIPE) -> asyncio.subprocess.Process:
    """``python -m harness record ARGS``, its stdout piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "harness",
        "record",
        *args,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
    )


async def record(*args: str) -> tuple[int, str, str]:
    """Run ``harness record ARGS`` to its end: exit code, stdout, stderr."""
    proc = await start(*args)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def ready(proc: asyncio.subprocess.Process, path: Path) -> dict[str, str]:
    """The URLs a recording proxy wrote to its ``--ready-file``, once it listens."""
    for _ in range(3000):
        with contextlib.suppress(FileNotFoundError):
            return dict(json.loads(await asyncio.to_thread(path.read_text)))
        if proc.returncode is not None:
            raise AssertionError(f"the recorder exited with {proc.returncode}")
        await asyncio.sleep(0.01)
    raise AssertionError("the recorder never got ready")


async def start_proxy(
    tmp_path: Path, *upstreams: str, stderr: int = asyncio.subprocess.PIPE
) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """``harness record proxy UPSTREAM-OPTIONS... --listen 127.0.0.1:0 --out tmp_path/rec`` and its
    URLs once it listens."""
    ready_file = tmp_path / "ready.json"
    proc = await start(
        "proxy",
        *upstreams,
        "--listen",
        "127.0.0.1:0",
        "--out",
        str(tmp_path / "rec"),
        "--ready-file",
        str(ready_file),
        stderr=stderr,
    )
    try:
        return proc, await ready(proc, ready_file)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise


async def drain(ws: websockets.ClientConnection) -> list[str | bytes]:
    """Everything a WebSocket client receives until the connection closes."""
    got: list[str | bytes] = []
    try:
        while True:
            got.append(await ws.recv())
    except websockets.ConnectionClosed:
        return got
