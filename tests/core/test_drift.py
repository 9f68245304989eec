"""Contract drift between two recordings, from profiles of messages: each documented kind of drift
(contract §3.7: handshakes with and without createDetail, pool lists that change membership and
order, trades gaining and losing quote* keys, marketCapSol null or a number, error envelopes with
and without details, int and float for one field, exponent notation) is found and classed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.core.drift import (
    MAX_KEYS,
    VOCABULARY_CAP,
    Change,
    ChangeKind,
    ExponentFloat,
    Kind,
    Profile,
    compare,
    decode,
    describe,
    kind_of,
)

POOLS_SITE = ["bags.fm", "pump.fun", "pump.swap", "raydium.amm", "raydium.cpmm", "meteora.dlmm",
              "letsbonk.fun", "meteora.damm-v1", "meteora.damm-v2"]  # fmt: skip
POOLS_REPO = ["pump.swap", "raydium.amm", "raydium.cpmm", "meteora.dlmm", "letsbonk.fun", "meteora.damm-v1",
              "meteora.damm-v2", "bags.fm"]  # fmt: skip


def profile(*messages: Any, api: str = "corto", family: str = "trade") -> Profile:
    out = Profile()
    for message in messages:
        out.add(api, family, decode(message) if isinstance(message, str) else message)
    return out


def changes(old: Profile, new: Profile) -> dict[tuple[str, ChangeKind], Change]:
    return {(c.key, c.kind): c for c in compare(old, new)}


def handshake(pools: list[str], detail: bool) -> dict[str, Any]:
    flt: dict[str, Any] = {"mode": "none", "subscriptions": {}, "graceActive": True}
    if detail:
        flt["createDetail"] = "full"
    return {"type": "service", "name": "handshake", "state": {"status": "connected", "availablePools": pools,
            "effectiveFilter": flt, "subscriptionGraceMs": 3000}}  # fmt: skip


def test_handshakes_of_the_site_and_the_repository() -> None:
    site = profile(handshake(POOLS_SITE, True), family="handshake")
    repo = profile(handshake(POOLS_REPO, False), family="handshake")
    found = changes(site, repo)
    removed = found[("state.effectiveFilter.createDetail", ChangeKind.KEY_REMOVED)]
    assert removed.breaking and "in 100% of OLD" in removed.detail
    vanished = found[("state.availablePools[]", ChangeKind.VALUE_REMOVED)]
    assert vanished.breaking and vanished.detail == "pump.fun" and "subscribe" in vanished.reason
    order = found[("state.availablePools", ChangeKind.ORDER)]
    assert not order.breaking and "OLD bags.fm, NEW pump.swap" in order.detail
    assert len(found) == 3
    # the other way: the key and the pool are new, which clients that ignore unknown keys survive,
    # but a client that branches on known pools meets one it does not know
    back = changes(repo, site)
    assert not back[("state.effectiveFilter.createDetail", ChangeKind.KEY_ADDED)].breaking
    assert back[("state.availablePools[]", ChangeKind.VALUE_ADDED)].breaking


TRADE = {"schemaVersion": "buy_sell_event_v1", "txType": "buy", "pool": "pump-fun", "price": 2.8877674632978795e-08,
         "timestamp": 1774541469000, "solAmount": 0.159998377, "marketCapSol": 28.867674632978797}  # fmt: skip
QUOTE = {"quoteMint": "So11111111111111111111111111111111111111112", "quoteAmountRaw": None, "quoteAmount": None,
         "quoteInPool": None, "vQuoteInBondingCurve": None, "marketCapQuote": None}  # fmt: skip


def test_trades_gaining_and_losing_quote_keys_and_market_cap_null_or_a_number() -> None:
    site = profile({**TRADE, "marketCapSol": None})
    repo = profile({**TRADE, **QUOTE})
    gained = changes(site, repo)
    for key in QUOTE:
        assert not gained[(key, ChangeKind.KEY_ADDED)].breaking
    assert not gained[("marketCapSol", ChangeKind.TYPE)].breaking  # a number where only null came
    lost = changes(repo, site)
    for key in QUOTE:
        assert lost[(key, ChangeKind.KEY_REMOVED)].breaking
    null = lost[("marketCapSol", ChangeKind.NULLABILITY)]
    assert null.breaking and null.detail == "null in 1 of 1 NEW values, never in OLD"


def test_error_envelopes_with_and_without_details_and_grace() -> None:
    error = {"type": "service", "name": "error", "error": {"code": "invalid_subscription", "message": "x"},
             "state": {"effectiveFilter": {"mode": "none", "subscriptions": {}}}}  # fmt: skip
    full = json.loads(json.dumps(error))
    full["error"]["details"] = {"mode": "all", "supportedModes": ["all"]}
    full["state"]["effectiveFilter"]["graceActive"] = True
    # sometimes with details, sometimes without: details was optional, so losing it is no break
    mixed = profile(error, full, family="error")
    found = changes(mixed, profile(error, family="error"))
    assert not found[("error.details", ChangeKind.KEY_REMOVED)].breaking
    assert (
        "optional already (absent from 50% of OLD)" in found[("error.details", ChangeKind.KEY_REMOVED)].reason
    )
    # always there before, sometimes missing now: breaking
    found = changes(profile(full, full, family="error"), mixed)
    presence = found[("state.effectiveFilter.graceActive", ChangeKind.PRESENCE)]
    assert presence.breaking and presence.detail == "in every OLD message, in 50% of NEW"


def test_int_and_float_for_one_field_and_exponent_notation() -> None:
    old = profile('{"txType": "add", "baseAmount": 1000000001, "price": 0.000000004}', family="liquidity")
    new = profile('{"txType": "add", "baseAmount": 825190689.28, "price": 4e-9}', family="liquidity")
    found = changes(old, new)
    fraction = found[("baseAmount", ChangeKind.TYPE)]
    assert fraction.breaking and fraction.detail == "int in OLD, also float in NEW"
    exponent = found[("price", ChangeKind.EXPONENT)]
    assert exponent.breaking and exponent.detail == "written as 4e-09 in NEW, never so in OLD"
    back = changes(new, old)
    assert not back[("baseAmount", ChangeKind.TYPE)].breaking  # an int is a valid float
    assert ("price", ChangeKind.EXPONENT) not in back


def test_units_and_magnitudes() -> None:
    old = profile({"timestamp": 1774541469000, "solAmount": 0.16, "price": 2.0e-8})
    new = profile({"timestamp": 1774541469, "solAmount": 160000000, "price": 3.1e-8})
    found = changes(old, new)
    unit = found[("timestamp", ChangeKind.UNIT)]
    assert unit.breaking and "milliseconds in OLD, seconds in NEW" in unit.detail
    lamports = found[("solAmount", ChangeKind.UNIT)]
    assert lamports.breaking and "lamports against SOL" in lamports.detail
    assert ("price", ChangeKind.MAGNITUDE) not in found and ("price", ChangeKind.UNIT) not in found


def test_vocabularies_new_and_vanished_values() -> None:
    old = profile({"txType": "buy", "pool": "pump-fun"}, {"txType": "sell", "pool": "letsbonk-fun"})
    new = profile({"txType": "buy", "pool": "pump-fun"}, {"txType": "buy", "pool": "meteora-dbc"})
    found = changes(old, new)
    assert found[("pool", ChangeKind.VALUE_ADDED)].detail == "meteora-dbc"
    assert not found[("pool", ChangeKind.VALUE_REMOVED)].breaking  # no longer sent: clients cope
    assert not found[("txType", ChangeKind.VALUE_REMOVED)].breaking
    # names, signatures and mints are no vocabulary: new values are no drift
    assert not changes(profile({"mint": "a", "name": "x"}), profile({"mint": "b", "name": "y"}))


def test_schema_rejections_and_families() -> None:
    old, new = Profile(), Profile()
    old.add("corto", "trade", {"txType": "buy"})
    new.add("corto", "trade", {"txType": "buy"}, ["/pool required"])
    new.add("corto", "migration", {"txType": "migrate"})
    found = compare(old, new)
    schema = next(c for c in found if c.kind is ChangeKind.SCHEMA)
    assert schema.breaking and "reject 1 of 1 NEW messages (0 of 1 OLD): /pool required" in schema.detail
    added = next(c for c in found if c.kind is ChangeKind.FAMILY_ADDED)
    assert (added.family, added.breaking) == ("migration", False)
    removed = compare(new, old)
    assert any(c.kind is ChangeKind.FAMILY_REMOVED and not c.breaking for c in removed)


def test_memory_is_bounded() -> None:
    wide = profile({f"k{i}": i for i in range(MAX_KEYS + 50)})
    assert len(wide.families["corto trade"].keys) == MAX_KEYS
    assert wide.families["corto trade"].more_keys == 50
    many = profile(*({"pool": f"pool-{i}"} for i in range(VOCABULARY_CAP + 1)))
    assert many.families["corto trade"].keys["pool"].values is None  # an open set: not compared
    addresses = profile({"tradersInvolved": {"6qyhKqH3ERtgQcYhFms2XbRxhC262PXnZnrH2ynoks1T": {}}},
                        {"tradersInvolved": {"AVmoTthdrX6tKt4nDjco2D775W2YK3sDhxPcMmzUAmTY": {}}})  # fmt: skip
    assert set(addresses.families["corto trade"].keys) == {"tradersInvolved", "tradersInvolved.{address}"}


@pytest.mark.parametrize(
    ("text", "kind"),
    [("1", Kind.INT), ("1.5", Kind.FLOAT), ("4e-9", Kind.EXPONENT), ("2.88E-8", Kind.EXPONENT),
     ('"x"', Kind.STRING), ("null", Kind.NULL), ("true", Kind.BOOL), ("{}", Kind.OBJECT), ("[]", Kind.ARRAY)],
)  # fmt: skip
def test_kinds(text: str, kind: Kind) -> None:
    assert kind_of(decode(text)) is kind


def test_decode_is_strict_and_keeps_values() -> None:
    value = decode("4e-9")
    assert isinstance(value, ExponentFloat) and value == 4e-9
    with pytest.raises(ValueError, match="NaN"):
        decode("NaN")


def test_describe_lists_breaking_first_and_counts() -> None:
    old = profile(handshake(POOLS_SITE, True), family="handshake")
    new = profile(handshake(POOLS_REPO, False), family="handshake")
    text = describe(compare(old, new), old, new, "a -> b", limit=2)
    lines = text.splitlines()
    assert lines[0] == "contract drift a -> b: 3 changes, 2 breaking"
    assert lines[2] == "corto handshake  (OLD 1 message, NEW 1 message)"
    assert lines[3].startswith("  BREAKING  vanished value    state.availablePools[]: pump.fun")
    assert lines[-1] == "... 1 more changes (harness diff shows them all)"
