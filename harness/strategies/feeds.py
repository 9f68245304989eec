"""Whole feeds: one client's conversation with an API, frame by frame, with timing.

A drawn market (launches, trades on their curves, SOL price ticks, a graduation and its
migration) projected into the API's conversation shape:

* corto: WebSocket open, the handshake, a drawn subscribe and its ``subscription_ack`` (the
  answers of the session the server runs), maybe a second request (unsubscribe, current_state,
  ping), then exactly the events the filter selects at their detail level, then a close;
* PumpData: Socket.IO connect, subscriptions emitted with acks, then the events of the rooms
  joined (``trade``, ``token_update``, 1-second ``ohlcv`` candles, ``new_token``,
  ``migration``, ``sol_price``), as :mod:`harness.synth.pumpdata` projects them;
* Pump.fun REST: a client polling ``/coins/latest``, ``/coins/{mint}``, ``/trades/...`` and
  ``/sol-price`` with ``If-None-Match``: 200s with ETags, 304s while nothing changed,
  ``x-ratelimit-*`` on every answer (:mod:`harness.synth.pumpfun`).

Times only grow; one connection id per feed. A :class:`Feed` is what a tape holds
(``feed.write(path)``: ``harness serve`` replays it and ``harness validate`` passes it) and what
a client receives (``feed.received()``, for a user's own parser).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from harness.core.corto.config import CortoConfig
from harness.core.corto.recorded import Observed
from harness.core.corto.session import Close, SendJson, Session, projected
from harness.core.frames import (
    C2S,
    S2C,
    Frame,
    HttpExchange,
    SioAck,
    SioEvent,
    TapeHeader,
    WsClose,
    WsOpen,
    WsText,
)
from harness.strategies.families import subscribe_requests, unsubscribe_requests
from harness.strategies.market import launched
from harness.synth import corto, pumpdata, pumpfun, tape_header
from harness.synth.market import LAMPORTS, Market, SolPrice, graduate, swap

APIS = ("corto", "pumpdata", "pumpfun")


@dataclass(frozen=True, slots=True)
class Feed:
    """One client's conversation with ``api``: ``frames`` in time order, as a tape holds them."""

    api: str
    header: TapeHeader
    frames: tuple[Frame, ...]

    def received(self) -> list[Any]:
        """What the client received, in order, decoded: corto messages, PumpData ``(event,
        payload)`` pairs and ack payloads, REST ``(status, body or None)`` answers."""
        out: list[Any] = []
        for frame in self.frames:
            if isinstance(frame, WsText) and frame.direction is S2C:
                out.append(json.loads(frame.data))
            elif isinstance(frame, SioEvent) and frame.direction is S2C:
                out.append((frame.name, frame.args[0] if frame.args else None))
            elif isinstance(frame, SioAck):
                out.append(("ack", frame.args[0] if frame.args else None))
            elif isinstance(frame, HttpExchange):
                body = frame.response.body
                out.append((frame.response.status, json.loads(body) if body else None))
        return out

    def write(self, path: Path | str) -> Path:
        """Write the feed as a tape (``harness serve`` replays it; ``harness validate`` passes it)."""
        from harness.store import dump_tape

        return dump_tape(path, self.header, list(self.frames))


