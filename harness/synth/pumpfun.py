"""The Pump.fun REST projection of a simulated market: a client polling as the Pump.fun polling guide does.

``/coins/latest`` and ``/trades/latest`` every 5 s, ``/coins/{mint}`` for two mints every 8 s,
``/trades/all/{mint}?limit=20&offset=0&minimumSize=0`` every 5 s, ``/sol-price`` every 10 s, and
``/coins`` (the ten newest, ``sort=created_timestamp&order=DESC``) and ``/trades/count/{mint}``
every 10 s,
with ``If-None-Match`` once the client holds an ETag: the server answers 304 (ETag, no body) when
the body is unchanged, so ETags change only when the data does. Every answer carries
``x-ratelimit-*`` headers of a fixed 120-per-60 s window, reset as seconds until the window ends.
Coins and trades follow contract §1.3 and 1.4 (lamports, raw token units, ms vs s), and vary
as real captures do: a third of the coins come in the 44-key shape of a ``/coins/latest`` body of
September 2025 (no ``usd_market_cap``, ``username`` or ``profile_image``, and a never-traded one's
``last_trade_timestamp`` null rather than absent).
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

from harness.core.etag import compute_etag
from harness.core.frames import Frame, HttpExchange, HttpRequest, HttpResponse
from harness.synth.market import (
    EPOCH_S,
    LAMPORTS,
    SUPPLY_RAW,
    TOKEN_UNIT,
    Launch,
    Market,
    SolPrice,
    Token,
    Trade,
)

CONN = "http-1"
RATE_LIMIT = 120
RATE_WINDOW = 60.0
COINS_PATH = "/coins?offset=0&limit=10&sort=created_timestamp&order=DESC&includeNsfw=false"
AUTH = "Bearer REDACTED-5f1d3c0b9a8e7d6c"
"""What a recorded bearer token looks like once redacted."""


def _body(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def coin(token: Token, last: Trade | None, t: float, sol_usd: float, variant: int) -> dict[str, Any]:
    """A coin object as ``/coins/{mint}`` returns it, at replay time ``t`` (contract §1.3)."""
    vsol = last.vsol_after if last else 30 * LAMPORTS
    vtok = last.vtokens_after if last else 1_073_000_000 * TOKEN_UNIT
    real_sol = last.real_sol_after if last else 0
    real_tok = last.real_tokens_after if last else 793_100_000 * TOKEN_UNIT
    mcap = (vsol / LAMPORTS) / (vtok / TOKEN_UNIT) * (SUPPLY_RAW / TOKEN_UNIT)
    complete = token.migrated_t is not None and token.migrated_t <= t
    created_ms = (EPOCH_S + token.created_t) * 1000
    empty: str | None = "" if variant % 2 else None  # contract §1.3: null or "" both seen
    body: dict[str, Any] = {
        "mint": token.mint,
        "name": token.name,
        "symbol": token.symbol,
        "description": "" if variant % 3 == 0 else f"{token.name} to the moon",
        "image_uri": token.image,
        "metadata_uri": token.uri,
        "twitter": empty,
        "telegram": empty,
        "bonding_curve": token.curve,
        "associated_bonding_curve": token.curve[::-1][:44] if len(token.curve) >= 43 else token.curve,
        "creator": token.creator,
        "created_timestamp": int(created_ms),
        "raydium_pool": None,
        "complete": complete,
        "virtual_sol_reserves": vsol,
        "virtual_token_reserves": vtok,
        "hidden": None,
        "total_supply": SUPPLY_RAW,
        "website": empty,
        "show_name": True,
        "last_trade_timestamp": int((EPOCH_S + last.t) * 1000) if last else None,
        "king_of_the_hill_timestamp": int((EPOCH_S + last.t) * 1000) if last and mcap > 60 else None,
        "market_cap": round(mcap, 9),
        "reply_count": int(abs(t - token.created_t) // 20),
        "last_reply": None,
        "nsfw": False,
        "market_id": None,
        "inverted": None,
        "is_currently_live": False,
        "username": None,
        "profile_image": None,
        "usd_market_cap": round(mcap * sol_usd, 2),
        "real_sol_reserves": real_sol,
        "real_token_reserves": real_tok,
        "ath_market_cap": round(mcap * 1.1, 6),
        "ath_market_cap_timestamp": int(created_ms),
        "video_uri": None,
        "banner_uri": None,
        "updated_at": int(EPOCH_S + max(token.created_t, last.t if last else token.created_t)),
        "pump_swap_pool": token.migrated_pool if complete else None,
        "program": "pump",
        "platform": None,
        "token_program": None,
        "mayhem_state": None,
        "is_banned": False,
        "initialized": True,
    }
    short = sum(map(ord, token.mint)) % 3 == 0  # the 44-key shape of September 2025
    if short:
        for key in ("usd_market_cap", "username", "profile_image"):
            del body[key]
    elif last is None:  # never traded: absent here (1.3), null in the short shape
        del body["last_trade_timestamp"]
    return body


def trade_item(trade: Trade, *, latest: bool) -> dict[str, Any]:
    """A trade of ``/trades/all/{mint}`` (or, ``latest``, of ``/trades/latest``: contract §1.4)."""
    item: dict[str, Any] = {
        "signature": trade.signature,
        "mint": trade.token.mint,
        "sol_amount": trade.sol,
        "token_amount": trade.tokens,
        "is_buy": trade.is_buy,
        "user": trade.wallet,
        "timestamp": int(EPOCH_S + trade.t),
    }
    if latest:
        item.update(symbol=trade.token.symbol, image_uri=trade.token.image, slot=trade.slot)
    else:
        item.update(tx_index=trade.tx_index, username=None, profile_image=None, slot=trade.slot)
    return item


class _State:
    """The market as a REST client could see it at a replay time."""

    def __init__(self, market: Market) -> None:
        self.events = market.events
        self.index = 0
        self.launches: list[Launch] = []
        self.trades: dict[str, list[Trade]] = {}
        self.last_trade: Trade | None = None
        self.sol_usd = 180.0

    def advance(self, t: float) -> None:
        while self.index < len(self.events) and self.events[self.index].t <= t:
            event = self.events[self.index]
            self.index += 1
            if isinstance(event, Launch) and event.token.family == "pump-fun":
                self.launches.append(event)
                if event.initial_buy is not None:
                    self._trade(event.initial_buy)
            elif isinstance(event, Trade) and event.token.family == "pump-fun":
                self._trade(event)
            elif isinstance(event, SolPrice):
                self.sol_usd = event.usd

    def _trade(self, trade: Trade) -> None:
        self.trades.setdefault(trade.token.mint, []).append(trade)
        self.last_trade = trade


def project(market: Market) -> list[Frame]:
    rng = random.Random(market.seed * 7919 + 1)
    state = _State(market)
    state.advance(0.0)
    watched = [launch.token for launch in state.launches[-2:]]
    if len(watched) < 2:
        later = [e.token for e in market.events if isinstance(e, Launch) and e.token.family == "pump-fun"]
        watched = (watched + later)[:2]
    polls: list[tuple[float, str]] = []
    for start, every, paths in (
        (0.1, 5.0, ["/coins/latest", "/trades/latest"]),
        (0.3, 8.0, [f"/coins/{tok.mint}" for tok in watched]),
        (0.5, 5.0, [f"/trades/all/{tok.mint}?limit=20&offset=0&minimumSize=0" for tok in watched[:1]]),
        (0.7, 10.0, ["/sol-price"]),
        (0.9, 10.0, [COINS_PATH, *(f"/trades/count/{tok.mint}?minimumSize=0" for tok in watched[:1])]),
    ):
        t = start
        while t < market.duration:
            polls += [(round(t + 0.01 * i, 3), path) for i, path in enumerate(paths)]
            t += every
    polls.sort()
    etags: dict[str, str] = {}
    frames: list[Frame] = []
    window_start: float | None = None
    used = 0
    for t, path in polls:
        state.advance(t)
        body = _render(path, state, watched, t)
        if body is None:
            continue
        if window_start is None or t >= window_start + RATE_WINDOW:
            window_start, used = t, 0
        used += 1
        reset = math.ceil(window_start + RATE_WINDOW - t)
        rate = (
            ("x-ratelimit-limit", str(RATE_LIMIT)),
            ("x-ratelimit-remaining", str(RATE_LIMIT - used)),
            ("x-ratelimit-reset", str(reset)),
        )
        etag = compute_etag(body)
        request_headers: tuple[tuple[str, str], ...] = (
            ("Accept", "application/json"),
            ("Authorization", AUTH),
        )
        if path in etags:
            request_headers += (("If-None-Match", etags[path]),)
        if etags.get(path) == etag:
            response = HttpResponse(304, (("ETag", etag), *rate), b"", "Not Modified")
        else:
            headers = (("Content-Type", "application/json; charset=utf-8"), ("ETag", etag), *rate)
            response = HttpResponse(200, headers, body, "OK")
            etags[path] = etag
        frames.append(
            HttpExchange(
                t=t,
                conn=CONN,
                request=HttpRequest("GET", path, request_headers),
                response=response,
                latency=round(rng.uniform(0.03, 0.15), 4),
            )
        )
    return frames


def _last(state: _State, token: Token) -> Trade | None:
    trades = state.trades.get(token.mint)
    return trades[-1] if trades else None


def _render(path: str, state: _State, watched: list[Token], t: float) -> bytes | None:
    if path == "/sol-price":
        return _body({"solPrice": round(state.sol_usd, 2)})
    if path == COINS_PATH:
        newest = [launch.token for launch in state.launches[::-1][:10]]
        return _body([coin(tok, _last(state, tok), t, state.sol_usd, len(tok.mint)) for tok in newest])
    if path == "/coins/latest":
        if not state.launches:
            return None
        token = state.launches[-1].token
        trades = state.trades.get(token.mint, [])
        return _body(coin(token, trades[-1] if trades else None, t, state.sol_usd, len(token.mint)))
    if path == "/trades/latest":
        return None if state.last_trade is None else _body(trade_item(state.last_trade, latest=True))
    for token in watched:
        if token.created_t > t:
            continue
        trades = state.trades.get(token.mint, [])
        if path == f"/coins/{token.mint}":
            return _body(coin(token, trades[-1] if trades else None, t, state.sol_usd, len(token.mint)))
        if path.startswith(f"/trades/count/{token.mint}"):
            return _body(len(trades))
        if path.startswith(f"/trades/all/{token.mint}"):
            return _body([trade_item(tr, latest=False) for tr in reversed(trades[-20:])])
    return None
