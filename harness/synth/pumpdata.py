"""The PumpData Socket.IO projection of a simulated market (contract §2, the PumpData subscribe_ohlcv page).

A client connects with ``auth.api_key`` (already redacted), subscribes with acks to the SOL
price, new tokens, migrations, and for two pools to 1-second OHLCV candles, trades and token
updates, asks for ``ohlcv_history`` once, and receives the events: ``trade`` (UI amounts, unix s),
``ohlcv`` (``[[t_ms, o, h, l, c, v]]`` at most once per second per pool, made from the trades by
:mod:`harness.core.ohlcv`, as the server emulation makes them), ``token_update`` (``priceUSD`` 0
until the first SOL/USD tick), ``new_token`` (name/symbol/creator/uri absent, not null, when the
create lacks them), ``migration`` and ``sol_price``.
"""

from __future__ import annotations

from typing import Any

from harness.core.frames import C2S, S2C, Frame, SioAck, SioConnect, SioEvent
from harness.core.ohlcv import CandleBook, Throttle
from harness.synth.market import (
    EPOCH_S,
    FAMILIES,
    LAMPORTS,
    SUPPLY_RAW,
    TOKEN_UNIT,
    WSOL,
    Launch,
    Market,
    Migration,
    SolPrice,
    Trade,
)

CONN = "sio-1"
API_KEY = "REDACTED-0c4e8a1f5b7d9e23"
"""What a recorded ``pd_...`` key looks like once redacted."""
PROTOCOLS = ["PUMPFUN", "PUMPSWAP"]
HISTORY_WINDOW_MS = 120_000


def _s(t: float) -> int:
    return int(EPOCH_S + t)


def trade_event(trade: Trade) -> dict[str, Any]:
    tok = trade.token
    price = trade.price_after
    return {
        "protocol": FAMILIES[tok.family][2],
        "pool": tok.curve,
        "mint": tok.mint,
        "signature": trade.signature,
        "is_buy": trade.is_buy,
        "token_amount": trade.tokens / TOKEN_UNIT,
        "quote_amount": trade.sol / LAMPORTS,
        "price": price,
        "marketcap": price * SUPPLY_RAW / TOKEN_UNIT,
        "wallet": trade.wallet,
        "timestamp": _s(trade.t),
    }


def token_update(trade: Trade, sol_usd: float | None) -> dict[str, Any]:
    """Contract §2.2: ``priceUSD`` and ``mcapUSD`` are 0 until the first SOL/USD tick."""
    event = trade_event(trade)
    return {
        "pool": trade.token.curve,
        "price": event["price"],
        "mcap": event["marketcap"],
        "quote": WSOL,
        "priceUSD": event["price"] * sol_usd if sol_usd else 0,
        "mcapUSD": event["marketcap"] * sol_usd if sol_usd else 0,
        "time": _s(trade.t),
    }


def new_token(launch: Launch) -> dict[str, Any]:
    tok = launch.token
    new: dict[str, Any] = {
        "protocol": FAMILIES[tok.family][2],
        "mint": tok.mint,
        "pool": tok.curve,
        "decimals": 6,
        "quote": WSOL,
        "supply": SUPPLY_RAW / TOKEN_UNIT,
        "timestamp": _s(launch.t),
    }
    if tok.has_metadata:  # contract §2.2: absent, not null, when the create lacks them
        new.update(name=tok.name, symbol=tok.symbol, creator=tok.creator, uri=tok.uri)
    return new


def migration(mig: Migration) -> dict[str, Any]:
    return {
        "protocol": FAMILIES[mig.token.family][2],
        "mint": mig.token.mint,
        "old_pool": mig.token.curve,
        "new_pool": mig.pool,
        "tx": mig.signature,
        "time": _s(mig.t),
    }


