"""Hypothesis-generated messages, built from the contract reference's field lists (not from the schemas):
every combination the contract allows validates, and a required key removed is named.

Values are drawn in the documented units and types: base58 keys, integer or float amounts
(exponent-sized floats included), ms or s timestamps; conditional values null or not, optional
keys present or absent, and keys the provider may add over time.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.corto.detail import FULL_KEYS, MIN_KEYS
from harness.core.corto.filters import DEFAULT_EVENTS
from harness.core.corto.filters import DETAILS as DETAIL_LEVELS
from harness.core.corto.filters import MODES as FILTER_MODES
from harness.core.families import family_of
from harness.strategies.frames import json_values
from harness.validation import default_validator, validate
from tests.validation.test_families import FULL

Strategy = st.SearchStrategy[Any]
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
pubkeys = st.text(B58, min_size=32, max_size=44)
signatures = st.text(B58, min_size=64, max_size=88)
ints = st.integers(min_value=0, max_value=2**63)
floats = st.floats(min_value=0, max_value=1e15, allow_nan=False, allow_infinity=False)
amounts = ints | floats | st.sampled_from([4e-9, 2.88e-8, 825190689.28, 1000000001])
signed = amounts | st.floats(min_value=-1e15, max_value=0, allow_nan=False)
unix_ms = st.integers(min_value=10**12, max_value=9_999_999_999_999)
unix_s = st.integers(min_value=10**9, max_value=99_999_999_999)
slots = st.integers(min_value=0, max_value=2**40)
hyphen_pools = st.sampled_from(
    ["pump-fun", "pump-swap", "letsbonk-fun", "raydium-cpmm", "meteora-dbc", "meteora-damm-v2", "bags-fm"]
)
texts = st.text(max_size=20)
PROTOCOLS = ["PUMPFUN", "PUMPSWAP", "METEORA", "RAYDIUM", "ORCA", "BONK"]


def message(
    required: dict[str, Strategy],
    optional: dict[str, Strategy] | None = None,
    nullable: frozenset[str] = frozenset(),
    extra: bool = True,
) -> Strategy:
    """An object with every ``required`` key, any of the ``optional`` ones, null where allowed,
    and (``extra``) a few keys the provider added."""

    def value(key: str, strategy: Strategy) -> Strategy:
        return st.none() | strategy if key in nullable else strategy

    known = set(required) | set(optional or {})
    added = st.dictionaries(
        st.text(min_size=1, max_size=12).filter(lambda k: k not in known), json_values, max_size=3
    )
    base = st.fixed_dictionaries(
        {k: value(k, s) for k, s in required.items()},
        optional={k: value(k, s) for k, s in (optional or {}).items()},
    )
    return st.tuples(base, added if extra else st.just({})).map(lambda pair: {**pair[1], **pair[0]})


EVENT = {"signature": signatures, "mint": pubkeys, "pool": hyphen_pools, "slot": slots, "block": slots}
CORTO_TRADE = message(  # contract §3.6 Trade
    {
        **EVENT,
        "schemaVersion": st.just("buy_sell_event_v1"),
        "txType": st.sampled_from(["buy", "sell"]),
        "poolId": pubkeys,
        "price": amounts,
        "source": st.sampled_from(["logs_only", "transaction_stream", "parsed_tx"]),
        "poolProgramId": pubkeys,
        "hasError": st.booleans(),
        "timestamp": unix_ms,
        "txSigner": pubkeys,
    },
    {
        "marketCapSol": amounts,
        "creatorFeeAddress": pubkeys,
        "poolFeeRate": amounts,
        "quoteMint": pubkeys,
        "quoteAmountRaw": ints,
        "quoteAmount": amounts,
        "quoteInPool": amounts,
        "vQuoteInBondingCurve": amounts,
        "marketCapQuote": amounts,
        "solInPool": amounts,
        "tokensInPool": amounts,
        "vSolInBondingCurve": amounts,
        "vTokensInBondingCurve": amounts,
        "tradersInvolved": st.dictionaries(pubkeys, st.just({}), max_size=2),
    },
    frozenset({"poolId", "marketCapSol", "creatorFeeAddress", "poolFeeRate", "quoteAmountRaw", "quoteAmount"})
    | {"quoteInPool", "vQuoteInBondingCurve", "marketCapQuote", "solInPool", "tokensInPool"}
    | {"vSolInBondingCurve", "vTokensInBondingCurve"},
)
SOL_LEG = st.one_of(  # SOL-quoted pools carry both amounts of each side, raw and UI
    st.just({}),
    st.fixed_dictionaries(
        {"solAmountRaw": ints, "tokenAmountRaw": ints, "solAmount": amounts, "tokenAmount": amounts}
    ),
)
CORTO_TRADES = st.tuples(CORTO_TRADE, SOL_LEG).map(lambda pair: {**pair[0], **pair[1]})
POOL_SIDE = {
    **EVENT,
    "poolId": pubkeys,
    "source": st.just("parsed_tx"),
    "poolProgramId": pubkeys,
    "instructionName": texts,
    "hasError": st.booleans(),
    "baseVault": pubkeys,
    "quoteVault": pubkeys,
    "baseMint": pubkeys,
    "quoteMint": pubkeys,
}
CORTO_EVENTS: dict[str, Strategy] = {
    "trade": CORTO_TRADES,
    "migration": message(  # contract §3.6 Migration: every listed key; a test-string signature
        {
            **EVENT,
            "signature": signatures | st.just("pump-migration-test"),
            "schemaVersion": st.just("migration_event_v1"),
            "txType": st.just("migrate"),
            "poolCreatedBy": hyphen_pools,
            "poolId": pubkeys,
            "source": st.just("parsed_tx"),
            "poolProgramId": pubkeys,
            "instructionName": texts,
            "hasError": st.booleans(),
            "timestamp": unix_ms,
            "txSigner": pubkeys,
            "initialBuy": amounts,
            "solAmount": amounts,
            "tokensInPool": amounts,
            "solInPool": amounts,
            "price": amounts,
            "tokenProgram": texts,
            "tokenExtensions": st.just({}),
            "tradersInvolved": st.dictionaries(pubkeys, st.just({}), max_size=2),
        },
        nullable=frozenset({"poolCreatedBy"}),
    ),
    "createPool": message(  # contract §3.6 CreatePool
        {**POOL_SIDE, "schemaVersion": st.just("create_pool_event_v1"), "txType": st.just("createPool")},
        {
            "poolCreatedBy": hyphen_pools,
            "price": amounts,
            "lpMint": pubkeys,
            "baseAmount": amounts,
            "quoteAmount": amounts,
            "initialLiquidityTokenAmount": amounts,
            "initialLiquidityQuoteAmount": amounts,
            "timestamp": unix_ms,
            "txSigner": pubkeys,
        },
        frozenset({"poolCreatedBy", "price", "lpMint", "baseAmount", "quoteAmount"})
        | {"initialLiquidityTokenAmount", "initialLiquidityQuoteAmount"},
    ),
    "liquidity": message(  # contract §3.6 Liquidity
        {
            **POOL_SIDE,
            "schemaVersion": st.just("liquidity_event_v1"),
            "txType": st.sampled_from(["add", "remove"]),
            "baseAmount": amounts,
            "quoteAmount": amounts,
            "tokensInPool": amounts,
            "solInPool": amounts,
        },
        {"poolCreatedBy": hyphen_pools, "lpMint": pubkeys, "lpAmount": amounts, "price": amounts},
        frozenset({"poolCreatedBy", "lpMint", "lpAmount", "price"}),
    ),
}
PUMPDATA_EVENTS: dict[str, Strategy] = {  # contract §2.2
    "token_update": message(
        {
            "pool": pubkeys,
            "price": amounts,
            "mcap": amounts,
            "quote": pubkeys,
            "priceUSD": amounts,
            "mcapUSD": amounts,
            "time": unix_s,
        }
    ),
    "trade": message(
        {
            "protocol": st.sampled_from(PROTOCOLS),
            "pool": pubkeys,
            "mint": pubkeys,
            "signature": signatures,
            "is_buy": st.booleans(),
            "token_amount": amounts,
            "quote_amount": amounts,
            "price": amounts,
            "marketcap": amounts,
            "wallet": pubkeys,
            "timestamp": unix_s,
        }
    ),
    "new_token": message(
        {
            "protocol": st.sampled_from(PROTOCOLS),
            "mint": pubkeys,
            "pool": pubkeys,
            "decimals": st.integers(0, 18),
            "quote": pubkeys,
            "supply": amounts,
            "timestamp": unix_s,
        },
        {
            "name": st.text(min_size=1),
            "symbol": st.text(min_size=1),
            "creator": pubkeys,
            "uri": st.text(min_size=1),
        },
    ),
    "migration": message(
        {
            "protocol": st.sampled_from(PROTOCOLS),
            "mint": pubkeys,
            "old_pool": pubkeys,
            "new_pool": pubkeys,
            "tx": signatures,
            "time": unix_s,
        }
    ),
    "sol_price": message({"price": floats.filter(lambda p: p > 0), "time": unix_s}),
    "ohlcv": st.lists(
        st.tuples(unix_ms, amounts, amounts, amounts, amounts, amounts).map(list), min_size=1, max_size=3
    ),
    "ack_error": message(
        {
            "error": st.sampled_from(["invalid_request", "not_found", "unavailable", "limit_exceeded"]),
            "message": texts,
        }
    ),
}
PUMPFUN_TRADE = message(  # contract §1.4: /trades/latest and /trades/all items
    {
        "signature": signatures,
        "mint": pubkeys,
        "sol_amount": ints,
        "token_amount": ints,
        "is_buy": st.booleans(),
        "user": pubkeys,
        "timestamp": unix_s,
    },
    {
        "tx_index": st.integers(0, 100),
        "username": texts,
        "profile_image": texts,
        "slot": slots,
        "symbol": texts,
        "image_uri": texts,
    },
    frozenset({"username", "profile_image"}),
)
PUMPFUN_COIN = message(  # contract §1.3: most keys optional, null where captured null
    {"mint": pubkeys, "name": texts, "symbol": texts},
    {
        "description": texts,
        "twitter": texts,
        "created_timestamp": unix_ms,
        "updated_at": unix_s,
        "king_of_the_hill_timestamp": unix_ms,
        "last_trade_timestamp": unix_ms,
        "virtual_sol_reserves": ints,
        "total_supply": ints,
        "market_cap": amounts,
        "usd_market_cap": amounts,
        "complete": st.booleans(),
        "raydium_pool": pubkeys,
        "inverted": st.booleans(),
        "program": st.just("pump"),
    },
    frozenset({"description", "twitter", "updated_at", "king_of_the_hill_timestamp", "raydium_pool"})
    | {"inverted", "program"},
)
PUMPFUN_BODIES: dict[str, Strategy] = {
    "trade": PUMPFUN_TRADE,
    "trade_list": st.lists(PUMPFUN_TRADE, max_size=3),
    "coin": PUMPFUN_COIN,
    "coin_list": st.lists(PUMPFUN_COIN, max_size=3),  # contract §1.2: /coins
}
TARGETS = (
    [("corto", f, s) for f, s in CORTO_EVENTS.items()]
    + [("pumpdata", f, s) for f, s in PUMPDATA_EVENTS.items()]
    + [("pumpfun", f, s) for f, s in PUMPFUN_BODIES.items()]
)

# contract §3.2, 3.3, 3.5: the corto vocabulary, dotted pools in filters and service state.
EVENTS, MODES, DETAILS = list(DEFAULT_EVENTS), list(FILTER_MODES), list(DETAIL_LEVELS)
dotted_pools = st.sampled_from(["pump.fun", "letsbonk.fun", "meteora.damm-v2", "bags.fm"]) | st.from_regex(
    r"\A[a-z0-9-]{1,8}(\.[a-z0-9-]{1,8}){1,2}\Z"
)
creates = st.fixed_dictionaries({}, optional={"detail": st.sampled_from(DETAILS)})
SUBSCRIBE = st.one_of(
    st.fixed_dictionaries(  # quick mode
        {"type": st.just("subscribe"), "mode": st.sampled_from(MODES)}, optional={"create": creates}
    ),
    st.fixed_dictionaries(  # focused mode: events and pools omitted mean all of them
        {"type": st.just("subscribe")},
        optional={
            "events": st.lists(st.sampled_from(EVENTS), unique=True),
            "pools": st.lists(dotted_pools, max_size=4),
            "create": creates,
        },
    ),
)
FILTER = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["none", "custom", *MODES]),
        "subscriptions": st.dictionaries(st.sampled_from(EVENTS), st.lists(dotted_pools, max_size=3)),
    },
    optional={"createDetail": st.sampled_from(DETAILS), "graceActive": st.booleans()},
)
STATE = {
    "availablePools": st.lists(dotted_pools, max_size=9),
    "availableEvents": st.lists(st.sampled_from(EVENTS), unique=True),
    "supportedModes": st.lists(st.sampled_from(MODES), unique=True),
    "supportedMessages": st.lists(
        st.sampled_from(["subscribe", "unsubscribe", "current_state"]), unique=True
    ),
    "effectiveFilter": FILTER,
}


def service(name: str, state: dict[str, Strategy], **more: Strategy) -> Strategy:
    return message({"type": st.just("service"), "name": st.just(name), "state": message(state), **more})


CORTO_REQUESTS_AND_SERVICE: dict[str, Strategy] = {
    "request.subscribe": SUBSCRIBE,
    "request.unsubscribe": st.fixed_dictionaries(
        {"type": st.just("unsubscribe")},
        optional={"events": st.lists(st.sampled_from(EVENTS)), "pools": st.lists(dotted_pools, max_size=3)},
    ),
    "handshake": service(
        "handshake",
        {**STATE, "status": st.just("connected"), "subscriptionGraceMs": st.integers(0, 60_000)},
    ),
    "subscription_ack": service(
        "subscription_ack", STATE, action=st.sampled_from(["subscribe", "unsubscribe"])
    ),
    "current_state": service("current_state", STATE),
    "error": service(
        "error",
        STATE,
        error=st.fixed_dictionaries(
            {"code": st.just("invalid_subscription"), "message": texts},
            optional={"details": st.dictionaries(texts, json_values, max_size=2)},
        ),
    ),
}
mint_or_pool = st.one_of(
    st.fixed_dictionaries({"mint": pubkeys}),
    # the PumpData subscribe_ohlcv page: "4mBL…"
    st.fixed_dictionaries({"pool": st.text(min_size=1, max_size=44)}),
    st.fixed_dictionaries({"mint": pubkeys, "pool": pubkeys}),
)
candles = st.tuples(unix_ms, amounts, amounts, amounts, amounts, amounts).map(list)
PUMPDATA_CLIENT_AND_ACKS: dict[str, Strategy] = {  # contract §2.2, 2.3
    **{
        name: mint_or_pool
        for name in ("subscribe", "unsubscribe", "subscribe_ohlcv", "unsubscribe_ohlcv", "subscribe_trades")
    },
    "ohlcv_history": st.tuples(
        mint_or_pool, st.fixed_dictionaries({}, optional={"limit": st.integers(1, 500)})
    ).map(lambda pair: {**pair[0], **pair[1]}),
    "subscribe_new_tokens": st.fixed_dictionaries(
        {"protocols": st.lists(st.sampled_from(PROTOCOLS), min_size=1, unique=True)}
    ),
    "subscribe_sol_price": st.none() | st.just({}),
    "ack": message({"ok": st.just(True)}, {"pool": pubkeys, "room": texts, "snapshot": st.none()}),
    "ohlcv_history_ack": message(
        {"ok": st.just(True), "pool": pubkeys, "data": st.lists(candles, max_size=5)}, extra=False
    ),
}
counts = st.integers(0, 10**6)
# contract §1.2, the Pump.fun polling guide: strings, or a client's params
PUMPFUN_QUERIES: dict[str, Strategy] = {
    "query.trades_all": st.fixed_dictionaries(
        {},
        optional={
            "limit": counts | counts.map(str),
            "offset": counts | counts.map(str),
            "minimumSize": amounts | counts.map(str),
        },
    ),
    "query.coin": st.fixed_dictionaries(
        {}, optional={"sync": st.sampled_from([True, False, "true", "false"])}
    ),
}
CLIENT_AND_SERVICE = (
    [("corto", f, s) for f, s in CORTO_REQUESTS_AND_SERVICE.items()]
    + [("pumpdata", f, s) for f, s in PUMPDATA_CLIENT_AND_ACKS.items()]
    + [("pumpfun", f, s) for f, s in PUMPFUN_QUERIES.items()]
)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_generated_requests_acks_and_service_messages_validate(data: st.DataObject) -> None:
    api, family, strategy = data.draw(st.sampled_from(CLIENT_AND_SERVICE))
    generated = data.draw(strategy)
    assert validate(generated, api=api, family=family) == [], (api, family)
    assert default_validator().reference(api, family).is_valid(generated)
    found = family_of(generated)
    if api == "corto":
        assert found == ("corto", family), "corto messages say what they are"


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_generated_messages_validate(data: st.DataObject) -> None:
    api, family, strategy = data.draw(st.sampled_from(TARGETS))
    generated = data.draw(strategy)
    assert validate(generated, api=api, family=family) == [], (api, family)
    assert default_validator().reference(api, family).is_valid(generated)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_removed_required_key_is_named(data: st.DataObject) -> None:
    api, family, strategy = data.draw(
        st.sampled_from([t for t in TARGETS if t[1] not in ("ohlcv", "trade_list", "coin_list")])
    )
    generated = data.draw(strategy)
    required = default_validator().schema(api, family)["required"]
    key = data.draw(st.sampled_from(required))
    rest = {k: v for k, v in generated.items() if k != key}
    assert [(v.pointer, v.rule) for v in validate(rest, api=api, family=family)] == [(f"/{key}", "required")]


@settings(max_examples=100, deadline=None)
@given(st.sets(st.sampled_from([k for k in FULL_KEYS if k not in MIN_KEYS])))
def test_any_create_between_min_and_full_is_mid(keys: set[str]) -> None:
    # contract §3.6: mid is a superset of min and a subset of full (no example exists).
    create = {k: v for k, v in FULL.items() if k in MIN_KEYS or k in keys}
    assert validate(create, api="corto", family="create.mid") == []
    assert validate(create, api="corto", family="create") == []
    expected = (
        "create.min" if not keys else "create.full" if len(keys) == len(FULL_KEYS) - 13 else "create.mid"
    )
    assert validate(create) == [] and default_validator().validate(create, "corto") == []
    from harness.core.families import family_of

    assert family_of(create) == ("corto", expected)
