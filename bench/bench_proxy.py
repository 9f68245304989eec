"""Recording proxy: the latency it adds per REST exchange and per WebSocket message (p50, p99).

A bare aiohttp upstream (a fixed JSON answer with an ETag; a WebSocket echo) and the recording
proxy (recording to a temporary tape: redaction, encoding and a flush per frame included) each run
in a child process. From here, one client at a time measures round trips to the upstream directly
and through the proxy, in alternating batches so both see the same machine load: a REST
``GET /coins/latest`` on a keep-alive connection, and a WebSocket text message echoed back. The
figure is the proxy's round trip minus the direct one at the same percentile; a WebSocket echo
crosses the proxy twice (one message each way), so its difference is halved: the latency added
per message.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable

import aiohttp
import websockets

from bench.bench_rest import BODY, ETAG
from bench.common import Result, child_server, percentile

_UPSTREAM = r"""
import asyncio, sys
from aiohttp import web, WSMsgType
BODY, ETAG = sys.argv[1].encode(), sys.argv[2]

async def rest(request):
    return web.Response(body=BODY, headers={"ETag": ETAG, "Content-Type": "application/json"})

async def echo(request):
    ws = web.WebSocketResponse(compress=False)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
    return ws

async def main():
    app = web.Application()
    app.router.add_get("/coins/latest", rest)
    app.router.add_get("/data-stream", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""

_PROXY = r"""
import asyncio, sys
from harness.recorder.proxy import RecordingProxy

async def main():
    async with RecordingProxy(sys.argv[1], rest_upstream=sys.argv[2], ws_upstream=sys.argv[3]) as proxy:
        print(proxy.port, flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""

MESSAGE = '{"type":"subscribe","events":["buy","sell"],"pools":["pump.fun","pump.swap"]}'


async def _alternate(
    direct: Callable[[], Awaitable[None]],
    proxied: Callable[[], Awaitable[None]],
    samples: int,
    batch: int = 20,
) -> tuple[list[float], list[float]]:
    """Round-trip times (ms) of ``samples`` calls each, in alternating batches."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(5):  # warm up both paths
        await direct()
        await proxied()
    while len(times[1]) < samples:
        for call, out in ((direct, times[0]), (proxied, times[1])):
            for _ in range(batch):
                start = time.perf_counter()
                await call()
                out.append((time.perf_counter() - start) * 1000)
    return times


async def _rest(upstream: int, proxy: int, samples: int) -> tuple[list[float], list[float]]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as http:

        def get(port: int) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                async with http.get(f"http://127.0.0.1:{port}/coins/latest") as response:
                    if len(await response.read()) != len(BODY):
                        raise RuntimeError("the body did not come back whole")

            return call

        return await _alternate(get(upstream), get(proxy), samples)


async def _ws(upstream: int, proxy: int, samples: int) -> tuple[list[float], list[float]]:
    async with (
        websockets.connect(f"ws://127.0.0.1:{upstream}/data-stream", compression=None) as direct,
        websockets.connect(f"ws://127.0.0.1:{proxy}/data-stream", compression=None) as proxied,
    ):

        def echo(ws: websockets.ClientConnection) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                await ws.send(MESSAGE)
                if await ws.recv() != MESSAGE:
                    raise RuntimeError("the echo differs")

            return call

        return await _alternate(echo(direct), echo(proxied), samples)


def _rows(name: str, direct: list[float], proxied: list[float], share: float) -> list[Result]:
    rows = []
    for pct, target in ((50, 1.0), (99, None)):
        added = (percentile(proxied, pct) - percentile(direct, pct)) * share
        rows.append(
            Result(
                f"{name} added p{pct}",
                added,
                "ms",
                percentile(direct, pct) * share,
                f"direct p{pct}" + (" /2" if share != 1 else ""),
                f"< {target:g} ms" if target else "",
                added < target if target else None,
            )
        )
    return rows


def run(quick: bool) -> list[Result]:
    samples = 300 if quick else 3000
    with tempfile.TemporaryDirectory() as tmp, child_server(_UPSTREAM, BODY.decode(), ETAG) as upstream:
        base = f"127.0.0.1:{upstream}"
        with child_server(_PROXY, tmp, f"http://{base}", f"ws://{base}/data-stream") as proxy:
            rest = asyncio.run(_rest(upstream, proxy, samples))
            ws = asyncio.run(_ws(upstream, proxy, samples))
    return _rows("REST exchange", *rest, 1.0) + _rows("WebSocket message (echo RTT/2)", *ws, 0.5)
