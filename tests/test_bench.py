"""``python -m bench``: the runner prints one table of figures beside their baselines; the tape
benchmark reads a real tape of every frame kind and shows the streaming reader's memory is flat.
Speed itself is never asserted here: speed targets are the benchmarks' business."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

from bench.bench_tape import make_tape
from harness.store import read_tape
from tests.helpers import ROOT


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_quick_tape_benchmark_prints_its_rows_and_memory_is_flat() -> None:
    out = _bench("--quick", "tape")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == [
        "bench",
        "measure",
        "value",
        "unit",
        "baseline",
        "baseline",
        "is",
        "target",
        "met",
    ]
    rows = [line for line in lines[2:] if line.startswith("tape")]
    assert len(rows) == 4
    assert "frames/s" in rows[0] and "write only" in rows[0]
    assert "MB/s" in rows[1] and "load whole" in rows[1]
    assert rows[2].endswith("yes") and rows[3].endswith("yes"), out.stdout


def test_unknown_benchmark_is_refused() -> None:
    out = _bench("tapes")
    assert out.returncode == 2
    assert (
        "unknown benchmark 'tapes' (known: tape, validation, rest, corto, pumpportal, sio, timing, proxy, hostile, report)"
        in out.stderr
    )


def test_the_benchmark_tape_holds_every_protocol(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    count = make_tape(path, 1.0)
    _, frames = read_tape(path)
    assert len(frames) == count and path.stat().st_size >= 1e6
    assert {f.protocol.value for f in frames} == {"http", "ws", "sio"}
    assert all(a.t <= b.t for a, b in itertools.pairwise(frames))


def test_quick_proxy_benchmark_measures_both_protocols_against_a_direct_connection() -> None:
    out = _bench("--quick", "proxy")
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("proxy")]
    assert [row.split("  ")[1].strip() for row in rows] == [
        "REST exchange added p50",
        "REST exchange added p99",
        "WebSocket message (echo RTT/2) added p50",
        "WebSocket message (echo RTT/2) added p99",
    ]
    assert all(" ms " in row and "direct p" in row for row in rows)


def test_quick_hostile_benchmark_reports_every_attack_beside_the_quiet_canaries() -> None:
    out = _bench("--quick", "hostile")
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("hostile")]
    measures = [row.split("  ")[1].strip() for row in rows]
    assert measures[:4] == [
        "no attack: Data Stream p99",
        "no attack: Socket.IO p99",
        "no attack: REST p99",
        "no attack: server RSS",
    ]
    attacks = [m.removesuffix(": tracebacks logged") for m in measures if m.endswith(": tracebacks logged")]
    assert len(attacks) == 12 and attacks[-1] == "advance 1e7 s on --loop", attacks
    for attack in attacks:
        mine = [m.removeprefix(f"{attack}: ") for m in measures if m.startswith(f"{attack}: ")]
        assert mine == [
            "Data Stream p99",
            "Socket.IO p99",
            "REST p99",
            "requests unanswered",
            "RSS after - before",
            "tracebacks logged",
        ]
    # each canary row stands beside its quiet baseline; every row says whether its target was met
    assert all(
        " no attack " in row for row in rows if " p99 " in row and not row.startswith("hostile  no attack")
    )
    assert all(row.endswith(("yes", "NO")) for row in rows if "server RSS" not in row)
    # what each attack saw is told on stderr, one line each
    assert sum(f"hostile: {attack}: " in out.stderr for attack in attacks) == 12
