"""The control plane is safe from web pages and bounded in work: ``Host``, ``Content-Type`` and
token rules on ``/_harness/*``, Socket.IO's CORS, and ``advance`` calls of any size."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
import websockets

from harness.server.app import MockServer
from tests.helpers import ROOT

CORTO = ROOT / "fixtures" / "demo" / "corto.jsonl"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def server(pumpfun_tape_path: Path) -> AsyncIterator[MockServer]:
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False) as srv:
        yield srv


async def _call(
    method: str, url: str, *, headers: dict[str, str] | None = None, data: Any = None
) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.request(method, url, headers=headers, data=data) as r:
        return r.status, await r.json()


# --- Host: no DNS rebinding ---------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "127.0.0.1", "127.3.2.1", "[::1]"])
async def test_loopback_hosts_reach_the_control_endpoints(server: MockServer, host: str) -> None:
    status, state = await _call(
        "GET", f"{server.urls['control']}/state", headers={"Host": f"{host}:{server.port}"}
    )
    assert status == 200 and state["clock"]["now"] == 0


@pytest.mark.parametrize("host", ["rebind.attacker.example", "192.168.1.20", "0.0.0.0"])
async def test_another_host_is_refused_whatever_it_resolves_to(server: MockServer, host: str) -> None:
    for method, path in (("GET", "/state"), ("GET", "/violations"), ("POST", "/advance?seconds=5")):
        status, answer = await _call(
            method, server.urls["control"] + path, headers={"Host": f"{host}:{server.port}", **JSON}
        )
        assert status == 403, path
        assert f"got '{host}:{server.port}'" in answer["error"] and "--control-host" in answer["error"]
    assert server.now() == 0, "nothing was done"


async def test_a_request_without_a_host_is_refused(server: MockServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /_harness/state HTTP/1.0\r\n\r\n")
    status = await reader.readline()
    writer.close()
    assert status.startswith(b"HTTP/1.0 403") or status.startswith(b"HTTP/1.1 403")


async def test_control_hosts_and_the_listening_name_are_answered(pumpfun_tape_path: Path) -> None:
    async with MockServer(
        [pumpfun_tape_path], manual=True, port=0, validate=False, control_hosts=("harness.test",)
    ) as srv:
        for host in ("harness.test", "HARNESS.test:80"):
            status, _ = await _call(
                "POST", f"{srv.urls['control']}/advance?seconds=1", headers={"Host": host, **JSON}
            )
            assert status == 200
        assert srv.now() == 2
        status, _ = await _call("GET", f"{srv.urls['control']}/state", headers={"Host": "other.test"})
        assert status == 403


async def test_the_rest_api_answers_any_host(server: MockServer) -> None:
    """Only the control plane checks Host: a client may reach the replayed API by any name."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(server.urls["rest"] + "/sol-price", headers={"Host": "frontend-api-v3.pump.fun"}) as r,
    ):
        assert r.status == 200


# --- Content-Type and token: no forged calls ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("POST", "/advance", {"Content-Type": "text/plain"}, b'{"seconds": 5}'),  # a page's fetch()/form
        ("POST", "/advance?seconds=5", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=b"),
        ("POST", "/advance?seconds=5", {}, None),
        ("POST", "/reset", {"Content-Type": "multipart/form-data; boundary=x"}, b"--x--"),
        ("DELETE", "/violations", {}, None),
    ],
)
async def test_a_state_changing_call_without_json_is_415(
    server: MockServer, method: str, path: str, headers: dict[str, str], body: bytes | None
) -> None:
    await server.advance(1)
    from harness.server.context import ServedViolation

    server.report(ServedViolation("corto", "trade", "/price", "type", "x", "server", "ws-1"))
    status, answer = await _call(method, server.urls["control"] + path, headers=headers, data=body)
    assert status == 415
    assert "Content-Type: application/json" in answer["error"]
    assert server.now() == 1 and len(server.violations) == 1, "nothing was changed"


async def test_a_control_token_guards_every_state_changing_call(pumpfun_tape_path: Path) -> None:
    async with MockServer(
        [pumpfun_tape_path], manual=True, port=0, validate=False, control_token="s3cret-t0ken"
    ) as srv:
        control = srv.urls["control"]
        for token in (None, "wrong"):
            headers = JSON if token is None else {**JSON, "X-Harness-Token": token}
            for method, path in (
                ("POST", "/advance?seconds=5"),
                ("POST", "/reset"),
                ("DELETE", "/violations"),
            ):
                status, answer = await _call(method, control + path, headers=headers)
                assert status == 401 and "X-Harness-Token" in answer["error"]
                assert "s3cret" not in answer["error"]
        assert srv.now() == 0
        status, answer = await _call(
            "POST", control + "/advance?seconds=5", headers={**JSON, "X-Harness-Token": "s3cret-t0ken"}
        )
        assert status == 200 and answer == {"now": 5}
        status, state = await _call("GET", control + "/state")  # reading needs no token
        assert status == 200
        assert "s3cret" not in json.dumps(state) and "s3cret" not in repr(srv.config)


