"""``harness fuzz`` as a user runs it: the seed and schedule printed, faults a client sees,
counted in ``/_harness/state``, a saved schedule replayed exactly, clear errors."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
from pathlib import Path

import pytest
import requests
import websocket

from harness.cli.main import main
from harness.core.fuzz import FuzzKind, FuzzPlan
from tests.cli.test_serve import _start, _wait_for
from tests.helpers import ROOT

DEMO = ROOT / "fixtures" / "demo"


def _fuzz(*args: str) -> subprocess.Popen[str]:
    return _start(*args, command="fuzz")


def _trades_seen(urls: dict[str, str], seconds: float) -> list[str]:
    """What a corto client subscribed to trades receives over ``seconds`` of the tape."""
    ws = websocket.create_connection(urls["websocket"], timeout=5)
    try:
        ws.recv()
        ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
        ws.recv()
        requests.post(urls["control"] + "/advance", json={"seconds": seconds}, timeout=5)
        ws.settimeout(0.5)
        seen = []
        while True:
            try:
                seen.append(ws.recv())
            except websocket.WebSocketTimeoutException:
                return seen
    finally:
        ws.close()


def test_fuzz_prints_the_schedule_and_a_client_meets_it(tmp_path: Path) -> None:
    ready, saved = tmp_path / "ready.json", tmp_path / "plan.json"
    args = [str(DEMO), "--manual", "--port", "0", "--ready-file", str(ready), "--seed", "7"]
    proc = _fuzz(*args, "--faults", "duplicate", "--rate", "0.5", "--save-plan", str(saved))
    try:
        urls = _wait_for(ready, proc)
        seen = _trades_seen(urls, 3.0)
        state = requests.get(urls["control"] + "/state", timeout=5).json()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    plan = FuzzPlan.from_json(saved.read_text())
    assert lines[0] == f"harness fuzz: seed 7: {len(plan.faults)} faults (--faults duplicate --rate 0.5)"
    assert lines[1 : 1 + len(plan.faults)] == [f"  {f}" for f in plan.faults]
    assert {f.kind for f in plan.faults} == {FuzzKind.DUPLICATE}
    assert any(line.startswith("  corto.fun WebSocket ws://127.0.0.1:") for line in lines)
    # every corto#N:duplicate with N below what the client received shows as a repeat
    repeats = sum(1 for a, b in itertools.pairwise(seen) if a == b)
    scheduled = sum(1 for f in plan.faults if f.api == "corto" and f.index < len(seen) - repeats)
    assert repeats == scheduled > 0
    assert state["counters"]["fuzz.corto.duplicate"] == scheduled
    assert len(state["fuzz"]["applied"]) == scheduled
    assert f"harness fuzz: {scheduled} of {len(plan.faults)} faults applied" in err

    # the saved schedule, replayed: the same faults, the same stream
    ready.unlink()
    proc = _fuzz(str(DEMO), "--manual", "--port", "0", "--ready-file", str(ready), "--plan", str(saved))
    try:
        assert _trades_seen(_wait_for(ready, proc), 3.0) == seen
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert out.splitlines()[1 : 1 + len(plan.faults)] == lines[1 : 1 + len(plan.faults)]


def test_same_seed_same_schedule_and_a_random_seed_is_printed(tmp_path: Path) -> None:
    outs = []
    for seed in ("42", "42", None):
        ready = tmp_path / f"ready-{len(outs)}.json"
        seed_args = ["--seed", seed] if seed else []
        proc = _fuzz(str(DEMO), "--manual", "--port", "0", "--ready-file", str(ready), *seed_args)
        try:
            _wait_for(ready, proc)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        outs.append(out.split("  Pump.fun REST")[0])
    assert outs[0] == outs[1] and outs[0].startswith("harness fuzz: seed 42: ")
    assert outs[2].startswith("harness fuzz: seed ") and outs[2] != outs[0]


def test_bad_fuzz_options_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text('{"seed": 1}')
    for args, expected in [
        (["--faults", "drop,melt"], "unknown fault 'melt'"),
        (["--rate", "2"], "rate must be in [0, 1]"),
        (["--plan", str(tmp_path / "missing.json")], "missing.json: No such file or directory"),
        (["--plan", str(tmp_path / "bad.json")], "not a fault schedule"),
        (["--record-mode", "once"], "harness fuzz only replays a tape"),
    ]:
        assert main(["fuzz", str(DEMO), "--port", "0", *args]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("harness fuzz: error: ") and expected in line


def test_help_lists_fuzz(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, expected in [(["--help"], ["fuzz", "seeded faults"]), (["fuzz", "--help"], FUZZ_OPTIONS)]:
        with pytest.raises(SystemExit):
            main(argv)
        out = capsys.readouterr().out
        assert all(word in out for word in expected), out
    assert "--record-mode" not in out and "--rest-upstream" not in out  # fuzz replays only


FUZZ_OPTIONS = ["--seed", "--faults", "--rate", "--plan", "--save-plan", "--manual", "--speed", "--loop"]
