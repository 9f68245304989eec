"""The numbers behind ``harness report``, aggregated with bounded memory: pure, no files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from harness.core.frames import (
    C2S,
    S2C,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    SioConnect,
    SioDisconnect,
    SioEvent,
    WsClose,
    WsOpen,
    WsText,
)
from harness.core.report import (
    MAX_BUCKETS,
    MAX_CONNECTIONS,
    MAX_VIOLATION_ROWS,
    TapeReport,
    age_text,
    path_template,
)
from tests.helpers import header

NOW = datetime(2026, 11, 26, tzinfo=UTC)
MINT = "Haz1tCWsEAnQEeGHfrm9JCcEnS9gPi6B2XHprSPGpump"


def report() -> TapeReport:
    return TapeReport("t.jsonl", header(apis=("corto",), source="test", label="demo"))


def exchange(t: float, url: str, status: int, etag: str, remaining: int) -> HttpExchange:
    headers = (("ETag", etag), ("x-ratelimit-limit", "120"), ("x-ratelimit-remaining", str(remaining)))
    return HttpExchange(t, "http-1", HttpRequest("GET", url), HttpResponse(status, headers, b"{}"))


def test_rates_per_family_in_buckets_that_widen() -> None:
    r = report()
    for i in range(10):
        r.add(i + 1, WsText(i * 0.5, "ws-1", S2C, "{}"), [("corto", "trade", {})])
    out = r.result(NOW)
    (series,) = out["rates"]["corto"]
    assert series["family"] == "trade" and out["bucket_seconds"] == 1.0
    assert series["t"] == [0, 1, 2, 3, 4] and series["per_s"] == [2, 2, 2, 2, 2]
    r.add(11, WsText(MAX_BUCKETS * 1.5, "ws-1", S2C, "{}"), [("corto", "trade", {})])
    out = r.result(NOW)
    assert out["bucket_seconds"] == 2.0  # two buckets became one: still at most MAX_BUCKETS
    (series,) = out["rates"]["corto"]
    assert len(series["t"]) <= MAX_BUCKETS and series["per_s"][:3] == [2, 2, 1]  # 4 messages / 2 s
    assert "counted in 2-second buckets" in out["limits"][0]


def test_connections_and_their_lifecycles() -> None:
    r = report()
    r.add(1, WsOpen(0.0, "ws-1", "/data-stream"))
    r.add(2, WsText(0.5, "ws-1", C2S, '{"type":"subscribe","mode":"all"}'))
    r.add(3, WsClose(9.0, "ws-1", S2C, 4008, "second connection"))
    r.add(4, SioConnect(1.0, "sio-1", auth={"api_key": "x"}, url="/socket.io/"))
    r.add(5, SioEvent(1.5, "sio-1", C2S, "subscribe_ohlcv", ({"pool": "P"},), 0))
    r.add(6, SioDisconnect(2.0, "sio-1", C2S, reason="client namespace disconnect"))
    r.add(7, WsOpen(3.0, "ws-2", "/data-stream"))
    rows = {c["conn"]: c for c in r.result(NOW)["connections"]}
    ws = rows["ws-1"]
    assert (ws["opened"], ws["closed"], ws["close"]) == (0.0, 9.0, "server closed 4008 second connection")
    assert ws["subscriptions"] == ['t=0.5s {"type":"subscribe","mode":"all"}']
    assert rows["sio-1"]["close"] == "client disconnected client namespace disconnect"
    assert rows["sio-1"]["subscriptions"] == ['t=1.5s subscribe_ohlcv [{"pool":"P"}]']
    assert rows["ws-2"]["close"] == "open at the end of the tape" and rows["ws-2"]["closed"] is None


def test_connections_beyond_the_cap_are_counted() -> None:
    r = report()
    for i in range(MAX_CONNECTIONS + 5):
        r.add(i + 1, WsOpen(float(i), f"ws-{i}", "/data-stream"))
    out = r.result(NOW)
    assert len(out["connections"]) == MAX_CONNECTIONS and out["more_connections"] == 5
    assert f"the first {MAX_CONNECTIONS} connections are listed, 5 more are not" in out["limits"]


def test_rest_statuses_etag_changes_and_budget() -> None:
    r = report()
    r.add(1, exchange(0.0, f"/coins/{MINT}", 200, 'W/"a"', 119))
    r.add(2, exchange(0.4, f"/coins/{MINT}", 304, 'W/"a"', 118))
    r.add(3, exchange(1.0, f"/coins/{MINT}", 200, 'W/"b"', 117))
    r.add(4, exchange(1.5, "/coins/latest", 429, "", 0))
    out = r.result(NOW)
    coins, latest = out["rest"]
    assert coins["path"] == "/coins/{mint}" and coins["statuses"] == {"200": 2, "304": 1}
    assert coins["etag_changes"] == 1 and coins["series"]["etag"] == {"t": [1.0], "n": [1.0]}
    assert latest["statuses"] == {"429": 1}
    assert out["budget"] == {"t": [0.0, 1.0], "remaining": [118.0, 0.0], "limit": 120}


def test_candles_from_trades_of_each_api_and_recorded_ones() -> None:
    r = report()
    corto = {"txType": "buy", "mint": MINT, "price": 2.0e-8, "solAmount": 0.5, "timestamp": 1774541469000}
    r.add(1, WsText(0.0, "ws-1", S2C, json.dumps(corto)), [("corto", "trade", corto)])
    r.add(
        2,
        WsText(0.1, "ws-1", S2C, "{}"),
        [("corto", "trade", {**corto, "price": 3.0e-8, "timestamp": 1774541469400})],
    )
    pumpfun = [
        {
            "mint": MINT,
            "sol_amount": 1_000_000_000,
            "token_amount": 50_000_000_000_000,
            "timestamp": 1774541470,
        }
    ]
    r.add(3, exchange(0.2, "/trades/latest", 200, "", 100), [("pumpfun", "trade_list", pumpfun)])
    r.add(4, SioEvent(0.3, "sio-1", C2S, "subscribe_ohlcv", ({"pool": "P"},), 1))
    rows = [[1774541469000, 1.0, 2.0, 0.5, 1.5, 10.0]]
    r.add(5, SioEvent(0.4, "sio-1", S2C, "ohlcv", (rows,)), [("pumpdata", "ohlcv", rows)])
    candles = {c["series"]: c for c in r.result(NOW)["candles"]}
    assert candles[f"corto {MINT}"]["candles"] == [[1774541469000, 2.0e-8, 3.0e-8, 2.0e-8, 3.0e-8, 1.0]]
    assert candles[f"corto {MINT}"]["source"] == "built from trades"
    assert candles[f"pumpfun {MINT}"]["candles"] == [[1774541470000, 2.0e-8, 2.0e-8, 2.0e-8, 2.0e-8, 1.0]]
    assert candles["pumpdata P"] == {"series": "pumpdata P", "source": "recorded candles", "candles": rows}


def test_violations_keep_their_line_and_are_capped() -> None:
    r = report()
    violation: dict[str, Any] = {
        "api": "corto",
        "family": "trade",
        "pointer": "/price",
        "rule": "type",
        "message": "m",
    }
    for i in range(MAX_VIOLATION_ROWS + 3):
        r.add(
            i + 2, WsText(float(i), "ws-1", S2C, "{}"), [("corto", "trade", {})], [violation], f"line {i + 2}"
        )
    out = r.result(NOW)
    assert len(out["violations"]) == MAX_VIOLATION_ROWS and out["violation_total"] == MAX_VIOLATION_ROWS + 3
    assert out["violations"][0] == {
        "line": 2, "t": 0.0, "conn": "ws-1", "dir": "s2c", "api": "corto", "family": "trade",
        "pointer": "/price", "rule": "type", "message": "m",
    }  # fmt: skip
    assert out["lines"]["2"] == "line 2" and len(out["lines"]) == MAX_VIOLATION_ROWS
    assert out["violation_counts"] == {"corto trade type": MAX_VIOLATION_ROWS + 3}
    assert f"the first {MAX_VIOLATION_ROWS} of {MAX_VIOLATION_ROWS + 3} violations are listed" in " ".join(
        out["limits"]
    )


def test_header_and_age() -> None:
    out = report().result(NOW)
    assert out["header"]["age"] == "3 days" and out["header"]["source"] == "test"
    assert age_text("2026-11-26T00:00:00Z", datetime(2026, 11, 26, 0, 0, 1, tzinfo=UTC)) == "1 seconds"
    assert age_text("garbage", NOW) == "unknown"
    assert path_template(f"/trades/all/{MINT}?limit=20") == "/trades/all/{mint}"
    assert path_template("/coins/latest") == "/coins/latest"


def test_numbers_that_cannot_be_charted_are_left_out() -> None:
    r = report()
    trade = {
        "txType": "buy",
        "mint": MINT,
        "price": float("nan"),
        "solAmount": 0.5,
        "timestamp": 1774541469000,
    }
    r.add(1, WsText(0.0, "ws-1", S2C, "{}"), [("corto", "trade", trade)])
    r.add(2, SioEvent(0.3, "sio-1", C2S, "subscribe_ohlcv", ({"pool": "P"},), 1))
    rows = [[1774541469000, float("inf"), 2.0, 0.5, 1.5, 10.0]]
    r.add(3, SioEvent(0.4, "sio-1", S2C, "ohlcv", (rows,)), [("pumpdata", "ohlcv", rows)])
    out = r.result(NOW)
    assert out["candles"] == []
    json.dumps(out, allow_nan=False)  # the page's data is strict JSON
