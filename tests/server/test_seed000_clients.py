"""The Pump.fun polling guide's client patterns, written as the page writes them, against the replayed
Pump.fun API.

Each pattern runs twice, with ``requests`` (as the seed does) and with ``aiohttp``, on the manual
clock: where the seed sleeps, the test advances replay time, so no test waits. What each asserts is
what the seed promises its reader: new trades exactly when they happen and each once, 304s while
nothing changes, the poll interval following activity, ``x-ratelimit-remaining`` falling, a 429
and then recovery, and no second 429 in a row for a client that honours ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import pytest
import requests

from harness.core.frames import HttpExchange
from harness.core.ratelimit import RateLimitConfig
from harness.resources import DEMO_TAPES
from harness.server.app import MockServer
from harness.server.config import PumpfunConfig
from harness.store import read_tape
from tests.server.pumpfun_tape import MINT, TRADES

# The seed's request headers.
HEADERS = {"Authorization": "Bearer <your_token>", "Accept": "application/json"}
TRADE_TIMES = [2.5 * i for i in range(len(TRADES))]
"""When each trade of the test tape happened (first recorded) in replay time."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    """Case-insensitive, as both clients give them."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client(Protocol):
    async def get(
        self, url: str, headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None
    ) -> Answer: ...


class RequestsClient:
    """``requests.get`` as the seed calls it, in a worker thread (the server runs on this loop)."""

    async def get(
        self, url: str, headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None
    ) -> Answer:
        r = await asyncio.to_thread(requests.get, url, headers=headers, params=params, timeout=5)
        return Answer(r.status_code, r.headers, r.content)


class AiohttpClient:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def get(
        self, url: str, headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None
    ) -> Answer:
        async with self.session.get(url, headers=headers, params=params) as r:
            return Answer(r.status, r.headers.copy(), await r.read())


