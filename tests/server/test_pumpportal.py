"""The PumpPortal data WebSocket emulation at /api/data, observed by real ``websockets`` clients
on 127.0.0.1 (manual clock): per-client key filters, acks, the funded-key refusal, one
connection per IP. "Nothing else arrived" is shown by a later frame, never by waiting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from harness.core.frames import S2C, Frame, WsOpen, WsText
from harness.core.pumpportal.config import PumpPortalConfig
from harness.core.pumpportal.session import ACKS, ONE_PER_IP, REFUSAL
from harness.server.app import MockServer
from harness.store import dump_tape
from tests.helpers import header
from tests.validation.test_pumpportal import CREATE_PUMP, MIGRATE, TRADE

MINT_A = "9U2RvAw8H5XpPVfFt298H7LvBAeFUf9hbBCadBQNpump"
MINT_B = "Dpgmqz9Ra659uptbYzVKsmGhYW1MhW1EbtgXXwaEpump"
MINT_C = "Haz1tCWsEAnQEeGHfrm9JCcEnS9gPi6B2XHprSPGpump"
WALLET = "7SxsVUyJ5GMBvZEHU51XXz7NtgZqgUXsUuwjSebpAjUj"
SIGS = [TRADE["signature"][:-2] + suffix for suffix in ("aa", "ab", "ac", "ad", "ae", "af", "ag")]

EVENTS: list[tuple[float, dict[str, Any]]] = [
    (1.0, {**CREATE_PUMP, "signature": SIGS[0], "mint": MINT_C}),
    (2.0, {**TRADE, "signature": SIGS[1], "mint": MINT_A}),
    (3.0, {**TRADE, "signature": SIGS[2], "mint": MINT_C}),
    (4.0, {**TRADE, "signature": SIGS[3], "mint": MINT_B, "txType": "sell"}),
    (4.5, {**TRADE, "signature": SIGS[4], "mint": MINT_C, "traderPublicKey": WALLET}),
    (5.0, {**MIGRATE, "signature": SIGS[5], "mint": MINT_A}),
    (6.0, {**TRADE, "signature": SIGS[6], "mint": MINT_A}),
]


def write_tape(path: Path) -> Path:
    frames: list[Frame] = [WsOpen(0.0, "c1", "wss://pumpportal.fun/api/data")]
    frames += [WsText(t, "c1", S2C, json.dumps(m, separators=(",", ":"))) for t, m in EVENTS]
    return dump_tape(path, header(apis=("pumpportal",)), frames)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[MockServer]:
    async with MockServer([write_tape(tmp_path / "pp.jsonl")], manual=True, port=0) as srv:
        yield srv


async def recv(ws: Any) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), 5.0))


async def ask(ws: Any, message: Any) -> Any:
    """Send ``message`` (a text as it is, else as JSON) and read the next frame."""
    await ws.send(message if isinstance(message, str) else json.dumps(message))
    return await recv(ws)


async def test_a_client_gets_new_tokens_and_the_trades_of_its_mints_only(server: MockServer) -> None:
    async with websockets.connect(server.urls["pumpportal"] + "?api-key=k") as ws:
        assert await ask(ws, {"method": "subscribeNewToken"}) == {
            "message": "Successfully subscribed to token creation events."
        }
        ack = await ask(ws, {"method": "subscribeTokenTrade", "keys": [MINT_A, MINT_B]})
        assert ack == {"message": ACKS["subscribeTokenTrade"]}
        await server.advance(6)
        got = [await recv(ws) for _ in range(4)]
        # the trade of MINT_A at t=6 comes right after MINT_B's at t=4: the trades of MINT_C
        # (t=3, t=4.5) and the migration (t=5) were not sent
        assert [(m["txType"], m["mint"], m["signature"]) for m in got] == [
            ("create", MINT_C, SIGS[0]),
            ("buy", MINT_A, SIGS[1]),
            ("sell", MINT_B, SIGS[3]),
            ("buy", MINT_A, SIGS[6]),
        ]
        assert got[0] == EVENTS[0][1]  # as recorded
        assert await ask(ws, {"method": "subscribeMigration"}) == {
            "message": "Subscribed to 'migration' events."
        }
    assert server.violations == []
    assert server.state()["apis"]["pumpportal"]["counters"]["events_sent"] == 4


async def test_account_trades_follow_the_trader_and_migrations_their_own_subscription(
    server: MockServer,
) -> None:
    async with websockets.connect(server.urls["pumpportal"] + "?api-key=k") as ws:
        await ask(ws, {"method": "subscribeAccountTrade", "keys": [WALLET]})
        await ask(ws, {"method": "subscribeMigration"})
        await server.advance(6)
        got = [await recv(ws) for _ in range(2)]
        assert [(m["txType"], m["signature"]) for m in got] == [("buy", SIGS[4]), ("migrate", SIGS[5])]
        assert await ask(ws, {"method": "unsubscribeMigration"}) == {"message": ACKS["unsubscribeMigration"]}


async def test_trade_subscriptions_without_a_funded_key_are_refused(server: MockServer) -> None:
    async with websockets.connect(server.urls["pumpportal"]) as ws:
        refused = await ask(ws, {"method": "subscribeTokenTrade", "keys": [MINT_A]})
        assert refused == {"message": REFUSAL}
        assert refused["message"].endswith("funded with at least 0.02 SOL.")
        await server.advance(6)
        # nothing of MINT_A came: the next frame is the answer to the next request
        assert await ask(ws, {"method": "subscribeMigration"}) == {"message": ACKS["subscribeMigration"]}
    assert server.violations == []


async def test_a_second_connection_from_one_ip_is_closed_and_another_ip_is_served(server: MockServer) -> None:
    url = server.urls["pumpportal"] + "?api-key=k"
    async with websockets.connect(url) as first:
        async with websockets.connect(url) as second:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await second.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (ONE_PER_IP.code, ONE_PER_IP.reason)
        # 127.0.0.2 is another address on the loopback network
        async with websockets.connect(url, local_addr=("127.0.0.2", 0)) as other:
            assert await ask(other, {"method": "subscribeNewToken"}) == {"message": ACKS["subscribeNewToken"]}
        assert await ask(first, {"method": "subscribeNewToken"}) == {"message": ACKS["subscribeNewToken"]}
    assert server.state()["apis"]["pumpportal"]["counters"]["refused_second_connection"] == 1


async def test_many_connections_per_ip_when_configured(tmp_path: Path) -> None:
    config = PumpPortalConfig(one_connection_per_ip=False)
    async with MockServer([write_tape(tmp_path / "pp.jsonl")], manual=True, port=0, pumpportal=config) as srv:
        url = srv.urls["pumpportal"]
        async with websockets.connect(url) as one, websockets.connect(url) as two:
            for ws in (one, two):
                assert await ask(ws, {"method": "subscribeNewToken"}) == {
                    "message": ACKS["subscribeNewToken"]
                }


async def test_bad_requests_are_answered_kept_as_violations_and_harm_no_one(server: MockServer) -> None:
    async with websockets.connect(server.urls["pumpportal"] + "?api-key=k") as ws:
        assert "not JSON" in (await ask(ws, "{oops"))["errors"]
        answer = await ask(ws, {"method": "subscribeTokenTrade", "keys": [12345] * 50_000})
        assert answer == {"errors": "keys has 50000 items; at most 10000 per request"}
        answer = await ask(ws, {"method": "subscribeTokenTrade", "keys": [MINT_A, *([12345] * 9_999)]})
        assert "9999 of 10000 keys are not base58 public keys (first: keys[1] = 12345)" in answer["errors"]
        await ws.send(b"\x00")
        assert "binary frame" in (await recv(ws))["errors"]
        # a request the service acts on, with a key its schema does not have
        assert await ask(ws, {"method": "subscribeNewToken", "keys": [MINT_A]}) == {
            "message": ACKS["subscribeNewToken"]
        }
        await server.advance(1)
        assert (await recv(ws))["signature"] == SIGS[0]
    found = [(v.family, v.pointer, v.rule, v.source) for v in server.violations]
    assert found == [
        ("", "", "json", "client"),
        ("request.subscribeTokenTrade", "/keys", "maxItems", "client"),
        ("request.subscribeTokenTrade", "/keys/1", "pattern", "client"),
        ("", "", "json", "client"),
        ("request.subscribeNewToken", "/keys", "additionalProperties", "client"),
    ]


async def test_reset_closes_clients_and_rewinds_the_feed(server: MockServer) -> None:
    async with websockets.connect(server.urls["pumpportal"] + "?api-key=k") as ws:
        await ask(ws, {"method": "subscribeNewToken"})
        await server.advance(2)
        assert (await recv(ws))["signature"] == SIGS[0]
        await server.reset()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await recv(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    async with websockets.connect(server.urls["pumpportal"]) as ws:
        await ask(ws, {"method": "subscribeNewToken"})
        await server.advance(2)
        assert (await recv(ws))["signature"] == SIGS[0]


async def test_corto_clients_never_see_pumpportal_events(server: MockServer) -> None:
    async with websockets.connect(server.urls["websocket"]) as ws:
        await recv(ws)  # handshake
        await ws.send('{"type":"subscribe","mode":"all"}')
        assert (await recv(ws))["name"] == "subscription_ack"
        await server.advance(6)
        await ws.send('{"type":"current_state"}')
        assert (await recv(ws))["name"] == "current_state"


async def test_a_fuzz_plan_applies_to_the_pumpportal_stream(server: MockServer) -> None:
    from harness.core.fuzz import FuzzPlan

    server.set_fuzz(FuzzPlan.parse("pumpportal#0:drop pumpportal#1:duplicate"))
    async with websockets.connect(server.urls["pumpportal"] + "?api-key=k") as ws:
        await ask(ws, {"method": "subscribeTokenTrade", "keys": [MINT_A, MINT_B]})
        await server.advance(4)
        got = [(await recv(ws))["signature"] for _ in range(2)]
        assert got == [SIGS[3], SIGS[3]]  # the trade at t=2 dropped, the one at t=4 twice
    assert [str(f) for _, f in server.fuzz.applied] == ["pumpportal#0:drop", "pumpportal#1:duplicate"]
