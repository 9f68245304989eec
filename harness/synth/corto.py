"""The corto.fun Data Stream projection of a simulated market (contract §3, the corto.fun contract page).

A client connects to ``/data-stream``, gets the seed's handshake, subscribes in quick mode ``all``
half a second later, and receives every event: creates at full detail (87 keys, ``block`` but no
``slot``), buys and sells, migrations, the createPool that follows a migration, and liquidity
adds. Event pools are hyphenated; timestamps are unix ms; UI amounts come with their ``*Raw``
integers.
"""

from __future__ import annotations

import json
import random
from typing import Any

from harness.core.frames import C2S, S2C, Frame, WsOpen, WsText
from harness.synth.market import (
    EPOCH_S,
    FAMILIES,
    LAMPORTS,
    SUPPLY_RAW,
    TARGET_PROGRAMS,
    TOKEN_UNIT,
    WSOL,
    Launch,
    Market,
    Migration,
    Trade,
    key,
    slot_at,
)

CONN = "ws-1"
AVAILABLE_POOLS = [
    "bags.fm", "pump.fun", "pump.swap", "raydium.amm", "raydium.cpmm", "meteora.dlmm",
    "letsbonk.fun", "meteora.damm-v1", "meteora.damm-v2",
]  # fmt: skip
AVAILABLE_EVENTS = [
    "create", "trade", "buy", "sell", "migration", "createPool", "addLiquidity", "removeLiquidity", "burn",
]  # fmt: skip
MODES = ["all", "mints", "trades", "migrations", "pools"]
MESSAGES = ["subscribe", "unsubscribe", "current_state"]
# contract §3.6: trade transport per pool family
SOURCES = {"pump-fun": "logs_only", "letsbonk-fun": "transaction_stream", "meteora-dbc": "parsed_tx"}


def service(name: str, mode: str, detail: str, grace: bool, **extra: Any) -> dict[str, Any]:
    """A service envelope as the corto.fun contract page shows it."""
    state: dict[str, Any] = {}
    if name == "handshake":
        state["status"] = "connected"
    state.update(
        availablePools=AVAILABLE_POOLS,
        availableEvents=AVAILABLE_EVENTS,
        supportedModes=MODES,
        supportedMessages=MESSAGES,
        effectiveFilter={"mode": mode, "subscriptions": {}, "createDetail": detail, "graceActive": grace},
    )
    if name == "handshake":
        state["subscriptionGraceMs"] = 3000
    msg: dict[str, Any] = {"type": "service", "name": name}
    if "action" in extra:
        msg["action"] = extra.pop("action")
    msg["state"] = state
    msg.update(extra)
    return msg


def _ms(t: float) -> int:
    return (EPOCH_S * 1000) + round(t * 1000)


def _ui(raw: int, unit: int) -> float:
    return raw / unit


