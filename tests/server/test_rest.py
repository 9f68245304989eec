"""Pump.fun REST replay, observed by real clients (requests and aiohttp) as seed 000's pollers do.

Every test runs the server with the manual clock: replay time moves only by ``server.advance``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from harness.core.faults import parse_fault
from harness.core.ratelimit import RateLimitConfig
from harness.server.app import MockServer
from harness.server.config import PumpfunConfig
from tests.server.pumpfun_tape import MINT, TRADES


@pytest.fixture
async def server(pumpfun_tape_path: Path) -> AsyncIterator[MockServer]:
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False) as srv:
        yield srv


async def get(url: str, **headers: str) -> requests.Response:
    """A blocking ``requests`` call, as seed 000's pollers make, off the server's event loop."""
    return await asyncio.to_thread(requests.get, url, headers=headers, timeout=5)


async def test_simple_polling_with_deduplication_sees_each_trade_once(server: MockServer) -> None:
    # Seed 000 "Simple polling": GET /trades/all/{mint}?limit=10&offset=0&minimumSize=0 every 5 s,
    # de-duplicated by signature.
    url = f"{server.urls['rest']}/trades/all/{MINT}"
    seen: list[str] = []
    for _ in range(7):
        response = await asyncio.to_thread(
            requests.get, url, params={"limit": 10, "offset": 0, "minimumSize": 0}, timeout=5
        )
        assert response.status_code == 200
        trades = response.json()
        assert isinstance(trades, list)
        seen += [t["signature"] for t in reversed(trades) if t["signature"] not in seen]
        await server.advance(5)
    assert seen == [t["signature"] for t in TRADES[: len(seen)]]
    assert len(seen) == 12, "by t=30 every recorded trade has happened"


async def test_trades_all_answers_unrecorded_limits_offsets_and_minimum_size(server: MockServer) -> None:
    await server.advance(30)
    url = f"{server.urls['rest']}/trades/all/{MINT}"
    newest = (await get(f"{url}?limit=3&offset=2")).json()
    assert [t["tx_index"] for t in newest] == [9, 8, 7], "newest first, paged"
    big = (await get(f"{url}?limit=100&minimumSize=80000000")).json()
    assert [t["sol_amount"] for t in big] == [120_000_000, 110_000_000, 100_000_000, 90_000_000, 80_000_000]
    assert (await get(f"{url}?limit=0")).json() == []


async def test_trades_all_only_shows_what_had_happened_at_replay_time(server: MockServer) -> None:
    url = f"{server.urls['rest']}/trades/all/{MINT}?limit=50"
    assert [t["tx_index"] for t in (await get(url)).json()] == [0]
    await server.advance(7.5)
    assert [t["tx_index"] for t in (await get(url)).json()] == [3, 2, 1, 0]


async def test_etag_polling_gets_304_until_the_data_changes(server: MockServer) -> None:
    # Seed 000 "Smart polling with ETag caching".
    url = f"{server.urls['rest']}/coins/latest"
    first = await get(url)
    assert first.status_code == 200 and first.headers["ETag"] == 'W/"c1"'
    etag = first.headers["ETag"]
    statuses = []
    for _ in range(5):  # t = 2, 4, 6, 8, 10
        await server.advance(2)
        response = await get(url, **{"If-None-Match": etag})
        statuses.append(response.status_code)
        if response.status_code == 200:
            assert response.json()["name"] == "second"
            etag = response.headers["ETag"]
        else:
            assert response.content == b""
            assert response.headers["ETag"] == etag
    assert statuses == [304, 304, 304, 304, 200]
    assert etag == 'W/"c2"'


async def test_if_none_match_follows_rfc_9110(server: MockServer) -> None:
    url = f"{server.urls['rest']}/coins/latest"
    assert (await get(url, **{"If-None-Match": '"c1"'})).status_code == 304, "weak comparison"
    assert (await get(url, **{"If-None-Match": '"x", W/"c1"'})).status_code == 304, "a list"
    assert (await get(url, **{"If-None-Match": "*"})).status_code == 304
    assert (await get(url, **{"If-None-Match": 'W/"c2"'})).status_code == 200


async def test_computed_etag_when_the_tape_has_none(server: MockServer) -> None:
    url = f"{server.urls['rest']}/coins/{MINT}"
    first = await get(url)
    assert first.headers["ETag"].startswith('W/"')
    assert (await get(url, **{"If-None-Match": first.headers["ETag"]})).status_code == 304


async def test_adaptive_polling_sees_activity_exactly_when_it_happened(server: MockServer) -> None:
    # Seed 000 "Adaptive polling": data != last_data means activity.
    url = f"{server.urls['rest']}/coins/latest"
    last, changes = None, []
    for step in range(25):
        data = (await get(url)).json()
        if data != last:
            changes.append(step)
        last = data
        await server.advance(1)
    assert changes == [0, 10, 20]


async def test_several_endpoints_at_once_from_threads(server: MockServer) -> None:
    # Seed 000 "Multi-endpoint monitoring": one thread per endpoint.
    base = server.urls["rest"]
    paths = ["/trades/latest", "/coins/latest", f"/coins/{MINT}", "/sol-price"]
    responses = await asyncio.gather(*(get(base + p) for p in paths * 3))
    assert all(r.status_code == 200 for r in responses)
    assert responses[3].json() == {"solPrice": 244.2}
    assert isinstance(responses[0].json(), dict), "/trades/latest is one object, not a list"
    remaining = sorted(int(r.headers["x-ratelimit-remaining"]) for r in responses)
    assert remaining == list(range(remaining[0], remaining[0] + 12)), "one budget, spent once each"


async def test_rate_limit_headers_fall_then_429_then_recovery(pumpfun_tape_path: Path) -> None:
    config = PumpfunConfig(rate_limit=RateLimitConfig(limit=3, window=10))
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False, pumpfun=config) as server:
        url = f"{server.urls['rest']}/sol-price"
        answers = [await get(url) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert [r.headers["x-ratelimit-remaining"] for r in answers] == ["2", "1", "0", "0"]
        assert all(r.headers["x-ratelimit-limit"] == "3" for r in answers)
        limited = answers[-1]
        assert limited.headers["Retry-After"] == "10"
        assert limited.json()["statusCode"] == 429
        etag = answers[0].headers["ETag"]
        await server.advance(10)
        not_modified = await get(url, **{"If-None-Match": etag})
        assert not_modified.status_code == 304
        assert not_modified.headers["x-ratelimit-remaining"] == "2", "304s carry the headers too"


async def test_client_honouring_retry_after_never_sees_two_429s_in_a_row(pumpfun_tape_path: Path) -> None:
    # Seed 000 "Implement exponential backoff": on 429 wait Retry-After (here: advance the clock).
    config = PumpfunConfig(rate_limit=RateLimitConfig(limit=4, window=5))
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False, pumpfun=config) as server:
        url = f"{server.urls['rest']}/trades/latest"
        statuses = []
        for _ in range(40):
            response = await get(url)
            statuses.append(response.status_code)
            if response.status_code == 429:
                await server.advance(float(response.headers["Retry-After"]))
            else:
                await server.advance(0.25)
        assert 429 in statuses, "the budget was exhausted at least once"
        assert all(not (a == b == 429) for a, b in itertools.pairwise(statuses))


async def test_budgets_are_per_bearer_token(pumpfun_tape_path: Path) -> None:
    config = PumpfunConfig(rate_limit=RateLimitConfig(limit=1, window=60))
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False, pumpfun=config) as server:
        url = f"{server.urls['rest']}/sol-price"
        assert (await get(url, Authorization="Bearer a")).status_code == 200
        assert (await get(url, Authorization="Bearer b")).status_code == 200
        assert (await get(url, Authorization="Bearer a")).status_code == 429
        assert (await get(url)).status_code == 200, "no token: budget of the address"


async def test_epoch_reset_unit(pumpfun_tape_path: Path) -> None:
    from harness.core.ratelimit import ResetUnit

    config = PumpfunConfig(rate_limit=RateLimitConfig(limit=5, window=60, reset_unit=ResetUnit.EPOCH))
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False, pumpfun=config) as server:
        reset = int((await get(f"{server.urls['rest']}/sol-price")).headers["x-ratelimit-reset"])
        assert reset == 1795392060, "tape created 2026-11-23T00:00:00Z + 60 s window"


async def test_require_auth(pumpfun_tape_path: Path) -> None:
    config = PumpfunConfig(require_auth=True)
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False, pumpfun=config) as server:
        url = f"{server.urls['rest']}/sol-price"
        denied = await get(url)
        assert denied.status_code == 401 and denied.headers["WWW-Authenticate"] == "Bearer"
        assert "Bearer" in denied.json()["message"]
        assert (await get(url, Authorization="Bearer t")).status_code == 200


async def test_unknown_path_names_the_closest_recorded(server: MockServer) -> None:
    response = await get(f"{server.urls['rest']}/coins/latst")
    assert response.status_code == 404
    body = response.json()
    assert body["closest"][0] == "/coins/latest"
    assert "/coins/latest" in body["message"]
    unknown_mint = await get(f"{server.urls['rest']}/trades/all/NoSuchMint111")
    assert unknown_mint.status_code == 404


async def test_wrong_method_is_405_with_allow(server: MockServer) -> None:
    response = await asyncio.to_thread(requests.post, f"{server.urls['rest']}/coins/latest", timeout=5)
    assert response.status_code == 405 and response.headers["Allow"] == "GET"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("minimumSize=abc", "minimumSize"),
        ("limit=1.5", "limit"),
    ],
)
async def test_malformed_query_values_are_400(server: MockServer, query: str, parameter: str) -> None:
    response = await get(f"{server.urls['rest']}/trades/all/{MINT}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400 and body["parameter"] == parameter
    assert parameter in body["message"]
    assert "x-ratelimit-remaining" in response.headers


async def test_head_has_headers_and_no_body(server: MockServer) -> None:
    response = await asyncio.to_thread(requests.head, f"{server.urls['rest']}/coins/latest", timeout=5)
    assert response.status_code == 200 and response.content == b"" and response.headers["ETag"] == 'W/"c1"'


async def test_seeded_faults(pumpfun_tape_path: Path) -> None:
    faults = (parse_fault("/sol-price:status=503"), parse_fault("/coins/*:reset"))
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False, faults=faults) as server:
        failed = await get(f"{server.urls['rest']}/sol-price")
        assert failed.status_code == 503 and failed.json()["statusCode"] == 503
        with pytest.raises(requests.ConnectionError):
            await get(f"{server.urls['rest']}/coins/latest")
        assert (await get(f"{server.urls['rest']}/trades/latest")).status_code == 200, "others unaffected"
        assert server.state()["counters"] == {"faults.status": 1, "faults.reset": 1}


async def test_faults_with_probability_are_reproducible_from_the_seed(pumpfun_tape_path: Path) -> None:
    async def run(seed: int) -> list[int]:
        faults = (parse_fault("*:status=500,p=0.5"),)
        async with MockServer(
            [pumpfun_tape_path], manual=True, port=0, validate=False, faults=faults, seed=seed
        ) as server:
            return [(await get(f"{server.urls['rest']}/sol-price")).status_code for _ in range(12)]

    first = await run(1)
    assert first == await run(1)
    assert set(first) == {200, 500}


async def test_aiohttp_client_etag_poller(server: MockServer) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{server.urls['rest']}/coins/latest"
        async with session.get(url) as response:
            assert response.status == 200
            etag = response.headers["ETag"]
            data: Any = await response.json()
        assert data["name"] == "first"
        await server.advance(20)
        async with session.get(url, headers={"If-None-Match": etag}) as response:
            assert response.status == 200
            assert (await response.json())["name"] == "third"


async def test_reset_restores_clock_and_budgets(server: MockServer) -> None:
    await get(f"{server.urls['rest']}/sol-price")
    await server.advance(25)
    await server.reset()
    assert server.now() == 0
    assert (await get(f"{server.urls['rest']}/coins/latest")).json()["name"] == "first"
    assert server.state()["apis"]["pumpfun"]["rate_limit"]["clients"] == {"addr:127.0.0.1": 1}


async def test_served_and_client_violations_are_collected(tmp_path: Path) -> None:
    from harness.core.frames import HttpExchange, HttpRequest, HttpResponse
    from harness.store import dump_tape
    from tests.helpers import header

    bad_coin = (
        b'{"mint": "CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump", "name": "x", "created_timestamp": 1779812627}'
    )
    frames = [HttpExchange(0, "h", HttpRequest("GET", "/coins/latest"), HttpResponse(200, (), bad_coin))]
    tape = dump_tape(tmp_path / "bad.jsonl", header(), frames)
    async with MockServer([tape], manual=True, port=0) as server:
        await get(f"{server.urls['rest']}/coins/latest")
        await get(f"{server.urls['rest']}/coins/latest")
        found = {(v.source, v.family, v.pointer, v.rule) for v in server.violations}
        assert found == {
            ("server", "coin", "/response/body/symbol", "required"),
            ("server", "coin", "/response/body/created_timestamp", "minimum"),
        }
        assert len(server.violations) == 2, "a body is checked once, however often it is served"
        server.clear_violations()
        await get(f"{server.urls['rest']}/coins/latest?foo=1")
        assert server.violations == []
        await get(f"{server.urls['rest']}/trades/all/CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump?limit=ten")
        (violation,) = server.violations
        assert (violation.source, violation.family, violation.pointer, violation.rule) == (
            "client",
            "query.trades_all",
            "/request/query/limit",
            "pattern",
        )
