"""Pump.fun REST replay, observed by real clients (requests and aiohttp) as the Pump.fun polling guide's
pollers do.

Every test runs the server with the manual clock: replay time moves only by ``server.advance``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import requests

from harness.core.faults import parse_fault
from harness.core.frames import HttpExchange, HttpRequest, HttpResponse
from harness.core.ratelimit import RateLimitConfig, ResetUnit
from harness.server.app import MockServer
from harness.server.config import PumpfunConfig
from harness.store import dump_tape
from tests.helpers import header
from tests.server.pumpfun_tape import MINT, TRADES, coin, exchange, trade


@pytest.fixture
async def server(pumpfun_tape_path: Path) -> AsyncIterator[MockServer]:
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False) as srv:
        yield srv


async def get(url: str, **headers: str) -> requests.Response:
    """A blocking ``requests`` call, as the Pump.fun polling guide's pollers make, off the server's event
    loop."""
    return await asyncio.to_thread(requests.get, url, headers=headers, timeout=5)


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


async def test_the_budget_is_calibrated_from_the_tapes_recorded_headers(tmp_path: Path) -> None:
    recorded = HttpExchange(
        0.0,
        "h",
        HttpRequest("GET", "/sol-price"),
        HttpResponse(
            200,
            (("x-ratelimit-limit", "3"), ("x-ratelimit-remaining", "2"), ("x-ratelimit-reset", "9.2")),
            b"{}",
        ),
    )
    tape = dump_tape(tmp_path / "calibrated.jsonl", header(), [recorded])
    async with MockServer([tape], manual=True, port=0, validate=False) as server:
        url = f"{server.urls['rest']}/sol-price"
        answers = [await get(url) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert (
            answers[0].headers["x-ratelimit-limit"] == "3" and answers[0].headers["x-ratelimit-reset"] == "10"
        )
        assert answers[3].headers["Retry-After"] == "10", (
            "a 10 s window: the largest recorded reset, rounded up"
        )


async def test_budgets_are_per_bearer_token(pumpfun_tape_path: Path) -> None:
    config = PumpfunConfig(rate_limit=RateLimitConfig(limit=1, window=60))
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False, pumpfun=config) as server:
        url = f"{server.urls['rest']}/sol-price"
        assert (await get(url, Authorization="Bearer a")).status_code == 200
        assert (await get(url, Authorization="Bearer b")).status_code == 200
        assert (await get(url, Authorization="Bearer a")).status_code == 429
        assert (await get(url)).status_code == 200, "no token: budget of the address"


async def test_epoch_reset_unit(pumpfun_tape_path: Path) -> None:
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
        # what Python's int() and float() would take, and no HTTP API means by a number
        ("limit=1_0", "limit"),
        ("limit=%EF%BC%91", "limit"),  # a fullwidth digit one
        ("limit=%207", "limit"),
        ("offset=" + "9" * 101, "offset"),
        ("minimumSize=inf", "minimumSize"),
        ("minimumSize=1e400", "minimumSize"),
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
    assert (
        response.headers["Content-Length"]
        == (await get(f"{server.urls['rest']}/coins/latest")).headers["Content-Length"]
    ), "the length a GET would have"


async def test_if_none_match_on_several_header_lines_is_one_list(server: MockServer) -> None:
    # RFC 9110 5.3: a list header sent as several field lines is their comma-joined value.
    lines = [("If-None-Match", '"other"'), ("If-None-Match", 'W/"c1"')]
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.urls['rest']}/coins/latest", headers=lines) as r,
    ):
        assert r.status == 304


async def test_a_wrong_method_on_the_streams_paths_is_405_not_a_tape_miss(server: MockServer) -> None:
    base = server.urls["rest"]
    data_stream = await asyncio.to_thread(requests.post, f"{base}/data-stream", timeout=5)
    assert data_stream.status_code == 405 and "GET" in data_stream.headers["Allow"]
    socket_io = await asyncio.to_thread(requests.put, f"{base}/socket.io/", timeout=5)
    assert socket_io.status_code == 405 and "POST" in socket_io.headers["Allow"]


async def test_trades_of_the_first_observation_show_before_it(tmp_path: Path) -> None:
    # A tape whose first /trades/all poll came at t = 5: those trades had happened before the
    # recording started, as the earliest representation of any resource shows before it.
    late = [
        exchange(5.0, f"/trades/all/{MINT}?limit=5", TRADES[1::-1]),
        exchange(9.0, f"/trades/all/{MINT}", TRADES[2::-1]),
    ]
    tape = dump_tape(tmp_path / "late.jsonl", header(), late)
    async with MockServer([tape], manual=True, port=0) as server:
        url = f"{server.urls['rest']}/trades/all/{MINT}"
        assert [t["tx_index"] for t in (await get(url)).json()] == [1, 0]
        await server.advance(9)
        assert [t["tx_index"] for t in (await get(url)).json()] == [2, 1, 0]


async def test_a_recorded_query_is_answered_with_its_own_recording(tmp_path: Path) -> None:
    # /coins?offset=0 and /coins?offset=2 are different lists; an unrecorded query gets the path's latest.
    pages = [
        exchange(0.0, "/coins?limit=2&offset=0", [coin("a", 1.0), coin("b", 2.0)]),
        exchange(0.5, "/coins?offset=2&limit=2", [coin("c", 3.0)]),
    ]
    tape = dump_tape(tmp_path / "pages.jsonl", header(), pages)
    async with MockServer([tape], manual=True, port=0, validate=False) as server:
        await server.advance(1)
        base = f"{server.urls['rest']}/coins"
        assert [c["name"] for c in (await get(f"{base}?offset=0&limit=2")).json()] == ["a", "b"]
        assert [c["name"] for c in (await get(f"{base}?limit=2&offset=2")).json()] == ["c"], "in any order"
        assert [c["name"] for c in (await get(f"{base}?offset=4")).json()] == ["c"]


async def test_a_recorded_path_with_percent_escapes_is_found(tmp_path: Path) -> None:
    tape = dump_tape(
        tmp_path / "q.jsonl", header(), [exchange(0.0, "/coins/search/moon%20cat", [coin("a", 1.0)])]
    )
    async with MockServer([tape], manual=True, port=0, validate=False) as server:
        found = await get(f"{server.urls['rest']}/coins/search/moon%20cat")
        assert found.status_code == 200 and found.json()[0]["name"] == "a"


async def test_loop_restarts_the_rest_timeline(pumpfun_tape_path: Path) -> None:
    # The tape's last exchange is at t = 27.5: with --loop the timeline restarts at 28.5.
    async with MockServer([pumpfun_tape_path], manual=True, port=0, loop=True, validate=False) as server:
        url = f"{server.urls['rest']}/coins/latest"
        await server.advance(28)
        assert (await get(url)).json()["name"] == "third"
        await server.advance(0.5)
        assert (await get(url)).json()["name"] == "first", "the second pass begins"
        await server.advance(10)
        assert (await get(url)).json()["name"] == "second"
        trades = (await get(f"{server.urls['rest']}/trades/all/{MINT}")).json()
        assert [t["tx_index"] for t in trades] == [4, 3, 2, 1, 0]


async def test_retry_after_and_reset_are_told_in_the_clients_time(pumpfun_tape_path: Path) -> None:
    # Real time at --speed 4: a 60 s replay window resets in 15 s of the client's clock, so a
    # client waiting Retry-After (or reading x-ratelimit-reset) waits just long enough.
    config = PumpfunConfig(rate_limit=RateLimitConfig(limit=1, window=60))
    async with MockServer([pumpfun_tape_path], speed=4, port=0, validate=False, pumpfun=config) as server:
        url = f"{server.urls['rest']}/sol-price"
        assert (await get(url)).headers["x-ratelimit-reset"] == "15"
        limited = await get(url)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "15" and limited.headers["x-ratelimit-reset"] == "15"
    epoch = PumpfunConfig(rate_limit=RateLimitConfig(limit=1, window=60, reset_unit=ResetUnit.EPOCH))
    async with MockServer([pumpfun_tape_path], speed=4, port=0, validate=False, pumpfun=epoch) as server:
        before = time.time()
        reset = int((await get(f"{server.urls['rest']}/sol-price")).headers["x-ratelimit-reset"])
        assert before + 14 <= reset <= time.time() + 16, "epoch seconds of the host's clock in real time"


async def test_a_flood_of_distinct_tokens_keeps_the_budget_table_bounded(pumpfun_tape_path: Path) -> None:
    config = PumpfunConfig(rate_limit=RateLimitConfig(limit=1, window=60, max_clients=100))
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False, pumpfun=config) as server:
        url = f"{server.urls['rest']}/sol-price"
        async with aiohttp.ClientSession() as http:

            async def spend(token: str) -> int:
                async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
                    return r.status

            assert await spend("first") == 200 and await spend("first") == 429
            for batch in range(10):
                statuses = await asyncio.gather(*(spend(f"t{batch}-{i}") for i in range(200)))
                assert set(statuses) == {200}
            clients = server.state()["apis"]["pumpfun"]["rate_limit"]["clients"]
            assert len(clients) == 100, "2000 tokens, 100 budgets kept"
            assert await spend("first") == 200, "the least recently seen client was forgotten: a fresh window"


async def test_seeded_faults(pumpfun_tape_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    faults = (
        parse_fault("/sol-price:status=503"),
        parse_fault("/coins/*:reset"),
        parse_fault("/trades/latest:latency=50ms"),
    )
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False, faults=faults) as server:
        failed = await get(f"{server.urls['rest']}/sol-price")
        assert failed.status_code == 503 and failed.json()["statusCode"] == 503
        with pytest.raises(requests.ConnectionError):
            await get(f"{server.urls['rest']}/coins/latest")
        started = time.monotonic()
        assert (await get(f"{server.urls['rest']}/trades/latest")).status_code == 200
        assert time.monotonic() - started >= 0.05, "answered, after the added latency"
        assert (await get(f"{server.urls['rest']}/trades/all/{MINT}")).status_code == 200, "others unaffected"
        assert server.state()["counters"] == {"faults.status": 1, "faults.reset": 1, "faults.latency": 1}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a reset fault is no server error"


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


async def test_reset_restores_clock_and_budgets(server: MockServer) -> None:
    await get(f"{server.urls['rest']}/sol-price")
    await server.advance(25)
    await server.reset()
    assert server.now() == 0
    assert (await get(f"{server.urls['rest']}/coins/latest")).json()["name"] == "first"
    assert server.state()["apis"]["pumpfun"]["rate_limit"]["clients"] == {"addr:127.0.0.1": 1}


async def test_a_served_coins_page_is_checked_item_by_item(tmp_path: Path) -> None:
    # contract §1.2: GET /coins answers an array of Coin; a tape whose page breaks the coin
    # schema is served as recorded and the broken item is reported by its index.
    page = [coin("a", 1.0), coin("b", 2.0), coin("c", 3.0), {**coin("d", 4.0), "mint": "0OIl"}]
    tape = dump_tape(tmp_path / "coins.jsonl", header(), [exchange(0.0, "/coins?limit=4&offset=0", page)])
    async with MockServer([tape], manual=True, port=0) as server:
        answer = await get(f"{server.urls['rest']}/coins?limit=4&offset=0")
        assert [c["name"] for c in answer.json()] == ["a", "b", "c", "d"], "served as recorded"
        assert [(v.source, v.api, v.family, v.pointer, v.rule) for v in server.violations] == [
            ("server", "pumpfun", "coin_list", "/response/body/3/mint", "pattern")
        ]


async def test_served_and_client_violations_are_collected(tmp_path: Path) -> None:
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


async def test_no_rate_limit_headers_when_the_tape_shows_none(tmp_path: Path) -> None:
    recorded = HttpExchange(0.0, "h", HttpRequest("GET", "/sol-price"), HttpResponse(200, (), b"{}"))
    tape = dump_tape(tmp_path / "plain.jsonl", header(), [recorded])
    async with MockServer([tape], manual=True, port=0, validate=False) as server:
        answer = await get(f"{server.urls['rest']}/sol-price")
        assert answer.status_code == 200
        assert not [name for name in answer.headers if name.lower().startswith("x-ratelimit")]
        assert "Retry-After" not in answer.headers
    asked = PumpfunConfig(rate_limit=RateLimitConfig(headers=True))
    async with MockServer([tape], manual=True, port=0, validate=False, pumpfun=asked) as server:
        answer = await get(f"{server.urls['rest']}/sol-price")
        assert answer.headers["x-ratelimit-limit"] == "120"  # asked for: the default budget's


async def test_pages_replay_as_recorded_from_the_tapes_start(tmp_path: Path) -> None:
    # a proxy tape: three pages asked within 20 ms, the first at t=0.005 (the replay starts at 0)
    trades = [trade(i, 1779812600 + i, 10_000_000) for i in range(20)]
    newest = trades[::-1]
    url = f"/trades/all/{MINT}"
    frames = [
        exchange(0.005, f"{url}?limit=5&offset=0", newest[:5]),
        exchange(0.015, f"{url}?limit=5&offset=5", newest[5:10]),
        exchange(0.025, f"{url}?limit=20&offset=0", newest),
    ]
    tape = dump_tape(tmp_path / "pages.jsonl", header(), frames)
    async with MockServer([tape], manual=True, port=0, validate=False) as server:
        base = server.urls["rest"] + url
        assert [t["tx_index"] for t in (await get(f"{base}?limit=5&offset=5")).json()] == [14, 13, 12, 11, 10]
        assert len((await get(f"{base}?limit=20")).json()) == 20
        assert (await get(f"{base}?limit=5&offset=0")).json() == newest[:5]


def test_the_demo_tapes_answer_coins_and_trades_count() -> None:
    from harness.store import read_tape
    from tests.helpers import ROOT, threaded_upstream

    _, frames = read_tape(ROOT / "fixtures" / "demo" / "pumpfun.jsonl")
    counted = {f.request.url.split("?")[0] for f in frames if isinstance(f, HttpExchange)} - {"/coins"}
    (count_path,) = [p for p in counted if p.startswith("/trades/count/")]
    shown = [
        json.loads(f.response.body)
        for f in frames
        if isinstance(f, HttpExchange) and f.request.url.startswith("/coins?") and f.response.status == 200
    ]
    listed = [coin for page in shown for coin in page]
    assert any("usd_market_cap" not in c for c in listed) and any("usd_market_cap" in c for c in listed), (
        "coin shapes vary as real captures do"
    )
    with threaded_upstream() as server:  # the demo tapes, as the plugin's default
        base = server.urls["rest"]
        coins = requests.get(f"{base}/coins?offset=0&limit=10", timeout=5)
        assert coins.status_code == 200 and coins.json() and all("mint" in c for c in coins.json())
        count = requests.get(f"{base}{count_path}?minimumSize=0", timeout=5)
        assert count.status_code == 200 and isinstance(count.json(), int) and count.json() > 0
