"""The recording proxy's WebSocket relay with real websockets clients against a local service:
both directions, text and binary, subprotocols, close codes and reasons both ways, refused
upgrades passed through, and upstream failures as the client would have seen them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from harness.core.frames import C2S, S2C, WsBinary, WsClose, WsOpen, WsText
from harness.recorder.proxy import RecordingProxy
from harness.store import read_tape
from tests.credentials import BEARER, COOKIE, QUERY_TOKEN
from tests.recorder.upstreams import WsService, free_port


async def test_messages_both_ways_with_credentials_upstream_and_closes_recorded(tmp_path: Path) -> None:
    async with WsService() as service, RecordingProxy(tmp_path, ws_upstream=service.url) as proxy:
        async with websockets.connect(
            proxy.urls["websocket"] + f"?token={QUERY_TOKEN}",
            additional_headers={"Authorization": f"Bearer {BEARER}", "Cookie": f"session={COOKIE}"},
            subprotocols=["corto.v1"],  # type: ignore[list-item]
        ) as ws:
            assert ws.subprotocol == "corto.v1", "the upstream's chosen subprotocol reaches the client"
            await ws.send(json.dumps({"echo": {"hello": "world"}}))
            assert json.loads(await ws.recv()) == {"hello": "world"}
            await ws.send(b"\x00\x01binary\xff")
            assert await ws.recv() == b"\x00\x01binary\xff"
            await ws.send(json.dumps({"burst": 3}))
            assert [json.loads(await ws.recv()) for _ in range(3)] == [{"i": 0}, {"i": 1}, {"i": 2}]
            await ws.close(4000, "client done")
        # the service got the client's code; the client got the service's reply (aiohttp's is 1000)
        assert service.closes == [(4000, "")] and ws.close_code == 1000
        path = proxy.tape_path
    assert service.received[:2] == [{"echo": {"hello": "world"}}, b"\x00\x01binary\xff"]
    _, frames = read_tape(path)
    opened = frames[0]
    assert isinstance(opened, WsOpen) and opened.url == "/data-stream?token=" + opened.url.split("=", 1)[1]
    assert "REDACTED-" in opened.url and opened.url != f"/data-stream?token={QUERY_TOKEN}"
    headers = dict(opened.headers)
    assert headers["Authorization"].startswith("Bearer REDACTED-") and headers["Cookie"].startswith(
        "session=REDACTED-"
    )
    kinds = [(type(f).__name__, f.direction.value) for f in frames[1:]]
    assert kinds == [
        ("WsText", "c2s"),
        ("WsText", "s2c"),
        ("WsBinary", "c2s"),
        ("WsBinary", "s2c"),
        ("WsText", "c2s"),
        ("WsText", "s2c"),
        ("WsText", "s2c"),
        ("WsText", "s2c"),
        ("WsClose", "c2s"),
        ("WsClose", "s2c"),
    ]
    binary = next(f for f in frames if isinstance(f, WsBinary))
    assert binary.data == b"\x00\x01binary\xff"
    closes = [(f.direction, f.code, f.reason) for f in frames if isinstance(f, WsClose)]
    assert closes == [(C2S, 4000, "client done"), (S2C, 1000, "")]


async def test_a_close_from_the_service_reaches_the_client_with_its_code_and_reason(tmp_path: Path) -> None:
    async with WsService() as service, RecordingProxy(tmp_path, ws_upstream=service.url) as proxy:
        async with websockets.connect(proxy.urls["websocket"]) as ws:
            await ws.send(json.dumps({"close": 4408, "reason": "idle too long"}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4408, "idle too long")
        path = proxy.tape_path
    _, frames = read_tape(path)
    closes = [(f.direction, f.code, f.reason) for f in frames if isinstance(f, WsClose)]
    assert closes == [(S2C, 4408, "idle too long")]


@pytest.mark.parametrize("status", [403, 503])
async def test_a_refused_upgrade_reaches_the_client_as_the_service_answered(
    tmp_path: Path, status: int
) -> None:
    async with WsService() as service, RecordingProxy(tmp_path, ws_upstream=service.url) as proxy:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(proxy.urls["websocket"] + f"?refuse={status}")
        answer = refused.value.response
        assert answer.status_code == status
        assert json.loads(answer.body) == {"error": "refused", "status": status}
        path, failures = proxy.tape_path, proxy.failures
    _, frames = read_tape(path)
    assert isinstance(frames[-1], WsClose) and frames[-1].code is None
    assert frames[-1].reason.startswith(f"handshake refused: HTTP {status}")
    assert [f.kind.value for f in failures.kept] == (["5xx"] if status >= 500 else [])


async def test_upstream_failures_as_the_client_sees_them_and_the_proxy_keeps_serving(tmp_path: Path) -> None:
    async with WsService() as service:
        dead = f"ws://127.0.0.1:{free_port()}/data-stream"
        async with RecordingProxy(tmp_path / "dead", ws_upstream=dead) as proxy:
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(proxy.urls["websocket"])
            assert refused.value.response.status_code == 502
            assert refused.value.response.headers["X-Harness-Upstream-Error"] == "refused"
            assert b"refused" in refused.value.response.body
        async with RecordingProxy(
            tmp_path / "tls", ws_upstream=service.url.replace("ws://", "wss://")
        ) as proxy:
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(proxy.urls["websocket"])
            assert refused.value.response.headers["X-Harness-Upstream-Error"] == "tls"
            assert proxy.counters["upstream.tls"] == 1
        async with RecordingProxy(tmp_path / "drop", ws_upstream=service.url) as proxy:
            async with websockets.connect(proxy.urls["websocket"]) as ws:
                await ws.send(json.dumps({"drop": True}))
                assert json.loads(await ws.recv()) == {"last": True}
                with pytest.raises(ConnectionClosedError) as dropped:
                    await ws.recv()
            assert dropped.value.rcvd is None, "no close frame: the client sees 1006 as it would have"
            async with websockets.connect(proxy.urls["websocket"]) as ws:  # still serving
                await ws.send(json.dumps({"echo": 1}))
                assert await ws.recv() == "1"
            path, report = proxy.tape_path, proxy.report()
    _, frames = read_tape(path)
    first = [f for f in frames if f.conn == "ws-1"]
    assert isinstance(first[-1], WsClose) and first[-1].direction is S2C and first[-1].code is None
    assert "dropped" in first[-1].reason
    assert "1 upstream failure (dropped 1)" in report
    assert [json.loads(f.data) for f in frames if isinstance(f, WsText) and f.conn == "ws-2"] == [
        {"echo": 1},
        1,
    ]
