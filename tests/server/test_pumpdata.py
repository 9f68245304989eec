"""The PumpData Socket.IO emulation, observed by real python-socketio clients (manual clock)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio

from harness.core.pumpdata.config import PumpdataConfig
from harness.server.app import MockServer
from tests.helpers import ROOT

DEMO = ROOT / "fixtures" / "demo" / "pumpdata.jsonl"


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer([DEMO], manual=True, port=0) as srv:
        yield srv


def trade_pools(server: MockServer) -> list[str]:
    emulator = next(e for e in server.emulators if e.name == "pumpdata")
    pools: list[str] = []
    for _, item in emulator.feed._items:  # type: ignore[attr-defined]
        if item.name == "trade" and item.pool not in pools:
            pools.append(item.pool)
    return pools


class Recorder:
    """A python-socketio AsyncClient that keeps every event it gets, with the replay time."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.client = socketio.AsyncClient()
        self.events: list[tuple[float, str, Any]] = []
        self.client.on("*", self._any)

    async def _any(self, event: str, data: Any = None) -> None:
        self.events.append((self.server.now(), event, data))

    def of(self, name: str) -> list[Any]:
        return [d for _, e, d in self.events if e == name]

    async def __aenter__(self) -> Recorder:
        await self.client.connect(self.server.urls["socketio"], auth={"api_key": "pd_test"})
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.disconnect()


async def settle() -> None:
    """Let in-flight Socket.IO packets arrive (the server emitted them before advance returned)."""
    for _ in range(20):
        await asyncio.sleep(0.005)


async def caught_up(server: MockServer, *recorders: Recorder) -> None:
    """Wait until the clients hold every event the server has sent them."""

    def sent() -> int:
        return int(server.state()["apis"]["pumpdata"]["counters"].get("events_sent", 0))

    for _ in range(2000):
        if sum(len(r.events) for r in recorders) >= sent():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the clients never caught up")


async def test_seed_003_python_example_unchanged_but_url_and_key(server: MockServer) -> None:
    pool = trade_pools(server)[0]
    output = io.StringIO()

    def example() -> None:  # seed 003, the Python tab, print() going to `output`
        from datetime import datetime

        sio = socketio.Client()

        @sio.on("ohlcv")
        def on_ohlcv(rows: Any) -> None:
            for t, o, h, l, c, v in rows:  # noqa: E741
                print(datetime.fromtimestamp(t / 1000), f"o={o} h={h} l={l} c={c} v={v}", file=output)

        sio.connect(server.urls["socketio"], auth={"api_key": "pd_test_key"})
        sio.emit("subscribe_ohlcv", {"pool": pool})
        holder.append(sio)
        sio.wait()

    holder: list[socketio.Client] = []
    thread = threading.Thread(target=example, daemon=True)
    thread.start()
    while not (
        holder
        and server.state()["apis"]["pumpdata"]["clients"]
        and any(server.state()["apis"]["pumpdata"]["clients"].values())
    ):
        await asyncio.sleep(0.01)
    await server.advance(30)
    await settle()
    await asyncio.to_thread(holder[0].disconnect)
    await asyncio.to_thread(thread.join, 5)
    lines = output.getvalue().splitlines()
    assert lines and all(" o=" in line and " v=" in line for line in lines)


async def test_acks_and_subscription_error_without_an_ack(server: MockServer) -> None:
    async with Recorder(server) as rec:
        assert await rec.client.call("subscribe_trades", {}) == {
            "error": "invalid_request",
            "message": "mint or pool is required",
        }
        await rec.client.emit("subscribe_trades", {"mint": "NoSuchMint"})
        await settle()
        assert rec.of("subscription_error") == [
            {"error": "not_found", "message": "no active pool for mint NoSuchMint"}
        ]
        pool = trade_pools(server)[0]
        ok = await rec.client.call("subscribe_trades", {"pool": pool})
        assert ok == {"ok": True, "pool": pool, "room": f"trades:{pool}"}


async def test_a_mint_resolves_to_its_pool(server: MockServer) -> None:
    emulator = next(e for e in server.emulators if e.name == "pumpdata")
    trade = next(item.payload for _, item in emulator.feed._items if item.name == "trade")  # type: ignore[attr-defined]
    async with Recorder(server) as rec:
        ack = await rec.client.call("subscribe", {"mint": trade["mint"]})
        assert ack["ok"] is True and ack["pool"] == trade["pool"]


async def test_every_error_code_is_reachable() -> None:
    config = PumpdataConfig(max_subscriptions=2, unavailable_rate=1.0)
    async with MockServer([DEMO], manual=True, port=0, pumpdata=config) as server, Recorder(server) as rec:
        pool = trade_pools(server)[0]
        assert (await rec.client.call("subscribe_ohlcv", {"pool": 7}))["error"] == "invalid_request"
        (violation,) = server.violations  # the client's payload broke the contract, and is kept
        assert (violation.source, violation.family, violation.pointer) == (
            "client",
            "subscribe_ohlcv",
            "/args/0/pool",
        )
        assert (await rec.client.call("subscribe_ohlcv", {"pool": "Unknown111"}))["error"] == "not_found"
        assert (await rec.client.call("subscribe_ohlcv", {"pool": pool}))["error"] == "unavailable"
        assert (await rec.client.call("subscribe_sol_price"))["ok"] is True
        assert (await rec.client.call("subscribe_new_tokens", {"protocols": ["PUMPFUN"]}))["ok"] is True
        limited = await rec.client.call("subscribe_migrations", {"protocols": ["PUMPFUN"]})
        assert limited["error"] == "limit_exceeded" and "2 of 2" in limited["message"]


