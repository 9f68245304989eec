"""The recording proxy's Socket.IO relay, with real python-socketio clients against a local service:
auth goes upstream and is redacted on the tape, events and acks in both directions, namespaces,
connect_error and disconnect reasons as they were, upstream failures reported."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from pathlib import Path
from typing import Any

import pytest
import socketio

from harness.core.frames import SioAck, SioConnect, SioConnectError, SioDisconnect, SioEvent
from harness.recorder.proxy import RecordingProxy
from harness.server.app import MockServer
from harness.store import read_tape
from tests.credentials import API_KEY, QUERY_KEY
from tests.helpers import until
from tests.recorder.upstreams import SioService, free_port, serve


def client() -> socketio.AsyncClient:
    return socketio.AsyncClient(reconnection=False)


async def refused(url: str, auth: dict[str, str]) -> list[Any]:
    """What a client's ``connect_error`` handler gets when its connect is refused."""
    sio = client()
    errors: list[Any] = []
    sio.on("connect_error", errors.append)
    with contextlib.suppress(socketio.exceptions.ConnectionError):
        await sio.connect(url, auth=auth, transports=["websocket"])
    assert not sio.connected, "the connect was refused"
    return errors


async def test_events_and_acks_both_ways_with_auth_upstream_and_redacted(tmp_path: Path) -> None:
    async with SioService() as service, RecordingProxy(tmp_path, sio_upstream=service.url) as proxy:
        sio = client()
        got: list[tuple[str, Any]] = []
        sio.on("echoed", lambda *a: got.append(("echoed", a)))
        sio.on("answer_was", lambda a: got.append(("answer_was", a)))
        sio.on("question", lambda q: {"yes": True, "q": q})  # the client's answer is its ack
        await sio.connect(
            proxy.urls["socketio"] + f"?api_key={QUERY_KEY}&room=7",
            auth={"api_key": API_KEY},
            transports=["websocket"],
        )
        ack = await sio.call("echo", ({"a": 1}, [2, 3]), timeout=5)
        await sio.emit("echo", "no ack wanted")
        await sio.emit("ask")
        await until(lambda: len(got) == 3)
        await sio.disconnect()
        await until(lambda: service.disconnects)
        path = proxy.tape_path
    assert ack == ({"a": 1}, [2, 3]), "an ack with two arguments comes back as the service sent it"
    assert got == [
        ("echoed", ({"a": 1}, [2, 3])),
        ("echoed", ("no ack wanted",)),
        ("answer_was", {"answer": {"yes": True, "q": {"q": "ready?"}}}),
    ]
    connect = service.seen[0][1]
    assert connect == {"namespace": "/", "auth": {"api_key": API_KEY}}, "credentials go upstream"
    assert "room=7" in service.environ[0]["QUERY_STRING"] and QUERY_KEY in service.environ[0]["QUERY_STRING"]
    assert [e for e, _ in service.seen[1:]] == ["echo", "echo", "ask"]

    _, frames = read_tape(path)
    opened = next(f for f in frames if isinstance(f, SioConnect))
    assert opened.auth["api_key"].startswith("REDACTED-") and "api_key=REDACTED-" in opened.url
    events = [f for f in frames if isinstance(f, SioEvent)]
    acks = [f for f in frames if isinstance(f, SioAck)]
    echo = events[0]
    assert (echo.direction.value, echo.name, echo.args, echo.ack_id) == ("c2s", "echo", ({"a": 1}, [2, 3]), 1)
    assert events[2].ack_id is None, "an emit without an ack has no ack id"
    client_ack = next(a for a in acks if a.direction.value == "s2c")
    assert (client_ack.ack_id, client_ack.args) == (echo.ack_id, ({"a": 1}, [2, 3]))
    question = next(e for e in events if e.name == "question")
    answer = next(a for a in acks if a.direction.value == "c2s")
    assert question.direction.value == "s2c" and question.ack_id is not None
    assert (answer.ack_id, answer.args) == (question.ack_id, ({"yes": True, "q": {"q": "ready?"}},))
    assert isinstance(frames[-1], SioDisconnect) and frames[-1].direction.value == "c2s"
    # python-socketio's client closes its transport right after its DISCONNECT packet: which of
    # the two the server saw first is the recorded reason
    assert frames[-1].reason in ("client disconnect", "transport close")
    assert all(a.t <= b.t for a, b in itertools.pairwise(frames)), "frames in time order"


async def test_connect_error_reaches_the_client_as_the_service_sent_it(tmp_path: Path) -> None:
    async with SioService() as service, RecordingProxy(tmp_path, sio_upstream=service.url) as proxy:
        errors = await refused(proxy.urls["socketio"], {"api_key": "pd_wrong"})
        path, counters = proxy.tape_path, proxy.counters
    assert errors == [{"message": "invalid api_key", "data": {"code": 4401}}]
    _, frames = read_tape(path)
    refusal = next(f for f in frames if isinstance(f, SioConnectError))
    assert refusal.message == "invalid api_key"
    assert refusal.data == {"message": "invalid api_key", "data": {"code": 4401}}
    assert counters["sio.connect_errors"] == 1 and not any(k.startswith("upstream.") for k in counters)


