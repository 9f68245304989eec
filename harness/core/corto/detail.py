"""corto.fun create detail levels: which keys ``min``, ``mid`` and ``full`` keep (contract §3.6).

``min`` is exactly the 13 keys of the site's contract; ``full`` the 87 keys of the repository's
"observed" create; ``mid`` has no public example, so its set is the documented description ("min
plus market, metadata, supply, authority, token program, and risk layer") read as keys [inferred]:
a superset of min and a subset of full, which is all a schema may rely on.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class Detail(StrEnum):
    MIN = "min"
    MID = "mid"
    FULL = "full"


MIN_KEYS: tuple[str, ...] = (
    "schemaVersion", "signature", "mint", "txSigner", "txType", "pool", "poolId", "source",
    "name", "symbol", "imageUrl", "block", "timestamp",
)  # fmt: skip

MID_EXTRA_KEYS: tuple[str, ...] = (
    # market
    "price", "marketCapSol", "marketCapQuote", "quoteMint",
    # metadata
    "uri", "metadataHost",
    # supply
    "supply", "supplyUi", "decimals",
    # authority
    "mintAuthority", "freezeAuthority", "mintAuthorityDisabled", "freezeAuthorityDisabled",
    # token program
    "tokenProgram", "token2022ExtensionFlags",
    # risk layer
    "appRiskScorePercent", "riskLevel", "riskFlags", "riskModelVersion",
)  # fmt: skip

FULL_EXTRA_KEYS: tuple[str, ...] = (
    "price", "poolProgramId", "routeProgramId", "bondingCurveAddress", "baseVaultAddress",
    "quoteVaultAddress", "userTokenAccount", "initialBuy", "solAmount", "reserveTokenBefore",
    "reserveTokenAfter", "reserveTokenDelta", "reserveSolBefore", "reserveSolAfter",
    "reserveSolDelta", "tokensInPool", "solInPool", "quoteInPool", "vTokensInBondingCurve",
    "vSolInBondingCurve", "vQuoteInBondingCurve", "priceBefore", "priceByTrade", "priceAfter",
    "priceSource", "pooledSupplyShare", "bondingCurveProgress", "creatorBoughtOnCreate",
    "creatorBuyShareOfSupply", "totalFeeLamports", "priorityFeeLamports", "usedJupiter",
    "hasInnerSwaps", "wrappedSolUsed", "ataCreated", "instructionName", "quoteMint",
    "quoteDecimals", "signerCount", "accountCount", "hasError", "slotIndexHint", "rawEventName",
    "marketCapSol", "marketCapQuote", "meteoraStepInputRaw", "meteoraStepInputMint",
    "meteoraStepOutputRaw", "meteoraStepOutputMint", "poolFeeRate", "uri", "metadataHost",
    "creators", "sellerFeeBasisPoints", "migrationTokenThresholdRaw",
    "migrationQuoteThresholdRaw", "supply", "supplyUi", "creatorFeeAddress", "mayhemMode",
    "cashbackEnabled", "mintAuthority", "freezeAuthority", "mintAuthorityDisabled",
    "freezeAuthorityDisabled", "tokenProgram", "token2022ExtensionFlags", "tokenExtensions",
    "appRiskScorePercent", "riskLevel", "riskFlags", "riskModelVersion", "tradersInvolved",
    "decimals",
)  # fmt: skip

MID_KEYS: tuple[str, ...] = MIN_KEYS + MID_EXTRA_KEYS
FULL_KEYS: tuple[str, ...] = MIN_KEYS + FULL_EXTRA_KEYS
KEYS: Mapping[Detail, frozenset[str]] = {
    Detail.MIN: frozenset(MIN_KEYS),
    Detail.MID: frozenset(MID_KEYS),
    Detail.FULL: frozenset(FULL_KEYS),
}

FULL_NULLABLE: frozenset[str] = frozenset(
    {
        "baseVaultAddress", "quoteVaultAddress", "quoteInPool", "vQuoteInBondingCurve",
        "marketCapQuote", "meteoraStepInputRaw", "meteoraStepInputMint", "meteoraStepOutputRaw",
        "meteoraStepOutputMint", "poolFeeRate", "sellerFeeBasisPoints",
        "migrationTokenThresholdRaw", "migrationQuoteThresholdRaw", "mayhemMode",
        "cashbackEnabled", "mintAuthority", "freezeAuthority", "bondingCurveProgress",
    }
)  # fmt: skip
"""Create keys whose value may be null (contract §3.6 marks them N)."""


def project(event: Mapping[str, Any], detail: Detail) -> dict[str, Any]:
    """A create event cut down to ``detail``, keys in the event's own order.

    contract §3.2: "create.detail affects only create events"; ``full`` keeps the event as
    recorded (extra keys the provider added included), ``min`` and ``mid`` keep their key sets.
    """
    if detail is Detail.FULL:
        return dict(event)
    keep = KEYS[detail]
    return {k: v for k, v in event.items() if k in keep}
