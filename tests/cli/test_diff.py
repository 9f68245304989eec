"""``harness diff OLD NEW``: the published examples of one family in two versions (contract §3.7:
the corto.fun site and repository copies) report each documented difference, classed; JSON for
machines; exit 1 on breaking drift, 0 without, 2 on unreadable input; tapes and JSON files alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.core.frames import S2C, WsOpen, WsText
from harness.store import dump_tape
from tests.helpers import ROOT, SEEDS, header, run_cli, run_cli_on_terminal

SITE = ROOT / "fixtures" / "drift" / "corto-site.jsonl"
REPO = ROOT / "fixtures" / "drift" / "corto-repo.jsonl"


def repo_example(family: str) -> dict[str, Any]:
    examples = json.loads((SEEDS / "corto_repo_examples.json").read_text())["examples"]
    message: dict[str, Any] = next(e["message"] for e in examples if e["family"] == family)
    return message


def write_lines(path: Path, *messages: Any) -> Path:
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    return path


def test_the_drift_fixtures_are_the_documented_copies() -> None:
    """fixtures/drift: the repo copy verbatim; the site copy as contract §3.3 and §3.6 describe it."""
    site_hs, site_trade = (json.loads(line) for line in SITE.read_text().splitlines())
    repo_hs, repo_trade = (json.loads(line) for line in REPO.read_text().splitlines())
    assert (repo_hs, repo_trade) == (repo_example("handshake"), repo_example("trade"))
    assert site_hs["state"]["effectiveFilter"]["createDetail"] == "full"
    assert "createDetail" not in repo_hs["state"]["effectiveFilter"]
    assert len(site_hs["state"]["availablePools"]) == 9 and "pump.fun" in site_hs["state"]["availablePools"]
    assert (
        len(repo_hs["state"]["availablePools"]) == 8 and "pump.fun" not in repo_hs["state"]["availablePools"]
    )
    assert site_trade["marketCapSol"] is None and repo_trade["marketCapSol"] == 28.867674632978797
    assert not any(k.startswith(("quote", "vQuote", "marketCapQuote")) for k in site_trade)


def test_site_to_repo_reports_each_documented_difference() -> None:
    out = run_cli("diff", str(SITE), str(REPO))
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"contract drift {SITE} -> {REPO}: 10 changes, 2 breaking"
    text = out.stdout
    assert "  BREAKING  vanished value    state.availablePools[]: pump.fun" in text
    assert "  BREAKING  key removed       state.effectiveFilter.createDetail: in 100% of OLD" in text
    assert "  ok        order             state.availablePools: the 8 values both hold first differ" in text
    assert "  ok        type              marketCapSol: float in NEW where OLD was always null" in text
    for key in (
        "quoteMint",
        "quoteAmountRaw",
        "quoteAmount",
        "quoteInPool",
        "vQuoteInBondingCurve",
        "marketCapQuote",
    ):
        assert f"  ok        key added         {key}: in 100% of NEW, in no OLD message" in text


def test_repo_to_site_as_json() -> None:
    out = run_cli("diff", str(REPO), str(SITE), "--format", "json")
    assert out.returncode == 1, out.stderr
    document = json.loads(out.stdout)
    found = {(c["family"], c["key"], c["kind"]): c for c in document["changes"]}
    assert found[("handshake", "state.availablePools[]", "new value")]["breaking"]
    assert not found[("handshake", "state.effectiveFilter.createDetail", "key added")]["breaking"]
    null = found[("trade", "marketCapSol", "nullability")]
    assert null["breaking"] and null["reason"] == "clients that read it as a value get null"
    for key in ("quoteMint", "quoteAmount", "marketCapQuote"):
        assert found[("trade", key, "key removed")]["breaking"]
    assert document["breaking"] == sum(c["breaking"] for c in document["changes"]) == 8
    keys = document["profiles"]["old"]["corto trade"]["keys"]
    assert keys["marketCapSol"] == {"present": 1.0, "kinds": {"float": 1}}
    assert keys["price"]["kinds"] == {"exponent": 1}  # 2.8877674632978795e-08 as published


def test_numbers_as_int_or_float_and_in_exponent_notation(tmp_path: Path) -> None:
    # contract §3.7: baseAmount 1000000001 against 825190689.28; exponent notation (4e-9, 2.88e-8)
    old = tmp_path / "old.jsonl"
    new = tmp_path / "new.jsonl"
    old.write_text(
        '{"schemaVersion":"liquidity_event_v1","txType":"add","baseAmount":1000000001,"price":0.0000000288}\n'
    )
    new.write_text(
        '{"schemaVersion":"liquidity_event_v1","txType":"add","baseAmount":825190689.28,"price":2.88e-8}\n'
    )
    out = run_cli("diff", str(old), str(new), "--api", "corto")
    assert out.returncode == 1
    assert "  BREAKING  type              baseAmount: int in OLD, also float in NEW" in out.stdout
    assert "  BREAKING  exponent notation price: written as 2.88e-08 in NEW, never so in OLD" in out.stdout
    # the current schemas reject both (a liquidity event lacks most of its keys): no drift in that
    assert "schema" not in out.stdout


def test_no_drift_exits_0_and_tapes_are_read(tmp_path: Path) -> None:
    frames = [WsOpen(0.0, "ws-1", "/data-stream")]
    frames += [WsText(0.1 * i, "ws-1", S2C, line) for i, line in enumerate(REPO.read_text().splitlines(), 1)]
    tape = dump_tape(tmp_path / "t.jsonl", header(apis=("corto",)), frames)
    out = run_cli("diff", str(REPO), str(tape))
    assert (out.returncode, out.stdout.splitlines()[0]) == (
        0,
        f"contract drift {REPO} -> {tape}: 0 changes, 0 breaking",
    )
    assert "no drift" in out.stdout
    out = run_cli("diff", str(tape), str(SITE), "--family", "handshake")
    assert out.returncode == 1 and "corto trade" not in out.stdout and "corto handshake" in out.stdout


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("{not json", "not a tape and not JSON"),
        (None, "no such file or directory"),
    ],
)
def test_unreadable_input_exits_2(tmp_path: Path, content: str | None, error: str) -> None:
    path = tmp_path / "x.json"
    if content is not None:
        path.write_text(content)
    out = run_cli("diff", str(path), str(REPO))
    assert out.returncode == 2 and error in out.stderr and out.stderr.count("\n") == 1


def test_unknown_family_is_a_usage_error() -> None:
    out = run_cli("diff", str(SITE), str(REPO), "--family", "trades")
    assert out.returncode == 2 and "unknown family 'trades'" in out.stderr


def test_progress_on_a_terminal(tmp_path: Path) -> None:
    big = write_lines(tmp_path / "big.jsonl", *([repo_example("trade")] * 3000))
    done, shown = run_cli_on_terminal("diff", str(big), str(big))
    assert done.returncode == 0
    assert b"profiling big.jsonl" in shown
