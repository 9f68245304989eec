"""REST replay throughput: requests/s for 200 and 304 answers against a bare aiohttp handler.

The server runs in a child process (one core), the load generator here (the other core): a few
keep-alive connections with pipelined requests, cheap enough that the server is the bottleneck.
The bare handler returns the same body and ETag, and compares ``If-None-Match`` by string
equality, so the difference is what the emulation costs (timeline lookup, budgets, headers,
RFC 9110 matching, validation). Both run at once and are measured in alternating short rounds.
Requests/s is each server's best round; requests per server CPU-second (all rounds, from
``/proc``) is what the target is checked on, as the operating system's share of a loaded machine
given to each server does not move it.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

from bench.common import MOCK_SERVER, Result, child_process, cpu_seconds, rate
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


async def _load(port: int, seconds: float, headers: dict[str, str], expect: int) -> float:
    """Requests/s over ``CONNECTIONS`` keep-alive connections, each with ``PIPELINE`` requests in
    flight (HTTP/1.1 pipelining): the load generator counts status lines in the byte stream, so
    it costs far less per request than the server it measures."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"GET /coins/latest HTTP/1.1\r\nHost: bench\r\n{lines}\r\n".encode()
    status = b"HTTP/1.1 %d " % expect
    deadline = time.perf_counter() + seconds

    async def connection() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        first = await reader.readuntil(b"\r\n")
        if not first.startswith(status):
            raise RuntimeError(f"expected {status!r}, got {first!r}")
        done, tail = 0, b""
        while time.perf_counter() < deadline:
            writer.write(request * PIPELINE)
            seen = 0
            while seen < PIPELINE:
                chunk = await reader.read(1 << 16)
                if not chunk:
                    raise RuntimeError("the server closed the connection")
                data = tail + chunk
                seen += data.count(b"HTTP/1.1 ")
                # a status line split between reads (8 < len("HTTP/1.1 "): never counted twice)
                tail = data[-8:]
            done += seen
        writer.close()
        return done

    start = time.perf_counter()
    done = await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return rate(sum(done), time.perf_counter() - start)


def _per_cpu_second(rounds: list[tuple[float, float | None]]) -> float | None:
    """Requests answered per second of the server's own CPU time over every round: what one core
    would answer, whatever share of it the operating system gave the server meanwhile."""
    cpu = [seconds for _, seconds in rounds]
    if any(seconds is None for seconds in cpu) or not sum(s for s in cpu if s is not None):
        return None
    return sum(count for count, _ in rounds) / sum(s for s in cpu if s is not None)


CONNECTIONS = 4
PIPELINE = 16
ROUNDS = 5


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
        options = json.dumps({"manual": True})
        with (
            child_process(MOCK_SERVER, str(tape), options) as mock,
            child_process(_BARE, BODY.decode(), ETAG) as bare,
        ):
            servers = {"mock": mock, "bare": bare}
            rates: dict[tuple[str, str], list[float]] = {}
            work: dict[tuple[str, str], list[tuple[float, float | None]]] = {}
            # Short rounds, alternating the two servers: a load spike on a shared machine then
            # costs one round of one side, not the comparison.
            for _ in range(ROUNDS):
                for status, headers in (("200", {}), ("304", {"If-None-Match": ETAG})):
                    for name, (port, pid) in servers.items():
                        before, started = cpu_seconds(pid), time.perf_counter()
                        measured = asyncio.run(_load(port, seconds / ROUNDS, headers, int(status)))
                        count = measured * (time.perf_counter() - started)
                        after = cpu_seconds(pid)
                        cpu = None if before is None or after is None else after - before
                        rates.setdefault((name, status), []).append(measured)
                        work.setdefault((name, status), []).append((count, cpu))
    for status in ("200", "304"):
        mock_rate, bare_rate = max(rates["mock", status]), max(rates["bare", status])
        results.append(
            Result(
                f"GET /coins/latest answered {status}", mock_rate, "req/s", bare_rate, "bare aiohttp handler"
            )
        )
        mock_cpu, bare_cpu = _per_cpu_second(work["mock", status]), _per_cpu_second(work["bare", status])
        if mock_cpu is not None and bare_cpu is not None:
            results.append(
                Result(
                    f"GET /coins/latest answered {status}, per server CPU-second",
                    mock_cpu,
                    "req/s",
                    bare_cpu,
                    "bare aiohttp handler",
                    ">= 60% of baseline",
                    mock_cpu >= 0.6 * bare_cpu,
                )
            )
    return results
