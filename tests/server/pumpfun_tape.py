"""A small Pump.fun REST tape whose data changes at known replay times, for the REST tests."""

from __future__ import annotations

import json
from pathlib import Path

from harness.core.frames import HttpExchange, HttpRequest, HttpResponse
from harness.store import dump_tape
from tests.helpers import header

MINT = "CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump"
OTHER = "7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr"


def trade(n: int, ts: int, sol: int, mint: str = MINT) -> dict[str, object]:
    return {
        "signature": f"sig{n:03d}" + "A" * 80,
        "mint": mint,
        "sol_amount": sol,
        "token_amount": sol * 30,
        "is_buy": n % 2 == 0,
        "user": "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
        "timestamp": ts,
        "tx_index": n,
        "username": None,
        "profile_image": None,
        "slot": 300_000_000 + n,
    }


def coin(name: str, mcap: float) -> dict[str, object]:
    return {
        "mint": MINT,
        "name": name,
        "symbol": "TST",
        "market_cap": mcap,
        "created_timestamp": 1779812627000,
    }


RATE_HEADERS = (("x-ratelimit-limit", "120"), ("x-ratelimit-remaining", "119"), ("x-ratelimit-reset", "60"))
"""The rate-limit headers the contract documents (a tape showing them gets them on replay)."""


def exchange(t: float, url: str, body: object, etag: str | None = None) -> HttpExchange:
    headers: tuple[tuple[str, str], ...] = (
        ("Content-Type", "application/json; charset=utf-8"),
        *RATE_HEADERS,
    )
    if etag:
        headers += (("ETag", etag),)
    return HttpExchange(
        t=t,
        conn="http-1",
        request=HttpRequest("GET", url, (("Accept", "application/json"),)),
        response=HttpResponse(200, headers, json.dumps(body).encode()),
        latency=0.01,
    )


TRADES = [trade(i, 1779812600 + 3 * i, 10_000_000 * (i + 1)) for i in range(12)]


def frames() -> list[HttpExchange]:
    out = [
        exchange(0.0, "/coins/latest", coin("first", 30.0), 'W/"c1"'),
        exchange(10.0, "/coins/latest", coin("second", 31.5), 'W/"c2"'),
        exchange(20.0, "/coins/latest", coin("third", 33.0), 'W/"c3"'),
        exchange(0.0, f"/coins/{MINT}", coin("first", 30.0)),  # no ETag recorded: computed
        exchange(0.0, "/sol-price", {"solPrice": 244.2}, 'W/"s1"'),
        exchange(0.0, "/trades/latest", {k: v for k, v in TRADES[0].items() if k != "tx_index"}),
    ]
    # /trades/all polled every 5 s; trade i becomes visible at t = 2.5 * i.
    for step in range(0, 12):
        t = step * 2.5
        known = [tr for i, tr in enumerate(TRADES) if 2.5 * i <= t]
        out.append(exchange(t, f"/trades/all/{MINT}?limit=5&offset=0&minimumSize=0", known[::-1][:5]))
    return out


def write(path: Path) -> Path:
    return dump_tape(path, header(apis=("pumpfun",), source="test"), frames())