def create_event(launch: Launch, rng: random.Random) -> dict[str, Any]:
    tok = launch.token
    buy = launch.initial_buy
    program = FAMILIES[tok.family][1]
    sol_raw = buy.sol if buy else 0
    tokens_raw = buy.tokens if buy else 0
    before_vsol = buy.vsol_after - sol_raw if buy else tok.vsol
    before_vtok = buy.vtokens_after + tokens_raw if buy else tok.vtokens
    price_after = buy.price_after if buy else tok.price
    price_before = buy.price_before if buy else tok.price
    event: dict[str, Any] = {
        # contract §3.6 create min (13 keys)
        "schemaVersion": "create_event_v1",
        "signature": launch.signature,
        "mint": tok.mint,
        "txSigner": tok.creator,
        "txType": "create",
        "pool": tok.family,
        "poolId": tok.curve,
        "source": "parsed_tx",
        "name": tok.name,
        "symbol": tok.symbol,
        "imageUrl": tok.image,
        "block": slot_at(launch.t),
        "timestamp": _ms(launch.t),
        # full
        "price": price_after,
        "poolProgramId": program,
        "routeProgramId": program,
        "bondingCurveAddress": tok.curve,
        "baseVaultAddress": key(rng) if tok.family != "pump-fun" else None,
        "quoteVaultAddress": key(rng) if tok.family != "pump-fun" else None,
        "userTokenAccount": key(rng),
        "initialBuy": _ui(tokens_raw, TOKEN_UNIT),
        "solAmount": _ui(sol_raw, LAMPORTS),
        "reserveTokenBefore": before_vtok,
        "reserveTokenAfter": before_vtok - tokens_raw,
        "reserveTokenDelta": -tokens_raw,
        "reserveSolBefore": before_vsol,
        "reserveSolAfter": before_vsol + sol_raw,
        "reserveSolDelta": sol_raw,
        "tokensInPool": _ui(tok.real_tokens, TOKEN_UNIT),
        "solInPool": _ui(tok.real_sol, LAMPORTS),
        "quoteInPool": None,
        "vTokensInBondingCurve": _ui(before_vtok - tokens_raw, TOKEN_UNIT),
        "vSolInBondingCurve": _ui(before_vsol + sol_raw, LAMPORTS),
        "vQuoteInBondingCurve": None,
        "priceBefore": price_before,
        "priceByTrade": (sol_raw / LAMPORTS) / (tokens_raw / TOKEN_UNIT) if tokens_raw else price_after,
        "priceAfter": price_after,
        "priceSource": "bonding_curve",
        "pooledSupplyShare": round((before_vtok - tokens_raw) / SUPPLY_RAW, 6),
        "bondingCurveProgress": round(tok.progress, 4) if tok.family == "pump-fun" else None,
        "creatorBoughtOnCreate": buy is not None,
        "creatorBuyShareOfSupply": round(tokens_raw / SUPPLY_RAW, 8),
        "totalFeeLamports": rng.randint(5_000, 2_000_000),
        "priorityFeeLamports": rng.randint(0, 1_500_000),
        "usedJupiter": False,
        "hasInnerSwaps": False,
        "wrappedSolUsed": tok.family != "pump-fun",
        "ataCreated": True,
        "instructionName": "create_v2" if tok.family == "pump-fun" else "initialize",
        "quoteMint": WSOL,
        "quoteDecimals": 9,
        "signerCount": 1 + rng.randint(0, 1),
        "accountCount": rng.randint(14, 24),
        "hasError": False,
        "slotIndexHint": rng.randint(0, 800),
        "rawEventName": "CreateEvent" if tok.family == "pump-fun" else "InitializeEvent",
        "marketCapSol": tok.market_cap_sol if buy is None else price_after * 1e9,
        "marketCapQuote": None,
        "meteoraStepInputRaw": sol_raw if tok.family == "meteora-dbc" else None,
        "meteoraStepInputMint": WSOL if tok.family == "meteora-dbc" else None,
        "meteoraStepOutputRaw": tokens_raw if tok.family == "meteora-dbc" else None,
        "meteoraStepOutputMint": tok.mint if tok.family == "meteora-dbc" else None,
        "poolFeeRate": None if tok.family == "pump-fun" else 0.01,
        "uri": tok.uri,
        "metadataHost": "ipfs.io",
        "creators": [],
        "sellerFeeBasisPoints": None,
        "migrationTokenThresholdRaw": None,
        "migrationQuoteThresholdRaw": 85 * LAMPORTS if tok.family != "pump-fun" else None,
        "supply": SUPPLY_RAW,
        "supplyUi": SUPPLY_RAW / TOKEN_UNIT,
        "creatorFeeAddress": tok.creator,
        "mayhemMode": False if tok.family == "pump-fun" else None,
        "cashbackEnabled": None,
        "mintAuthority": None,
        "freezeAuthority": None,
        "mintAuthorityDisabled": True,
        "freezeAuthorityDisabled": True,
        "tokenProgram": "spl-token-2022" if tok.family == "pump-fun" else "spl-token",
        "token2022ExtensionFlags": {
            "hasAny": tok.family == "pump-fun",
            "extensionNames": ["MetadataPointer", "TokenMetadata"] if tok.family == "pump-fun" else [],
            "hasTransferFee": False,
            "hasTransferHook": False,
            "hasMetadataPointer": tok.family == "pump-fun",
            "hasGroupPointer": False,
            "hasGroupMemberPointer": False,
            "hasPermanentDelegate": False,
            "hasInterestBearingConfig": False,
            "hasCloseAuthority": False,
            "hasDefaultAccountState": False,
            "hasConfidentialTransfers": False,
        },
        "tokenExtensions": {},
        "appRiskScorePercent": rng.randint(5, 95),
        "riskLevel": rng.choice(["LOW", "MEDIUM", "HIGH"]),
        "riskFlags": rng.sample(
            ["fresh_creator", "no_socials", "bundled_buy", "high_creator_share"], rng.randint(0, 2)
        ),
        "riskModelVersion": "create-risk-v1",
        "tradersInvolved": {tok.creator: {}},
        "decimals": 6,
    }
    return event


