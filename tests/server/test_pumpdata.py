"""The PumpData Socket.IO emulation, observed by real python-socketio clients (manual clock)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from harness.core.pumpdata.config import PumpdataConfig
from harness.server.app import MockServer
from harness.validation import validate
from tests.helpers import until
from tests.server.pumpdata_tape import DEMO, EPOCH, events, key, subscribed, trade, write


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer([DEMO], manual=True, port=0) as srv:
        yield srv


def emulator_of(server: MockServer) -> Any:
    return next(e for e in server.emulators if e.name == "pumpdata")


def feed_payloads(server: MockServer, name: str) -> list[Any]:
    return [item.payload for _, item in emulator_of(server).feed._items if item.name == name]


def trade_pools(server: MockServer) -> list[str]:
    return list(dict.fromkeys(t["pool"] for t in feed_payloads(server, "trade")))


class Recorder:
    """A python-socketio AsyncClient that keeps every event it gets, with the replay time."""

    def __init__(self, server: MockServer, auth: Any = None) -> None:
        self.server = server
        self.auth = {"api_key": "pd_test"} if auth is None else auth
        self.client = socketio.AsyncClient()
        self.events: list[tuple[float, str, Any]] = []
        self.client.on("*", self._any)

    async def _any(self, event: str, data: Any = None) -> None:
        self.events.append((self.server.now(), event, data))

    def of(self, name: str) -> list[Any]:
        return [d for _, e, d in self.events if e == name]

    async def __aenter__(self) -> Recorder:
        await self.client.connect(self.server.urls["socketio"], auth=self.auth)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.disconnect()


async def settle() -> None:
    """Give packets that should NOT come a moment to arrive (what should come, wait for: until)."""
    await asyncio.sleep(0.1)


def sent(server: MockServer) -> int:
    return int(server.state()["apis"]["pumpdata"]["counters"].get("events_sent", 0))


async def caught_up(server: MockServer, *recorders: Recorder, extra: int = 0) -> None:
    """Wait until the clients hold every event the server has sent them (``extra``: events sent
    outside the feed, such as a ``sol_price`` snapshot)."""
    await until(
        lambda: sum(len(r.events) for r in recorders) >= sent(server) + extra, what="the clients caught up"
    )


def acks_keep_the_contract(*acks: Any) -> None:
    for ack in acks:
        family = "ack_error" if "error" in ack else "ohlcv_history_ack" if "data" in ack else "ack"
        assert validate(ack, api="pumpdata", family=family) == [], ack


async def test_acks_and_subscription_error_without_an_ack(server: MockServer) -> None:
    async with Recorder(server) as rec:
        missing = await rec.client.call("subscribe_trades", {})
        assert missing == {"error": "invalid_request", "message": "mint or pool is required"}
        await rec.client.emit("subscribe_trades", {"mint": "NoSuchMint"})
        await rec.client.emit("ohlcv_history", {"pool": "NoSuchPool", "limit": 5})
        await until(lambda: len(rec.of("subscription_error")) == 2)
        assert rec.of("subscription_error") == [
            {"error": "not_found", "message": "no active pool for mint NoSuchMint"},
            {"error": "not_found", "message": "pool NoSuchPool has neither live data nor candle history"},
        ]
        pool = trade_pools(server)[0]
        ok = await rec.client.call("subscribe_trades", {"pool": pool})
        assert ok == {"ok": True, "pool": pool, "room": f"trades:{pool}"}
        await rec.client.emit("subscribe_ohlcv", {"pool": pool})  # no ack asked, none needed
        await settle()
        assert len(rec.of("subscription_error")) == 2, "a success without an ack callback says nothing"
        acks_keep_the_contract(missing, ok, *rec.of("subscription_error"))


async def test_a_mint_resolves_to_its_pool_at_replay_time(server: MockServer) -> None:
    trade0 = feed_payloads(server, "trade")[0]
    (migration,) = feed_payloads(server, "migration")
    mint = migration["mint"]
    async with Recorder(server) as rec:
        ack = await rec.client.call("subscribe", {"mint": trade0["mint"]})
        assert ack == {"ok": True, "pool": trade0["pool"], "room": f"token:{trade0['pool']}"}
        left = await rec.client.call("unsubscribe", {"mint": trade0["mint"]})
        assert left == {"ok": True, "pool": trade0["pool"]}
        assert server.state()["apis"]["pumpdata"]["clients"][rec.client.get_sid()] == []
        await server.advance(30)  # the mint was created (new_token) on its bonding curve
        assert (await rec.client.call("subscribe_trades", {"mint": mint}))["pool"] == migration["old_pool"]
        await server.advance(60)  # and migrated at 79.8 s: it now trades in the new pool
        assert (await rec.client.call("subscribe_trades", {"mint": mint}))["pool"] == migration["new_pool"]


async def test_every_error_code_is_reachable() -> None:
    config = PumpdataConfig(max_subscriptions=2, unavailable_rate=1.0)
    async with MockServer([DEMO], manual=True, port=0, pumpdata=config) as server, Recorder(server) as rec:
        pool = trade_pools(server)[0]
        answers = [
            await rec.client.call("subscribe_ohlcv", {"pool": 7}),
            await rec.client.call("subscribe_ohlcv", {"mint": "NoSuchMint"}),
            await rec.client.call("subscribe_ohlcv", {"pool": "Unknown111"}),
            await rec.client.call("subscribe_ohlcv", {"pool": pool}),
            await rec.client.call("ohlcv_history", {"pool": pool}),
            await rec.client.call("subscribe_sol_price"),
            await rec.client.call("subscribe_new_tokens", {"protocols": ["PUMPFUN"]}),
        ]
        assert [a["error"] for a in answers] == ["invalid_request", "not_found", "not_found"] + [
            "unavailable"
        ] * 4
        assert answers[3]["message"] == "transient backend error; safe to retry"
        # leaving costs the backend nothing: never unavailable
        assert await rec.client.call("unsubscribe_ohlcv", {"pool": pool}) == {"ok": True, "pool": pool}
        (violation,) = server.violations  # the client's payload broke the contract, and is kept
        assert (violation.source, violation.family, violation.pointer) == (
            "client",
            "subscribe_ohlcv",
            "/args/0/pool",
        )
        acks_keep_the_contract(*answers)
    limited_config = PumpdataConfig(max_subscriptions=2)
    async with (
        MockServer([DEMO], manual=True, port=0, pumpdata=limited_config) as server,
        Recorder(server) as rec,
    ):
        assert (await rec.client.call("subscribe_sol_price"))["ok"] is True
        assert (await rec.client.call("subscribe_new_tokens", {"protocols": ["PUMPFUN"]}))["ok"] is True
        limited = await rec.client.call("subscribe_migrations", {"protocols": ["PUMPFUN"]})
        assert limited == {
            "error": "limit_exceeded",
            "message": "this connection already has 2 of 2 subscriptions",
        }
        assert (await rec.client.call("subscribe_new_tokens", {"protocols": ["PUMPFUN"]}))["ok"] is True, (
            "a room it already has costs nothing"
        )
        counters = server.state()["apis"]["pumpdata"]["counters"]
        assert counters["errors.limit_exceeded"] == 1


async def test_at_most_50_subscriptions_per_connection_by_default(tmp_path: Path) -> None:
    pools = [key(n) for n in range(60)]
    tape = write(
        tmp_path / "pools.jsonl",
        events(
            "trade",
            [(1.0 + n, trade(n, pool, key(n, 1), 1.0 + n, 1e-8, 0.1)) for n, pool in enumerate(pools)],
        ),
    )
    async with MockServer([tape], manual=True, port=0) as server, Recorder(server) as rec:
        answers = [await rec.client.call("subscribe_trades", {"pool": pool}) for pool in pools[:51]]
        assert all(a["ok"] for a in answers[:50])
        assert answers[50] == {
            "error": "limit_exceeded",
            "message": "this connection already has 50 of 50 subscriptions",
        }
        await rec.client.call("unsubscribe_trades", {"pool": pools[0]})
        assert (await rec.client.call("subscribe_ohlcv", {"pool": pools[0]}))["ok"] is True, (
            "a freed slot is free"
        )
        async with Recorder(server) as other:
            assert (await other.client.call("subscribe_trades", {"pool": pools[0]}))["ok"] is True, (
                "per connection"
            )


async def test_unavailable_is_a_seeded_fault_a_run_repeats() -> None:
    async def outcomes(server: MockServer) -> list[str]:
        pool = trade_pools(server)[0]
        async with Recorder(server) as rec:
            answers = [await rec.client.call("subscribe_trades", {"pool": pool}) for _ in range(20)]
        return ["ok" if a.get("ok") else a["error"] for a in answers]

    config = PumpdataConfig(unavailable_rate=0.5)
    async with MockServer([DEMO], manual=True, port=0, pumpdata=config, seed=7) as server:
        first = await outcomes(server)
        await server.reset()
        assert await outcomes(server) == first, "a reset draws the same faults again"
    async with MockServer([DEMO], manual=True, port=0, pumpdata=config, seed=7) as server:
        assert await outcomes(server) == first, "the same seed, the same faults"
    assert set(first) == {"ok", "unavailable"}


@pytest.mark.parametrize(
    ("auth", "reason"),
    [
        ({}, 'api_key is required: connect with auth {"api_key": "pd_..."}'),
        ({"key": "pd_x"}, 'api_key is required: connect with auth {"api_key": "pd_..."}'),
        ({"api_key": ""}, 'api_key must be a non-empty string: connect with auth {"api_key": "pd_..."}'),
        ({"api_key": "  "}, 'api_key must be a non-empty string: connect with auth {"api_key": "pd_..."}'),
        ({"api_key": 42}, 'api_key must be a non-empty string: connect with auth {"api_key": "pd_..."}'),
    ],
)
async def test_require_api_key_refuses_with_a_reason(auth: dict[str, Any], reason: str) -> None:
    async with MockServer(
        [DEMO], manual=True, port=0, pumpdata=PumpdataConfig(require_api_key=True)
    ) as server:
        client = socketio.AsyncClient()
        reasons: list[Any] = []
        client.on("connect_error", reasons.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(server.urls["socketio"], auth=auth or None)
        assert reasons == [{"message": reason}]
        await client.connect(server.urls["socketio"], auth={"api_key": "pd_ok"})
        await client.disconnect()
        assert server.state()["apis"]["pumpdata"]["counters"]["refused_connects"] == 1


async def test_without_require_api_key_any_client_connects(server: MockServer) -> None:
    client = socketio.AsyncClient()
    await client.connect(server.urls["socketio"])
    assert client.connected
    await client.disconnect()


async def test_candles_at_most_once_per_replay_second_and_matching_the_trades(server: MockServer) -> None:
    pools = trade_pools(server)
    async with Recorder(server) as rec, Recorder(server) as other:
        for r, pool in ((rec, pools[0]), (other, pools[1])):
            await r.client.call("subscribe_ohlcv", {"pool": pool})
            await r.client.call("subscribe_trades", {"pool": pool})
        for _ in range(240):
            now = await server.advance(0.25)
            await caught_up(server, rec, other)
            # A candle sent during a step arrives within it, so any four steps in a row (one
            # replay second) hold at most one emission per pool.
            for r in (rec, other):
                assert len([e for t, e, _ in r.events if e == "ohlcv" and t > now - 1]) <= 1
    for r in (rec, other):
        emissions = [(t, rows) for t, e, rows in r.events if e == "ohlcv"]
        assert len(emissions) > 10
        assert all(1 <= len(rows) <= 2 for _, rows in emissions), (
            "the forming candle, and at a boundary the new one"
        )
        latest: dict[int, list[float]] = {}
        for _, rows in emissions:
            for row in rows:
                latest[row[0]] = row  # clients upsert by t
        buckets: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for trade_ in r.of("trade"):
            buckets[trade_["timestamp"] * 1000].append(trade_)
        assert set(latest) == set(buckets), "a candle for every second with trades, and only those"
        for t, trades in buckets.items():
            prices = [x["price"] for x in trades]
            volume = pytest.approx(sum(x["quote_amount"] for x in trades))
            assert latest[t] == [t, prices[0], max(prices), min(prices), prices[-1], volume]
    assert not server.violations


async def test_recorded_candles_are_replayed_instead_of_computed(tmp_path: Path) -> None:
    pool, mint, other = key(1), key(1, 1), key(2)
    trades = [(1.0 + n * 0.4, trade(n, pool, mint, 1.0 + n * 0.4, 1e-8 * (n + 1), 0.5)) for n in range(10)]
    # what the service sent: deliberately not what the trades above would make
    candles = [(1.5 + s, [[(EPOCH + 1 + s) * 1000, 1.0, 2.0, 0.5, 1.5, 42.0 + s]]) for s in range(4)]
    frames = [
        *subscribed("sio-1", 0.2, 0, "subscribe_ohlcv", {"mint": mint}, {"ok": True, "pool": pool}),
        *subscribed("sio-2", 0.2, 0, "subscribe_ohlcv", {"pool": pool}, {"ok": True}),
        *subscribed("sio-2", 0.3, 1, "subscribe_ohlcv", {"pool": other}, {"ok": True}),
        *events("trade", trades),
        *events("trade", [(2.0, trade(99, other, key(2, 1), 2.0, 5e-8, 1.0))]),
        *events("ohlcv", candles),
        # a connection following two pools: its candles say not which pool, so they are left out
        *events("ohlcv", [(2.5, [[(EPOCH + 2) * 1000, 9.0, 9.0, 9.0, 9.0, 9.0]])], conn="sio-2"),
    ]
    tape = write(tmp_path / "ohlcv.jsonl", frames, conns=("sio-1", "sio-2"))
    async with MockServer([tape], manual=True, port=0) as server, Recorder(server) as rec:
        await rec.client.call("subscribe_ohlcv", {"pool": pool})
        async with Recorder(server) as rec_other:
            await rec_other.client.call("subscribe_ohlcv", {"pool": other})
            await server.advance(10)
            await caught_up(server, rec, rec_other)
            assert rec.of("ohlcv") == [rows for _, rows in candles]
            assert rec_other.of("ohlcv") == [[[(EPOCH + 2) * 1000, 5e-8, 5e-8, 5e-8, 5e-8, 1.0]]], (
                "no recorded candles for this pool: made from its trades"
            )
            history = await rec.client.call("ohlcv_history", {"mint": mint})
            assert history["data"] == [row for _, rows in candles for row in rows], "history holds them too"
    assert not server.violations


async def test_history_is_oldest_first_within_the_window(server: MockServer) -> None:
    pool = trade_pools(server)[0]
    await server.advance(60)
    async with Recorder(server) as rec:
        ack = await rec.client.call("ohlcv_history", {"pool": pool, "limit": 10})
        rows = ack["data"]
        assert ack["ok"] is True and ack["pool"] == pool and len(rows) == 10
        assert [r[0] for r in rows] == sorted(r[0] for r in rows)
        now_ms = (1_767_225_600 + 60) * 1000
        assert all(now_ms - 120_000 < r[0] <= now_ms for r in rows)
        assert rows == (await rec.client.call("ohlcv_history", {"pool": pool}))["data"][-10:]
        for bad in (0, 501, "5", 2.5, None):
            answer = await rec.client.call("ohlcv_history", {"pool": pool, "limit": bad})
            assert (
                answer["error"] == "invalid_request"
                and "limit must be an integer from 1 to 500" in answer["message"]
            )
        acks_keep_the_contract(ack)


async def test_history_limit_defaults_to_200_and_reaches_500(tmp_path: Path) -> None:
    pool, mint = key(1), key(1, 1)
    tape = write(
        tmp_path / "long.jsonl",
        events(
            "trade",
            [(float(s), trade(s, pool, mint, float(s), 1e-8 + s * 1e-10, 0.1)) for s in range(1, 601)],
        ),
    )
    config = PumpdataConfig(history_window_s=1000)
    async with MockServer([tape], manual=True, port=0, pumpdata=config) as server, Recorder(server) as rec:
        await server.advance(600)
        default = (await rec.client.call("ohlcv_history", {"pool": pool}))["data"]
        most = (await rec.client.call("ohlcv_history", {"pool": pool, "limit": 500}))["data"]
        one = (await rec.client.call("ohlcv_history", {"pool": pool, "limit": 1}))["data"]
    assert [r[0] for r in default] == [(EPOCH + s) * 1000 for s in range(401, 601)]
    assert [r[0] for r in most] == [(EPOCH + s) * 1000 for s in range(101, 601)]
    assert one == [most[-1]]


async def test_sol_price_snapshot_in_the_ack_and_sent_at_once(server: MockServer) -> None:
    async with Recorder(server) as rec:
        assert await rec.client.call("subscribe_sol_price") == {"ok": True, "snapshot": None}, "no price yet"
        await rec.client.call("unsubscribe_sol_price")
    await server.advance(10)
    async with Recorder(server) as rec:
        ack = await rec.client.call("subscribe_sol_price")
        await until(lambda: rec.of("sol_price"))
        assert ack["ok"] is True and ack["snapshot"]["price"] > 0
        assert rec.of("sol_price") == [ack["snapshot"]]
        await server.advance(60)
        await caught_up(server, rec, extra=1)
        prices = rec.of("sol_price")
        assert len(prices) > 5 and all(isinstance(p["time"], int) and p["time"] < 10**10 for p in prices), (
            "time in unix s"
        )


# Which room each server event goes to, as a client would tell from the payload.
ROOM_OF = {
    "trade": lambda p: f"trades:{p['pool']}",
    "token_update": lambda p: f"token:{p['pool']}",
    "new_token": lambda p: f"new_tokens:{p['protocol']}",
    "migration": lambda p: f"migrations:{p['protocol']}",
    "sol_price": lambda p: "sol_price",
}


async def test_many_clients_at_once_each_get_only_their_own_rooms(server: MockServer) -> None:
    pools = trade_pools(server)
    choices: list[tuple[str, dict[str, Any], str]] = [
        *[("subscribe_trades", {"pool": p}, f"trades:{p}") for p in pools],
        *[("subscribe", {"pool": p}, f"token:{p}") for p in pools],
        *[("subscribe_ohlcv", {"pool": p}, f"ohlcv:{p}") for p in pools],
        ("subscribe_new_tokens", {"protocols": ["PUMPFUN"]}, "new_tokens:PUMPFUN"),
        ("subscribe_new_tokens", {"protocols": ["PUMPSWAP"]}, "new_tokens:PUMPSWAP"),
        ("subscribe_migrations", {"protocols": ["PUMPFUN"]}, "migrations:PUMPFUN"),
        ("subscribe_sol_price", {}, "sol_price"),
    ]
    rng = random.Random(3)
    recorders = [Recorder(server) for _ in range(24)]
    wanted: list[set[str]] = []
    async with contextlib.AsyncExitStack() as stack:
        for rec in recorders:
            await stack.enter_async_context(rec)
            picks = rng.sample(choices, rng.randint(1, 4))
            for event, payload, _ in picks:
                assert (await rec.client.call(event, payload or None))["ok"] is True
            wanted.append({room for _, _, room in picks})
        for _ in range(18):
            await server.advance(10)
            await caught_up(server, *recorders)
    delivered: set[str] = set()
    for rec, rooms in zip(recorders, wanted, strict=True):
        got = {ROOM_OF[e](d) for _, e, d in rec.events if e in ROOM_OF}
        assert got <= rooms, f"a client got events of rooms it did not join: {got - rooms}"
        if rec.of("ohlcv"):
            assert any(r.startswith("ohlcv:") for r in rooms)
        delivered |= got | {r for r in rooms if r.startswith("ohlcv:") and rec.of("ohlcv")}
    every_room_with_data = {room for _, _, room in choices} - {"new_tokens:PUMPSWAP"}  # the tape has none
    assert delivered >= every_room_with_data & set().union(*wanted)
    assert not server.violations


async def test_unsubscribe_stops_delivery_at_once(server: MockServer) -> None:
    pools = trade_pools(server)[:2]
    recorders = [Recorder(server) for _ in range(4)]
    async with contextlib.AsyncExitStack() as stack:
        for i, rec in enumerate(recorders):
            await stack.enter_async_context(rec)
            await rec.client.call("subscribe_trades", {"pool": pools[i % 2]})
            await rec.client.call("subscribe_ohlcv", {"pool": pools[i % 2]})
        await server.advance(30)
        await caught_up(server, *recorders)
        quitter = recorders[0]
        assert await quitter.client.call("unsubscribe_trades", {"pool": pools[0]}) == {
            "ok": True,
            "pool": pools[0],
        }
        before = len(quitter.events)
        await server.advance(0.2)
        await server.advance(60)
        await caught_up(server, *recorders)
        assert {e for _, e, _ in quitter.events[before:]} == {"ohlcv"}, "its other subscription goes on"
        assert len(recorders[2].of("trade")) > len(quitter.of("trade")), "the others still get theirs"


async def test_a_disconnect_drops_every_subscription(server: MockServer) -> None:
    pool = trade_pools(server)[0]
    rec = Recorder(server)
    await rec.__aenter__()
    for event, payload in (
        ("subscribe_trades", {"pool": pool}),
        ("subscribe_ohlcv", {"pool": pool}),
        ("subscribe", {"pool": pool}),
        ("subscribe_new_tokens", {"protocols": ["PUMPFUN"]}),
        ("subscribe_migrations", None),
        ("subscribe_sol_price", None),
    ):
        assert (await rec.client.call(event, payload))["ok"] is True
    assert len(server.state()["apis"]["pumpdata"]["clients"][rec.client.get_sid()]) == 6
    await rec.client.disconnect()
    await until(lambda: server.state()["apis"]["pumpdata"]["clients"] == {})
    assert emulator_of(server).sio.manager.rooms.get("/", {}).keys() <= {None}, "no room keeps it"
    async with Recorder(server) as again:  # contract §6.9: a new connection starts with nothing
        await server.advance(60)
        await settle()
        assert again.events == []


async def test_billing_error_then_disconnect() -> None:
    async with MockServer(
        [DEMO], manual=True, port=0, pumpdata=PumpdataConfig(billing_error_after=3)
    ) as server:
        rec = Recorder(server)
        await rec.__aenter__()
        await rec.client.call("subscribe_trades", {"pool": trade_pools(server)[0]})
        await server.advance(60)
        await until(lambda: rec.of("billing_error") and not rec.client.connected)
        assert len(rec.of("trade")) == 3
        assert rec.of("billing_error") == [
            {"error": "insufficient_balance", "message": "wallet balance is exhausted; top up to resume"}
        ]
        assert not rec.client.connected
        assert server.state()["apis"]["pumpdata"]["clients"] == {}


async def test_a_looping_feed_replays_the_same_candles_and_history_each_pass() -> None:
    async with MockServer([DEMO], manual=True, port=0, loop=True) as server, Recorder(server) as rec:
        pool = trade_pools(server)[0]
        period = emulator_of(server).feed.period
        await rec.client.call("subscribe_ohlcv", {"pool": pool})
        passes: list[list[Any]] = []
        histories = []
        for _ in range(2):
            before = len(rec.of("ohlcv"))
            await server.advance(60)
            histories.append((await rec.client.call("ohlcv_history", {"pool": pool}))["data"])
            await server.advance(period - 60)
            await caught_up(server, rec)
            passes.append(rec.of("ohlcv")[before:])
        assert passes[0] and [[r[:5] for r in rows] for rows in passes[1]] == [
            [r[:5] for r in rows] for rows in passes[0]
        ]
        assert [r[5] for rows in passes[1] for r in rows] == pytest.approx(
            [r[5] for rows in passes[0] for r in rows]
        ), "volumes are not added up again on the next pass"
        assert histories[1] == histories[0]


async def test_harness_serve_options_for_pumpdata(tmp_path: Path) -> None:
    from tests.cli.test_serve import _start, _wait_for

    ready = tmp_path / "ready.json"
    proc = _start(
        str(DEMO),
        *("--port", "0", "--manual", "--ready-file", str(ready), "--require-api-key"),
        *("--max-subscriptions", "3", "--history-window", "5", "--unavailable-rate", "0"),
        *("--billing-error-after", "4", "--flat-candles", "--sio-queue", "50", "--sio-overflow", "drop"),
    )
    try:
        urls = await asyncio.to_thread(_wait_for, ready, proc)
        refused = socketio.AsyncClient()
        reasons: list[Any] = []
        refused.on("connect_error", reasons.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect(urls["socketio"])
        assert reasons[0]["message"].startswith("api_key is required")
        client = socketio.AsyncClient()
        got: list[tuple[str, Any]] = []
        client.on("*", lambda event, data=None: got.append((event, data)))
        await client.connect(urls["socketio"], auth={"api_key": "pd_cli"})
        pool = "F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Z"
        advance = urls["control"] + "/advance"
        await asyncio.to_thread(requests.post, advance, json={"seconds": 60}, timeout=5)
        history = (await client.call("ohlcv_history", {"pool": pool}))["data"]
        times = [r[0] for r in history]
        assert len(history) > 2 and times == list(range(times[0], times[-1] + 1000, 1000)), (
            "within the last 5 s, silent seconds between candles filled flat"
        )
        assert times[0] > (1_767_225_600 + 55) * 1000
        for event in ("subscribe_trades", "subscribe_ohlcv", "subscribe"):
            assert (await client.call(event, {"pool": pool}))["ok"] is True
        assert (await client.call("subscribe_sol_price"))["error"] == "limit_exceeded"
        await asyncio.to_thread(requests.post, advance, json={"seconds": 60}, timeout=5)
        for _ in range(200):
            if not client.connected:
                break
            await asyncio.sleep(0.01)
        assert [e for e, _ in got if e != "billing_error"] and len(
            [e for e, _ in got if e != "billing_error"]
        ) == 4
        assert got[-1][0] == "billing_error" and not client.connected
        state = await asyncio.to_thread(requests.get, urls["control"] + "/state", timeout=5)
        pumpdata = state.json()["apis"]["pumpdata"]
        assert pumpdata["max_subscriptions"] == 3 and pumpdata["counters"]["billing_errors"] == 1
        assert (pumpdata["queue_size"], pumpdata["overflow"]) == (50, "drop")
    finally:
        proc.terminate()
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err, err


WRONG_TYPES = [
    ("subscribe_trades", "F2MF"),
    ("subscribe_trades", 5),
    ("subscribe_trades", ["F2MF"]),
    ("subscribe_ohlcv", {"pool": None, "mint": None}),
    ("subscribe", {"mint": ["M"]}),
    ("unsubscribe_trades", {"pool": {"nested": True}}),
    ("ohlcv_history", {"pool": "F2MF", "limit": "200"}),
    ("ohlcv_history", {"pool": "F2MF", "limit": True}),
    ("subscribe_new_tokens", {"protocols": "PUMPFUN"}),
    ("subscribe_new_tokens", {"protocols": [1, 2]}),
    ("subscribe_new_tokens", {"protocols": ["NYSE"]}),
    ("subscribe_migrations", {"protocols": []}),
]


async def test_wrong_types_are_invalid_requests_and_violations(server: MockServer) -> None:
    async with Recorder(server) as rec:
        for event, payload in WRONG_TYPES:
            answer = await rec.client.call(event, payload)
            assert answer["error"] == "invalid_request", (event, payload, answer)
        assert server.state()["apis"]["pumpdata"]["clients"][rec.client.get_sid()] == []
    assert {v.family for v in server.violations} == {e for e, _ in WRONG_TYPES}


async def test_a_tape_event_that_breaks_the_contract_is_reported_once_a_run(tmp_path: Path) -> None:
    """Checked once however many clients get it, and again after a reset (the plugin's next test)."""
    pool, mint = key(1), key(2, 1)
    broken = {k: v for k, v in trade(1, pool, mint, 1.0, 1e-7, 0.5).items() if k != "wallet"}
    tape = write(tmp_path / "broken.jsonl", events("trade", [(1.0, broken)]))
    async with MockServer([tape], manual=True, port=0) as server:
        for _ in range(2):
            async with Recorder(server) as a, Recorder(server) as b:
                for rec in (a, b):
                    assert (await rec.client.call("subscribe_trades", {"pool": pool}))["ok"]
                await server.advance(2)
                await caught_up(server, a, b)
                assert [len(rec.of("trade")) for rec in (a, b)] == [1, 1]
            seen = [(v.source, v.family, v.pointer, v.rule) for v in server.violations]
            assert seen == [("server", "trade", "/args/0/wallet", "required")]
            await server.reset()


async def test_history_follows_the_candles_times_when_the_header_clock_differs(tmp_path: Path) -> None:
    # candles stamped a day after the header's clock (a tape whose header was written on another
    # clock): ohlcv_history serves them, where the header's clock would find none in its window
    pool, mint = key(1, 1), key(1, 2)
    day = 86_400
    trades = [trade(n, pool, mint, float(n), 1e-7, 1.0, timestamp=EPOCH + day + n) for n in range(1, 6)]
    frames = events("trade", [(float(n), payload) for n, payload in enumerate(trades, start=1)])
    tape = write(tmp_path / "skewed.jsonl", frames)
    async with MockServer([tape], manual=True, port=0) as server, Recorder(server) as rec:
        await server.advance(6)
        history = await rec.client.call("ohlcv_history", {"pool": pool})
        assert [row[0] for row in history["data"]] == [(EPOCH + day + n) * 1000 for n in range(1, 6)]