# --- Socket.IO CORS ------------------------------------------------------------------------------


def _handshake(url: str, origin: str) -> requests.Response:
    return requests.get(
        url + "/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": origin},
        timeout=5,
    )


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("http://127.0.0.1:5173", True),
        ("http://[::1]:8080", True),
        ("https://evil.example", False),
        ("http://localhost.evil.example", False),
        ("null", False),
    ],
)
async def test_socketio_allows_loopback_origins_and_never_credentials(
    server: MockServer, origin: str, allowed: bool
) -> None:
    answer = await asyncio.to_thread(_handshake, server.urls["socketio"], origin)
    assert "Access-Control-Allow-Credentials" not in answer.headers
    if allowed:
        assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == origin
    else:
        assert answer.status_code == 400 and "Access-Control-Allow-Origin" not in answer.headers
        assert "not an accepted origin" in answer.text


async def test_cors_origins_add_origins(pumpfun_tape_path: Path) -> None:
    async with MockServer([pumpfun_tape_path], port=0, cors_origins=("https://app.example",)) as srv:
        answer = await asyncio.to_thread(_handshake, srv.urls["socketio"], "https://app.example")
        assert (
            answer.status_code == 200
            and answer.headers["Access-Control-Allow-Origin"] == "https://app.example"
        )
        assert "Access-Control-Allow-Credentials" not in answer.headers
        refused = await asyncio.to_thread(_handshake, srv.urls["socketio"], "https://other.example")
        assert refused.status_code == 400


# --- bounded advance -----------------------------------------------------------------------------


async def _subscribed(url: str) -> Any:
    ws = await websockets.connect(url)
    await ws.recv()  # the handshake
    await ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
    await ws.recv()  # the ack
    return ws


async def _received(ws: Any) -> list[dict[str, Any]]:
    """What came until the server answers our ping, proof that nothing more is on its way."""
    await ws.send(json.dumps({"type": "ping"}))
    out = []
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message.get("type") == "pong":
            return out
        out.append(message)


async def test_an_advance_past_the_cap_answers_at_once_and_the_replay_jumps() -> None:
    """``advance?seconds=1e7`` on a looping feed: bounded work, then the rest is skipped."""
    async with MockServer([CORTO], manual=True, loop=True, port=0, max_advance_steps=40) as srv:
        ws = await _subscribed(srv.urls["websocket"])
        period = srv.emulators[1].feed.period  # type: ignore[attr-defined]
        status, answer = await asyncio.wait_for(
            _call("POST", srv.urls["control"] + "/advance?seconds=1e7", headers=JSON), 10
        )
        assert status == 200 and answer["now"] == 1e7
        assert answer["skipped"] > 1e7 / period, "the passes of the looping feed were skipped, not sent"
        delivered = await _received(ws)
        assert 0 < len(delivered) <= 40 * 10, "at most the cap's wake-ups' worth was sent"
        assert srv.state()["counters"]["advance_skipped_items"] == answer["skipped"]
        # the replay goes on from where the feed is at the new time
        await srv.advance(period)
        assert len(await _received(ws)) > 0
        await ws.close()


async def test_an_advance_within_the_cap_delivers_everything() -> None:
    async with MockServer([CORTO], manual=True, port=0) as srv:
        ws = await _subscribed(srv.urls["websocket"])
        await srv.advance(10**6)
        everything = await _received(ws)
        await ws.close()
    async with MockServer([CORTO], manual=True, port=0, max_advance_steps=10**9) as srv:
        ws = await _subscribed(srv.urls["websocket"])
        await srv.advance(10**6)
        assert len(await _received(ws)) == len(everything) > 100
        await ws.close()


@pytest.mark.parametrize("seconds", [math.inf, -math.inf, math.nan, -1.0])
async def test_advance_refuses_a_time_that_is_not_finite_and_forward(
    server: MockServer, seconds: float
) -> None:
    with pytest.raises(ValueError, match="finite time"):
        await server.advance(seconds)
    assert server.now() == 0


def test_the_control_token_is_read_from_the_environment_by_harness_serve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import argparse

    from harness.cli import serve

    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    monkeypatch.setenv("HARNESS_CONTROL_TOKEN", "from-env")
    assert serve.config_from_args(parser.parse_args([])).control_token == "from-env"
    assert serve.config_from_args(parser.parse_args(["--control-token", "given"])).control_token == "given"
    monkeypatch.delenv("HARNESS_CONTROL_TOKEN")
    assert serve.config_from_args(parser.parse_args([])).control_token is None
