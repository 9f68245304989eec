"""Synthetic tapes: deterministic per seed, round-tripping, and faithful to the contract's units."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core import base58
from harness.core.corto.detail import KEYS, Detail, project
from harness.core.corto.filters import dotted_pool
from harness.core.frames import HttpExchange, SioEvent, WsText
from harness.core.tape import decode_frame, decode_line, encode_frame
from harness.store import encode_tape, read_tape
from harness.synth import generate, write
from harness.validation import validate
from tests.helpers import ROOT, run_cli

DEMO = ROOT / "fixtures" / "demo"


@pytest.fixture(scope="module")
def tapes() -> dict[str, tuple[object, list[object]]]:
    return generate(7, 180.0)  # type: ignore[return-value]


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000))
def test_same_seed_same_bytes_and_frames_round_trip(seed: int) -> None:
    first, second = generate(seed, 20.0), generate(seed, 20.0)
    for api, (header, frames) in first.items():
        assert encode_tape(header, frames) == encode_tape(*second[api])
        for frame in frames:
            assert decode_frame(decode_line(encode_frame(frame))) == frame


def test_different_seeds_differ() -> None:
    assert encode_tape(*generate(1, 20.0)["corto"]) != encode_tape(*generate(2, 20.0)["corto"])


def test_the_simulation_tells_its_time_each_market_minute() -> None:
    told: list[float] = []
    assert generate(7, 180.0, simulating=told.append) == generate(7, 180.0)
    assert len(told) == 3 and told == sorted(told) and 0 <= told[0] < 2 and 120 <= told[-1] < 180


def test_demo_fixtures_are_what_the_generator_makes(tmp_path: Path) -> None:
    out = run_cli("synth", "--out", str(tmp_path), "--seed", "7", "--duration", "180")
    assert out.returncode == 0, out.stderr
    for api in ("pumpfun", "pumpdata", "corto", "pumpportal"):
        assert (tmp_path / f"{api}.jsonl").read_bytes() == (DEMO / f"{api}.jsonl").read_bytes(), api
    assert sum(p.stat().st_size for p in DEMO.glob("*.jsonl")) < 2_500_000


def test_synth_with_no_options_makes_the_demo_tapes() -> None:
    # README: "harness synth --out tapes writes the same tapes" in a project of your own
    from harness.cli.main import build_parser

    args = build_parser().parse_args(["synth"])
    assert (args.seed, args.duration) == (7, 180.0)


def _corto_events(frames: list[object]) -> list[dict[str, object]]:
    return [json.loads(f.data) for f in frames if isinstance(f, WsText) and f.direction.value == "s2c"]


def test_corto_units_keys_and_pools(tapes: dict[str, tuple[object, list[object]]]) -> None:
    events = [e for e in _corto_events(tapes["corto"][1]) if "txType" in e]
    kinds = {e["txType"] for e in events}
    assert {"create", "buy", "sell", "migrate", "createPool", "add"} <= kinds
    for event in events:
        assert event["timestamp"] > 1e12, "corto timestamps are ms"
        assert "." not in str(event["pool"]), "event pools are hyphenated"
        assert base58.is_base58(str(event["mint"]), 32)
        assert base58.is_base58(str(event["signature"]), 64)
    creates = [e for e in events if e["txType"] == "create"]
    assert all(len(e) == 87 and "slot" not in e and "block" in e for e in creates)
    trades = [e for e in events if e["txType"] in ("buy", "sell")]
    assert all(
        isinstance(e["solAmountRaw"], int) and abs(e["solAmountRaw"] / 1e9 - e["solAmount"]) < 1e-9
        for e in trades
    )
    assert any(e["poolId"] is None for e in trades if e["source"] == "logs_only")
    assert any("e-" in json.dumps(e["price"]) for e in trades), "exponent notation appears"


def test_prices_move_along_the_bonding_curve(tapes: dict[str, tuple[object, list[object]]]) -> None:
    trades = [e for e in _corto_events(tapes["corto"][1]) if e.get("txType") in ("buy", "sell")]
    by_mint: dict[str, list[dict[str, object]]] = {}
    for event in trades:
        by_mint.setdefault(str(event["mint"]), []).append(event)
    for events in by_mint.values():
        for before, after in itertools.pairwise(events):
            rising = after["txType"] == "buy"
            assert (float(after["price"]) > float(before["price"])) == rising  # type: ignore[arg-type]
        for e in events:
            vsol, vtok = float(e["vSolInBondingCurve"]), float(e["vTokensInBondingCurve"])  # type: ignore[arg-type]
            assert float(e["price"]) == pytest.approx(vsol / vtok)  # type: ignore[arg-type]


def test_pumpfun_polls_etags_change_only_with_the_data(tapes: dict[str, tuple[object, list[object]]]) -> None:
    exchanges = [f for f in tapes["pumpfun"][1] if isinstance(f, HttpExchange)]
    bodies: dict[str, bytes] = {}
    statuses = set()
    for ex in exchanges:
        statuses.add(ex.response.status)
        assert ex.response.header("x-ratelimit-remaining") is not None
        path = ex.request.url
        if ex.response.status == 304:
            assert ex.request.header("If-None-Match") == ex.response.header("ETag")
            assert ex.response.body == b""
        else:
            assert bodies.get(path) != ex.response.body, "a 200 only when the body changed"
            bodies[path] = ex.response.body
    assert statuses == {200, 304}
    # One representation, one ETag: the same body always carries the same one, another body another.
    etag_of: dict[tuple[str, bytes], str] = {}
    for ex in exchanges:
        if ex.response.status == 200:
            etag = ex.response.header("ETag")
            assert etag is not None and etag.startswith('W/"')
            assert etag_of.setdefault((ex.request.url, ex.response.body), etag) == etag
    for url in {url for url, _ in etag_of}:
        tags = [tag for (u, _), tag in etag_of.items() if u == url]
        assert len(tags) == len(set(tags)), url
    trade = json.loads(next(e.response.body for e in exchanges if e.request.url == "/trades/latest"))
    assert isinstance(trade["sol_amount"], int) and trade["timestamp"] < 1e11 and "tx_index" not in trade
    coin = json.loads(next(e.response.body for e in exchanges if e.request.url == "/coins/latest"))
    assert coin["created_timestamp"] > 1e12 and coin["updated_at"] < 1e11


def test_pumpdata_candles_and_units(tapes: dict[str, tuple[object, list[object]]]) -> None:
    events = [f for f in tapes["pumpdata"][1] if isinstance(f, SioEvent) and f.direction.value == "s2c"]
    names = {e.name for e in events}
    assert {"trade", "ohlcv", "token_update", "new_token", "migration", "sol_price"} <= names
    for event in events:
        if event.name == "ohlcv":
            rows = event.args[0]
            assert all(len(r) == 6 and r[0] > 1e12 and r[0] % 1000 == 0 for r in rows)
        elif event.name == "trade":
            assert event.args[0]["timestamp"] < 1e11 and isinstance(event.args[0]["quote_amount"], float)
    ohlcv_times = [e.t for e in events if e.name == "ohlcv"]
    assert ohlcv_times
    for second in {int(t) for t in ohlcv_times}:
        # two pools are subscribed: at most one emission per pool per second
        assert sum(1 for t in ohlcv_times if second <= t < second + 1) <= 2 + 1
    new_tokens = [e.args[0] for e in events if e.name == "new_token"]
    assert all("name" not in t or t["name"] for t in new_tokens), "absent, never null or empty"


def test_bad_synth_options(tmp_path: Path) -> None:
    out = run_cli("synth", "--out", str(tmp_path), "--duration", "-5")
    assert out.returncode == 2 and "--duration must be" in out.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = run_cli("synth", "--out", str(blocker / "sub"))
    assert out.returncode == 2 and "cannot write" in out.stderr


def test_demo_tapes_read_back(tapes: dict[str, tuple[object, list[object]]]) -> None:
    for api in ("pumpfun", "pumpdata", "corto", "pumpportal"):
        header, frames = read_tape(DEMO / f"{api}.jsonl")
        assert header.recorded.source == "synth" and frames


def test_pumpdata_candles_are_made_from_the_trades_before_them(
    tapes: dict[str, tuple[object, list[object]]],
) -> None:
    """Every candle row is what the pool's trade events of that second, sent before it, make."""
    frames = [f for f in tapes["pumpdata"][1] if isinstance(f, SioEvent)]
    pools = [f.args[0]["pool"] for f in frames if f.name == "subscribe_ohlcv"]
    assert len(pools) == 2
    seen: dict[tuple[str, int], list[dict[str, Any]]] = {}
    rows_checked = 0
    for frame in frames:
        if frame.direction.value != "s2c":
            continue
        if frame.name == "trade":
            trade = frame.args[0]
            seen.setdefault((trade["pool"], trade["timestamp"] * 1000), []).append(trade)
        elif frame.name == "ohlcv":
            for t, o, h, low, c, v in frame.args[0]:
                made = []
                for pool in pools:
                    trades = seen.get((pool, t), [])
                    prices = [x["price"] for x in trades]
                    if prices:
                        volume = sum(x["quote_amount"] for x in trades)
                        made.append([t, prices[0], max(prices), min(prices), prices[-1], volume])
                assert any(row == pytest.approx([t, o, h, low, c, v]) for row in made), (frame.t, t)
                rows_checked += 1
    assert rows_checked > 50


