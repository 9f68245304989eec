"""Valid, realistic messages of every family ``harness validate --list`` names.

Built by hand from the contract (contract §1-3), with the schemas as the check: a property
test validates every family's messages. Events come from :mod:`harness.strategies.market`'s
curve through :mod:`harness.synth`'s projections (the shapes ``harness synth`` writes), so
lamports and SOL, raw and UI token amounts, prices, market caps and reserves agree; service
answers come from the corto session the server runs (:class:`harness.core.corto.session.Session`);
PumpData acks and errors from its rules. The schema-derived alternative (hypothesis-jsonschema)
would give values that validate but agree with nothing: a price unrelated to its amounts, a
``txType`` of ``buy`` on a migration's pool.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from harness.core.corto.config import CortoConfig
from harness.core.corto.detail import Detail, project
from harness.core.corto.filters import DELIVERABLE, QUICK
from harness.core.corto.recorded import Observed
from harness.core.corto.session import SendJson, Session
from harness.core.ohlcv import CandleBook
from harness.core.pumpdata.rules import PROTOCOLS, Code, Failure, room
from harness.strategies.market import Scene, launched, launches, migrations, scenes
from harness.strategies.pumpportal import pumpportal_strategies
from harness.strategies.values import (
    dotted_pools,
    mints,
    pubkeys,
    replay_times,
    signatures,
    sol_usd,
    unix_s,
)
from harness.synth import corto, pumpdata, pumpfun
from harness.synth.market import EPOCH_S, LAMPORTS, Market, swap

Strategy = st.SearchStrategy[Any]
CREATE_LEVELS = ("create.min", "create.mid", "create.full")


def _rng(draw: st.DrawFn) -> random.Random:
    return random.Random(draw(st.integers(0, 2**32 - 1)))


# --- corto.fun Data Stream (contract §3) ------------------------------------------------------


@st.composite
def corto_create(draw: st.DrawFn, detail: Detail) -> dict[str, Any]:
    """A create at ``detail``: exactly the 13 min keys, the mid set, or all 87 (3.6)."""
    _, launch = draw(launches())
    return project(corto.create_event(launch, _rng(draw)), detail)


@st.composite
def corto_trade(draw: st.DrawFn) -> dict[str, Any]:
    scene = draw(scenes())
    assert scene.trade is not None
    return corto.trade_event(scene.trade)


@st.composite
def corto_pool_event(draw: st.DrawFn, family: str) -> dict[str, Any]:
    """The migration, createPool and liquidity add of a graduation (3.6); a liquidity event may
    be the later ``remove``; burn is the reserved template (never emitted, 3.6)."""
    migrate, create_pool, add = (event for _, event in corto.migration_events(draw(migrations())))
    if family == "migration":
        return migrate
    if family == "createPool":
        return create_pool
    if family == "liquidity" and draw(st.booleans()):
        return add
    share = draw(st.integers(1, 100)) / 100
    remove = {**add, "txType": "remove", "instructionName": "withdraw", "signature": draw(signatures())}
    remove.update(baseAmount=add["baseAmount"] * share, quoteAmount=add["quoteAmount"] * share)
    if family == "liquidity":
        return remove
    burn = {**remove, "schemaVersion": "burn_event_v1", "txType": "burn", "instructionName": "burn"}
    return {**burn, "burnScope": "unknown", "lpMint": None, "lpAmount": None}


def subscribe_requests() -> Strategy:
    """A subscribe: quick mode, or focused events and dotted pools, with or without a detail (3.2)."""
    detail = st.sampled_from(["min", "mid", "full"]).map(lambda d: {"create": {"detail": d}})
    quick = st.sampled_from(sorted(QUICK)).map(lambda mode: {"type": "subscribe", "mode": mode})
    focused = st.fixed_dictionaries(
        {"type": st.just("subscribe")},
        optional={
            "events": st.lists(st.sampled_from(["trade", *DELIVERABLE]), min_size=1, max_size=4, unique=True),
            "pools": st.lists(dotted_pools(), min_size=1, max_size=3, unique=True),
        },
    )
    return st.tuples(quick | focused, st.just({}) | detail).map(lambda pair: {**pair[0], **pair[1]})


def unsubscribe_requests() -> Strategy:
    """An unsubscribe by events and/or pools, or a bare one that clears everything (3.2)."""
    return st.fixed_dictionaries(
        {"type": st.just("unsubscribe")},
        optional={
            "events": st.lists(st.sampled_from(["trade", *DELIVERABLE]), min_size=1, max_size=3, unique=True),
            "pools": st.lists(dotted_pools(), min_size=1, max_size=2, unique=True),
        },
    )


@st.composite
def corto_service(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """What the server's session answers, after a drawn subscribe or none (3.3)."""
    session = Session(CortoConfig(), Observed(), 0.0)
    if name == "handshake":
        return session.handshake()
    subscribed = draw(st.booleans())
    if subscribed or name == "subscription_ack":
        outputs = session.receive_text(json.dumps(draw(subscribe_requests())), 0.5)
    if name == "subscription_ack" and draw(st.booleans()):
        outputs = session.receive_text(json.dumps(draw(unsubscribe_requests())), 1.0)
    if name == "current_state":
        outputs = session.receive_text('{"type":"current_state"}', 1.0)
    if name == "error":
        bad = draw(st.sampled_from(BAD_REQUESTS))
        outputs = session.receive_text(bad, 1.0)
    (answer,) = outputs
    assert isinstance(answer, SendJson)
    return dict(answer.message)


