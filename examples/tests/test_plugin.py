"""The plugin's everyday tools on the sample clients: the network guard, the replay clock, and the
marker giving one test its own server settings."""

import asyncio

import pytest

from harness.core.pumpdata.config import PumpdataConfig
from harness.plugin import NetworkBlocked
from marketfeed import CandleBook, Poller

POOL = "F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Z"


def test_the_real_service_is_out_of_reach(harness_server):
    with pytest.raises(NetworkBlocked, match=r"frontend-api-v3\.pump\.fun"):
        Poller().get("/coins/latest")  # its default base URL: the real host
    assert harness_server.clear_blocked() == ["frontend-api-v3.pump.fun:443"]  # expected: taken


@pytest.mark.asyncio
async def test_a_candle_a_second_on_the_replay_clock(harness_server, harness_clock):
    async with CandleBook(harness_server.urls["socketio"], api_key="pd_test", pool=POOL) as book:
        await book.history()
        before = max(book.candles)
        await harness_clock.advance(10)  # ten seconds of the tape, at once
        await book.history()
    assert max(book.candles) - before >= 9000  # t is in ms
    assert all(candle.low <= candle.close <= candle.high for candle in book.candles.values())


@pytest.mark.asyncio
@pytest.mark.harness(pumpdata=PumpdataConfig(billing_error_after=5))
async def test_the_book_stops_when_the_wallet_runs_dry(harness_server, harness_clock):
    book = CandleBook(harness_server.urls["socketio"], api_key="pd_test", pool=POOL)

    async def trade_for_a_while():
        await book.ready.wait()
        await harness_clock.advance(30)

    async with asyncio.timeout(10):
        await asyncio.gather(book.run(), trade_for_a_while())  # run() ends: no reconnect
    assert book.stopped["error"] == "insufficient_balance"