@st.composite
def markets(draw: st.DrawFn, max_events: int = 30) -> Market:
    """A market of a few tokens: launched before the conversation starts and during it, traded
    on their curves, one maybe bought out and migrated; the SOL price ticks."""
    market = Market(draw(st.integers(0, 2**32 - 1)), 0.0)
    t = -float(draw(st.integers(5, 60)))
    for pool in ["pump-fun", *draw(st.lists(st.sampled_from(["pump-fun", "letsbonk-fun"]), max_size=1))]:
        launch = draw(launched(market, t, pool))
        market.events.append(launch)
        t += draw(st.integers(1, 4))
    t = 1.0
    actions = st.sampled_from(["buy", "buy", "sell", "launch", "price", "whale"])
    for gap_ms, action in draw(st.lists(st.tuples(st.integers(1, 4000), actions), max_size=max_events)):
        t = round(t + gap_ms / 1000, 3)
        live = [token for token in market.tokens if not token.complete]
        if action == "launch" or not live:
            market.events.append(draw(launched(market, t)))
        elif action == "price":
            market.sol_usd = round(market.sol_usd * (1 + draw(st.integers(-20, 20)) / 1000), 4)
            market.events.append(SolPrice(t, market.sol_usd))
        else:
            token = draw(st.sampled_from(live))
            sol = 90 * LAMPORTS if action == "whale" else draw(st.integers(LAMPORTS // 200, 5 * LAMPORTS))
            wallet = draw(st.sampled_from(market.wallets))
            trade = swap(market, token, t, is_buy=action != "sell", sol=sol, wallet=wallet)
            if trade is not None:
                market.events.append(trade)
                migration = graduate(market, token, t, until=t + 10)
                if migration is not None:
                    market.events.append(migration)
    market.events.sort(key=lambda event: event.t)
    market.duration = max(t + 1.0, float(draw(st.integers(5, 30))))
    return market


LATENCY = 0.003
"""Seconds from the server's send to the client's receipt, the same for answers and events (a
server's messages arrive in the order it sent them)."""


@st.composite
def corto_frames(draw: st.DrawFn, market: Market) -> list[Frame]:
    subscribed = draw(st.integers(50, 900)) / 1000
    subscribe = draw(subscribe_requests())
    later = draw(
        st.none()
        | st.tuples(
            st.floats(1.0, market.duration),
            unsubscribe_requests()
            | subscribe_requests()
            | st.sampled_from([{"type": "current_state"}, {"type": "ping"}]),
        )
    )
    return corto_conversation(market, (subscribed, subscribe), later)


Request = tuple[float, dict[str, Any]]


def corto_conversation(market: Market, subscribe: Request, later: Request | None) -> list[Frame]:
    """The frames of a Data Stream client that sends ``subscribe`` (at its time), then maybe
    ``later``, over ``market``, as the client sees them: in time order."""
    conn = "ws-1"
    session = Session(CortoConfig(), Observed(), 0.0)
    frames: list[Frame] = [WsOpen(0.0, conn, "/data-stream", (("User-Agent", "harness-strategies"),))]

    def say(t: float, outputs: list[Any]) -> None:
        for output in outputs:
            assert isinstance(output, SendJson), output
            data = json.dumps(output.message, separators=(",", ":"))
            frames.append(WsText(round(t, 6), conn, S2C, data))

    def ask(t: float, request: dict[str, Any]) -> None:
        text = json.dumps(request, separators=(",", ":"))
        frames.append(WsText(round(t, 6), conn, C2S, text))
        say(t + LATENCY, session.receive_text(text, t))

    say(0.02, [SendJson(session.handshake())])
    subscribed = subscribe[0]
    ask(*subscribe)
    rng = random.Random(market.seed)
    for t, event in corto.events(market, rng, since=subscribed + 0.03):
        if later is not None and later[0] <= t:
            ask(*later)
            later = None
        if session.filter.selects(event):
            data = json.dumps(projected(event, session.detail), separators=(",", ":"))
            frames.append(WsText(round(t + LATENCY, 6), conn, S2C, data))
    if later is not None:
        ask(*later)
    # A request can be sent while an event sent before it is still on its way: in time order, as
    # the client saw them (a stable sort: an answer stays before an event sent after it).
    frames.sort(key=lambda frame: frame.t)
    end = round(max(market.duration, frames[-1].t) + 0.5, 6)
    frames += [WsClose(end, conn, C2S, 1000, ""), WsClose(round(end + 0.001, 6), conn, S2C, 1000, "")]
    assert not any(isinstance(f, Close) for f in frames)
    return frames


@st.composite
def feeds(draw: st.DrawFn, api: str, max_events: int = 30) -> Feed:
    """One client's conversation with ``api`` over a drawn market of up to ``max_events`` market
    events (see the module docstring for each API's shape), as a :class:`Feed`.

    >>> from harness.strategies import feeds
    >>> feed = feeds("corto").example()
    >>> feed.received()[0]["name"]
    'handshake'
    """
    if api not in APIS:
        raise ValueError(f"unknown api {api!r} (known: {', '.join(APIS)})")
    market = draw(markets(max_events))
    if api == "corto":
        frames = draw(corto_frames(market))
    elif api == "pumpdata":
        frames = pumpdata.project(market)
    else:
        frames = pumpfun.project(market)
    return Feed(api, tape_header(api, "strategies"), tuple(frames))