async def test_namespaces_are_relayed_and_recorded_apart(tmp_path: Path) -> None:
    async with SioService() as service, RecordingProxy(tmp_path, sio_upstream=service.url) as proxy:
        sio = client()
        ticks: dict[str, list[int]] = {"/": [], "/admin": []}
        for namespace in ticks:
            sio.on("tick", lambda t: ticks[t["ns"]].append(t["i"]), namespace=namespace)
        await sio.connect(
            proxy.urls["socketio"],
            auth={"api_key": API_KEY},
            namespaces=["/", "/admin"],
            transports=["websocket"],
        )
        await sio.emit("burst", {"n": 3}, namespace="/admin")
        await sio.emit("burst", {"n": 2}, namespace="/")
        await until(lambda: len(ticks["/admin"]) == 3 and len(ticks["/"]) == 2)
        await sio.disconnect()
        path = proxy.tape_path
    assert ticks == {"/": [0, 1], "/admin": [0, 1, 2]}
    _, frames = read_tape(path)
    by_ns = {
        ns: [
            f.args[0]["i"]
            for f in frames
            if isinstance(f, SioEvent) and f.name == "tick" and f.namespace == ns
        ]
        for ns in ticks
    }
    assert by_ns == ticks
    connects = [f for f in frames if isinstance(f, SioConnect)]
    assert sorted(c.namespace for c in connects) == ["/", "/admin"]
    assert len({c.conn for c in connects}) == 2, "each namespace connection is its own upstream client"


async def test_disconnect_reasons_pass_as_they_were(tmp_path: Path) -> None:
    async with SioService() as service, RecordingProxy(tmp_path, sio_upstream=service.url) as proxy:
        reasons: dict[str, list[str]] = {}
        for command in ("kick", "drop"):
            sio = client()
            reasons[command] = []
            sio.on("disconnect", reasons[command].append)
            await sio.connect(proxy.urls["socketio"], auth={"api_key": API_KEY}, transports=["websocket"])
            await sio.emit(command)
            await until(lambda c=command: reasons[c])  # type: ignore[misc]
        # the proxy keeps serving: a third client still gets its answers
        sio = client()
        await sio.connect(proxy.urls["socketio"], auth={"api_key": API_KEY}, transports=["websocket"])
        assert await sio.call("echo", "still here", timeout=5) == "still here"
        await sio.disconnect()
        path, failures = proxy.tape_path, proxy.failures
        report = proxy.report()
    assert reasons == {"kick": ["server disconnect"], "drop": ["server disconnect"]}
    _, frames = read_tape(path)
    disconnects = [(f.conn, f.direction.value, f.reason) for f in frames if isinstance(f, SioDisconnect)]
    assert disconnects[:2] == [("sio-1", "s2c", "server disconnect"), ("sio-2", "s2c", "transport error")]
    assert disconnects[2][:2] == ("sio-3", "c2s")
    assert [(f.kind.value, f.protocol, f.conn) for f in failures.kept] == [("dropped", "sio", "sio-2")]
    assert "1 upstream failure (dropped 1)" in report and "upstream transport error" in report


def relay_pumps() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if "Link._pump_" in t.get_coro().__qualname__]  # type: ignore[union-attr]


async def test_no_relay_task_outlives_its_socket(tmp_path: Path) -> None:
    """A long-running proxy keeps nothing of a socket that ended, however it ended: the client
    left, the service disconnected it, or the service's transport dropped."""
    async with SioService() as service, RecordingProxy(tmp_path, sio_upstream=service.url) as proxy:
        for command in ("leave", "kick", "drop"):
            sio = client()
            await sio.connect(proxy.urls["socketio"], auth={"api_key": API_KEY}, transports=["websocket"])
            assert await sio.call("echo", command, timeout=5) == command
            assert len(relay_pumps()) == 2, "one pump each way while the socket lives"
            if command == "leave":
                await sio.disconnect()
            else:
                await sio.emit(command)
            await until(lambda: not relay_pumps() and not proxy.sio.links)
            await sio.disconnect()


@pytest.mark.parametrize("kind", ["refused", "tls"])
async def test_unreachable_upstream_is_a_connect_error_saying_so(tmp_path: Path, kind: str) -> None:
    async with SioService() as service:
        # nothing listening; a TLS client against a plain server
        upstream = (
            f"http://127.0.0.1:{free_port()}" if kind == "refused" else service.url.replace("http:", "https:")
        )
        async with RecordingProxy(tmp_path, sio_upstream=upstream) as proxy:
            errors = await refused(proxy.urls["socketio"], {"api_key": API_KEY})
            path, counters, note = proxy.tape_path, proxy.counters, proxy.progress_note()
    assert len(errors) == 1 and f": {kind}: " in errors[0]["message"]
    _, frames = read_tape(path)
    assert isinstance(frames[-1], SioConnectError) and f": {kind}: " in frames[-1].message
    assert counters[f"upstream.{kind}"] == 1
    assert note.endswith(f"1 upstream failure ({kind} 1)"), "on the live line too"


