"""One-rule mutations of every family's messages fail with the right pointer and rule.

The messages come from a synthetic feed (every family the simulator produces) and from the
repository copy's published examples. Which values may be null is stated here from the contract reference,
independently of the schemas, so a schema that lets null into a reliable field fails a test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.core.corto.detail import FULL_NULLABLE, Detail, project
from harness.core.families import FamilyTracker
from harness.synth import generate
from harness.validation import default_validator, validate
from tests.helpers import SEEDS

NULLABLE: dict[tuple[str, str], frozenset[str]] = {
    # contract §3.6 (N) marks; the quote-aware rule (SOL-side values of a non-SOL create);
    # poolId as on logs_only trades; metadata that may be missing.
    ("corto", "create.full"): FULL_NULLABLE
    | {"price", "initialBuy", "solAmount", "solInPool", "vSolInBondingCurve", "marketCapSol"}
    | {"poolId", "imageUrl", "uri", "metadataHost"},
    # 3.6: poolId null on logs_only, marketCapSol, creatorFeeAddress, poolFeeRate; the optional
    # pool and quote-path keys are conditional (the repository example has quote* null, 3.7).
    ("corto", "trade"): frozenset(
        {"poolId", "marketCapSol", "creatorFeeAddress", "poolFeeRate", "quoteAmountRaw", "quoteAmount"}
        | {"quoteInPool", "vQuoteInBondingCurve", "marketCapQuote", "solInPool", "tokensInPool"}
        | {"vSolInBondingCurve", "vTokensInBondingCurve"}
    ),
    ("corto", "migration"): frozenset({"poolCreatedBy"}),
    ("corto", "createPool"): frozenset(
        {"poolCreatedBy", "price", "lpMint", "baseAmount", "quoteAmount"}
        | {"initialLiquidityTokenAmount", "initialLiquidityQuoteAmount"}
    ),
    ("corto", "liquidity"): frozenset({"poolCreatedBy", "lpMint", "lpAmount", "price"}),
    ("corto", "burn"): frozenset({"poolCreatedBy", "lpMint", "lpAmount", "price"}),  # as liquidity
    # 1.3: the values captured as null.
    ("pumpfun", "coin"): frozenset(
        {"description", "twitter", "telegram", "website", "raydium_pool", "pump_swap_pool", "hidden"}
        | {"king_of_the_hill_timestamp", "ath_market_cap", "ath_market_cap_timestamp", "last_reply"}
        | {"market_id", "inverted", "username", "profile_image", "video_uri", "banner_uri"}
        | {"updated_at", "program", "platform", "token_program", "mayhem_state"}
        | {"last_trade_timestamp"}  # null in a /coins/latest body of September 2025
    ),
    ("pumpfun", "trade"): frozenset({"username", "profile_image"}),  # 1.4
    ("pumpdata", "ack"): frozenset({"snapshot"}),  # 2.2: the sol_price ack
}


def _examples() -> dict[tuple[str, str], list[dict[str, Any]]]:
    tracker = FamilyTracker()
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for _api, (_header, frames) in generate(3, 120.0).items():
        for frame in frames:
            for api, family, message, _ in tracker.classify(frame):
                if family is not None and isinstance(message, dict) and len(out.get((api, family), [])) < 2:
                    out.setdefault((api, family), []).append(message)
    repo = json.loads((SEEDS / "corto_repo_examples.json").read_text())["examples"]
    for example in repo:
        out.setdefault(("corto", example["family"]), []).append(example["message"])
    # contract §3.6: burn is reserved (its template holds placeholders); its keys are
    # liquidity's plus burnScope, so a burn is the published liquidity example as a burn.
    liquidity = out[("corto", "liquidity")][-1]
    out[("corto", "burn")] = [
        {
            **liquidity,
            "schemaVersion": "burn_event_v1",
            "txType": "burn",
            "burnScope": "unknown",
            "lpMint": None,
            "lpAmount": None,
        }
    ]
    full = out[("corto", "create.full")][0]
    out[("corto", "create.min")] = [project(full, Detail.MIN)]
    out[("corto", "create.mid")] = [project(full, Detail.MID)]
    return out


EXAMPLES = _examples()
CASES = [(api, family, i) for (api, family), found in sorted(EXAMPLES.items()) for i in range(len(found))]


def test_the_corpus_covers_the_event_and_payload_families() -> None:
    covered = {family for _, family, _ in CASES}
    assert {
        "create.full",
        "create.mid",
        "create.min",
        "trade",
        "migration",
        "createPool",
        "liquidity",
        "burn",
    } <= covered
    assert {
        "coin",
        "token_update",
        "new_token",
        "ohlcv_history_ack",
        "handshake",
        "subscription_ack",
    } <= covered


def _documented(api: str, family: str) -> set[str]:
    """The keys a family's schema describes (create levels share create.full's field types)."""
    if family.startswith("create."):
        return set(default_validator().schema("corto", "create.full")["$defs"]["fields"]["properties"])
    return set(default_validator().schema(api, family).get("properties", {}))


def _pointers(message: Any, api: str, family: str) -> set[tuple[str, str]]:
    return {(v.pointer, v.rule) for v in validate(message, api=api, family=family)}


@pytest.mark.parametrize(("api", "family", "index"), CASES)
def test_every_example_is_valid(api: str, family: str, index: int) -> None:
    assert validate(EXAMPLES[(api, family)][index], api=api, family=family) == []


@pytest.mark.parametrize(("api", "family", "index"), CASES)
def test_a_required_key_removed_is_named(api: str, family: str, index: int) -> None:
    message = EXAMPLES[(api, family)][index]
    required = default_validator().schema(api, family).get("required", [])
    for key in required:
        rest = {k: v for k, v in message.items() if k != key}
        assert _pointers(rest, api, family) == {(f"/{key}", "required")}, key


@pytest.mark.parametrize(("api", "family", "index"), CASES)
def test_null_in_a_reliable_field_is_named(api: str, family: str, index: int) -> None:
    message = EXAMPLES[(api, family)][index]
    base = "create.full" if family.startswith("create.") else family
    nullable = NULLABLE.get((api, base), frozenset())
    for key, value in message.items():
        if key not in _documented(api, family):
            continue  # a key the provider added: allowed, with any value
        if value is None:
            assert key in nullable, f"{key} is null in an example but not documented as nullable"
            continue
        found = _pointers({**message, key: None}, api, family)
        if key in nullable:
            assert found == set(), key
        else:
            assert len(found) == 1 and next(iter(found))[0] == f"/{key}", (key, found)


@pytest.mark.parametrize(("api", "family", "index"), CASES)
def test_a_wrong_type_is_named(api: str, family: str, index: int) -> None:
    message = EXAMPLES[(api, family)][index]
    for key, value in message.items():
        if key not in _documented(api, family) or key in ("type", "name", "txType", "schemaVersion"):
            continue
        wrong: Any = [] if isinstance(value, dict) else {"wrong": True}
        found = _pointers({**message, key: wrong}, api, family)
        assert len(found) == 1 and next(iter(found))[0] == f"/{key}", (key, found)


ENUMS = [
    ("corto", "trade", "txType", "swap"),
    ("corto", "trade", "source", "websocket"),
    ("corto", "trade", "schemaVersion", "buy_sell_event_v2"),
    ("corto", "liquidity", "txType", "addLiquidity"),
    ("corto", "create.full", "schemaVersion", "create_event_v2"),
    ("corto", "handshake", "/state/effectiveFilter/createDetail", "wide"),
    ("corto", "handshake", "/state/effectiveFilter/mode", "everything"),
    ("corto", "request.subscribe", "mode", "everything"),
    ("corto", "handshake", "/state/availableEvents/0", "swap"),
    ("corto", "handshake", "/state/supportedModes/0", "everything"),
    ("corto", "subscription_ack", "/state/supportedMessages/0", "publish"),
    ("corto", "burn", "txType", "remove"),
    ("pumpdata", "new_token", "protocol", "SOLANA"),
]


@pytest.mark.parametrize(("api", "family", "key", "value"), ENUMS)
def test_an_unknown_enum_value_is_named(api: str, family: str, key: str, value: str) -> None:
    message = json.loads(json.dumps(EXAMPLES[(api, family)][0]))
    parts = key.strip("/").split("/")
    target = message
    for part in parts[:-1]:
        target = target[int(part) if isinstance(target, list) else part]
    target[int(parts[-1]) if isinstance(target, list) else parts[-1]] = value
    pointer = key if key.startswith("/") else f"/{key}"
    (found,) = _pointers(message, api, family)
    assert found[0] == pointer and found[1] in ("enum", "const"), found


def test_error_codes_are_a_closed_set() -> None:
    (found,) = _pointers({"error": "rate_limited", "message": "x"}, "pumpdata", "ack_error")
    assert found == ("/error", "enum")
    error = {
        "type": "service",
        "name": "error",
        "state": EXAMPLES[("corto", "handshake")][0]["state"],
        "error": {"code": "bad_request", "message": "x"},
    }
    assert _pointers(error, "corto", "error") == {("/error/code", "enum")}


def test_a_min_create_with_an_extra_key_is_named() -> None:
    create = EXAMPLES[("corto", "create.min")][0]
    for key in ("price", "slot", "anything"):
        assert _pointers({**create, key: 1}, "corto", "create.min") == {(f"/{key}", "additionalProperties")}
    # mid is a subset of full: a key outside the 87 is named too
    mid = EXAMPLES[("corto", "create.mid")][0]
    assert _pointers({**mid, "slot": 1}, "corto", "create.mid") == {("/slot", "propertyNames")}


def test_pools_are_hyphenated_in_events_and_keys_base58() -> None:
    # contract §3.5: events name pools pump-fun, filters pump.fun; keys are base58 (no 0OIl).
    trade = EXAMPLES[("corto", "trade")][0]
    assert _pointers({**trade, "pool": "pump.fun"}, "corto", "trade") == {("/pool", "pattern")}
    assert _pointers({**trade, "mint": "0OIl" + trade["mint"][4:]}, "corto", "trade") == {
        ("/mint", "pattern")
    }
    ack = json.loads(json.dumps(EXAMPLES[("corto", "subscription_ack")][0]))
    ack["state"]["availablePools"].append("pump-fun")
    index = len(ack["state"]["availablePools"]) - 1
    assert _pointers(ack, "corto", "subscription_ack") == {(f"/state/availablePools/{index}", "pattern")}


def test_subscriptions_map_documented_events_to_dotted_pools() -> None:
    # contract §3.3, 3.5: effectiveFilter.subscriptions maps an event (filter vocabulary) to pools.
    ack = json.loads(json.dumps(EXAMPLES[("corto", "subscription_ack")][0]))
    ack["state"]["effectiveFilter"]["subscriptions"] = {"create": ["pump.fun"], "migrate": ["pump.fun"]}
    assert _pointers(ack, "corto", "subscription_ack") == {
        ("/state/effectiveFilter/subscriptions/migrate", "propertyNames")
    }
    ack["state"]["effectiveFilter"]["subscriptions"] = {"create": ["pump-fun"]}
    assert _pointers(ack, "corto", "subscription_ack") == {
        ("/state/effectiveFilter/subscriptions/create/0", "pattern")
    }


def test_pool_side_events_carry_base58_keys_and_hyphenated_source_families() -> None:
    # contract §3.5, 3.6: poolCreatedBy is the source family, named as events name pools.
    for family in ("createPool", "liquidity", "burn", "migration"):
        event = EXAMPLES[("corto", family)][-1]
        assert _pointers({**event, "poolCreatedBy": "pump.fun"}, "corto", family) == {
            ("/poolCreatedBy", "pattern")
        }, family
        for key in ("poolId", "poolProgramId", "txSigner"):
            assert _pointers({**event, key: "pump-pool-test"}, "corto", family) == {(f"/{key}", "pattern")}
    # the one documented exception: a migration signature can be a test string (the corto.fun contract page)
    migration = EXAMPLES[("corto", "migration")][-1]
    assert validate({**migration, "signature": "pump-migration-test"}, api="corto", family="migration") == []


def test_burn_has_liquidity_s_keys_plus_burn_scope() -> None:
    burn = EXAMPLES[("corto", "burn")][0]
    required = set(default_validator().schema("corto", "burn")["required"])
    assert required == set(default_validator().schema("corto", "liquidity")["required"]) | {"burnScope"}
    assert _pointers({**burn, "baseAmount": "1"}, "corto", "burn") == {("/baseAmount", "type")}
