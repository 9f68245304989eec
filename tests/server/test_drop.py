"""Dropping connections as a network failure would: ``POST /_harness/drop`` and
``MockServer.drop_connections``. Real clients see their connections reset, not closed cleanly, and
reconnect; what is not dropped goes on."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
import socketio
import websockets

from harness.server.app import MockServer
from tests.helpers import ROOT

DEMO = ROOT / "fixtures" / "demo"


async def _control(server: MockServer, body: object | None) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http:
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": "application/json"}
        async with http.post(server.urls["control"] + "/drop", data=data, headers=headers) as response:
            return response.status, await response.json()


async def test_a_drop_cuts_websockets_without_a_close_frame_and_keeps_the_others() -> None:
    async with MockServer([DEMO], manual=True, port=0) as server:
        corto = await websockets.connect(server.urls["websocket"])
        await corto.recv()
        sio = socketio.AsyncClient(reconnection=False)
        disconnected = asyncio.Event()
        sio.on("disconnect", lambda *reason: disconnected.set())
        await sio.connect(server.urls["socketio"], auth={"api_key": "pd_test"}, transports=["websocket"])
        status, answer = await _control(server, {"apis": ["corto"]})
        assert (status, answer) == (200, {"dropped": {"corto": 1}})
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            await corto.recv()
        assert closed.value.rcvd is None, "no close frame: the connection was cut"
        assert sio.connected and (await sio.call("subscribe_sol_price", {}))["ok"]
        status, answer = await _control(server, None)  # no body: every API
        assert status == 200 and answer == {"dropped": {"pumpdata": 1}}
        await asyncio.wait_for(disconnected.wait(), 5)
        assert server.state()["counters"]["connections_dropped"] == 2


async def test_a_client_reconnects_after_a_drop() -> None:
    async with MockServer([DEMO], manual=True, port=0) as server:
        sio = socketio.AsyncClient(
            reconnection_delay=0.01, reconnection_delay_max=0.01, randomization_factor=0
        )
        connects = []
        again = asyncio.Event()
        sio.on("connect", lambda: (connects.append(1), len(connects) > 1 and again.set()))
        await sio.connect(server.urls["socketio"], auth={"api_key": "pd_test"}, transports=["websocket"])
        assert server.drop_connections(["pumpdata"]) == {"pumpdata": 1}
        await asyncio.wait_for(again.wait(), 10)  # a network failure: the client reconnects
        assert (await sio.call("subscribe_sol_price", {}))["ok"]
        await sio.disconnect()


async def test_a_bad_drop_is_a_400() -> None:
    async with MockServer([DEMO], manual=True, port=0) as server:
        assert (await _control(server, {"apis": ["ftp"]}))[0] == 400
        assert (await _control(server, {"apis": "corto"}))[0] == 400
        assert (await _control(server, ["corto"]))[0] == 400
        with pytest.raises(ValueError, match="apis takes a list of pumpfun, pumpdata, corto"):
            server.drop_connections(["nope"])
