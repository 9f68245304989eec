"""Every documented example validates under its family; one-rule mutations fail with the right pointer."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.corto.detail import MIN_KEYS
from harness.core.families import family_of
from harness.store import dump_tape
from harness.synth import generate
from harness.validation import UnknownFamily, validate, validate_tape
from tests.helpers import ROOT, SEEDS, seed_json_blocks


def test_seed_004_examples_verbatim() -> None:
    blocks = seed_json_blocks("004_3ab254ca4706ad7f.txt")
    families = [family_of(b) for b in blocks]
    assert families == [
        ("corto", "request.subscribe"),
        ("corto", "request.subscribe"),
        ("corto", "request.subscribe"),
        ("corto", "request.unsubscribe"),
        ("corto", "request.current_state"),
        ("corto", "handshake"),
        ("corto", "subscription_ack"),
        ("corto", "current_state"),
        ("corto", "error"),
    ]
    for block in blocks:
        assert validate(block) == [], block


def test_seed_003_examples_verbatim() -> None:
    """Every message the PumpData subscribe_ohlcv page prints: the Python client's emits, the ohlcv emission,
    the error payload (the ack's, or subscription_error's), and the { ok: true } ack it stands in for."""
    text = (SEEDS / "003_e7db900a1bcc193d.txt").read_text()
    emits = [
        (name, json.loads(args)) for name, args in re.findall(r'sio\.emit\("(\w+)", (\{[^}]*\})\)', text)
    ]
    assert emits == [("subscribe_ohlcv", {"pool": "4mBL…"}), ("unsubscribe_ohlcv", {"pool": "4mBL…"})]
    lines = text.splitlines()
    (candles,) = [json.loads(line) for line in lines if line.startswith("[[")]
    (error,) = [json.loads(line) for line in lines if line.startswith('{ "error"')]
    assert "{ ok: true }" in text
    examples = [*emits, ("ohlcv", candles), ("ack_error", error), ("ack", {"ok": True})]
    for family, message in examples:
        assert validate(message, api="pumpdata", family=family) == [], family
    # the payloads that say what they are are found without their event name
    assert [family_of(m) for _, m in examples[2:]] == [
        ("pumpdata", "ohlcv"),
        ("pumpdata", "ack_error"),
        ("pumpdata", "ack"),
    ]


def test_seed_004_observed_signatures() -> None:
    """The 'Observed family examples' table: each family's published signature is one its
    schema accepts (the migration's is a test string, and accepted as such)."""
    text = (SEEDS / "004_3ab254ca4706ad7f.txt").read_text()
    rows = re.findall(
        r"^(CreatePool|Create|Trade|Migration|Liquidity)(\S+?)(?:The live|Trade schema|Migration is|Pool-side|Remove)",
        text,
        flags=re.M,
    )
    assert [r[0] for r in rows] == ["Create", "Trade", "Migration", "CreatePool", "Liquidity"]
    families = {"Create": "create.min", "Trade": "trade", "Migration": "migration"}
    families |= {"CreatePool": "createPool", "Liquidity": "liquidity"}
    repo = json.loads((SEEDS / "corto_repo_examples.json").read_text())["examples"]
    events = {e["family"]: e["message"] for e in repo}
    events["create.min"] = {k: v for k, v in events["create.full"].items() if k in MIN_KEYS}
    for name, signature in rows:
        family = families[name]
        event = {**events[family], "signature": signature}
        assert validate(event, api="corto", family=family) == [], (name, signature)
    assert dict(rows)["Migration"] == "pump-migration-test"


def test_corto_service_shapes_contracts_md_lists() -> None:
    """Contract §3.3: acks for unsubscribe too; error details {mode, supportedModes} or none;
    an error without graceActive (app.js) or createDetail (the repository copy)."""
    handshake, ack, _, error = seed_json_blocks("004_3ab254ca4706ad7f.txt")[5:]
    assert validate({**ack, "action": "unsubscribe"}) == []
    combined = copy.deepcopy(error)
    combined["error"] = {
        "code": "invalid_subscription",
        "message": "Do not combine mode with events or pools in the same subscription message.",
        "details": {"mode": "all", "supportedModes": ["all", "mints", "trades", "migrations", "pools"]},
    }
    del combined["state"]["effectiveFilter"]["graceActive"]
    del combined["state"]["effectiveFilter"]["createDetail"]
    assert validate(combined) == []
    (violation,) = validate({**ack, "action": "resubscribe"})
    assert (violation.pointer, violation.rule) == ("/action", "enum")
    (violation,) = validate({**handshake, "state": {**handshake["state"], "subscriptionGraceMs": "3000"}})
    assert violation.pointer == "/state/subscriptionGraceMs"


def test_repo_copy_drift_is_accepted() -> None:
    # contract §3.7: the repository copy lacks createDetail and graceActive, and pump.fun.
    blocks = seed_json_blocks("004_3ab254ca4706ad7f.txt")
    handshake = copy.deepcopy(blocks[5])
    del handshake["state"]["effectiveFilter"]["createDetail"]
    del handshake["state"]["effectiveFilter"]["graceActive"]
    handshake["state"]["availablePools"].remove("pump.fun")
    assert validate(handshake) == []
    error = copy.deepcopy(blocks[8])
    del error["error"]["details"]
    assert validate(error) == []


@pytest.fixture(scope="module")
def corto_events() -> dict[str, dict[str, Any]]:
    from harness.store import read_tape

    _, frames = read_tape(ROOT / "fixtures" / "demo" / "corto.jsonl")
    out: dict[str, dict[str, Any]] = {}
    for frame in frames:
        message = json.loads(getattr(frame, "data", "null") or "null")
        found = family_of(message) if message else None
        if found and found[1] not in out:
            out[found[1]] = message
    return out


def _one(message: Any, api: str, family: str) -> tuple[str, str]:
    (violation,) = validate(message, api=api, family=family)
    return violation.pointer, violation.rule


def test_mutation_required_key_removed(corto_events: dict[str, dict[str, Any]]) -> None:
    trade = dict(corto_events["trade"])
    del trade["mint"]
    assert _one(trade, "corto", "trade") == ("/mint", "required")


def test_mutation_wrong_type(corto_events: dict[str, dict[str, Any]]) -> None:
    trade = dict(corto_events["trade"], slot="123")
    assert _one(trade, "corto", "trade") == ("/slot", "type")


def test_mutation_unknown_enum(corto_events: dict[str, dict[str, Any]]) -> None:
    trade = dict(corto_events["trade"], source="websocket")
    assert _one(trade, "corto", "trade") == ("/source", "enum")


def test_mutation_null_in_a_reliable_field(corto_events: dict[str, dict[str, Any]]) -> None:
    trade = dict(corto_events["trade"], signature=None)
    assert _one(trade, "corto", "trade") == ("/signature", "type")


def test_mutation_min_create_with_an_extra_key(corto_events: dict[str, dict[str, Any]]) -> None:
    from harness.core.corto.detail import Detail, project

    create = project(corto_events["create.full"], Detail.MIN)
    assert validate(create) == []
    assert _one({**create, "price": 1e-8}, "corto", "create.min") == ("/price", "additionalProperties")


def test_mutation_nested_pointer() -> None:
    message = {"type": "subscribe", "events": ["create", "swap"], "pools": ["pump.fun"]}
    assert _one(message, "corto", "request.subscribe") == ("/events/1", "enum")
    pools = {"type": "subscribe", "pools": ["pump-fun"]}
    assert _one(pools, "corto", "request.subscribe") == ("/pools/0", "pattern"), "filters use dotted pools"


def test_units_are_checked() -> None:
    trade = {
        "signature": "5" * 88,
        "mint": "So11111111111111111111111111111111111111112",
        "sol_amount": 1.5,
        "token_amount": 10,
        "is_buy": True,
        "user": "So11111111111111111111111111111111111111112",
        "timestamp": 1779812627000,
    }
    found = {(v.pointer, v.rule) for v in validate(trade, api="pumpfun", family="trade")}
    assert found == {("/sol_amount", "type"), ("/timestamp", "maximum")}, (
        "lamports are integers, timestamps seconds"
    )


def test_migration_signature_may_be_a_test_string(corto_events: dict[str, dict[str, Any]]) -> None:
    assert validate(dict(corto_events["migration"], signature="pump-migration-test")) == []


def test_ambiguous_family_picks_the_api_of_the_message() -> None:
    assert validate({"price": 180.5, "time": 1779812627}, family="sol_price") == []
    assert validate({"solPrice": 180.5}, family="sol_price") == []


def test_unknown_message_and_family() -> None:
    (violation,) = validate({"hello": "world"})
    assert violation.rule == "family"
    with pytest.raises(UnknownFamily, match="unknown family 'nope'"):
        validate({}, api="corto", family="nope")
    with pytest.raises(UnknownFamily, match="unknown api"):
        validate({}, api="binance")


def test_synth_tapes_validate_clean(tmp_path: Path) -> None:
    for api, (header, frames) in generate(11, 90.0).items():
        path = dump_tape(tmp_path / f"{api}.jsonl", header, frames)
        assert list(validate_tape(path)) == [], api


def test_tape_violations_carry_line_pointer_and_direction(tmp_path: Path) -> None:
    from harness.core.frames import C2S, S2C, SioAck, SioEvent, WsText
    from tests.helpers import header

    frames = [
        WsText(t=0, conn="ws-1", direction=C2S, data='{"type":"subscribe","mode":"everything"}'),
        WsText(t=1, conn="ws-1", direction=S2C, data="not json"),
        SioEvent(
            t=2,
            conn="sio-1",
            direction=C2S,
            name="ohlcv_history",
            args=({"pool": "P", "limit": 900},),
            ack_id=4,
        ),
        SioAck(
            t=3, conn="sio-1", direction=S2C, ack_id=4, args=({"ok": True, "pool": "P", "data": [[1, 2]]},)
        ),
    ]
    path = dump_tape(tmp_path / "t.jsonl", header(), frames)
    found = [(v.line, v.family, v.pointer, v.rule, v.direction) for v in validate_tape(path)]
    assert found == [
        (2, "request.subscribe", "/mode", "enum", "c2s"),
        (3, "", "", "json", "s2c"),
        (4, "ohlcv_history", "/args/0/limit", "maximum", "c2s"),
        (5, "ohlcv_history_ack", "/args/0/data/0", "minItems", "s2c"),
        (5, "ohlcv_history_ack", "/args/0/data/0/0", "minimum", "s2c"),
    ]


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_generated_valid_messages_validate(seed: int) -> None:
    """Every message of a synthetic feed from any seed keeps the contract."""
    from harness.core.families import FamilyTracker

    tracker = FamilyTracker()
    for _api, (_header, frames) in generate(seed, 15.0).items():
        for frame in frames:
            for api, family, message, _ in tracker.classify(frame):
                assert family is not None, message
                assert validate(message, api=api, family=family) == [], (api, family, message)
