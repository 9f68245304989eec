"""Timeouts and caps on what a client holds open: request heads, connections, Engine.IO sessions,
and accept() failures when the process runs out of open files."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import requests
import websockets

from harness.server.app import MockServer
from tests.helpers import ROOT, until

TIMEOUT = 0.2


@pytest.fixture
async def server(pumpfun_tape_path: Path) -> AsyncIterator[MockServer]:
    async with MockServer([pumpfun_tape_path], manual=True, port=0, head_timeout=TIMEOUT) as srv:
        yield srv


async def _closed_after(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    start = time.monotonic()
    data = await asyncio.wait_for(reader.read(), 5)
    return data, time.monotonic() - start


async def test_a_silent_connection_is_closed_after_the_head_timeout(server: MockServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    data, waited = await _closed_after(reader)
    writer.close()
    assert data == b"", "nothing had been asked: closed without an answer"
    assert TIMEOUT * 0.9 <= waited < TIMEOUT + 1
    assert server.state()["connections"]["head_timeouts"] == 1


async def test_a_slowloris_head_gets_a_408_and_is_closed(server: MockServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /sol-price HTTP/1.1\r\nHost: localhost\r\n")

    async def trickle() -> None:  # a header byte every 50 ms, never the end of the head
        while True:
            writer.write(b"X")
            await asyncio.sleep(0.05)

    task = asyncio.create_task(trickle())
    try:
        data, waited = await _closed_after(reader)
    finally:
        task.cancel()
        writer.close()
    assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"--head-timeout" in data
    assert waited < TIMEOUT + 1


async def test_each_request_gets_the_whole_timeout_and_a_keep_alive_idle_one_ends_quietly(
    server: MockServer,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for _ in range(3):  # within the timeout of each other: served on one connection
        writer.write(b"GET /sol-price HTTP/1.1\r\nHost: localhost\r\n\r\n")
        status = await asyncio.wait_for(reader.readline(), 5)
        assert status.startswith(b"HTTP/1.1 200")
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(
            next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(
                b":"
            )[1]
        )
        await reader.readexactly(length)
        await asyncio.sleep(TIMEOUT / 2)
    data, _ = await _closed_after(reader)
    writer.close()
    assert data == b""


async def test_a_request_being_handled_is_never_timed_out(server: MockServer) -> None:
    """An open WebSocket is a request being handled: it outlives the head timeout."""
    async with websockets.connect(server.urls["websocket"]) as ws:
        await ws.recv()  # the handshake
        await asyncio.sleep(TIMEOUT * 2)
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}


async def test_past_the_connection_cap_a_client_gets_a_503_saying_why(pumpfun_tape_path: Path) -> None:
    async with MockServer([pumpfun_tape_path], manual=True, port=0, max_connections=5) as srv:
        held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(5)]
        try:
            await until(lambda: srv.guard.state()["open"] == 5, what="5 connections open")
            answer = await asyncio.to_thread(requests.get, srv.urls["rest"] + "/sol-price", timeout=5)
            assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
            assert "--max-connections" in answer.json()["error"]
            with pytest.raises(websockets.InvalidStatus) as refused:
                await websockets.connect(srv.urls["websocket"])
            assert refused.value.response.status_code == 503
            assert srv.state()["connections"]["connections_refused"] == 2
        finally:
            held.pop().close()
        await until(lambda: srv.guard.state()["open"] == 4, what="one connection closed")
        answer = await asyncio.to_thread(requests.get, srv.urls["rest"] + "/sol-price", timeout=5)
        assert answer.status_code == 200
        for sock in held:
            sock.close()


async def test_a_batch_accepted_at_once_is_capped_too(pumpfun_tape_path: Path) -> None:
    """asyncio accepts a batch of connections before it tells the first one's protocol."""
    async with MockServer([pumpfun_tape_path], manual=True, port=0, max_connections=5) as srv:
        socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(8)]  # loop blocked
        try:
            await until(lambda: srv.guard.counters["connections_refused"] == 3, what="3 refused")
            answers: list[bytes] = []
            waiting = list(socks)
            for _ in range(20):  # until the three answers are in (the other five get none)
                readable, _, _ = await asyncio.to_thread(select.select, waiting, [], [], 0.1)
                answers += [sock.recv(4096) for sock in readable]
                waiting = [sock for sock in waiting if sock not in readable]
                if len(answers) == 3:
                    break
            assert len(answers) == 3 and all(
                a.startswith(b"HTTP/1.1 503 Service Unavailable") for a in answers
            )
            assert srv.guard.state()["open"] == 5
        finally:
            for sock in socks:
                sock.close()