def trade_event(trade: Trade) -> dict[str, Any]:
    tok = trade.token
    logs_only = tok.family == "pump-fun"
    return {
        "schemaVersion": "buy_sell_event_v1",
        "signature": trade.signature,
        "mint": tok.mint,
        "txType": "buy" if trade.is_buy else "sell",
        "pool": tok.family,
        "poolId": None if logs_only else tok.curve,  # contract §3.6: null on logs_only
        "price": trade.price_after,
        "source": SOURCES[tok.family],
        "slot": trade.slot,
        "block": trade.slot,
        "poolProgramId": FAMILIES[tok.family][1],
        "hasError": False,
        "timestamp": _ms(trade.t),
        "txSigner": trade.wallet,
        "solAmountRaw": trade.sol,
        "tokenAmountRaw": trade.tokens,
        "solAmount": trade.sol / LAMPORTS,
        "tokenAmount": trade.tokens / TOKEN_UNIT,
        "marketCapSol": None if logs_only else trade.price_after * 1e9,
        "creatorFeeAddress": tok.creator if tok.family != "letsbonk-fun" or trade.tx_index % 3 else None,
        "poolFeeRate": None if logs_only else 0.01,
        "solInPool": trade.real_sol_after / LAMPORTS,
        "tokensInPool": trade.real_tokens_after / TOKEN_UNIT,
        "vSolInBondingCurve": trade.vsol_after / LAMPORTS,
        "vTokensInBondingCurve": trade.vtokens_after / TOKEN_UNIT,
        "tradersInvolved": {trade.wallet: {}},
    }