BAD_REQUESTS = (
    '{"type":"subscribe","mode":"all","create":{"detail":"wide"}}',
    '{"type":"subscribe","mode":"all","events":["create"]}',
    '{"type":"subscribe","mode":"everything"}',
    '{"type":"subscribe","events":["swap"]}',
    '{"type":"subscribe","pools":["pump-fun"]}',
    '{"type":"subscribe","events":[]}',
    '{"type":"unsubscribe","mode":"all"}',
    '{"type":"hello"}',
    '{"type":"subscribe"',
)
"""Requests the service refuses with an ``error`` (3.3, and the errors of docs/guides/replay.md)."""


def _corto() -> dict[str, Strategy]:
    return {
        "request.subscribe": subscribe_requests(),
        "request.unsubscribe": unsubscribe_requests(),
        "request.current_state": st.just({"type": "current_state"}),
        "request.ping": st.just({"type": "ping"}),
        **{name: corto_service(name) for name in ("handshake", "subscription_ack", "current_state", "error")},
        "pong": st.just({"type": "pong"}),
        **{level: corto_create(Detail(level.split(".")[1])) for level in CREATE_LEVELS},
        "create": st.sampled_from(list(Detail)).flatmap(corto_create),
        "trade": corto_trade(),
        **{family: corto_pool_event(family) for family in ("migration", "createPool", "liquidity", "burn")},
    }


# --- PumpData Socket.IO (contract §2) ---------------------------------------------------------


def targets() -> Strategy:
    """``{mint}`` or ``{pool}``: what a subscription names (2.2)."""
    return st.one_of(
        mints("pump-fun").map(lambda m: {"mint": m}),
        pubkeys().map(lambda p: {"pool": p}),
    )


def protocol_lists(default: tuple[str, ...] = PROTOCOLS) -> Strategy:
    return st.lists(st.sampled_from(default), min_size=1, max_size=len(default), unique=True)


@st.composite
def candles(draw: st.DrawFn) -> list[list[Any]]:
    """1-second candles made from trades on one curve by the server's bucketing (2.2, 2.4)."""
    scene = draw(scenes())
    assert scene.trade is not None
    book = CandleBook()
    t = scene.trade.t
    for offset in range(draw(st.integers(1, 4))):
        trade = scene.trade if offset == 0 else None
        price = trade.price_after if trade else scene.trade.price_after * (1 + offset / 100)
        volume = (trade.sol if trade else draw(st.integers(1, 5 * LAMPORTS))) / LAMPORTS
        book.add_trade(int(EPOCH_S + t) + draw(st.integers(0, 2)) * offset, price, volume)
    return [c.row() for c in sorted(book.candles.values(), key=lambda c: c.t)]


@st.composite
def pumpdata_event(draw: st.DrawFn, name: str) -> Any:
    if name == "new_token":
        return pumpdata.new_token(draw(launches())[1])
    if name == "migration":
        return pumpdata.migration(draw(migrations("pump-fun")))
    scene: Scene = draw(scenes())
    assert scene.trade is not None
    if name == "trade":
        return pumpdata.trade_event(scene.trade)
    if name == "token_update":
        return pumpdata.token_update(scene.trade, draw(st.none() | st.just(scene.sol_usd)))
    raise ValueError(name)


@st.composite
def acks(draw: st.DrawFn) -> dict[str, Any]:
    """A successful ack, shaped as the server answers each call (2.2)."""
    pool = draw(pubkeys())
    kind = draw(st.sampled_from(["ohlcv", "trades", "token", "new_tokens", "sol_price"]))
    if kind == "new_tokens":
        return {"ok": True, "protocols": draw(protocol_lists())}
    if kind == "sol_price":
        snapshot = draw(st.none() | st.builds(lambda p, t: {"price": p, "time": t}, sol_usd(), unix_s()))
        return {"ok": True, "snapshot": snapshot}
    return {"ok": True, "pool": pool, "room": room(kind, pool)}


