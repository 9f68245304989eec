"""Hypothesis strategies for a simulated market: a token launched on a bonding curve, trades on
that curve, its migration.

The values are :mod:`harness.synth.market`'s domain objects, moved by its curve (a fresh curve
holds 30 SOL / 1,073,000,000 tokens virtually; price = virtual SOL / virtual tokens): every
amount, reserve and price a message shows follows from them, so they agree with each other.
Hypothesis draws what matters (launchpad, how far the curve has come, side and size of a trade,
time) and shrinks it; keys and signatures come from a drawn seed.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from harness.strategies.values import LAUNCHPADS, mints, replay_times
from harness.synth.market import (
    GRADUATION_REAL_SOL,
    LAMPORTS,
    NAMES,
    Launch,
    Market,
    Migration,
    Token,
    Trade,
    graduate,
    key,
    signature,
    swap,
)


@dataclass(frozen=True, slots=True)
class Scene:
    """A token at one moment: its launch, the curve state after ``trade`` (None: just launched),
    and the SOL/USD price then."""

    market: Market
    launch: Launch
    trade: Trade | None
    sol_usd: float

    @property
    def token(self) -> Token:
        return self.launch.token

    @property
    def t(self) -> float:
        return self.trade.t if self.trade is not None else self.launch.t


@st.composite
def launches(draw: st.DrawFn, pool: str | None = None) -> tuple[Market, Launch]:
    """A token launched on ``pool`` (a launchpad's event pool; drawn when None), with or without
    the creator's initial buy."""
    market = Market(draw(st.integers(0, 2**32 - 1)), 0.0)
    return market, draw(launched(market, draw(replay_times()), pool))


@st.composite
def launched(draw: st.DrawFn, market: Market, t: float, pool: str | None = None) -> Launch:
    """A token launched in ``market`` at ``t`` (added to its tokens, not to its events)."""
    rng = market.rng
    family = pool or draw(st.sampled_from(LAUNCHPADS))
    name = draw(st.sampled_from(NAMES)) + draw(st.sampled_from(["", " 2", " Inu", " AI"]))
    symbol = draw(st.sampled_from(["", "⎊"])) or "".join(w[0] for w in name.split()).upper()
    cid = key(rng)
    token = Token(
        mint=draw(mints(family)),
        name=name,
        symbol=symbol,
        family=family,
        creator=draw(st.sampled_from(market.wallets)),
        curve=key(rng),
        created_t=t,
        uri=f"https://ipfs.io/ipfs/Qm{cid}",
        image=f"https://ipfs.io/ipfs/Qm{cid[::-1]}",
        has_metadata=draw(st.booleans()),
    )
    market.tokens.append(token)
    buy = draw(st.none() | st.integers(LAMPORTS // 100, 5 * LAMPORTS))
    initial = None if buy is None else swap(market, token, t, is_buy=True, sol=buy, wallet=token.creator)
    return Launch(t, token, initial.signature if initial else signature(rng), initial)


@st.composite
def scenes(draw: st.DrawFn, pool: str | None = None) -> Scene:
    """A token some way along its curve, and one trade on it (a buy or a sell)."""
    market, launch = draw(launches(pool))
    token = launch.token
    t = launch.t
    raised = draw(st.integers(0, GRADUATION_REAL_SOL - token.real_sol - LAMPORTS))  # room for a buy
    if raised:
        t += draw(st.integers(1, 600))
        swap(market, token, t, is_buy=True, sol=raised, wallet=draw(st.sampled_from(market.wallets)))
    t = round(t + draw(st.integers(1, 60_000)) / 1000, 3)
    is_buy = draw(st.booleans())
    sol = draw(st.integers(LAMPORTS // 1000, 8 * LAMPORTS))
    wallet = draw(st.sampled_from(market.wallets))
    trade = swap(market, token, t, is_buy=is_buy, sol=sol, wallet=wallet) or swap(
        market, token, t, is_buy=True, sol=sol, wallet=wallet
    )
    return Scene(market, launch, trade, draw(st.integers(5_000, 50_000)) / 100)


@st.composite
def migrations(draw: st.DrawFn, pool: str | None = None) -> Migration:
    """A token whose curve just completed, migrating to its AMM pool."""
    market, launch = draw(launches(pool))
    token = launch.token
    t = round(launch.t + draw(st.integers(60, 3600)), 3)
    last = swap(market, token, t, is_buy=True, sol=GRADUATION_REAL_SOL, wallet=market.wallets[0])
    migration = graduate(market, token, t, until=t + 60)
    assert last is not None and migration is not None  # the buy fills the curve; it migrates within 4 s
    return migration
