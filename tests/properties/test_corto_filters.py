"""For any filter, a corto client receives exactly the tape events the filter selects, in tape
order, each projected to its detail level (through a real server and a real client).

Hypothesis draws the tape (every ``txType`` on every pool family, the unlisted ``meteora-dbc``
included), the subscription merge policy, and a sequence of subscribes and unsubscribes with
replay time passing between them; the model below says, independently of the core, what each
filter selects (contract §3.2, 3.5; docs/guides/replay.md "corto.fun Data Stream" for the choices).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.corto.config import CortoConfig, SubscribeMerge
from harness.core.frames import S2C, WsOpen, WsText
from harness.server.app import MockServer
from harness.store import dump_tape
from tests.helpers import header
from tests.server.test_corto import demo_events

EVENTS = [
    "create",
    "trade",
    "buy",
    "sell",
    "migration",
    "createPool",
    "addLiquidity",
    "removeLiquidity",
    "burn",
]
POOLS = [
    "bags.fm",
    "pump.fun",
    "pump.swap",
    "raydium.amm",
    "raydium.cpmm",
    "meteora.dlmm",
    "letsbonk.fun",
    "meteora.damm-v1",
    "meteora.damm-v2",
]
MODES = {
    "all": ["create", "buy", "sell", "migration", "createPool", "addLiquidity", "removeLiquidity", "burn"],
    "mints": ["create"],
    "trades": ["buy", "sell"],
    "migrations": ["migration"],
    "pools": ["createPool", "addLiquidity", "removeLiquidity", "burn"],
}
# contract §3.5, written out again: txType -> subscription event, filter pool -> event pool
EVENT_OF = {
    "create": "create",
    "buy": "buy",
    "sell": "sell",
    "migrate": "migration",
    "createPool": "createPool",
    "add": "addLiquidity",
    "remove": "removeLiquidity",
    "burn": "burn",
}
EVENT_POOLS = [
    "bags-fm",
    "pump-fun",
    "pump-swap",
    "raydium-amm",
    "raydium-cpmm",
    "meteora-dlmm",
    "letsbonk-fun",
    "meteora-damm-v1",
    "meteora-damm-v2",
    "meteora-dbc",  # an event pool no filter pool names: only "all pools" selects it
]
# contract §3.6: create detail levels; min is exactly these 13 keys
MIN = {
    "schemaVersion",
    "signature",
    "mint",
    "txSigner",
    "txType",
    "pool",
    "poolId",
    "source",
    "name",
    "symbol",
    "imageUrl",
    "block",
    "timestamp",
}
SPACING = 0.25


def templates() -> dict[str, dict[str, Any]]:
    """One recorded event per txType (remove and burn, absent from the demo, from add's)."""
    out: dict[str, dict[str, Any]] = {}
    for event in demo_events():
        out.setdefault(event["txType"], event)
    out["remove"] = {**out["add"], "txType": "remove"}
    out["burn"] = {**out["add"], "txType": "burn", "schemaVersion": "burn_event_v1", "burnScope": "unknown"}
    assert set(out) == set(EVENT_OF) and len(out["create"]) == 87, "a full create to cut down"
    return out


TEMPLATES = templates()


def tape_event(index: int, tx: str, pool: str) -> dict[str, Any]:
    return {**TEMPLATES[tx], "pool": pool, "signature": f"sig{index}"}


ALL = None  # every pool, listed or not


@dataclass
class Model:
    """What the service's filter is after each request, written without the core."""

    merge: bool
    subs: dict[str, set[str] | None] = field(default_factory=dict)
    detail: str = "full"
    active: bool = False

    def subscribe(self, request: dict[str, Any]) -> None:
        if "mode" in request:
            wanted: dict[str, set[str] | None] = dict.fromkeys(MODES[request["mode"]], ALL)
        else:
            names = request.get("events", MODES["all"])
            expanded = [n for e in names for n in (["buy", "sell"] if e == "trade" else [e])]
            pools = set(request["pools"]) if "pools" in request else ALL
            wanted = {n: pools for n in expanded}
        detail = request.get("create", {}).get("detail")
        if self.merge and self.active:
            for name, pools in wanted.items():
                have = self.subs.get(name, set())
                self.subs[name] = ALL if (name in self.subs and have is ALL) or pools is ALL else have | pools
            self.detail = detail or self.detail
        else:
            self.subs, self.detail = wanted, detail or "full"
        self.active = bool(self.subs) or self.active

    def unsubscribe(self, request: dict[str, Any]) -> None:
        names = request.get("events")
        expanded = (
            None if names is None else {n for e in names for n in (["buy", "sell"] if e == "trade" else [e])}
        )
        if names is None and "pools" not in request:
            self.subs = {}
        for name in list(self.subs):
            if expanded is not None and name not in expanded:
                continue
            if "pools" not in request:
                del self.subs[name]
                continue
            have = self.subs[name]
            left = (set(POOLS) if have is ALL else have) - set(request["pools"])
            if left:
                self.subs[name] = left
            else:
                del self.subs[name]
        self.active = bool(self.subs)

    def delivers(self, event: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        """The event and the detail it is cut to, if the filter selects it."""
        name, dotted = EVENT_OF[event["txType"]], event["pool"].replace("-", ".", 1)
        if name not in self.subs:
            return None
        pools = self.subs[name]
        if pools is not ALL and dotted not in pools:
            return None
        return event, self.detail if event["txType"] == "create" else "full"


def cut(got: dict[str, Any], event: dict[str, Any], detail: str) -> bool:
    """``got`` is ``event`` at ``detail``: min exactly the 13 keys, full all of them, mid a superset
    of min and a subset of full, values as recorded (contract §3.6: test only that for mid)."""
    if detail == "min":
        return got == {k: v for k, v in event.items() if k in MIN}
    if detail == "mid":
        return MIN <= set(got) < set(event) and all(event[k] == v for k, v in got.items())
    return got == event


@st.composite
def subscribes(draw: st.DrawFn) -> dict[str, Any]:
    request: dict[str, Any] = {"type": "subscribe"}
    if draw(st.booleans()):
        request["mode"] = draw(st.sampled_from(sorted(MODES)))
    else:
        if draw(st.booleans()):
            request["events"] = draw(st.lists(st.sampled_from(EVENTS), min_size=1, max_size=4, unique=True))
        if draw(st.booleans()):
            request["pools"] = draw(st.lists(st.sampled_from(POOLS), min_size=1, max_size=4, unique=True))
    detail = draw(st.none() | st.sampled_from(["min", "mid", "full"]))
    if detail is not None:
        request["create"] = {"detail": detail}
    return request


@st.composite
def unsubscribes(draw: st.DrawFn) -> dict[str, Any]:
    request: dict[str, Any] = {"type": "unsubscribe"}
    if draw(st.booleans()):
        request["events"] = draw(st.lists(st.sampled_from(EVENTS), min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        request["pools"] = draw(st.lists(st.sampled_from(POOLS), min_size=1, max_size=3, unique=True))
    return request


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[tuple[str, str]], bool, list[tuple[dict[str, Any], float]]]:
    tape = draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(EVENT_OF)), st.sampled_from(EVENT_POOLS)),
            min_size=1,
            max_size=40,
        )
    )
    merge = draw(st.booleans())
    first = draw(subscribes())
    later = draw(st.lists(subscribes() | unsubscribes(), max_size=3))
    # replay seconds passing after each request (event times are multiples of SPACING)
    steps = [(request, draw(st.sampled_from([0.0, SPACING, 1.0, 2.5]))) for request in [first, *later]]
    return tape, merge, steps


