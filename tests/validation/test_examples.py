"""Every documented example validates under its family; one-rule mutations fail with the right pointer."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.families import family_of
from harness.store import dump_tape
from harness.synth import generate
from harness.validation import UnknownFamily, validate, validate_tape
from tests.helpers import ROOT, seed_json_blocks


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


SEED_003 = [
    ("pumpdata", "ohlcv", [[1779812627000, 0.000000033, 0.000000034, 0.000000033, 0.000000034, 5.12]]),
    ("pumpdata", "ack_error", {"error": "not_found", "message": "pool not found"}),
    ("pumpdata", "subscribe_ohlcv", {"pool": "4mBL…"}),
    ("pumpdata", "unsubscribe_ohlcv", {"pool": "4mBL…"}),
    ("pumpdata", "ack", {"ok": True}),
]
CONTRACTS = [
    ("pumpfun", "sol_price", {"solPrice": 244.2}),
    (
        "pumpfun",
        "error",
        {
            "code": "22P02",
            "details": None,
            "hint": None,
            "message": 'invalid input syntax for type uuid: "test"',
        },
    ),
    ("corto", "request.ping", {"type": "ping"}),
    ("corto", "pong", {"type": "pong"}),
    ("corto", "request.unsubscribe", {"type": "unsubscribe"}),
    (
        "pumpdata",
        "subscribe_new_tokens",
        {"protocols": ["PUMPFUN", "PUMPSWAP", "METEORA", "RAYDIUM", "ORCA", "BONK"]},
    ),
    ("pumpdata", "subscribe_migrations", {"protocols": ["PUMPFUN"]}),
    ("pumpdata", "subscribe_sol_price", None),
    ("pumpdata", "ohlcv_history", {"mint": "CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump", "limit": 500}),
]


@pytest.mark.parametrize(("api", "family", "message"), SEED_003 + CONTRACTS, ids=lambda x: str(x)[:30])
def test_documented_examples(api: str, family: str, message: Any) -> None:
    assert validate(message, api=api, family=family) == []


def test_repo_copy_drift_is_accepted() -> None:
    # CONTRACTS.md 3.7: the repository copy lacks createDetail and graceActive, and pump.fun.
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
        SioAck(t=3, conn="sio-1", direction=S2C, ack_id=4, args=({"ok": True, "pool": "P", "data": [[1, 2]]},)),
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