def project(market: Market) -> list[Frame]:
    frames: list[Frame] = []
    ack_id = 0

    def emit(t: float, name: str, payload: Any, ack: Any) -> None:
        nonlocal ack_id
        args: tuple[Any, ...] = () if payload is None else (payload,)
        frames.append(SioEvent(t=round(t, 6), conn=CONN, direction=C2S, name=name, args=args, ack_id=ack_id))
        frames.append(SioAck(t=round(t + 0.02, 6), conn=CONN, direction=S2C, ack_id=ack_id, args=(ack,)))
        ack_id += 1

    def event(t: float, name: str, payload: Any) -> None:
        frames.append(SioEvent(t=round(t, 6), conn=CONN, direction=S2C, name=name, args=(payload,)))

    frames.append(SioConnect(t=0.0, conn=CONN, namespace="/", auth={"api_key": API_KEY}))
    # State before the recording starts (the warm-up) seeds prices and candle histories.
    sol_usd: float | None = None
    books: dict[str, CandleBook] = {}
    pools: dict[str, Any] = {}
    for e in market.events:
        if e.t >= 0:
            break
        if isinstance(e, Launch | Trade):
            token = e.token
            pools[token.curve] = token
        trades = (
            [e.initial_buy]
            if isinstance(e, Launch) and e.initial_buy
            else [e]
            if isinstance(e, Trade)
            else []
        )
        for trade in trades:
            books.setdefault(trade.token.curve, CandleBook()).add_trade(
                _s(trade.t), trade.price_after, trade.sol / LAMPORTS
            )
    watched = [p for p in list(pools)[-2:]]
    snapshot = None  # the first SOL/USD tick comes after subscribing
    emit(0.2, "subscribe_sol_price", None, {"ok": True, "snapshot": snapshot})
    emit(0.3, "subscribe_new_tokens", {"protocols": PROTOCOLS}, {"ok": True, "protocols": PROTOCOLS})
    emit(0.4, "subscribe_migrations", {"protocols": ["PUMPFUN"]}, {"ok": True, "protocols": ["PUMPFUN"]})
    for i, pool in enumerate(watched):
        base = 0.5 + 0.1 * i
        emit(base, "subscribe_ohlcv", {"pool": pool}, {"ok": True, "pool": pool, "room": f"ohlcv:{pool}"})
        emit(
            base + 0.03,
            "subscribe_trades",
            {"pool": pool},
            {"ok": True, "pool": pool, "room": f"trades:{pool}"},
        )
        emit(
            base + 0.06,
            "subscribe",
            {"mint": pools[pool].mint},
            {"ok": True, "pool": pool, "room": f"token:{pool}"},
        )
    if watched:
        pool = watched[0]
        history = books.get(pool, CandleBook()).history(_s(0.75) * 1000, HISTORY_WINDOW_MS, 100)
        emit(0.75, "ohlcv_history", {"pool": pool, "limit": 100}, {"ok": True, "pool": pool, "data": history})
    throttles = {pool: Throttle() for pool in watched}
    subscribed_at = 1.0

    def flush(now: float) -> None:
        for pool, throttle in throttles.items():
            due = throttle.next_emit_at()
            if due is not None and due <= now:
                rows = throttle.emit(now, books[pool])
                if rows:
                    event(now, "ohlcv", rows)

    for e in market.events:
        if e.t < subscribed_at:
            continue
        # Candle emissions due before this event go out first, at their own times.
        for pool, throttle in throttles.items():
            due = throttle.next_emit_at()
            while due is not None and due < e.t:
                rows = throttle.emit(max(due, subscribed_at), books[pool])
                if rows:
                    event(max(due, subscribed_at) + 0.001, "ohlcv", rows)
                due = throttle.next_emit_at()
        if isinstance(e, SolPrice):
            sol_usd = e.usd
            event(e.t, "sol_price", {"price": e.usd, "time": _s(e.t)})
        elif isinstance(e, Launch):
            tok = e.token
            if FAMILIES[tok.family][2] in PROTOCOLS:
                event(e.t + 0.002, "new_token", new_token(e))
        elif isinstance(e, Trade) and e.token.curve in throttles:
            pool = e.token.curve
            payload = trade_event(e)
            event(e.t + 0.001, "trade", payload)
            price = e.price_after
            event(e.t + 0.002, "token_update", token_update(e, sol_usd))
            book = books.setdefault(pool, CandleBook())
            candle = book.add_trade(_s(e.t), price, e.sol / LAMPORTS)
            throttles[pool].changed(candle.t)
            flush(e.t + 0.003)
        elif isinstance(e, Migration) and e.token.family == "pump-fun":
            event(e.t + 0.002, "migration", migration(e))
    frames.sort(key=lambda f: f.t)
    return frames