async def test_require_api_key_refuses_with_a_reason() -> None:
    async with MockServer(
        [DEMO], manual=True, port=0, pumpdata=PumpdataConfig(require_api_key=True)
    ) as server:
        client = socketio.AsyncClient()
        reasons: list[Any] = []
        client.on("connect_error", reasons.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(server.urls["socketio"], auth={"api_key": ""})
        assert reasons == [{"message": "api_key is required: connect with auth={'api_key': 'pd_...'}"}]
        await client.connect(server.urls["socketio"], auth={"api_key": "pd_ok"})
        await client.disconnect()


async def test_candles_at_most_once_per_second_and_matching_the_trades(server: MockServer) -> None:
    pool = trade_pools(server)[0]
    async with Recorder(server) as rec:
        await rec.client.call("subscribe_ohlcv", {"pool": pool})
        await rec.client.call("subscribe_trades", {"pool": pool})
        for _ in range(120):
            await server.advance(0.5)
            await caught_up(server, rec)
    emissions = [(t, rows) for t, e, rows in rec.events if e == "ohlcv"]
    assert len(emissions) > 10
    # at most one emission per replay second: 60 s of replay, at most 61 emissions (one at 0)
    assert len(emissions) <= 61
    assert all(1 <= len(rows) <= 2 for _, rows in emissions), (
        "the forming candle, and at a boundary the new one"
    )
    assert len(emissions) <= len(rec.of("trade")), "an emission only when a candle changed"
    latest: dict[int, list[float]] = {}
    for _, rows in emissions:
        for row in rows:
            latest[row[0]] = row  # clients upsert by t
    buckets: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for trade in rec.of("trade"):
        buckets[trade["timestamp"] * 1000].append(trade)
    for t, trades in buckets.items():
        prices = [x["price"] for x in trades]
        expected = [
            t,
            prices[0],
            max(prices),
            min(prices),
            prices[-1],
            pytest.approx(sum(x["quote_amount"] for x in trades)),
        ]
        assert latest[t] == expected


async def test_history_is_oldest_first_within_the_window(server: MockServer) -> None:
    pool = trade_pools(server)[0]
    await server.advance(60)
    async with Recorder(server) as rec:
        ack = await rec.client.call("ohlcv_history", {"pool": pool, "limit": 10})
        rows = ack["data"]
        assert ack["ok"] is True and ack["pool"] == pool and 0 < len(rows) <= 10
        assert [r[0] for r in rows] == sorted(r[0] for r in rows)
        now_ms = (1_767_225_600 + 60) * 1000
        assert all(now_ms - 120_000 < r[0] <= now_ms for r in rows)
        assert (await rec.client.call("ohlcv_history", {"pool": pool, "limit": 501}))[
            "error"
        ] == "invalid_request"


async def test_sol_price_snapshot_in_the_ack_and_sent_at_once(server: MockServer) -> None:
    await server.advance(10)
    async with Recorder(server) as rec:
        ack = await rec.client.call("subscribe_sol_price")
        await settle()
        assert ack["ok"] is True and ack["snapshot"]["price"] > 0
        assert rec.of("sol_price") == [ack["snapshot"]]


async def test_clients_get_only_their_own_rooms_and_unsubscribe_stops_at_once(server: MockServer) -> None:
    pools = trade_pools(server)[:2]
    recorders = [Recorder(server) for _ in range(6)]
    async with contextlib.AsyncExitStack() as stack:
        for rec in recorders:
            await stack.enter_async_context(rec)
        for i, rec in enumerate(recorders):
            await rec.client.call("subscribe_trades", {"pool": pools[i % 2]})
        await server.advance(30)
        await settle()
        for i, rec in enumerate(recorders):
            trades = rec.of("trade")
            assert trades and {t["pool"] for t in trades} == {pools[i % 2]}
        quitter = recorders[0]
        before = len(quitter.of("trade"))
        await quitter.client.call("unsubscribe_trades", {"pool": pools[0]})
        await server.advance(60)
        await settle()
        assert len(quitter.of("trade")) == before
        assert len(recorders[2].of("trade")) > before, "the others still get theirs"


async def test_billing_error_then_disconnect() -> None:
    async with MockServer(
        [DEMO], manual=True, port=0, pumpdata=PumpdataConfig(billing_error_after=3)
    ) as server:
        rec = Recorder(server)
        await rec.__aenter__()
        await rec.client.call("subscribe_trades", {"pool": trade_pools(server)[0]})
        await server.advance(60)
        await settle()
        assert len(rec.of("trade")) == 3
        assert rec.of("billing_error") == [
            {"error": "insufficient_balance", "message": "wallet balance is exhausted; top up to resume"}
        ]
        assert not rec.client.connected
