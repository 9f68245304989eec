"""Small PumpData tapes with known trades, candles and pools, for the Socket.IO tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core import base58
from harness.core.frames import C2S, S2C, Frame, SioAck, SioConnect, SioEvent
from harness.store import dump_tape
from tests.helpers import ROOT, header

DEMO = ROOT / "fixtures" / "demo" / "pumpdata.jsonl"
EPOCH = 1_795_392_000
"""Unix time of replay time 0 (``tests.helpers.header()``'s creation time)."""


def key(n: int, tag: int = 0) -> str:
    """A distinct 32-byte base58 key (a pool, mint or wallet)."""
    return base58.encode(bytes([tag, *n.to_bytes(4, "big")]) + bytes(range(1, 28)))


def signature(n: int) -> str:
    return base58.encode(n.to_bytes(8, "big") + bytes(range(1, 57)))


def trade(
    n: int, pool: str, mint: str, t: float, price: float, amount: float, **extra: Any
) -> dict[str, Any]:
    """A ``trade`` payload at replay time ``t`` (its ``timestamp`` in unix s, contract §2.2)."""
    return {
        "protocol": "PUMPFUN",
        "pool": pool,
        "mint": mint,
        "signature": signature(n),
        "is_buy": n % 2 == 0,
        "token_amount": amount / price,
        "quote_amount": amount,
        "price": price,
        "marketcap": price * 1e9,
        "wallet": key(n, 9),
        "timestamp": EPOCH + int(t),
        **extra,
    }


def events(name: str, timed: list[tuple[float, Any]], conn: str = "sio-1") -> list[Frame]:
    return [SioEvent(t, conn, S2C, name, (payload,)) for t, payload in timed]


def subscribed(conn: str, t: float, ack_id: int, event: str, request: Any, ack: Any) -> list[Frame]:
    """A recorded client request and the service's ack."""
    return [
        SioEvent(t, conn, C2S, event, (request,), ack_id),
        SioAck(t + 0.01, conn, S2C, ack_id, (ack,)),
    ]


def write(path: Path, frames: list[Frame], conns: tuple[str, ...] = ("sio-1",)) -> Path:
    opened: list[Frame] = [SioConnect(0.0, conn, auth={"api_key": "REDACTED-test"}) for conn in conns]
    return dump_tape(path, header(), sorted(opened + frames, key=lambda f: f.t))
