"""The recording proxy's REST relay with a real HTTP client (requests) against a MockServer: the
answer comes back unchanged, the exchange is recorded with its latency, and every kind of upstream
failure reaches the client as what it was, is recorded and reported, while the proxy keeps
serving."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web

from harness.core.faults import parse_fault
from harness.core.frames import HttpExchange
from harness.recorder.proxy import RecordingProxy
from harness.server.app import MockServer
from harness.server.config import PumpfunConfig
from harness.store import read_tape
from tests.credentials import BEARER, COOKIE, QUERY_KEY
from tests.recorder.upstreams import dying_http, free_port, serve
from tests.server import pumpfun_tape


def get(url: str, **kwargs: Any) -> Any:
    return asyncio.to_thread(requests.request, kwargs.pop("method", "GET"), url, timeout=10, **kwargs)


async def test_answers_pass_unchanged_and_exchanges_are_recorded(tmp_path: Path) -> None:
    tape = pumpfun_tape.write(tmp_path / "upstream.jsonl")
    config = PumpfunConfig(require_auth=True)
    auth = {"Authorization": f"Bearer {BEARER}", "Cookie": f"session={COOKIE}"}
    async with (
        MockServer([tape], manual=True, port=0, pumpfun=config) as upstream,
        RecordingProxy(tmp_path / "rec", rest_upstream=upstream.urls["rest"]) as proxy,
    ):
        base = proxy.urls["rest"]
        direct = await get(upstream.urls["rest"] + "/coins/latest", headers=auth)
        first = await get(base + f"/coins/latest?api_key={QUERY_KEY}", headers=auth)
        again = await get(base + "/coins/latest", headers={**auth, "If-None-Match": first.headers["ETag"]})
        unauthorized = await get(base + "/coins/latest")
        post = await get(base + "/coins/latest", method="POST", headers=auth, data=b'{"x":1}')
        trades = await get(base + "/trades/all/" + pumpfun_tape.MINT + "?limit=2&offset=1", headers=auth)
        path = proxy.tape_path
    assert first.status_code == 200 and first.content == direct.content
    for name in ("ETag", "Content-Type", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
        assert first.headers[name], name
    assert again.status_code == 304 and again.content == b""
    assert unauthorized.status_code == 401 and unauthorized.headers["WWW-Authenticate"] == "Bearer"
    assert post.status_code == 405 and "GET" in post.headers["Allow"]
    assert trades.status_code == 200 and isinstance(trades.json(), list)
    _, frames = read_tape(path)
    exchanges = [f for f in frames if isinstance(f, HttpExchange)]
    assert [(e.request.method, e.response.status) for e in exchanges] == [
        ("GET", 200),
        ("GET", 304),
        ("GET", 401),
        ("POST", 405),
        ("GET", 200),
    ]
    assert exchanges[0].request.url == "/coins/latest?api_key=" + exchanges[0].request.url.split("=")[1]
    assert exchanges[0].request.header("Authorization").startswith("Bearer REDACTED-")
    assert exchanges[0].response.body == first.content and exchanges[0].latency > 0
    assert exchanges[0].response.header("ETag") == first.headers["ETag"]
    assert exchanges[3].request.body == b'{"x":1}'
    assert exchanges[4].request.url.endswith("?limit=2&offset=1")


async def _gzip_app(request: web.Request) -> web.Response:
    body = json.dumps({"compressed": True, "n": list(range(50))}).encode()
    return web.Response(
        body=gzip.compress(body), headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
    )


async def test_a_compressed_answer_passes_compressed_and_is_recorded_decoded(tmp_path: Path) -> None:
    app = web.Application()
    app.router.add_get("/gz", _gzip_app)
    runner, port = await serve(app)
    try:
        async with RecordingProxy(tmp_path, rest_upstream=f"http://127.0.0.1:{port}") as proxy:
            answer = await get(proxy.urls["rest"] + "/gz", headers={"Accept-Encoding": "gzip"})
            path = proxy.tape_path
    finally:
        await runner.cleanup()
    assert answer.headers["Content-Encoding"] == "gzip" and answer.json()["compressed"] is True
    (exchange,) = read_tape(path)[1]
    assert isinstance(exchange, HttpExchange)
    assert json.loads(exchange.response.body)["compressed"] is True
    assert exchange.response.header("Content-Encoding") == "gzip"


async def test_upstream_failures_reach_the_client_as_what_they_were(tmp_path: Path) -> None:
    tape = pumpfun_tape.write(tmp_path / "upstream.jsonl")
    faults = tuple(
        parse_fault(f) for f in ("/trades/latest:status=503", "/coins/reset:reset", "/slow:latency=2s")
    )
    async with MockServer([tape], manual=True, port=0, faults=faults) as upstream:
        # 5xx, a connection reset before any answer, an answer too slow, then a healthy answer
        async with RecordingProxy(
            tmp_path / "live", rest_upstream=upstream.urls["rest"], timeout=0.5
        ) as proxy:
            base = proxy.urls["rest"]
            unavailable = await get(base + "/trades/latest")
            with pytest.raises(requests.ConnectionError):
                await get(base + "/coins/reset")
            slow = await get(base + "/slow")
            healthy = await get(base + "/coins/latest")
            live_path, live = proxy.tape_path, proxy.report()
        # nothing listens; not TLS at all
        async with RecordingProxy(
            tmp_path / "dead", rest_upstream=f"http://127.0.0.1:{free_port()}"
        ) as proxy:
            refused = await get(proxy.urls["rest"] + "/coins/latest")
            dead_path = proxy.tape_path
        tls_upstream = upstream.urls["rest"].replace("http://", "https://")
        async with RecordingProxy(tmp_path / "tls", rest_upstream=tls_upstream) as proxy:
            tls = await get(proxy.urls["rest"] + "/coins/latest")
    # an answer cut off in the middle of its body
    async with dying_http() as dying, RecordingProxy(tmp_path / "cut", rest_upstream=dying) as proxy:
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            await get(proxy.urls["rest"] + "/coins/latest")
        cut_path = proxy.tape_path

    assert unavailable.status_code == 503 and unavailable.json()["statusCode"] == 503
    assert "X-Harness-Upstream-Error" not in unavailable.headers, "the service's own 5xx, untouched"
    assert slow.status_code == 504 and slow.headers["X-Harness-Upstream-Error"] == "timeout"
    assert healthy.status_code == 200, "the proxy keeps serving"
    assert refused.status_code == 502 and refused.headers["X-Harness-Upstream-Error"] == "refused"
    assert "refused" in refused.text
    assert tls.status_code == 502 and tls.headers["X-Harness-Upstream-Error"] == "tls"

    _, frames = read_tape(live_path)
    recorded = [
        (f.request.url, f.response.status, f.response.header("X-Harness-Upstream-Error")) for f in frames
    ]
    assert recorded == [
        ("/trades/latest", 503, None),
        ("/coins/reset", 502, "dropped before answering"),
        ("/slow", 504, "timeout"),
        ("/coins/latest", 200, None),
    ]
    assert "3 upstream failures" in live and "5xx 1" in live and "dropped 1" in live and "timeout 1" in live
    (refusal,) = read_tape(dead_path)[1]
    assert isinstance(refusal, HttpExchange) and refusal.response.status == 502
    (cut,) = read_tape(cut_path)[1]
    assert isinstance(cut, HttpExchange) and cut.response.status == 200
    assert cut.response.body == b'{"partial": ' and cut.response.header("ETag") == 'W/"d1"'
    assert cut.response.header("X-Harness-Upstream-Error") == "dropped after 12 body bytes"


async def test_without_a_rest_upstream_rest_paths_say_so(tmp_path: Path) -> None:
    async with RecordingProxy(tmp_path, ws_upstream="ws://127.0.0.1:9/data-stream") as proxy:
        answer = await get(proxy.urls["rest"] + "/coins/latest")
    assert answer.status_code == 502 and "no REST upstream" in answer.text


def test_a_proxy_needs_an_upstream_and_urls_of_the_right_scheme(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one upstream"):
        RecordingProxy(tmp_path)
    with pytest.raises(ValueError, match="ws_upstream must start with ws:// or wss://"):
        RecordingProxy(tmp_path, ws_upstream="http://x")
    with pytest.raises(RuntimeError, match="not started"):
        RecordingProxy(tmp_path, rest_upstream="http://x").tape_path  # noqa: B018


async def test_control_requests_are_answered_by_the_proxy_and_never_recorded(tmp_path: Path) -> None:
    tape = pumpfun_tape.write(tmp_path / "upstream.jsonl")
    async with (
        MockServer([tape], manual=True, port=0) as upstream,
        RecordingProxy(tmp_path / "rec", rest_upstream=upstream.urls["rest"]) as proxy,
    ):
        base = proxy.urls["rest"]
        assert (await get(base + "/coins/latest")).status_code == 200
        state = await get(base + "/_harness/state")
        advance = await get(base + "/_harness/advance?seconds=1", method="POST")
        bare = await get(base + "/_harness")
        path = proxy.tape_path
        upstream_requests = upstream.state()["apis"]["pumpfun"]["requests"]
    assert state.status_code == 200
    assert state.json()["recording"] == str(path) and state.json()["counters"]["http.exchanges"] == 1
    assert advance.status_code == 404 and "no replay clock" in advance.json()["error"]
    assert bare.status_code == 404
    _, frames = read_tape(path)
    assert [f.request.url for f in frames if isinstance(f, HttpExchange)] == ["/coins/latest"]
    assert upstream_requests == 1
