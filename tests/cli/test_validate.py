"""``harness validate``: exit codes 0/1/2, text and JSON output, --list."""

from __future__ import annotations

import json
from pathlib import Path

from harness.core.frames import C2S, WsText
from harness.store import dump_tape
from tests.helpers import ROOT, header, run_cli


def test_demo_tapes_are_valid() -> None:
    out = run_cli("validate", str(ROOT / "fixtures" / "demo"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all valid" in out.stdout


def test_violations_exit_1_naming_file_line_family_pointer_rule(tmp_path: Path) -> None:
    frames = [
        WsText(
            t=0,
            conn="ws-1",
            direction=C2S,
            data='{"type":"subscribe","mode":"all","create":{"detail":"wide"}}',
        )
    ]
    tape = dump_tape(tmp_path / "t.jsonl", header(), frames)
    out = run_cli("validate", str(tape))
    assert out.returncode == 1
    first = out.stdout.splitlines()[0]
    assert first.startswith(f"{tape}:2: corto request.subscribe /create/detail: enum:")
    assert "1 violations" in out.stdout and "1  corto request.subscribe" in out.stdout


def test_json_files_one_message_or_a_list(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"solPrice": "244"}))
    out = run_cli("validate", str(one), "--format", "json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["violations"][0]["pointer"] == "/solPrice" and report["counts"] == {"pumpfun sol_price": 1}
    many = tmp_path / "many.json"
    many.write_text(json.dumps([{"type": "ping"}, {"type": "pong"}, {"type": "subscribe", "mode": "x"}]))
    out = run_cli("validate", str(many), "--api", "corto")
    assert out.returncode == 1 and "/2/mode: enum" in out.stdout
    candles = tmp_path / "ohlcv.json"
    candles.write_text("[[1779812627000, 0.000000033, 0.000000034, 0.000000033, 0.000000034, 5.12]]")
    assert run_cli("validate", str(candles)).returncode == 0, "a list that is itself a message"
    assert run_cli("validate", str(one), "--family", "sol_price", "--api", "pumpdata").returncode == 1


def test_bad_input_and_usage_exit_2(tmp_path: Path) -> None:
    garbage = tmp_path / "g.json"
    garbage.write_text("{nope")
    out = run_cli("validate", str(garbage))
    assert out.returncode == 2 and "not a tape and not JSON" in out.stderr
    assert run_cli("validate").returncode == 2
    out = run_cli("validate", str(garbage), "--family", "nope")
    assert out.returncode == 2 and "unknown family 'nope'" in out.stderr
    assert run_cli("validate", str(tmp_path / "missing.jsonl")).returncode == 2


def test_list_prints_every_family() -> None:
    out = run_cli("validate", "--list")
    assert out.returncode == 0
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines())
    assert "create.min" in lines["corto"].split() and "ohlcv_history_ack" in lines["pumpdata"].split()
    assert "trade_list" in lines["pumpfun"].split()