def _handshake(url: str) -> requests.Response:
    return requests.get(url + "/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=5)


async def test_engineio_sessions_that_never_poll_expire_and_are_capped(pumpfun_tape_path: Path) -> None:
    async with MockServer(
        [pumpfun_tape_path], port=0, max_sio_sessions=5, sio_ping_interval=0.1, sio_ping_timeout=0.1
    ) as srv:
        sockets = srv.emulators[2].sio.eio.sockets  # type: ignore[attr-defined]
        for _ in range(5):
            assert (await asyncio.to_thread(_handshake, srv.urls["socketio"])).status_code == 200
        refused = await asyncio.to_thread(_handshake, srv.urls["socketio"])
        assert refused.status_code == 503
        assert "--max-sio-sessions" in refused.json()["message"]
        assert srv.state()["apis"]["pumpdata"]["counters"]["sessions_refused"] == 1
        await until(lambda: not sockets, timeout=5, what="the idle sessions expired by their ping timeout")
        assert (await asyncio.to_thread(_handshake, srv.urls["socketio"])).status_code == 200


def test_accept_failures_are_logged_once_per_interval_and_open_clients_are_served(
    tmp_path: Path, pumpfun_tape_path: Path
) -> None:
    """Out of open files (``ulimit -n``): one log line with a count, no traceback per accept(),
    and a client that was already connected is still answered."""
    ready = tmp_path / "ready.json"
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "serve",
            "--port",
            "0",
            "--ready-file",
            str(ready),
            "--max-connections",
            "1000",
        ],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard)),
    )
    idle: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        urls = json.loads(ready.read_text())
        with requests.Session() as client:  # connected before the files run out
            assert client.get(urls["rest"] + "/sol-price", timeout=5).status_code == 200
            port = int(urls["rest"].rsplit(":", 1)[1])
            idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(80)]
            time.sleep(0.3)  # the server meets the limit (asyncio retries each second)
            assert client.get(urls["rest"] + "/sol-price", timeout=5).status_code == 200
    finally:
        for sock in idle:
            sock.close()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    failures = [line for line in err.splitlines() if "accept() failure" in line]
    assert len(failures) == 1, err[-2000:]
    assert "Too many open files" in failures[0] and "ulimit -n" in failures[0]
    assert "Traceback" not in err


async def test_a_websocket_that_never_finishes_its_engineio_upgrade_is_closed(
    pumpfun_tape_path: Path,
) -> None:
    """python-engineio waits forever for the probe of an upgrading WebSocket."""
    async with MockServer([pumpfun_tape_path], port=0, sio_ping_interval=0.1, sio_ping_timeout=0.1) as srv:
        opened = await asyncio.to_thread(_handshake, srv.urls["socketio"])
        sid = json.loads(opened.text[1:])["sid"]
        url = (
            srv.urls["socketio"].replace("http://", "ws://")
            + f"/socket.io/?EIO=4&transport=websocket&sid={sid}"
        )
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
            start = time.monotonic()
            message = await asyncio.wait_for(ws.receive(), 5)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert time.monotonic() - start < 2
        counters = srv.state()["apis"]["pumpdata"]["counters"]
        assert counters["websockets_timed_out"] == 1
