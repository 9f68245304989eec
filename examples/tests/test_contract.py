"""Contract tests: each client against the services as recorded, replayed offline by the harness
plugin on a clock that moves only when the test says. The server checks every message against the
services' contract, and a test during which one broke it fails."""

from itertools import pairwise

import pytest
import requests

from harness import validate
from marketfeed import CandleBook, Poller, StreamSubscriber, SubscriptionRefused

POOL = "F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Z"  # a pool the tapes trade


def test_the_poller_revalidates_with_the_etag_it_was_given(harness_server):
    answers = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **kwargs: answers.append(response))
    poller = Poller(harness_server.urls["rest"], session=session, sleep=harness_server.advance)

    coin = poller.get("/coins/latest")
    assert poller.get("/coins/latest") == coin  # unchanged: a 304 and the body it had
    first, again = answers
    assert (first.status_code, again.status_code) == (200, 304)
    assert again.request.headers["If-None-Match"] == first.headers["ETag"]  # W/"..." verbatim
    assert validate(coin, api="pumpfun", family="coin") == []

    harness_server.advance(10)  # the tape's coin changes
    assert poller.get("/coins/latest") != coin and answers[-1].status_code == 200


@pytest.mark.asyncio
async def test_the_subscriber_books_each_trade_once(harness_server):
    trades = []
    async with StreamSubscriber(harness_server.urls["websocket"], on_event=trades.append) as subscriber:
        await subscriber.subscribed.wait()
        await harness_server.advance(20)
        state = await subscriber.current_state()  # everything sent before it has been read
    assert state["effectiveFilter"]["mode"] == "trades"
    assert len(trades) > 50 and {trade["txType"] for trade in trades} == {"buy", "sell"}
    assert len({trade["signature"] for trade in trades}) == len(trades)
    assert all(validate(trade, api="corto", family="trade") == [] for trade in trades)


@pytest.mark.asyncio
async def test_a_subscription_the_service_refuses_ends_the_subscriber(harness_server):
    wrong = {"type": "subscribe", "mode": "trades", "create": {"detail": "wide"}}
    with pytest.raises(SubscriptionRefused, match="Unknown create detail level"):
        await StreamSubscriber(harness_server.urls["websocket"], wrong).run()
    # The server saw the broken rule too; not taken here, it would fail the test at teardown.
    (violation,) = harness_server.clear_violations()
    assert (violation.pointer, violation.rule) == ("/create/detail", "enum")


@pytest.mark.asyncio
async def test_the_candle_book_matches_pumpdatas_history(harness_server):
    async with CandleBook(harness_server.urls["socketio"], api_key="pd_test", pool=POOL) as book:
        await harness_server.advance(30)
        history = await book.history()  # answered after every candle sent before it
    assert len(history) >= 25
    assert all(book.candles[candle.t] == candle for candle in history)
    assert all(b.t - a.t >= 1000 for a, b in pairwise(history))
