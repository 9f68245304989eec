"""Fuzz tests: Hypothesis draws fault schedules, the harness mixes them into the replayed services,
and each client must come through with its data right. A failure shrinks to the fewest, earliest,
simplest faults that break the client, and the report prints that schedule."""

from itertools import pairwise

import pytest
import requests
from hypothesis import given, settings

from harness import validate
from harness.strategies import fault_plans
from marketfeed import CandleBook, Poller, StreamSubscriber

POOL = "F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Z"
WAIT = 2.0  # seconds a healthy client needs to answer, at most: a broken one fails fast


def quickly(attempt):
    return 0.01  # reconnect at once: the replay clock stands still meanwhile


@pytest.mark.asyncio
@settings(max_examples=20, deadline=None)
@given(plan=fault_plans("corto", messages=30))
async def test_the_subscriber_survives_a_hostile_stream(harness_server, plan):
    harness_server.fuzz(plan)
    trades = []
    url = harness_server.urls["websocket"]
    async with StreamSubscriber(url, on_event=trades.append, retry_delay=quickly) as subscriber:
        for _ in range(15):  # the faults fall in the first seconds
            await harness_server.advance(1)
            await subscriber.current_state(WAIT)
        booked = len(trades)
        await harness_server.advance(5)
        state = await subscriber.current_state(WAIT)
    assert state["effectiveFilter"]["mode"] == "trades"  # subscribed, whatever happened
    assert len(trades) > booked  # and still booking
    keys = [(t["signature"], t["txType"]) for t in trades]
    assert len(set(keys)) == len(keys), "a trade booked twice"
    assert all(validate(trade, api="corto", family="trade") == [] for trade in trades)


@settings(max_examples=20, deadline=None)
@given(plan=fault_plans("pumpfun", kinds=["429", "5xx", "malformed"], messages=12))
def test_the_poller_rides_out_429_storms_and_broken_answers(harness_server, plan):
    harness_server.fuzz(plan)
    answers = []  # (replay time, status, Retry-After)

    def answered(response, **kwargs):
        answers.append((harness_server.now(), response.status_code, response.headers.get("Retry-After")))

    session = requests.Session()
    session.hooks["response"].append(answered)
    poller = Poller(harness_server.urls["rest"], session=session, sleep=harness_server.advance)
    for _ in range(3):
        assert validate(poller.get("/coins/latest"), api="pumpfun", family="coin") == []
        assert validate(poller.get("/trades/latest"), api="pumpfun", family="trade") == []
        harness_server.advance(5)
    for (t, status, retry_after), (later, _, _) in pairwise(answers):
        if status == 429:
            assert later >= t + float(retry_after), "asked again before Retry-After"


async def follow_candles(harness_server, plan):
    """The book's candles after 20 s of the pool under ``plan``, and PumpData's own."""
    harness_server.fuzz(plan)
    url = harness_server.urls["socketio"]
    async with CandleBook(url, api_key="pd_test", pool=POOL, retry_delay=quickly) as book:
        for _ in range(20):
            await harness_server.advance(1)
            await book.history(WAIT)  # answered after every candle sent before it
        truth = {candle.t: candle for candle in await book.history(WAIT)}
    return book.candles, truth


@pytest.mark.asyncio
@settings(max_examples=20, deadline=None)
@given(plan=fault_plans("pumpdata", kinds=["duplicate", "reorder", "delay"], messages=12))
async def test_the_candle_book_keeps_the_last_state_of_each_second(harness_server, plan):
    candles, truth = await follow_candles(harness_server, plan)
    assert {t: candles.get(t) for t in truth} == truth  # upserted by t: repeats, late ones change nothing


@pytest.mark.asyncio
@settings(max_examples=20, deadline=None)
@given(plan=fault_plans("pumpdata", messages=12))
async def test_the_candle_book_never_goes_wrong_and_catches_up(harness_server, plan):
    candles, truth = await follow_candles(harness_server, plan)
    for t in truth.keys() & candles.keys():  # a lost update leaves an earlier state of a second
        assert candles[t].volume <= truth[t].volume
        assert truth[t].low <= candles[t].low <= candles[t].high <= truth[t].high
    last = max(truth)
    assert candles[last] == truth[last]  # the faults are behind it: the book is current again