@pytest.fixture(params=["requests", "aiohttp"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    if request.param == "requests":
        yield RequestsClient()
    else:
        async with aiohttp.ClientSession() as session:
            yield AiohttpClient(session)


@pytest.fixture
async def server(pumpfun_tape_path: Path) -> AsyncIterator[MockServer]:
    async with MockServer([pumpfun_tape_path], manual=True, port=0) as srv:
        yield srv


@pytest.fixture
async def demo() -> AsyncIterator[MockServer]:
    """What ``harness serve`` serves with no tape, on the manual clock."""
    async with MockServer(manual=True, port=0) as srv:
        yield srv


def limited(tape: Path, limit: int, window: float) -> MockServer:
    """The test tape on the manual clock with a small rate-limit budget."""
    config = PumpfunConfig(rate_limit=RateLimitConfig(limit=limit, window=window))
    return MockServer([tape], manual=True, port=0, pumpfun=config)


def recorded(path: str) -> list[tuple[float, Any]]:
    """The demo tape's recorded bodies of ``path``, in time order: the oracle of what a poller
    must see (the last recorded at or before its replay time, the first one before that)."""
    _, frames = read_tape(DEMO_TAPES / "pumpfun.jsonl")
    return [
        (f.t, json.loads(f.response.body))
        for f in frames
        if isinstance(f, HttpExchange) and f.request.url == path and f.response.status == 200
    ]


def shown_at(history: list[tuple[float, Any]], t: float) -> Any:
    shown = [body for when, body in history if when <= t]
    return shown[-1] if shown else history[0][1]


async def test_simple_polling_sees_every_trade_once_when_it_happens(
    server: MockServer, client: Client
) -> None:
    # Seed "Simple polling": /trades/all/{mint} with limit 10, offset 0, minimumSize 0 every
    # 5 s, de-duplicated by signature.
    url = f"{server.urls['rest']}/trades/all/{MINT}"
    params = {"limit": 10, "offset": 0, "minimumSize": 0}
    last_seen: set[str] = set()
    new_per_poll = []
    for _ in range(7):  # replay time 0, 5, ..., 30
        response = await client.get(url, HEADERS, params)
        assert response.status == 200
        new = []
        for trade in response.json():
            trade_id = trade.get("signature")
            if trade_id and trade_id not in last_seen:
                last_seen.add(trade_id)
                new.append(trade_id)
        new_per_poll.append(new)
        await server.advance(5)
    happened = [
        [t["signature"] for t, at in zip(TRADES, TRADE_TIMES, strict=True) if now - 5 < at <= now][::-1]
        for now in range(0, 35, 5)
    ]
    assert new_per_poll == happened, "each poll shows exactly the trades since the last, newest first"
    assert len(last_seen) == len(TRADES)


async def test_event_driven_poller_emits_each_trade_as_buy_or_sell_once(
    server: MockServer, client: Client
) -> None:
    # Seed "Event-driven updates": limit 20, a 'new_trade' and a 'buy' or 'sell' event per new trade.
    url = f"{server.urls['rest']}/trades/all/{MINT}"
    events: list[tuple[str, str]] = []
    seen: set[str] = set()
    for _ in range(7):
        for trade in (await client.get(url, HEADERS, {"limit": 20, "offset": 0, "minimumSize": 0})).json():
            if trade["signature"] not in seen:
                seen.add(trade["signature"])
                events.append(("new_trade", trade["signature"]))
                events.append(("buy" if trade.get("is_buy") else "sell", trade["signature"]))
        await server.advance(5)
    sides = [name for name, _ in events if name != "new_trade"]
    assert len(events) == 2 * len(TRADES)
    assert sides.count("buy") == sum(1 for t in TRADES if t["is_buy"])


async def test_etag_polling_gets_304s_while_nothing_changes(server: MockServer, client: Client) -> None:
    # Seed "Smart polling with ETag caching" on /coins/latest (changed at t = 10 and 20), polled
    # every 2 s instead of the seed's 10 s so that unchanged polls happen.
    url = f"{server.urls['rest']}/coins/latest"
    headers = dict(HEADERS)
    etag = None
    seen = []
    for _ in range(13):  # t = 0, 2, ..., 24
        if etag:
            headers["If-None-Match"] = etag
        response = await client.get(url, headers)
        if response.status == 304:
            assert response.body == b"", "a 304 has no body"
            assert response.headers["ETag"] == etag
        elif response.status == 200:
            etag = response.headers.get("ETag")
            seen.append((server.now(), response.json()["name"]))
        assert "x-ratelimit-remaining" in response.headers, "304s carry the rate-limit headers too"
        await server.advance(2)
    assert seen == [(0, "first"), (10, "second"), (20, "third")], "200 exactly when the data changed"
    assert etag == 'W/"c3"', "the recorded weak ETag, verbatim"


async def test_etag_polling_of_trades_shows_new_trades_when_they_happen(
    server: MockServer, client: Client
) -> None:
    # ETag polling of /trades/all/{mint} every second: a trade happens every 2.5 s.
    url = f"{server.urls['rest']}/trades/all/{MINT}"
    params = {"limit": 10, "offset": 0, "minimumSize": 0}
    headers = dict(HEADERS)
    changes = []
    for second in range(16):
        response = await client.get(url, headers, params)
        if response.status == 200:
            headers["If-None-Match"] = response.headers["ETag"]
            changes.append((second, response.json()[0]["tx_index"]))
        else:
            assert response.status == 304 and response.body == b""
        await server.advance(1)
    # newest trade i happened at 2.5 i: seen at the first whole second at or after it
    assert changes == [(0, 0), (3, 1), (5, 2), (8, 3), (10, 4), (13, 5), (15, 6)]


async def test_adaptive_polling_speeds_up_with_activity_and_backs_off_when_it_stops(
    demo: MockServer, client: Client
) -> None:
    # Seed "Adaptive polling" of /trades/latest (3 s to 30 s) on the demo tape: a trade every 5 s
    # until t = 175.11, then nothing.
    history = recorded("/trades/latest")
    url = f"{demo.urls['rest']}/trades/latest"
    min_interval, max_interval = 3.0, 30.0
    interval = min_interval
    last_data = None
    polls = []
    while demo.now() < 360:
        data = (await client.get(url, HEADERS)).json()
        assert data == shown_at(history, demo.now()), "the trade recorded last at or before now"
        if data != last_data:
            interval = max(min_interval, interval * 0.8)
        else:
            interval = min(max_interval, interval * 1.2)
        polls.append((demo.now(), data != last_data, interval))
        last_data = data
        await demo.advance(interval)
    active = [p for p in polls if p[0] < history[-1][0]]
    assert all(interval < 5 for _, _, interval in active), "while trades flow it polls faster than they come"
    assert sum(changed for _, changed, _ in polls) == len(history), "every recorded trade seen once"
    assert polls[-1][2] == max_interval and not any(changed for t, changed, _ in polls if t > 180)


async def test_several_endpoints_at_once_share_one_budget(demo: MockServer, client: Client) -> None:
    # Seed "Multi-endpoint monitoring": /trades/latest every 5 s, /coins/latest every 10 s and one
    # coin every 8 s, concurrently, with one token: one rate-limit budget.
    base = demo.urls["rest"]
    mint = "Haz1tCWsEAnQEeGHfrm9JCcEnS9gPi6B2XHprSPGpump"
    endpoints = [("latest_trades", "/trades/latest", 5), ("latest_coins", "/coins/latest", 10)]
    endpoints.append(("specific_coin", f"/coins/{mint}", 8))
    history = {path: recorded(path) for _, path, _ in endpoints}
    updates = []
    for second in range(60):
        due = [(name, path) for name, path, every in endpoints if second % every == 0]
        answers = await asyncio.gather(*(client.get(base + path, HEADERS) for _, path in due))
        for (name, path), answer in zip(due, answers, strict=True):
            assert answer.status == 200
            assert answer.json() == shown_at(history[path], second)
            updates.append((name, int(answer.headers["x-ratelimit-remaining"])))
        await demo.advance(1)
    assert len(updates) == 12 + 6 + 8
    remaining = sorted((r for _, r in updates), reverse=True)
    assert remaining == list(range(119, 119 - len(updates), -1)), "every request spent the one budget once"
    other = await client.get(base + "/sol-price", {"Authorization": "Bearer someone-else"})
    assert other.headers["x-ratelimit-remaining"] == "119", "another token has its own budget"


async def test_exponential_backoff_sees_the_budget_fall_a_429_then_recovery(
    pumpfun_tape_path: Path, client: Client
) -> None:
    # Seed best practice "Implement exponential backoff": poll every 0.5 s; on the n-th 429 in a
    # row wait 0.5 s * 2^(n-1), without reading Retry-After.
    async with limited(pumpfun_tape_path, limit=5, window=10) as server:
        url = f"{server.urls['rest']}/trades/latest"
        log = []
        failures = 0
        while server.now() < 12:
            response = await client.get(url, HEADERS)
            log.append((server.now(), response.status, response.headers["x-ratelimit-remaining"]))
            if response.status == 429:
                assert response.json()["statusCode"] == 429
                assert int(response.headers["Retry-After"]) >= 1
                failures += 1
                await server.advance(0.5 * 2 ** (failures - 1))
            else:
                failures = 0
                await server.advance(0.5)
    assert [(t, status) for t, status, _ in log[:9]] == [
        (0.0, 200),
        (0.5, 200),
        (1.0, 200),
        (1.5, 200),
        (2.0, 200),
        (2.5, 429),  # the budget of 5 per 10 s is spent
        (3.0, 429),  # backing off 0.5, 1, 2, 4 s ...
        (4.0, 429),
        (6.0, 429),
    ]
    assert [remaining for _, _, remaining in log[:6]] == ["4", "3", "2", "1", "0", "0"]
    assert log[9] == (10.0, 200, "4"), "recovered when the window reset"


async def test_a_client_honouring_retry_after_never_sees_two_429s_in_a_row(
    pumpfun_tape_path: Path, client: Client
) -> None:
    async with limited(pumpfun_tape_path, limit=4, window=5) as server:
        url = f"{server.urls['rest']}/trades/latest"
        statuses = []
        for _ in range(40):
            response = await client.get(url, HEADERS)
            statuses.append(response.status)
            if response.status == 429:
                await server.advance(float(response.headers["Retry-After"]))
            else:
                await server.advance(0.25)
    assert statuses.count(429) >= 3, "the budget was exhausted again and again"
    assert all(not (a == b == 429) for a, b in itertools.pairwise(statuses))
