"""Valid, realistic PumpPortal messages of every family (contract §4), for
:func:`harness.strategies.messages`.

Events come from :mod:`harness.strategies.market`'s curve through :mod:`harness.synth.pumpportal`'s
projections (what ``harness synth`` writes), so amounts, reserves and ``marketCapSol`` agree;
acks, refusals and error answers are what the profile's session says
(:class:`harness.core.pumpportal.session.Session`).
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

from harness.core.pumpportal.config import PumpPortalConfig
from harness.core.pumpportal.families import METHODS
from harness.core.pumpportal.recorded import Observed
from harness.core.pumpportal.session import ACKS, REFUSAL, SendJson, Session
from harness.strategies.market import launches, migrations, scenes
from harness.strategies.values import mints, pubkeys
from harness.synth import pumpportal

Strategy = st.SearchStrategy[Any]
BAD_REQUESTS = (
    "{not json",
    "[]",
    '{"keys": []}',
    '{"method": "subscribeEverything"}',
    '{"method": "subscribeTokenTrade"}',
    '{"method": "subscribeTokenTrade", "keys": "mint"}',
    '{"method": "subscribeAccountTrade", "keys": []}',
    '{"method": "subscribeTokenTrade", "keys": [1, "x"]}',
)


def _request(method: str) -> Strategy:
    if not method.endswith("Trade"):
        return st.just({"method": method})
    keys = mints("pump-fun") if "Token" in method else pubkeys()
    return st.fixed_dictionaries({"method": st.just(method), "keys": st.lists(keys, min_size=1, max_size=5)})


@st.composite
def errors(draw: st.DrawFn) -> dict[str, Any]:
    """The session's answer to a request it cannot act on."""
    session = Session(PumpPortalConfig(), Observed(), "/api/data?api-key=k")
    (answer,) = [
        o for o in session.receive_text(draw(st.sampled_from(BAD_REQUESTS)), 0.0) if isinstance(o, SendJson)
    ]
    return dict(answer.message)


@st.composite
def creates(draw: st.DrawFn, family: str) -> dict[str, Any]:
    _, launch = draw(launches(family))
    return pumpportal.create_event(launch, random.Random(draw(st.integers(0, 2**32 - 1))))


@st.composite
def trades(draw: st.DrawFn) -> dict[str, Any]:
    scene = draw(scenes(draw(st.sampled_from(sorted(pumpportal.POOLS)))))
    assert scene.trade is not None
    balance = draw(st.integers(0, scene.trade.tokens)) / 1_000_000 if scene.trade.is_buy else 0.0
    return pumpportal.trade_event(scene.trade, balance)


def pumpportal_strategies() -> dict[str, Strategy]:
    return {
        **{f"request.{method}": _request(method) for method in METHODS},
        "message": st.sampled_from([*sorted(set(ACKS.values())), REFUSAL]).map(lambda m: {"message": m}),
        "errors": errors(),
        "create.pump": creates("pump-fun"),
        "create.bonk": creates("letsbonk-fun"),
        "trade": trades(),
        "migrate": migrations("pump-fun").map(pumpportal.migrate_event),
    }


__all__ = ["pumpportal_strategies"]
