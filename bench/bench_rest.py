"""REST replay throughput: requests/s for 200 and 304 answers against a bare aiohttp handler.

The server runs in a child process (one core), the load generator here (the other core): an
aiohttp client with a few concurrent workers on keep-alive connections. The bare handler returns
the same body and ETag, and compares ``If-None-Match`` by string equality, so the difference is
what the emulation costs (timeline lookup, budgets, headers, RFC 9110 matching, validation).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.common import MOCK_SERVER, Result, child_server, rate
from harness.core.frames import HttpExchange, HttpRequest, HttpResponse, Recorded, TapeHeader
from harness.store import dump_tape

BODY = json.dumps(
    {
        "mint": "CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump",
        "name": "bench",
        "symbol": "BNCH",
        "description": "",
        "image_uri": "https://ipfs.io/ipfs/x",
        "creator": "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
        "created_timestamp": 1779812627000,
        "complete": False,
        "virtual_sol_reserves": 30000000000,
        "virtual_token_reserves": 1073000000000000,
        "total_supply": 1000000000000000,
        "market_cap": 27.958993476234856,
        "usd_market_cap": 6827.59,
        "king_of_the_hill_timestamp": None,
        "reply_count": 0,
    }
).encode()
ETAG = 'W/"bench-1"'

_BARE = r"""
import sys
from aiohttp import web
BODY, ETAG = sys.argv[1].encode(), sys.argv[2]

async def handle(request):
    if request.headers.get("If-None-Match") == ETAG:
        return web.Response(status=304, headers={"ETag": ETAG})
    return web.Response(body=BODY, headers={"ETag": ETAG, "Content-Type": "application/json"})

app = web.Application()
app.router.add_get("/coins/latest", handle)

async def on_startup(app):
    pass

runner = web.AppRunner(app, access_log=None)
import asyncio
async def main():
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


async def _load(port: int, seconds: float, headers: dict[str, str], expect: int, workers: int = 8) -> float:
    url = f"http://127.0.0.1:{port}/coins/latest"
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with session.get(url, headers=headers) as response:
                await response.read()
                if response.status != expect:
                    raise RuntimeError(f"expected {expect}, got {response.status}")
            done += 1

    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as session:
        # warm up the connections
        async with session.get(url) as response:
            await response.read()
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(workers)))
        return rate(done, time.perf_counter() - start)


def run(quick: bool) -> list[Result]:
    seconds = 1.0 if quick else 5.0
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tape = Path(tmp) / "rest.jsonl"
        frame = HttpExchange(
            t=0,
            conn="http-1",
            request=HttpRequest("GET", "/coins/latest"),
            # a recorded budget the load never exhausts (the server calibrates from the tape)
            response=HttpResponse(
                200,
                (
                    ("ETag", ETAG),
                    ("Content-Type", "application/json"),
                    ("x-ratelimit-limit", "1000000000"),
                    ("x-ratelimit-reset", "60"),
                ),
                BODY,
            ),
        )
        dump_tape(tape, TapeHeader("2026-01-01T00:00:00Z", "bench", Recorded()), [frame])
        figures: dict[str, dict[str, float]] = {}
        options = json.dumps({"manual": True})
        servers = (("mock", MOCK_SERVER, [str(tape), options]), ("bare", _BARE, [BODY.decode(), ETAG]))
        for name, script, args in servers:
            with child_server(script, *args) as port:
                figures[name] = {
                    "200": asyncio.run(_load(port, seconds, {}, 200)),
                    "304": asyncio.run(_load(port, seconds, {"If-None-Match": ETAG}, 304)),
                }
    for status in ("200", "304"):
        mock, bare = figures["mock"][status], figures["bare"][status]
        results.append(
            Result(
                f"GET /coins/latest answered {status}",
                mock,
                "req/s",
                bare,
                "bare aiohttp handler",
                ">= 60% of baseline",
                mock >= 0.6 * bare,
            )
        )
    return results