def _pumpdata() -> dict[str, Strategy]:
    targeted = {
        name: targets()
        for name in (
            "subscribe_ohlcv", "unsubscribe_ohlcv", "subscribe_trades", "unsubscribe_trades",
            "subscribe", "unsubscribe",
        )
    }  # fmt: skip
    no_args: Strategy = st.none() | st.just({})
    failures = st.sampled_from(
        [
            Failure(Code.INVALID_REQUEST, "mint or pool is required"),
            Failure(Code.NOT_FOUND, "no active pool for this mint"),
            Failure(Code.UNAVAILABLE, "transient backend error; safe to retry"),
            Failure(Code.LIMIT_EXCEEDED, "too many subscriptions on this connection"),
        ]
    )
    return {
        **targeted,
        "ohlcv_history": st.tuples(
            targets(), st.just({}) | st.integers(1, 500).map(lambda n: {"limit": n})
        ).map(lambda pair: {**pair[0], **pair[1]}),
        "subscribe_new_tokens": protocol_lists().map(lambda p: {"protocols": p}),
        "subscribe_migrations": protocol_lists(("PUMPFUN",)).map(lambda p: {"protocols": p}),
        "subscribe_sol_price": no_args,
        "unsubscribe_new_tokens": st.none() | protocol_lists().map(lambda p: {"protocols": p}),
        "unsubscribe_sol_price": no_args,
        "ack": acks(),
        "ack_error": failures.map(lambda f: f.payload()),
        "ohlcv": candles(),
        "ohlcv_history_ack": st.tuples(pubkeys(), candles()).map(
            lambda pair: {"ok": True, "pool": pair[0], "data": pair[1]}
        ),
        "trade": pumpdata_event("trade"),
        "token_update": pumpdata_event("token_update"),
        "new_token": pumpdata_event("new_token"),
        "migration": pumpdata_event("migration"),
        "sol_price": st.builds(lambda p, t: {"price": p, "time": t}, sol_usd(), unix_s()),
        "billing_error": st.just({"error": "insufficient_balance", "message": "wallet balance is exhausted"})
        | st.just("insufficient balance"),
    }


# --- Pump.fun REST (contract §1) --------------------------------------------------------------


def _leave_out(draw: st.DrawFn, found: list[dict[str, Any]], most: int) -> list[dict[str, Any]]:
    """``found`` without up to ``most`` drawn optional keys, the same ones in every coin: the key
    set varies by endpoint (1.3), and one endpoint's answer leaves out the same keys."""
    optional = sorted({k for coin in found for k in coin} - {"mint", "name", "symbol"})
    if not optional:
        return found
    dropped = set(draw(st.lists(st.sampled_from(optional), max_size=most, unique=True)))
    return [{k: v for k, v in coin.items() if k not in dropped} for coin in found]


@st.composite
def coins(draw: st.DrawFn) -> dict[str, Any]:
    """A coin as ``/coins/{mint}`` shows it, some of its optional keys left out (1.3)."""
    scene = draw(scenes("pump-fun"))
    coin = pumpfun.coin(scene.token, scene.trade, scene.t, scene.sol_usd, draw(st.integers(0, 5)))
    return _leave_out(draw, [coin], 12)[0]


