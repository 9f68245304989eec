"""The PumpPortal tape of the simulated market: the contract's units and key sets (contract §4),
the same market as the other tapes, and every frame valid (synth -> validate round trip)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.core.families import FamilyTracker
from harness.core.frames import C2S, S2C, WsOpen, WsText
from harness.store import dump_tape
from harness.synth import generate
from harness.validation import validate, validate_tape
from tests.helpers import run_cli

FRESH_SOL, FRESH_TOKENS = 30.0, 1_073_000_000.0


@pytest.fixture(scope="module")
def tapes() -> dict[str, Any]:
    return generate(3, 600.0)


def _events(frames: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(f.data) for f in frames if isinstance(f, WsText) and f.direction is S2C]


def test_units_and_key_sets(tapes: dict[str, Any]) -> None:
    _, frames = tapes["pumpportal"]
    events = [e for e in _events(frames) if "txType" in e]
    pools = {(e["txType"], e["pool"]) for e in events}
    assert {("create", "pump"), ("create", "bonk"), ("buy", "pump"), ("sell", "pump")} <= pools
    assert ("migrate", "pump-amm") in pools
    for event in events:
        assert not {"timestamp", "slot", "block"} & event.keys()  # contract §4: no time at all
        if "vSolInBondingCurve" in event:
            vsol, vtokens = event["vSolInBondingCurve"], event["vTokensInBondingCurve"]
            assert event["marketCapSol"] == vsol / vtokens * 1e9  # exactly
        if event["txType"] == "create" and event["pool"] == "pump":
            assert event["vSolInBondingCurve"] - event["solAmount"] == pytest.approx(FRESH_SOL)
            assert event["vTokensInBondingCurve"] + event["initialBuy"] == pytest.approx(FRESH_TOKENS)
        if event["txType"] == "migrate":
            assert event.keys() == {"signature", "mint", "txType", "pool"}
    creates = [e for e in events if e["txType"] == "create"]
    assert any("name" not in e for e in creates) and any("name" in e for e in creates)
    assert 30 / 1_073_000_000 * 1e9 == 27.958993476234856


def test_trades_are_those_of_the_mints_subscribed_to_and_the_market_is_shared(tapes: dict[str, Any]) -> None:
    _, frames = tapes["pumpportal"]
    subscribed: set[str] = set()
    for frame in frames:
        if not isinstance(frame, WsText):
            continue
        message = json.loads(frame.data)
        if frame.direction is C2S and message["method"] == "subscribeTokenTrade":
            subscribed.update(message["keys"])
        elif message.get("txType") in ("buy", "sell"):
            assert message["mint"] in subscribed
    corto = {e.get("mint") for e in _events(tapes["corto"][1])}
    portal = {e.get("mint") for e in _events(frames) if "mint" in e}
    assert portal and portal <= corto


def test_every_synthesized_frame_validates(tapes: dict[str, Any], tmp_path: Path) -> None:
    header, frames = tapes["pumpportal"]
    assert isinstance(frames[0], WsOpen) and frames[0].url.startswith("/api/data?api-key=REDACTED-")
    tracker = FamilyTracker()
    for frame in frames:
        for api, family, message, _ in tracker.classify(frame):
            assert api == "pumpportal" and family is not None, message
            assert validate(message, api=api, family=family) == []
    assert list(validate_tape(dump_tape(tmp_path / "pp.jsonl", header, frames))) == []


def test_the_cli_writes_the_tape_beside_the_others(tmp_path: Path) -> None:
    out = run_cli("synth", "--out", str(tmp_path), "--duration", "20")
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "corto.jsonl", "pumpdata.jsonl", "pumpfun.jsonl", "pumpportal.jsonl",
    ]  # fmt: skip
    out = run_cli("validate", "--api", "pumpportal", str(tmp_path / "pumpportal.jsonl"))
    assert out.returncode == 0 and "all valid" in out.stdout, out.stdout + out.stderr
