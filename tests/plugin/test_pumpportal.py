"""The pytest plugin serves PumpPortal's data WebSocket as it does the other APIs: its URL is in
``harness_server.urls``, a test's client subscribes and the clock it moves delivers the feed."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.synth import write
from tests.plugin.inner import project

TEST = """
import json

import pytest
import websockets


@pytest.mark.harness("tapes/pumpportal.jsonl")
async def test_new_tokens_and_trades(harness_server, harness_clock):
    url = harness_server.urls["pumpportal"]
    assert url.endswith("/api/data")
    async with websockets.connect(url + "?api-key=k") as ws:
        await ws.send(json.dumps({"method": "subscribeNewToken"}))
        assert json.loads(await ws.recv()) == {"message": "Successfully subscribed to token creation events."}
        await harness_clock.advance(120)
        assert json.loads(await ws.recv())["txType"] == "create"


@pytest.mark.harness("tapes/pumpportal.jsonl")
async def test_a_trade_subscription_without_a_key_is_refused(harness_server):
    async with websockets.connect(harness_server.urls["pumpportal"]) as ws:
        await ws.send(json.dumps({"method": "subscribeAccountTrade", "keys": ["1" * 32]}))
        assert "funded with at least 0.02 SOL" in json.loads(await ws.recv())["message"]
"""


def test_harness_server_serves_pumpportal(pytester: pytest.Pytester) -> None:
    write(Path(pytester.path) / "tapes", 7, 120.0, ("pumpportal",))
    project(pytester, test_pumpportal=TEST)
    pytester.runpytest().assert_outcomes(passed=2)
