"""What a PumpData tape holds for the emulation: the server's events with their rooms, the pools
and mints it knows, and the candle history it recorded.

Owns reading a tape's Socket.IO frames (contract §2.2): every recorded server event once,
however many connections recorded it, with the room a subscriber of it joins (``trades:POOL``,
``token:POOL``, ``ohlcv:POOL``, ``new_tokens:PROTOCOL``, ``migrations:PROTOCOL``, ``sol_price``);
which pool each mint traded in from when (trades, creates, migrations and acks to requests by
mint); and ``ohlcv_history`` answers by pool. A recorded ``ohlcv`` payload says no pool: it is
attributed to the one pool its connection followed at that moment, and left out when there were
several. Pure: frames in, values out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.core.frames import C2S, S2C, Frame, SioAck, SioEvent
from harness.core.pumpdata.rules import PoolIndex, Target, room

SERVER_EVENTS = ("trade", "token_update", "new_token", "migration", "sol_price", "ohlcv")


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded server event: its name, payload, the room it goes to and its pool (if any)."""

    name: str
    payload: Any
    room: str
    pool: str = ""


def _room_of(name: str, payload: Any, ohlcv_pool: str) -> tuple[str, str] | None:
    if name == "ohlcv":
        return (room("ohlcv", ohlcv_pool), ohlcv_pool) if ohlcv_pool else None
    if not isinstance(payload, dict):
        return None
    if name in ("trade", "token_update") and isinstance(payload.get("pool"), str):
        kind = "trades" if name == "trade" else "token"
        return room(kind, payload["pool"]), payload["pool"]
    if name == "new_token":
        return room("new_tokens", str(payload.get("protocol", ""))), str(payload.get("pool", ""))
    if name == "migration":
        return room("migrations", str(payload.get("protocol", ""))), str(payload.get("new_pool", ""))
    if name == "sol_price":
        return room("sol_price"), ""
    return None


def _request_pool(request: Any, index: PoolIndex, t: float) -> str | None:
    """The pool a recorded request named, or the pool its mint traded in at ``t`` if known."""
    if not isinstance(request, dict):
        return None
    pool, mint = request.get("pool"), request.get("mint")
    if isinstance(pool, str):
        return pool
    if isinstance(mint, str):
        found = index.resolve(Target(mint, None), t)
        return found if isinstance(found, str) else None
    return None


def read_feed(frames: list[Frame]) -> tuple[list[tuple[float, Event]], PoolIndex, dict[str, list[list[Any]]]]:
    """The recorded server events (once each, however many connections recorded them), the pools
    and mints the tape knows, and recorded ``ohlcv_history`` candles by pool.

    A recorded ``ohlcv`` payload says no pool: it is attributed to the one pool its connection
    followed at that moment (``subscribe_ohlcv`` by pool, or by mint with the pool the ack or the
    tape names, until ``unsubscribe_ohlcv`` or an error ack), and left out when there were several.
    """
    items: list[tuple[float, Event]] = []
    seen: set[str] = set()
    index = PoolIndex()
    history: dict[str, list[list[Any]]] = {}
    following: dict[str, set[str]] = {}
    asked: dict[tuple[str, int], tuple[str, Any]] = {}
    for frame in frames:
        if isinstance(frame, SioEvent) and frame.direction is C2S:
            payload = frame.args[0] if frame.args else None
            if frame.ack_id is not None:
                asked[(frame.conn, frame.ack_id)] = (frame.name, payload)
            pool = _request_pool(payload, index, frame.t)
            if pool is not None and frame.name == "subscribe_ohlcv":
                following.setdefault(frame.conn, set()).add(pool)
            elif pool is not None and frame.name == "unsubscribe_ohlcv":
                following.get(frame.conn, set()).discard(pool)
            continue
        if isinstance(frame, SioAck) and frame.direction is S2C:
            name, request = asked.pop((frame.conn, frame.ack_id), ("", None))
            ack = frame.args[0] if frame.args and isinstance(frame.args[0], dict) else {}
            ok = bool(ack.get("ok"))
            if ok and isinstance(ack.get("pool"), str):
                index.add_pool(ack["pool"])
                if isinstance(request, dict) and isinstance(request.get("mint"), str):
                    index.link(request["mint"], ack["pool"], frame.t)
                if name == "subscribe_ohlcv":
                    following.setdefault(frame.conn, set()).add(ack["pool"])
                if name == "ohlcv_history" and isinstance(ack.get("data"), list):
                    history.setdefault(ack["pool"], []).extend(r for r in ack["data"] if isinstance(r, list))
            elif not ok and name == "subscribe_ohlcv":
                failed = _request_pool(request, index, frame.t)
                following.get(frame.conn, set()).discard(failed or "")
            continue
        if not isinstance(frame, SioEvent) or frame.name not in SERVER_EVENTS:
            continue
        payload = frame.args[0] if frame.args else None
        pools = following.get(frame.conn, set())
        ohlcv_pool = next(iter(pools)) if frame.name == "ohlcv" and len(pools) == 1 else ""
        target = _room_of(frame.name, payload, ohlcv_pool)
        if target is None:
            continue
        key = frame.name + json.dumps(payload, sort_keys=True) + ohlcv_pool
        if key in seen:
            continue
        seen.add(key)
        room_name, pool = target
        if isinstance(payload, dict):
            if frame.name in ("trade", "new_token") and isinstance(payload.get("mint"), str) and pool:
                index.link(payload["mint"], pool, frame.t)
            elif frame.name == "migration" and isinstance(payload.get("mint"), str):
                index.add_pool(str(payload.get("old_pool", "")))
                index.link(payload["mint"], pool, frame.t)
        if pool:
            index.add_pool(pool)
        items.append((frame.t, Event(frame.name, payload, room_name, pool)))
    return items, index, history
