"""For any filter, a corto client receives exactly the tape events the filter selects, in tape
order, each projected to its detail level (through a real server and a real client)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.corto.detail import KEYS, Detail
from harness.server.app import MockServer
from tests.server.test_corto import DEMO, demo_events, oracle

EVENTS = [
    "create",
    "trade",
    "buy",
    "sell",
    "migration",
    "createPool",
    "addLiquidity",
    "removeLiquidity",
    "burn",
]
POOLS = [
    "bags.fm",
    "pump.fun",
    "pump.swap",
    "raydium.amm",
    "raydium.cpmm",
    "meteora.dlmm",
    "letsbonk.fun",
    "meteora.damm-v1",
    "meteora.damm-v2",
]
DETAILS = st.none() | st.sampled_from(["min", "mid", "full"])


@st.composite
def subscribe_requests(draw: st.DrawFn) -> dict[str, Any]:
    request: dict[str, Any] = {"type": "subscribe"}
    if draw(st.booleans()):
        request["mode"] = draw(st.sampled_from(["all", "mints", "trades", "migrations", "pools"]))
    else:
        if draw(st.booleans()):
            request["events"] = draw(st.lists(st.sampled_from(EVENTS), min_size=1, max_size=4, unique=True))
        if draw(st.booleans()):
            request["pools"] = draw(st.lists(st.sampled_from(POOLS), min_size=1, max_size=4, unique=True))
    detail = draw(DETAILS)
    if detail is not None:
        request["create"] = {"detail": detail}
    return request


EVENTS_OF_TAPE = demo_events()


def expected(request: dict[str, Any]) -> list[dict[str, Any]]:
    detail = Detail(request.get("create", {}).get("detail", "full"))
    out = []
    for event in EVENTS_OF_TAPE:
        if oracle(request, event):
            if event["txType"] == "create" and detail is not Detail.FULL:
                event = {k: v for k, v in event.items() if k in KEYS[detail]}
            out.append(event)
    return out


async def delivered(request: dict[str, Any]) -> list[dict[str, Any]]:
    want = expected(request)
    async with MockServer([DEMO], manual=True, port=0, validate=False) as server:
        async with websockets.connect(server.urls["websocket"], max_size=None) as ws:
            await ws.recv()
            await ws.send(json.dumps(request))
            assert json.loads(await ws.recv())["name"] == "subscription_ack"
            await server.advance(200)
            got = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in want]
            try:
                extra = await asyncio.wait_for(ws.recv(), 0.05)
            except TimeoutError:
                return got
            return [*got, json.loads(extra)]


@settings(max_examples=30, deadline=None)
@given(subscribe_requests())
def test_delivered_events_are_exactly_the_selected_ones_in_order(request: dict[str, Any]) -> None:
    assert asyncio.run(delivered(request)) == expected(request)