def test_corto_pools_are_dotted_in_filters_and_hyphenated_in_events(
    tapes: dict[str, tuple[object, list[object]]],
) -> None:
    messages = _corto_events(tapes["corto"][1])
    (handshake,) = [m for m in messages if m.get("name") == "handshake"]
    available = handshake["state"]["availablePools"]  # type: ignore[index]
    assert all("." in pool for pool in available)
    events = [m for m in messages if "txType" in m]
    assert all("." not in str(e["pool"]) and "-" in str(e["pool"]) for e in events)
    # contract §3.5: the filter name of an event's pool is its first hyphen made a dot.
    assert {dotted_pool(str(e["pool"])) for e in events} & set(available) >= {"pump.fun", "pump.swap"}


def test_full_creates_project_to_min_and_mid_that_keep_the_contract(
    tapes: dict[str, tuple[object, list[object]]],
) -> None:
    creates = [e for e in _corto_events(tapes["corto"][1]) if e.get("txType") == "create"]
    assert creates
    for create in creates:
        assert validate(create, "corto", "create.full") == []
        for detail in (Detail.MIN, Detail.MID):
            projected = project(create, detail)
            assert set(projected) == KEYS[detail]
            assert validate(projected, "corto", f"create.{detail.value}") == [], detail


def test_gzip_tapes_are_deterministic_too(tmp_path: Path) -> None:
    first = write(tmp_path / "a", 3, 20.0, gzip=True)
    second = write(tmp_path / "b", 3, 20.0, gzip=True)
    for (a, _), (b, _) in zip(first, second, strict=True):
        assert a.name.endswith(".jsonl.gz") and a.read_bytes() == b.read_bytes()
        assert read_tape(a) == read_tape(b)