def migration_events(mig: Migration) -> list[tuple[float, dict[str, Any]]]:
    tok = mig.token
    target, _, _ = FAMILIES[tok.family]
    program = TARGET_PROGRAMS[target]
    slot = slot_at(mig.t)
    price = (mig.sol / LAMPORTS) / (mig.tokens / TOKEN_UNIT) if mig.tokens else tok.price
    migrate = {
        "schemaVersion": "migration_event_v1",
        "signature": mig.signature,
        "mint": tok.mint,
        "txType": "migrate",
        "pool": target,
        "poolCreatedBy": tok.family,
        "poolId": mig.pool,
        "source": "parsed_tx",
        "slot": slot,
        "block": slot,
        "poolProgramId": program,
        "instructionName": "migrate",
        "hasError": False,
        "timestamp": _ms(mig.t),
        "txSigner": tok.creator,
        "initialBuy": 0,
        "solAmount": mig.sol / LAMPORTS,
        "tokensInPool": mig.tokens / TOKEN_UNIT,
        "solInPool": mig.sol / LAMPORTS,
        "price": price,
        "tokenProgram": "spl-token-2022" if tok.family == "pump-fun" else "spl-token",
        "tokenExtensions": {},
        "tradersInvolved": {tok.creator: {}},
    }
    base_vault, quote_vault = key_pair(mig)
    create_pool = {
        "schemaVersion": "create_pool_event_v1",
        "signature": mig.signature,
        "mint": tok.mint,
        "txType": "createPool",
        "pool": target,
        "poolId": mig.pool,
        "source": "parsed_tx",
        "slot": slot,
        "block": slot,
        "poolProgramId": program,
        "instructionName": "create_pool",
        "hasError": False,
        "baseVault": base_vault,
        "quoteVault": quote_vault,
        "baseMint": tok.mint,
        "quoteMint": WSOL,
        "poolCreatedBy": tok.family,
        "price": price,
        "lpMint": mig.lp_mint,
        "baseAmount": mig.tokens,
        "quoteAmount": mig.sol,
        "initialLiquidityTokenAmount": mig.tokens / TOKEN_UNIT,
        "initialLiquidityQuoteAmount": mig.sol / LAMPORTS,
        "timestamp": _ms(mig.t),
        "txSigner": tok.creator,
    }
    add = {
        "schemaVersion": "liquidity_event_v1",
        "signature": mig.signature,
        "mint": tok.mint,
        "txType": "add",
        "pool": target,
        "poolId": mig.pool,
        "source": "parsed_tx",
        "slot": slot,
        "block": slot,
        "poolProgramId": program,
        "instructionName": "deposit",
        "hasError": False,
        "baseVault": base_vault,
        "quoteVault": quote_vault,
        "baseMint": tok.mint,
        "quoteMint": WSOL,
        "baseAmount": mig.tokens / TOKEN_UNIT,
        "quoteAmount": mig.sol / LAMPORTS,
        "tokensInPool": mig.tokens / TOKEN_UNIT,
        "solInPool": mig.sol / LAMPORTS,
        "poolCreatedBy": tok.family,
        "lpMint": mig.lp_mint,
        "lpAmount": None,
        "price": price,
        "timestamp": _ms(mig.t),
        "txSigner": tok.creator,
    }
    return [(mig.t, migrate), (mig.t + 0.001, create_pool), (mig.t + 0.002, add)]


def key_pair(mig: Migration) -> tuple[str, str]:
    rng = random.Random(mig.signature)
    return key(rng), key(rng)


def events(market: Market, rng: random.Random, since: float = 0.0) -> list[tuple[float, dict[str, Any]]]:
    """The market's events from ``since`` on as the Data Stream shows them (creates at full
    detail), in time order."""
    out: list[tuple[float, dict[str, Any]]] = []
    for event in market.events:
        if event.t < since:
            continue
        if isinstance(event, Launch):
            out.append((event.t, create_event(event, rng)))
        elif isinstance(event, Trade):
            out.append((event.t, trade_event(event)))
        elif isinstance(event, Migration):
            out.extend(migration_events(event))
    out.sort(key=lambda pair: pair[0])
    return out


def project(market: Market) -> list[Frame]:
    """The frames of one corto client connection over the market's recorded span."""
    rng = random.Random(market.seed * 7919 + 4)
    frames: list[Frame] = [
        WsOpen(t=0.0, conn=CONN, url="/data-stream", headers=(("User-Agent", "harness-synth"),))
    ]

    def text(t: float, direction: Any, msg: dict[str, Any]) -> None:
        frames.append(
            WsText(t=round(t, 6), conn=CONN, direction=direction, data=json.dumps(msg, separators=(",", ":")))
        )

    text(0.02, S2C, service("handshake", "none", "full", True))
    text(0.5, C2S, {"type": "subscribe", "mode": "all"})
    text(0.52, S2C, service("subscription_ack", "all", "full", False, action="subscribe"))
    for t, msg in events(market, rng, since=0.6):
        text(t + 0.003, S2C, msg)
    ping = 15.0
    while ping < market.duration:
        text(ping, C2S, {"type": "ping"})
        text(ping + 0.004, S2C, {"type": "pong"})
        ping += 15.0
    frames.sort(key=lambda f: f.t)
    return frames
