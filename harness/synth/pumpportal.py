"""The PumpPortal data WebSocket projection of a simulated market (contract §4).

A client connects to ``/api/data`` with an ``api-key`` (already redacted), subscribes to new
tokens and to migrations, then to the token trades of every mint it hears of (the mints trading
when it connects, and each new one a moment after its create), as PumpPortal clients do. It
receives creates of pool ``pump`` (pump-fun launches) and ``bonk`` (letsbonk-fun launches; the
market's other families are not PumpPortal's), name/symbol/uri absent from some, the buys and
sells of the mints it subscribed to, and migrations to ``pump-amm``. Amounts are UI units,
``marketCapSol`` is vSol / vTokens x 1e9, and no frame has a timestamp.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

from harness.core.frames import C2S, S2C, Direction, Frame, WsOpen, WsText
from harness.core.pumpportal.families import PATH
from harness.core.pumpportal.session import ACKS
from harness.synth.market import (
    LAMPORTS,
    START_VSOL,
    START_VTOKENS,
    TOKEN_UNIT,
    Launch,
    Market,
    Migration,
    Trade,
)

CONN = "pp-1"
API_KEY = "REDACTED-5e1f0a9c3b7d2468"
POOLS = {"pump-fun": "pump", "letsbonk-fun": "bonk"}
"""The market's pool families PumpPortal shows, as its ``pool`` names them."""
MIGRATED_POOL = "pump-amm"
NO_METADATA = 0.05
"""Share of creates without name, symbol and uri (contract §4: 10 of 197)."""
SUBSCRIBE_DELAY = 0.2
"""Seconds between a create and the client's subscription to that mint's trades."""


def market_cap_sol(vsol: float, vtokens: float) -> float:
    """Contract §4: ``marketCapSol = vSol / vTokens x 1e9`` (UI units)."""
    return vsol / vtokens * 1e9


def create_event(launch: Launch, rng: random.Random) -> dict[str, Any]:
    tok, buy = launch.token, launch.initial_buy
    vsol = (buy.vsol_after if buy else START_VSOL) / LAMPORTS
    vtokens = (buy.vtokens_after if buy else START_VTOKENS) / TOKEN_UNIT
    bought = (buy.tokens if buy else 0) / TOKEN_UNIT
    event: dict[str, Any] = {
        "signature": launch.signature,
        "mint": tok.mint,
        "traderPublicKey": tok.creator,
        "txType": "create",
        "initialBuy": bought,
        "solAmount": (buy.sol if buy else 0) / LAMPORTS,
    }
    pool = POOLS[tok.family]
    if pool == "pump":
        event.update(bondingCurveKey=tok.curve, vTokensInBondingCurve=vtokens, vSolInBondingCurve=vsol)
    else:
        event.update(
            solInPool=(buy.real_sol_after if buy else 0) / LAMPORTS,
            tokensInPool=(buy.real_tokens_after if buy else tok.real_tokens) / TOKEN_UNIT,
            newTokenBalance=bought,
        )
    event["marketCapSol"] = market_cap_sol(vsol, vtokens)
    if rng.random() >= NO_METADATA:
        event.update(name=tok.name, symbol=tok.symbol, uri=tok.uri)
    if pool == "pump":
        event["is_mayhem_mode"] = rng.random() < 0.02
    event["pool"] = pool
    return event


def trade_event(trade: Trade, balance: float) -> dict[str, Any]:
    vsol, vtokens = trade.vsol_after / LAMPORTS, trade.vtokens_after / TOKEN_UNIT
    return {
        "signature": trade.signature,
        "mint": trade.token.mint,
        "traderPublicKey": trade.wallet,
        "txType": "buy" if trade.is_buy else "sell",
        "tokenAmount": trade.tokens / TOKEN_UNIT,
        "solAmount": trade.sol / LAMPORTS,
        "newTokenBalance": balance,
        "bondingCurveKey": trade.token.curve,
        "vTokensInBondingCurve": vtokens,
        "vSolInBondingCurve": vsol,
        "marketCapSol": market_cap_sol(vsol, vtokens),
        "pool": POOLS[trade.token.family],
    }


def migrate_event(mig: Migration) -> dict[str, Any]:
    return {"signature": mig.signature, "mint": mig.token.mint, "txType": "migrate", "pool": MIGRATED_POOL}


def project(market: Market) -> list[Frame]:
    """The frames of one PumpPortal client connection over the market's recorded span."""
    rng = random.Random(market.seed * 7919 + 5)
    frames: list[Frame] = [
        WsOpen(t=0.0, conn=CONN, url=f"{PATH}?api-key={API_KEY}", headers=(("User-Agent", "harness-synth"),))
    ]

    def text(t: float, direction: Direction, msg: dict[str, Any]) -> None:
        data = json.dumps(msg, separators=(",", ":"), ensure_ascii=False)
        frames.append(WsText(t=round(t, 6), conn=CONN, direction=direction, data=data))

    def ask(t: float, method: str, keys: list[str] | None = None) -> float:
        text(t, C2S, {"method": method, "keys": keys} if keys is not None else {"method": method})
        text(t + 0.02, S2C, {"message": ACKS[method]})
        return t + 0.02

    creates_from = ask(0.3, "subscribeNewToken")
    migrations_from = ask(0.4, "subscribeMigration")
    # the mints already trading when the client connects
    trading = [e.token for e in market.events if isinstance(e, Launch) and e.t < 0.5]
    shown = [tok.mint for tok in trading if tok.family in POOLS]
    since: dict[str, float] = {}
    if shown:
        at = ask(0.5, "subscribeTokenTrade", shown)
        since.update(dict.fromkeys(shown, at))
    balances: Counter[tuple[str, str]] = Counter()
    for event in market.events:
        tok = event.token if isinstance(event, (Launch, Trade, Migration)) else None
        if tok is None or tok.family not in POOLS:
            continue
        if isinstance(event, Trade):
            held = (event.wallet, tok.mint)
            balances[held] = max(0, balances[held] + (event.tokens if event.is_buy else -event.tokens))
            if since.get(tok.mint, float("inf")) <= event.t:
                text(event.t + 0.003, S2C, trade_event(event, balances[held] / TOKEN_UNIT))
        elif isinstance(event, Launch):
            if event.initial_buy is not None:
                balances[(tok.creator, tok.mint)] += event.initial_buy.tokens
            if event.t < creates_from:
                continue
            text(event.t + 0.003, S2C, create_event(event, rng))
            if event.t + SUBSCRIBE_DELAY < market.duration:
                since[tok.mint] = ask(event.t + SUBSCRIBE_DELAY, "subscribeTokenTrade", [tok.mint])
        elif isinstance(event, Migration) and tok.family == "pump-fun" and event.t >= migrations_from:
            text(event.t + 0.003, S2C, migrate_event(event))
    frames.sort(key=lambda f: f.t)
    return frames
