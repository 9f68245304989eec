"""PumpPortal messages (contract §4): the documented shapes validate, each family is told from
the message or from the connection it came on, and the rules the schemas hold are named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.core.families import FamilyTracker, family_of
from harness.core.frames import C2S, S2C, WsOpen, WsText
from harness.store import dump_tape
from harness.validation import validate, validate_tape
from tests.helpers import header

MINT = "9U2RvAw8H5XpPVfFt298H7LvBAeFUf9hbBCadBQNpump"
WALLET = "HCD9JhZnrrCeuZ3iKWK7PEpjBwfiGkDDkrg643hBYZym"
CURVE = "AgK5qZJ9BJs6USCHt5CaoNxc6xTe3uGzTgueLtQZxE3G"
SIG = "52a39rcxQiGCkjQ6yftB27Y9GbVnf2wo65XDqT8gVsg9RYBegh7wLgmMuKSXmH3dkkrDTDdFmk2HjqEQLJSHJJmr"
CREATE_PUMP = {
    "signature": SIG, "mint": MINT, "traderPublicKey": WALLET, "txType": "create",
    "initialBuy": 34612903.225806, "solAmount": 1, "bondingCurveKey": CURVE,
    "vTokensInBondingCurve": 1038387096.774194, "vSolInBondingCurve": 30.999999999999993,
    "marketCapSol": 29.853991922957326, "name": "Moon Cat", "symbol": "MC",
    "uri": "https://ipfs.io/ipfs/Qm", "is_mayhem_mode": False, "pool": "pump",
}  # fmt: skip
CREATE_BONK = {
    "signature": SIG, "mint": MINT, "traderPublicKey": WALLET, "txType": "create", "initialBuy": 1.5,
    "solAmount": 0.5, "solInPool": 0.5, "tokensInPool": 792600000.0, "newTokenBalance": 1.5,
    "marketCapSol": 28.1, "name": "Bonk Jr", "symbol": "BJ", "uri": "https://ipfs.io/ipfs/Qm", "pool": "bonk",
}  # fmt: skip
TRADE = {
    "signature": SIG, "mint": MINT, "traderPublicKey": WALLET, "txType": "buy", "tokenAmount": 805661.64775,
    "solAmount": 0.041809654, "newTokenBalance": 805661.64775, "bondingCurveKey": CURVE,
    "vTokensInBondingCurve": 1072194338.35225, "vSolInBondingCurve": 30.041809654,
    "marketCapSol": 28.01, "pool": "pump",
}  # fmt: skip
MIGRATE = {"signature": SIG, "mint": MINT, "txType": "migrate", "pool": "pump-amm"}
REFUSAL = (
    "Token and account trade subscriptions are only available when connecting with an API key"
    " funded with at least 0.02 SOL."
)
PUMPPORTAL: list[tuple[str, Any]] = [
    ("request.subscribeNewToken", {"method": "subscribeNewToken"}),
    ("request.subscribeMigration", {"method": "subscribeMigration"}),
    ("request.subscribeTokenTrade", {"method": "subscribeTokenTrade", "keys": [MINT]}),
    ("request.subscribeAccountTrade", {"method": "subscribeAccountTrade", "keys": [WALLET]}),
    ("request.unsubscribeNewToken", {"method": "unsubscribeNewToken"}),
    ("request.unsubscribeMigration", {"method": "unsubscribeMigration"}),
    ("request.unsubscribeTokenTrade", {"method": "unsubscribeTokenTrade", "keys": [MINT]}),
    ("request.unsubscribeAccountTrade", {"method": "unsubscribeAccountTrade", "keys": [WALLET]}),
    ("message", {"message": "Successfully subscribed to token creation events."}),
    ("message", {"message": "Subscribed to 'migration' events."}),
    ("message", {"message": REFUSAL}),
    ("errors", {"errors": "unknown method 'subscribeEverything'"}),
    ("create.pump", CREATE_PUMP),
    ("create.pump", {k: v for k, v in CREATE_PUMP.items() if k not in ("name", "symbol", "uri")}),
    ("create.bonk", CREATE_BONK),
    ("create.bonk", {k: v for k, v in CREATE_BONK.items() if k not in ("name", "symbol", "uri")}),
    ("trade", TRADE),
    ("trade", {**TRADE, "txType": "sell"}),
    ("migrate", MIGRATE),
]
"""One or more examples of every family, in the shapes contract §4 gives."""


@pytest.mark.parametrize(("family", "message"), PUMPPORTAL, ids=[f for f, _ in PUMPPORTAL])
def test_documented_shapes_validate_and_say_what_they_are(family: str, message: Any) -> None:
    assert family_of(message) == ("pumpportal", family)
    assert validate(message) == []
    assert validate(message, api="pumpportal", family=family) == []


def test_the_rules_the_schemas_hold_are_named() -> None:
    def found(message: Any, family: str) -> list[tuple[str, str]]:
        return [(v.pointer, v.rule) for v in validate(message, api="pumpportal", family=family)]

    assert found({"method": "subscribeTokenTrade"}, "request.subscribeTokenTrade") == [("/keys", "required")]
    assert found({"method": "subscribeTokenTrade", "keys": []}, "request.subscribeTokenTrade") == [
        ("/keys", "minItems")
    ]
    assert found({"method": "subscribeTokenTrade", "keys": [MINT, 7]}, "request.subscribeTokenTrade") == [
        ("/keys/1", "type")
    ]
    assert found({"method": "subscribeNewToken", "keys": [MINT]}, "request.subscribeNewToken") == [
        ("/keys", "additionalProperties")
    ]
    assert found({**MIGRATE, "slot": 1}, "migrate") == [("/slot", "additionalProperties")]
    assert found({**CREATE_BONK, "bondingCurveKey": CURVE}, "create.bonk") == [("", "not")]
    assert found({k: v for k, v in TRADE.items() if k != "traderPublicKey"}, "trade") == [
        ("/traderPublicKey", "required")
    ]
    assert found({**TRADE, "txType": "swap"}, "trade") == [("/txType", "enum")]


def test_a_lone_message_of_another_api_is_not_taken_for_pumpportal_s() -> None:
    corto_trade = {"schemaVersion": "buy_sell_event_v1", "txType": "buy", "mint": MINT, "txSigner": WALLET}
    assert family_of(corto_trade) == ("corto", "trade")
    assert family_of({"type": "subscribe", "mode": "all"}) == ("corto", "request.subscribe")
    assert family_of({"error": "x", "message": "y"}) == ("pumpdata", "ack_error")


def test_on_a_pumpportal_connection_an_event_is_known_by_its_txtype(tmp_path: Path) -> None:
    broken_trade = {k: v for k, v in TRADE.items() if k != "traderPublicKey"}
    frames = [
        WsOpen(0.0, "c1", "wss://pumpportal.fun/api/data?api-key=REDACTED-0123456789abcdef"),
        WsText(0.1, "c1", C2S, '{"method":"subscribeTokenTrade","keys":["nope"]}'),
        WsText(0.2, "c1", S2C, '{"message":"Successfully subscribed to keys."}'),
        WsText(0.3, "c1", S2C, json.dumps(broken_trade)),
        WsText(0.4, "c1", S2C, "not json"),
    ]
    tracker = FamilyTracker()
    classified = [(api, family) for frame in frames for api, family, *_ in tracker.classify(frame)]
    assert classified == [
        ("pumpportal", "request.subscribeTokenTrade"),
        ("pumpportal", "message"),
        ("pumpportal", "trade"),
        ("pumpportal", None),
    ]
    path = dump_tape(tmp_path / "pp.jsonl", header(), frames)
    found = [(v.line, v.api, v.family, v.pointer, v.rule) for v in validate_tape(path)]
    assert found == [
        (3, "pumpportal", "request.subscribeTokenTrade", "/keys/0", "pattern"),
        (5, "pumpportal", "trade", "/traderPublicKey", "required"),
        (6, "pumpportal", "", "", "json"),
    ]
    assert list(validate_tape(path, api="corto")) == []