async def test_binary_arguments_are_relayed_as_binary(tmp_path: Path) -> None:
    async with SioService() as service, RecordingProxy(tmp_path, sio_upstream=service.url) as proxy:
        sio = client()
        await sio.connect(proxy.urls["socketio"], auth={"api_key": API_KEY}, transports=["websocket"])
        answer = await sio.call("echo", b"\x00\xffbin", timeout=5)
        await sio.disconnect()
        path = proxy.tape_path
    assert answer == b"\x00\xffbin"
    _, frames = read_tape(path)
    echo = next(f for f in frames if isinstance(f, SioEvent) and f.name == "echo")
    assert echo.args == ({"_binary_b64": "AP9iaW4="},)


async def test_an_upstream_answering_5xx_to_the_handshake_is_reported_as_such(tmp_path: Path) -> None:
    from aiohttp import web

    async def unavailable(request: web.Request) -> web.Response:
        return web.Response(status=503, text="maintenance")

    app = web.Application()
    app.router.add_get("/socket.io/", unavailable)
    runner, port = await serve(app)
    try:
        async with RecordingProxy(tmp_path, sio_upstream=f"http://127.0.0.1:{port}") as proxy:
            errors = await refused(proxy.urls["socketio"], {"api_key": API_KEY})
            counters = proxy.counters
    finally:
        await runner.cleanup()
    assert len(errors) == 1 and ": 5xx: " in errors[0]["message"] and "503" in errors[0]["message"]
    assert counters["upstream.5xx"] == 1


async def test_a_javascript_client_records_through_the_proxy(tmp_path: Path) -> None:
    """socket.io-client from npm (the PumpData subscribe_ohlcv page's JavaScript tab) through the proxy to the
    PumpData emulation: acks where it asked for them, ``subscription_error`` where it did not."""
    from tests.server.test_pumpdata import DEMO, trade_pools
    from tests.server.test_pumpdata_js import JsClient

    async with (
        MockServer([DEMO], manual=True, port=0) as upstream,
        RecordingProxy(tmp_path, sio_upstream=upstream.urls["socketio"]) as proxy,
    ):
        pool = trade_pools(upstream)[0]
        js = await JsClient.start(proxy.urls["socketio"], pool)
        first = await js.line()
        await upstream.advance(60)
        sent = upstream.state()["apis"]["pumpdata"]["counters"]["events_sent"]
        await js.saw(sent)  # every event the service sent its one client, the proxy
        done = await js.done()
        path = proxy.tape_path
    assert first["ack"] == {"ok": True, "pool": pool, "room": f"ohlcv:{pool}"}
    _, frames = read_tape(path)
    assert done["trade"] == sum(isinstance(f, SioEvent) and f.name == "trade" for f in frames) > 0
    assert done["subscription_error"] == [{"error": "invalid_request", "message": "mint or pool is required"}]
    _, frames = read_tape(path)
    emits = [
        (f.name, f.ack_id is not None)
        for f in frames
        if isinstance(f, SioEvent) and f.direction.value == "c2s"
    ]
    assert emits == [
        ("subscribe_ohlcv", True),
        ("subscribe_trades", True),
        ("subscribe_trades", False),
        ("ohlcv_history", True),
    ]
    connect = next(f for f in frames if isinstance(f, SioConnect))
    assert connect.auth["api_key"].startswith("REDACTED-")


async def test_a_client_packet_that_cannot_be_decoded_closes_only_that_client(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import json

    import websockets

    packets = ["9", "", "42[", '42{"a":1}', "42[]"]  # Engine.IO type, empty, JSON, not a list, no name
    async with SioService() as service, RecordingProxy(tmp_path, sio_upstream=service.url) as proxy:
        steady = client()
        await steady.connect(proxy.urls["socketio"], auth={"api_key": API_KEY}, transports=["websocket"])
        raw = proxy.urls["socketio"].replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        for packet in packets:
            async with websockets.connect(raw) as ws:
                await ws.recv()  # Engine.IO open
                await ws.send("40" + json.dumps({"api_key": API_KEY}))
                assert (await asyncio.wait_for(ws.recv(), 5)).startswith("40{")
                await ws.send(packet)
                assert await asyncio.wait_for(ws.recv(), 5) == "1", repr(packet)  # Engine.IO close
        assert await steady.call("echo", "still here", timeout=5) == "still here"
        await steady.disconnect()
        counters = dict(proxy.counters)
        path = proxy.tape_path
    assert counters["sio.malformed_packets"] == len(packets)
    assert not [r for r in caplog.records if r.exc_info], "no traceback logged"
    _, frames = read_tape(path)
    closed = [f for f in frames if isinstance(f, SioDisconnect)]
    assert len(closed) == len(packets) + 1, "every refused client's end is on the tape"
