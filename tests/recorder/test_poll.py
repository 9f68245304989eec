"""``harness record poll`` against a local upstream (the mock server): a redacted, replayable tape."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
from pathlib import Path

import requests

from harness.core.frames import HttpExchange
from harness.server.app import MockServer
from harness.store import read_tape
from tests.credentials import API_KEY, BEARER, COOKIE, QUERY_KEY, QUERY_TOKEN
from tests.helpers import ROOT
from tests.recorder.running import drain, record, start_proxy
from tests.server import pumpfun_tape


async def test_poll_records_200s_then_304s_redacted_and_replayable(tmp_path: Path) -> None:
    upstream_tape = pumpfun_tape.write(tmp_path / "upstream.jsonl")
    out_dir = tmp_path / "recordings"
    async with MockServer([upstream_tape], manual=True, port=0) as upstream:
        base = upstream.urls["rest"]
        code, out, err = await record(
            "poll",
            f"{base}/coins/latest?api_key={QUERY_KEY}",
            f"{base}/sol-price",
            "--interval",
            "0.1",
            "--duration",
            "0.8",
            "--etag",
            "--header",
            f"Authorization: Bearer {BEARER}",
            "--header",
            f"Cookie: session={COOKIE}",
            "--out",
            str(out_dir),
            "--label",
            "pump fun",
            "--gzip",
        )
        assert code == 0, err
        assert upstream.state()["apis"]["pumpfun"]["requests"] >= 6
    (tape,) = out_dir.iterdir()
    assert tape.name.endswith("-pump-fun.jsonl.gz") and str(tape) in out
    raw = gzip.decompress(tape.read_bytes())
    assert BEARER.encode() not in raw, "checked again by the scan of every tape (conftest)"
    header, frames = read_tape(tape)
    assert "header:authorization" in header.redaction and header.recorded.source == "poll"
    assert QUERY_KEY not in json.dumps(dict(header.recorded.upstreams))
    exchanges = [f for f in frames if isinstance(f, HttpExchange)]
    latest = [e for e in exchanges if "/coins/latest" in e.request.url]
    assert [e.response.status for e in latest[:3]] == [200, 304, 304]
    assert latest[1].request.header("If-None-Match") == 'W/"c1"' == latest[0].response.header("ETag")
    assert latest[0].request.header("Authorization").startswith("Bearer REDACTED-")
    assert all(e.latency > 0 for e in exchanges)
    assert latest[0].response.header("x-ratelimit-remaining") is not None

    # the recorded tape replays: the same body and ETag come back
    async with MockServer([tape], manual=True, port=0) as replay:
        response = await asyncio.to_thread(requests.get, replay.urls["rest"] + "/coins/latest", timeout=5)
        assert response.status_code == 200 and response.headers["ETag"] == 'W/"c1"'
        assert response.json()["name"] == "first"


async def test_poll_bad_usage_exit_2(tmp_path: Path) -> None:
    code, _, err = await record("poll", "ftp://x", "--duration", "1")
    assert code == 2 and "not an http(s) URL" in err
    code, _, err = await record("poll", "http://127.0.0.1:9/x", "--duration", "1", "--header", "nocolon")
    assert code == 2 and "--header takes 'NAME: VALUE'" in err
    listen = "127.0.0.1:99999"
    code, _, err = await record("proxy", "--rest-upstream", "http://127.0.0.1:9", "--listen", listen)
    assert (
        code == 2
        and err == f"harness record: error: --listen takes HOST:PORT (port 0-65535), got {listen!r}\n"
    )


async def test_an_unreachable_stream_is_one_line_exit_2(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for mode, url in (("ws", f"ws://127.0.0.1:{port}/data-stream"), ("sio", f"http://127.0.0.1:{port}")):
        code, _, err = await record(mode, url, "--duration", "1", "--out", str(tmp_path))
        assert code == 2
        assert err.startswith(f"harness record: error: {url} refused the connection: ")
        assert err.endswith("; no tape written\n") and err.count("\n") == 1, (
            err
        )  # no "Unclosed client session"
    code, _, err = await record(
        "poll", f"http://127.0.0.1:{port}/coins", "--duration", "0.5", "--out", str(tmp_path)
    )
    assert code == 2
    assert err == (
        f"harness record: error: no answer from http://127.0.0.1:{port}/coins (refused x1); no tape written\n"
    )
    assert (
        await asyncio.to_thread(os.listdir, tmp_path) == []
    )  # nothing was heard, so no tape of nothing is left behind


async def test_a_proxy_that_cannot_listen_leaves_no_tape(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        code, _, err = await record(
            "proxy", "--rest-upstream", "http://127.0.0.1:9", "--listen", listen, "--out", str(tmp_path)
        )
    assert code == 2
    assert err.startswith(f"harness record: error: cannot listen on {listen}: ")
    assert err.endswith("; no tape written\n") and err.count("\n") == 1, err
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


async def test_a_refused_socketio_connect_keeps_the_tape_of_the_refusal(tmp_path: Path) -> None:
    from harness.core.frames import SioConnect, SioConnectError
    from harness.core.pumpdata.config import PumpdataConfig

    demo = ROOT / "fixtures" / "demo" / "pumpdata.jsonl"
    config = PumpdataConfig(require_api_key=True)
    async with MockServer([demo], manual=True, port=0, pumpdata=config) as upstream:
        url = upstream.urls["socketio"]
        code, _, err = await record("sio", url, "--duration", "1", "--out", str(tmp_path))
    (name,) = await asyncio.to_thread(os.listdir, tmp_path)
    tape = tmp_path / name
    assert code == 2
    assert err.startswith(f"harness record: error: {url} refused the connection: ")
    assert err.endswith(f"; what it answered is in {tape}\n")
    _, frames = read_tape(tape)
    assert [type(f) for f in frames] == [SioConnect, SioConnectError]
    assert "api_key" in frames[1].message


async def test_a_refused_websocket_handshake_is_one_line_and_kept_as_the_proxy_keeps_it(
    tmp_path: Path,
) -> None:
    from harness.core.frames import WsClose, WsOpen

    async with MockServer([pumpfun_tape.write(tmp_path / "up.jsonl")], manual=True, port=0) as upstream:
        url = upstream.urls["websocket"].replace("/data-stream", "/data-strem")  # a typo: HTTP 404
        code, _, err = await record("ws", url, "--duration", "1", "--out", str(tmp_path / "out"))
    (name,) = await asyncio.to_thread(os.listdir, tmp_path / "out")
    tape = tmp_path / "out" / name
    assert code == 2
    assert err == (
        f"harness record: error: {url} refused the connection: HTTP 404 Not Found;"
        f" what it answered is in {tape}\n"
    )
    _, frames = read_tape(tape)
    assert [type(f) for f in frames] == [WsOpen, WsClose]
    assert frames[1].reason == "handshake refused: HTTP 404 Not Found", "as the proxy records one"


async def test_ws_records_both_directions_and_replays_the_same_stream(tmp_path: Path) -> None:
    import websockets

    from harness.core.frames import S2C, WsClose, WsText

    demo = ROOT / "fixtures" / "demo" / "corto.jsonl"
    out_dir = tmp_path / "rec"
    async with MockServer([demo], speed="max", port=0) as upstream:
        code, _, err = await record(
            "ws",
            upstream.urls["websocket"] + f"?token={QUERY_TOKEN}",
            "--send",
            '{"type":"subscribe","mode":"trades"}',
            "--duration",
            "2",
            "--out",
            str(out_dir),
        )
        assert code == 0, err
    (tape,) = out_dir.iterdir()
    _, frames = read_tape(tape)
    received = [json.loads(f.data) for f in frames if isinstance(f, WsText) and f.direction is S2C]
    assert received[0]["name"] == "handshake" and received[1]["name"] == "subscription_ack"
    trades = [m for m in received if "txType" in m]
    assert len(trades) > 100 and {m["txType"] for m in trades} == {"buy", "sell"}
    assert isinstance(frames[-1], WsClose)

    # replaying the recorded tape gives a client the same events in the same order
    async with (
        MockServer([tape], manual=True, port=0) as replay,
        websockets.connect(replay.urls["websocket"]) as ws,
    ):
        await ws.recv()
        await ws.send('{"type":"subscribe","mode":"all"}')
        await ws.recv()
        await replay.advance(600)
        again = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in trades]
    assert again == trades


async def test_sio_records_connect_emits_acks_and_events_and_replays(tmp_path: Path) -> None:
    import socketio

    from harness.core.frames import SioAck, SioConnect, SioEvent
    from tests.server.test_pumpdata import trade_pools

    demo = ROOT / "fixtures" / "demo" / "pumpdata.jsonl"
    out_dir = tmp_path / "rec"
    async with MockServer([demo], speed=10, port=0, start="listen") as upstream:
        pool = trade_pools(upstream)[0]
        code, _, err = await record(
            "sio",
            upstream.urls["socketio"],
            "--auth",
            API_KEY,
            "--emit",
            json.dumps({"pool": pool}).join(["subscribe_trades=", ""]),
            "--emit",
            "subscribe_sol_price",
            "--emit",
            "subscribe_ohlcv={}",
            "--duration",
            "3",
            "--out",
            str(out_dir),
        )
        assert code == 0, err
    (tape,) = out_dir.iterdir()
    _, frames = read_tape(tape)
    connect = next(f for f in frames if isinstance(f, SioConnect))
    assert connect.auth["api_key"].startswith("REDACTED-")
    acks = {f.ack_id: f.args[0] for f in frames if isinstance(f, SioAck)}
    assert acks[0] == {"ok": True, "pool": pool, "room": f"trades:{pool}"}
    assert acks[2] == {"error": "invalid_request", "message": "mint or pool is required"}
    trades = [f.args[0] for f in frames if isinstance(f, SioEvent) and f.name == "trade"]
    assert trades and {t["pool"] for t in trades} == {pool}

    # the recorded tape replays: a client subscribing to the same pool gets the same trades
    async with MockServer([tape], manual=True, port=0) as replay:
        client = socketio.AsyncClient()
        got: list[dict[str, object]] = []
        client.on("trade", got.append)
        await client.connect(replay.urls["socketio"], auth={"api_key": "pd_x"}, transports=["websocket"])
        await client.call("subscribe_trades", {"pool": pool})
        await replay.advance(60)
        for _ in range(100):
            if len(got) >= len(trades):
                break
            await asyncio.sleep(0.01)
        await client.disconnect()
    assert got == trades


async def test_proxy_records_rest_and_websocket_and_the_tape_replays(tmp_path: Path) -> None:
    import websockets

    from harness.core.frames import S2C, WsClose, WsText

    upstream_tape = pumpfun_tape.write(tmp_path / "upstream.jsonl")
    demo_corto = ROOT / "fixtures" / "demo" / "corto.jsonl"
    out_dir = tmp_path / "rec"
    async with MockServer([upstream_tape, demo_corto], speed="max", port=0) as upstream:
        proc, urls = await start_proxy(
            tmp_path, "--rest-upstream", upstream.urls["rest"], "--ws-upstream", upstream.urls["websocket"]
        )
        try:
            first = await asyncio.to_thread(
                requests.get,
                urls["rest"] + "/coins/latest",
                headers={"Authorization": f"Bearer {BEARER}"},
                timeout=5,
            )
            assert first.status_code == 200 and first.headers["ETag"] == 'W/"c1"'
            assert "x-ratelimit-remaining" in first.headers
            again = await asyncio.to_thread(
                requests.get, urls["rest"] + "/coins/latest", headers={"If-None-Match": 'W/"c1"'}, timeout=5
            )
            assert again.status_code == 304, "304s pass through unchanged"
            missing = await asyncio.to_thread(requests.get, urls["rest"] + "/nope", timeout=5)
            assert missing.status_code == 404 and missing.json()["statusCode"] == 404
            async with websockets.connect(urls["websocket"] + f"?token={QUERY_TOKEN}") as ws:
                handshake = json.loads(await ws.recv())
                await ws.send('{"type":"subscribe","mode":"trades"}')
                relayed = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(50)]
                reader = asyncio.create_task(drain(ws))  # a client reads on while it closes
            await reader
            assert handshake["name"] == "handshake" and relayed[0]["name"] == "subscription_ack"
        finally:
            proc.send_signal(2)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
    (tape,) = out_dir.iterdir()
    _, frames = read_tape(tape)
    statuses = [f.response.status for f in frames if isinstance(f, HttpExchange)]
    assert statuses == [200, 304, 404]
    texts = [f for f in frames if isinstance(f, WsText)]
    assert [json.loads(f.data).get("name") for f in texts[:1]] == ["handshake"] and texts[
        1
    ].direction.value == "c2s"
    assert any(isinstance(f, WsClose) for f in frames)
    events = [json.loads(f.data) for f in texts if f.direction is S2C and "txType" in f.data]
    assert len(events) >= 48


async def test_validate_reports_provider_drift(tmp_path: Path) -> None:
    from harness.core.frames import HttpExchange, HttpRequest, HttpResponse
    from harness.store import dump_tape
    from tests.helpers import header

    drifted = b'{"solPrice": "244.2"}'  # a string where the contract has a number
    coin = {"mint": pumpfun_tape.MINT, "name": "Cat", "symbol": "CAT"}
    page = json.dumps([coin, coin, coin, {**coin, "mint": "0OIl"}]).encode()  # contract §1.2
    frames = [
        HttpExchange(0, "h", HttpRequest("GET", "/sol-price"), HttpResponse(200, (), drifted)),
        HttpExchange(0, "h", HttpRequest("GET", "/coins"), HttpResponse(200, (), page)),
    ]
    upstream_tape = dump_tape(tmp_path / "drift.jsonl", header(), frames)
    async with MockServer([upstream_tape], manual=True, port=0, validate=False) as upstream:
        code, out, err = await record(
            "poll",
            f"{upstream.urls['rest']}/sol-price",
            f"{upstream.urls['rest']}/coins?limit=4",
            "--interval",
            "0.2",
            "--duration",
            "0.3",
            "--validate",
            "--out",
            str(tmp_path / "rec"),
        )
    assert code == 1, err
    assert "contract drift: " in out and " violations" in out
    assert "pumpfun sol_price /response/body/solPrice type" in out
    assert "pumpfun coin_list /response/body/3/mint pattern" in out
