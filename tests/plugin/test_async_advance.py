"""``await harness_clock.advance(s)`` in async tests: client tasks started with
``asyncio.create_task`` connect, subscribe and read while the replay time passes, with no sleeps
anywhere (a later event proves that nothing more was on its way)."""

from __future__ import annotations

import pytest

from tests.plugin.inner import project

CLIENT_TASKS = """
import asyncio
import json

import pytest
import socketio
import websockets

POOL = "F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Z"


async def corto(url, got, answers):
    async with websockets.connect(url) as ws:
        await ws.recv()                                              # handshake
        await ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
        async for text in ws:
            message = json.loads(text)
            if "txType" in message:
                got.append(message)
            else:
                answers.append((message, ws))


async def test_a_task_has_read_the_frames_when_advance_returns(harness_server, harness_clock):
    got, answers = [], []
    task = asyncio.create_task(corto(harness_server.urls["websocket"], got, answers))
    assert await harness_clock.advance(5) == 5.0                     # the task was not even started
    assert [m.get("name") for m, _ in answers] == ["subscription_ack"]
    read = len(got)
    assert read > 0 and all(trade["timestamp"] for trade in got)
    ws = answers[0][1]
    await ws.send(json.dumps({"type": "current_state"}))             # answered after all sent before
    while len(answers) < 2:
        await asyncio.sleep(0)
    assert len(got) == read, "frames due by t=5 arrived after advance returned"
    assert harness_clock.settled is True
    await harness_clock.advance(5)
    assert len(got) > read                                           # and it keeps reading
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_socketio_task_reads_its_candles(harness_server, harness_clock):
    sio = socketio.AsyncClient()
    candles, acks = [], []
    sio.on("ohlcv", candles.extend)

    async def client():
        await sio.connect(harness_server.urls["socketio"], auth={"api_key": "pd_test"})
        acks.append(await sio.call("subscribe_ohlcv", {"pool": POOL}))

    task = asyncio.create_task(client())
    await harness_clock.advance(10)
    assert acks and acks[0]["ok"] and candles, (acks, candles)
    seen = len(candles)
    history = await sio.call("ohlcv_history", {"pool": POOL, "limit": 500})  # an answer: after the events
    assert len(candles) == seen and history["data"]
    await task
    await sio.disconnect()


async def test_dropped_connections_are_cut_and_the_test_passes(harness_server, harness_clock):
    ws = await websockets.connect(harness_server.urls["websocket"])
    await ws.recv()
    await ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
    await ws.recv()
    assert harness_server.drop_connections(["corto"]) == {"corto": 1}
    with pytest.raises(websockets.ConnectionClosedError):
        while True:
            await ws.recv()
    await harness_clock.advance(5)                                   # the server goes on, no errors


def test_a_sync_test_advances_on_the_call(harness_clock):
    assert harness_clock.advance(3) == 3.0 == harness_clock.now()


async def test_an_advance_not_awaited_is_done_when_dropped(harness_server, harness_clock):
    harness_clock.advance(2)                                         # harness 0.x style: still works
    assert harness_clock.now() == 2.0
    assert await harness_clock.advance(1) == 3.0
"""


def test_client_tasks_read_while_the_clock_advances(pytester: pytest.Pytester) -> None:
    project(pytester, test_tasks=CLIENT_TASKS)
    result = pytester.runpytest("-p", "no:xdist", "-p", "no:randomly")
    result.assert_outcomes(passed=5)