@st.composite
def coin_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    """``/coins``: a page of the coins of one market as they stood at one moment, newest first,
    or an empty page (1.2). Its coins show that moment's SOL/USD price and leave out the same
    keys (1.3: ``/coins`` items were seen with 33 keys, fewer than ``/coins/{mint}`` shows)."""
    market = Market(draw(st.integers(0, 2**32 - 1)), 0.0)
    now = draw(replay_times())
    usd = draw(sol_usd())
    page: dict[str, dict[str, Any]] = {}
    for _ in range(draw(st.integers(0, 5))):
        created = max(0.0, round(now - draw(st.integers(0, 3_600_000)) / 1000, 3))
        launch = draw(launched(market, created, "pump-fun"))
        last = launch.initial_buy
        if draw(st.booleans()):  # bought since its launch
            t = round(created + draw(st.integers(0, round((now - created) * 1000))) / 1000, 3)
            sol = draw(st.integers(LAMPORTS // 100, 2 * LAMPORTS))
            wallet = draw(st.sampled_from(market.wallets))
            last = swap(market, launch.token, t, is_buy=True, sol=sol, wallet=wallet) or last
        coin = pumpfun.coin(launch.token, last, now, usd, draw(st.integers(0, 5)))
        page.setdefault(coin["mint"], coin)  # one item per mint
    newest = sorted(page.values(), key=lambda coin: -coin["created_timestamp"])
    return _leave_out(draw, newest, 16)


@st.composite
def pumpfun_trades(draw: st.DrawFn, latest: bool | None = None) -> dict[str, Any]:
    scene = draw(scenes("pump-fun"))
    assert scene.trade is not None
    return pumpfun.trade_item(scene.trade, latest=draw(st.booleans()) if latest is None else latest)


@st.composite
def trade_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    """``/trades/all/{mint}``: the trades of one mint, newest first (1.4)."""
    scene = draw(scenes("pump-fun"))
    market, token = scene.market, scene.token
    assert scene.trade is not None
    trades = [scene.trade]
    for _ in range(draw(st.integers(0, 5))):
        t = round(trades[-1].t + draw(st.integers(1, 20_000)) / 1000, 3)
        buy = draw(st.booleans())
        sol = draw(st.integers(LAMPORTS // 100, 2 * LAMPORTS))
        wallet = draw(st.sampled_from(market.wallets))
        trade = swap(market, token, t, is_buy=buy, sol=sol, wallet=wallet)
        if trade is not None:
            trades.append(trade)
    return [pumpfun.trade_item(trade, latest=False) for trade in reversed(trades)]


def numbers(max_value: int = 1000) -> st.SearchStrategy[str]:
    return st.integers(0, max_value).map(str)


def _pumpfun() -> dict[str, Strategy]:
    minimum = st.one_of(numbers(10**10), st.sampled_from(["0.5", "1e9", "100000000"]))
    booleans = st.sampled_from(["true", "false"])
    return {
        "coin": coins(),
        "trade": pumpfun_trades(),
        "trade_list": trade_lists(),
        "coin_list": coin_lists(),
        "sol_price": sol_usd().map(lambda usd: {"solPrice": usd}),
        "error": st.one_of(
            st.sampled_from(
                [
                    (400, "limit must be a non-negative number", "Bad Request"),
                    (404, "Not Found", "Not Found"),
                    (429, "ThrottlerException: Too Many Requests", "Too Many Requests"),
                    (500, "Internal server error", "Internal Server Error"),
                ]
            ).map(lambda e: {"statusCode": e[0], "message": e[1], "error": e[2]}),
            # contract §1.5: the one captured error body, PostgREST-shaped
            st.just(
                {
                    "code": "22P02",
                    "details": None,
                    "hint": None,
                    "message": 'invalid input syntax for type uuid: "test"',
                }
            ),
        ),
        "query.trades_all": st.fixed_dictionaries(
            {}, optional={"limit": numbers(200), "offset": numbers(), "minimumSize": minimum}
        ),
        "query.trades_count": st.fixed_dictionaries({}, optional={"minimumSize": minimum}),
        "query.coin": st.fixed_dictionaries({}, optional={"sync": booleans}),
        "query.coins": st.fixed_dictionaries(
            {},
            optional={
                "offset": numbers(),
                "limit": numbers(50),
                "sort": st.sampled_from(["market_cap", "created_timestamp", "last_trade_timestamp"]),
                "order": st.sampled_from(["ASC", "DESC"]),
                "includeNsfw": booleans,
                "complete": booleans,
            },
        ),
        "query.none": st.fixed_dictionaries({}, optional={"_": unix_s().map(str)}),
    }


FAMILY_STRATEGIES: dict[str, Callable[[], dict[str, Strategy]]] = {
    "pumpfun": _pumpfun,
    "pumpdata": _pumpdata,
    "corto": _corto,
}
FAMILY_STRATEGIES["pumpportal"] = pumpportal_strategies
_cache: dict[tuple[str, str], Strategy] = {}


def messages(api: str, family: str) -> st.SearchStrategy[Any]:
    """Valid, realistic messages of ``family`` of ``api`` (names as ``harness validate --list``
    prints them); each validates with ``harness.validate(message, api=api, family=family)``.

    >>> from harness import validate
    >>> from harness.strategies import messages
    >>> validate(messages("corto", "trade").example(), api="corto", family="trade")
    []
    """
    from harness.core.families import FAMILIES

    if api not in FAMILIES:
        raise ValueError(f"unknown api {api!r} (known: {', '.join(FAMILIES)})")
    if family not in FAMILIES[api]:
        raise ValueError(f"unknown family {family!r} for {api} (known: {', '.join(FAMILIES[api])})")
    if (api, family) not in _cache:
        _cache.update({(api, name): strategy for name, strategy in FAMILY_STRATEGIES[api]().items()})
    return _cache[(api, family)]