async def run(tape: list[tuple[str, str]], merge: bool, steps: list[tuple[dict[str, Any], float]]) -> None:
    events = [(1.0 + i * SPACING, tape_event(i, tx, pool)) for i, (tx, pool) in enumerate(tape)]
    frames = [WsOpen(0, "ws-1", "/data-stream")] + [WsText(t, "ws-1", S2C, json.dumps(e)) for t, e in events]
    model = Model(merge)
    config = CortoConfig(subscribe_merge=SubscribeMerge.MERGE if merge else SubscribeMerge.REPLACE)
    with tempfile.TemporaryDirectory() as tmp:
        path = dump_tape(Path(tmp) / "corto.jsonl", header(), frames)
        async with MockServer([path], manual=True, port=0, validate=False, corto=config) as server:
            async with websockets.connect(server.urls["websocket"], max_size=None) as ws:
                await ws.recv()
                want: list[tuple[dict[str, Any], str]] = []
                got: list[dict[str, Any]] = []
                now = 0.0
                for request, seconds in [*steps, ({"type": "current_state"}, 60.0)]:
                    await ws.send(json.dumps(request))
                    if request["type"] == "subscribe":
                        model.subscribe(request)
                    elif request["type"] == "unsubscribe":
                        model.unsubscribe(request)
                    while True:  # events already due arrive before the answer
                        message = json.loads(await asyncio.wait_for(ws.recv(), 1))
                        if message.get("type") == "service":
                            assert message["name"] != "error", (request, message)
                            break
                        got.append(message)
                    await server.advance(seconds)
                    due = [e for t, e in events if now < t <= now + seconds]
                    want += [d for d in map(model.delivers, due) if d is not None]
                    now += seconds
                while len(got) < len(want):
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 1)))
                with contextlib.suppress(TimeoutError):
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 0.05)))
    assert len(got) == len(want) and all(cut(g, *w) for g, w in zip(got, want, strict=True)), (got, want)


@settings(max_examples=40, deadline=None)
@given(scenarios())
def test_delivered_events_are_exactly_the_selected_ones_in_order(
    scenario: tuple[list[tuple[str, str]], bool, list[tuple[dict[str, Any], float]]],
) -> None:
    asyncio.run(run(*scenario))
