"""A simulated memecoin market: launches, bonding-curve trades, graduations and migrations.

One seeded market is projected into the three APIs' tapes (``pumpfun``, ``pumpdata``, ``corto``),
so they share mints, wallets, prices and times. Amounts follow pump.fun's constant-product curve
(contract §4: a fresh curve holds 30 SOL / 1,073,000,000 tokens virtually; supply 1e9 tokens,
6 decimals; market cap in SOL = virtual SOL / virtual tokens x supply). Pure: a
``random.Random(seed)`` makes every choice; time is seconds since the tape start.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate

from harness.core import base58

LAMPORTS = 1_000_000_000
TOKEN_UNIT = 1_000_000
SUPPLY_RAW = 1_000_000_000 * TOKEN_UNIT
START_VSOL = 30 * LAMPORTS
START_VTOKENS = 1_073_000_000 * TOKEN_UNIT
REAL_TOKENS_START = 793_100_000 * TOKEN_UNIT
GRADUATION_REAL_SOL = 85 * LAMPORTS
WSOL = "So11111111111111111111111111111111111111112"
EPOCH_S = 1_767_225_600
"""2026-01-01T00:00:00Z: replay time 0 of every synthetic tape."""
SLOT_AT_EPOCH = 390_000_000
SLOT_SECONDS = 0.4

# pool family in events (hyphenated) -> (where it migrates, program id, PumpData protocol)
FAMILIES = {
    "pump-fun": ("pump-swap", "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P", "PUMPFUN"),
    "letsbonk-fun": ("raydium-cpmm", "LanMV9sAd7wArD4vJFi2qDdfnVhFxYSUg6eADduJ3uj", "BONK"),
    "meteora-dbc": ("meteora-damm-v2", "dbcij3LWUppWqq96dh6gJWwBifmcGfLSB5D4DuSMaqN", "METEORA"),
}
TARGET_PROGRAMS = {
    "pump-swap": "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA",
    "raydium-cpmm": "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C",
    "meteora-damm-v2": "cpamdpZCGKUy5JxQXB4dcpGPiikHawvSWAd6mEn1sGG",
}


def key(rng: random.Random, suffix: str = "") -> str:
    """A random 32-byte public key in base58; with ``suffix``, a vanity key ending in it."""
    while True:
        text = base58.encode(rng.randbytes(base58.PUBKEY_BYTES))
        if suffix:
            text = text[: -len(suffix)] + suffix
        if len(text) >= 43 and base58.is_base58(text, base58.PUBKEY_BYTES):
            return text


def signature(rng: random.Random) -> str:
    while True:
        text = base58.encode(rng.randbytes(base58.SIGNATURE_BYTES))
        if len(text) >= 87:
            return text


def slot_at(t: float) -> int:
    return SLOT_AT_EPOCH + int(t / SLOT_SECONDS)


@dataclass(slots=True)
class Token:
    mint: str
    name: str
    symbol: str
    family: str
    creator: str
    curve: str
    """Bonding curve (pump-fun) or pool address: the PumpData ``pool``."""
    created_t: float
    uri: str
    image: str
    vsol: int = START_VSOL
    vtokens: int = START_VTOKENS
    real_sol: int = 0
    real_tokens: int = REAL_TOKENS_START
    complete: bool = False
    migrated_pool: str | None = None
    migrated_t: float | None = None
    has_metadata: bool = True
    last_trade_t: float | None = None
    reply_count: int = 0

    @property
    def price(self) -> float:
        """SOL per token (UI units)."""
        return (self.vsol / LAMPORTS) / (self.vtokens / TOKEN_UNIT)

    @property
    def market_cap_sol(self) -> float:
        return self.price * (SUPPLY_RAW / TOKEN_UNIT)

    @property
    def progress(self) -> float:
        return min(100.0, 100.0 * self.real_sol / GRADUATION_REAL_SOL)


@dataclass(frozen=True, slots=True)
class Trade:
    t: float
    token: Token
    signature: str
    wallet: str
    is_buy: bool
    sol: int
    tokens: int
    price_before: float
    price_after: float
    vsol_after: int
    vtokens_after: int
    real_sol_after: int
    real_tokens_after: int
    tx_index: int
    slot: int


@dataclass(frozen=True, slots=True)
class Launch:
    t: float
    token: Token
    signature: str
    initial_buy: Trade | None


@dataclass(frozen=True, slots=True)
class Migration:
    t: float
    token: Token
    signature: str
    pool: str
    lp_mint: str
    sol: int
    tokens: int


@dataclass(frozen=True, slots=True)
class SolPrice:
    t: float
    usd: float


Event = Launch | Trade | Migration | SolPrice

NAMES = (
    "Moon Cat", "Doge Wif Hat", "Based Frog", "Solana Summer", "Pepe Pump", "Bonk Jr", "Giga Chad",
    "Rocket Dog", "Turbo Toad", "Hyper Hamster", "Meme Lord", "Degen Duck", "Laser Eyes", "Wagmi",
)  # fmt: skip


@dataclass(slots=True)
class Market:
    seed: int
    duration: float
    rng: random.Random = field(init=False)
    tokens: list[Token] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    wallets: list[str] = field(default_factory=list)
    sol_usd: float = 180.0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.wallets = [key(self.rng) for _ in range(30)]


def launch(market: Market, t: float) -> Launch:
    rng = market.rng
    family = rng.choices(list(FAMILIES), weights=(70, 20, 10))[0]
    name = rng.choice(NAMES) + ("" if rng.random() < 0.5 else f" {rng.randint(2, 99)}")
    symbol = "".join(w[0] for w in name.split() if w[0].isalpha()).upper()[:6] or "MEME"
    if rng.random() < 0.05:
        symbol = "⎊"  # contract §1.3: symbols may be non-ASCII
    mint = key(rng, "pump" if family == "pump-fun" else ("bonk" if family == "letsbonk-fun" else ""))
    cid = base58.encode(rng.randbytes(34))[:46]
    token = Token(
        mint=mint,
        name=name,
        symbol=symbol,
        family=family,
        creator=rng.choice(market.wallets),
        curve=key(rng),
        created_t=t,
        uri=f"https://ipfs.io/ipfs/{cid}",
        image=f"https://ipfs.io/ipfs/{cid[:-1]}i",
        has_metadata=rng.random() > 0.1,
    )
    market.tokens.append(token)
    initial = swap(
        market, token, t, is_buy=True, sol=rng.randint(1, 20) * LAMPORTS // 10, wallet=token.creator
    )
    return Launch(t, token, initial.signature if initial else signature(rng), initial)


def swap(market: Market, token: Token, t: float, *, is_buy: bool, sol: int, wallet: str) -> Trade | None:
    """A buy of ``sol`` lamports, or a sell of some of what was bought (a quarter at most), on
    ``token``'s curve at ``t``; moves the curve. None when nothing can trade."""
    k = token.vsol * token.vtokens
    before = token.price
    if is_buy:
        sol = min(sol, GRADUATION_REAL_SOL - token.real_sol)
        if sol <= 0:
            return None
        vsol = token.vsol + sol
        tokens = token.vtokens - k // vsol
        tokens = min(tokens, token.real_tokens)
        token.vsol, token.vtokens = vsol, token.vtokens - tokens
        token.real_sol += sol
        token.real_tokens -= tokens
    else:
        held = (START_VTOKENS - token.vtokens) // 4
        if held <= 0:
            return None
        tokens = market.rng.randint(1, max(1, held))
        vtokens = token.vtokens + tokens
        sol = token.vsol - k // vtokens
        sol = min(sol, token.real_sol)
        if sol <= 0:
            return None
        token.vsol, token.vtokens = token.vsol - sol, vtokens
        token.real_sol -= sol
        token.real_tokens += tokens
    token.last_trade_t = t
    return Trade(
        t=t,
        token=token,
        signature=signature(market.rng),
        wallet=wallet,
        is_buy=is_buy,
        sol=sol,
        tokens=tokens,
        price_before=before,
        price_after=token.price,
        vsol_after=token.vsol,
        vtokens_after=token.vtokens,
        real_sol_after=token.real_sol,
        real_tokens_after=token.real_tokens,
        tx_index=market.rng.randint(0, 1500),
        slot=slot_at(t),
    )


def simulate(
    seed: int, duration: float, *, warmup: float = 60.0, progress: Callable[[float], None] | None = None
) -> Market:
    """Run the market from ``-warmup`` to ``duration`` seconds; events sorted by time.

    Events before 0 exist (they seed histories such as ``ohlcv_history``) but tapes record from 0.
    ``progress`` is told the market time now and then (every simulated minute).
    """
    market = Market(seed, duration)
    rng = market.rng
    t = -warmup
    next_launch = t
    next_price = 0.0
    next_told = 0.0
    # The tokens still trading, newest last, and their cumulative weights for random.choices:
    # kept as tokens launch and complete, so a trade costs no walk over every token (a day of
    # feed launches thousands).
    live: list[Token] = []
    cum: list[int] = []
    hot: Token | None = None
    while t < duration:
        t = round(t + rng.expovariate(4.0), 3)
        if t >= duration:
            break
        if progress is not None and t >= next_told:
            progress(t)
            next_told = t + 60.0
        if t >= next_price:
            market.sol_usd = round(market.sol_usd * (1 + rng.gauss(0, 0.002)), 4)
            market.events.append(SolPrice(t, market.sol_usd))
            next_price = t + 5.0
        if t >= next_launch:
            launched = launch(market, t)
            market.events.append(launched)
            # The first launch after the recording starts runs hot and graduates, so every tape
            # shows a migration; newer tokens trade more.
            if hot is None and launched.token.created_t >= 0:
                hot = launched.token
            weight = (12 if launched.token is hot else 1) + len(live)
            live.append(launched.token)
            cum.append((cum[-1] if cum else 0) + weight)
            next_launch = t + rng.uniform(10, 30)
            continue
        if not live:
            continue
        token = rng.choices(live, cum_weights=cum)[0]
        is_buy = rng.random() < (0.85 if token is hot else 0.7)
        scale = 4.0 if token is hot else 1.0
        sol = int(LAMPORTS * min(8.0, scale * rng.lognormvariate(-1.0, 1.2)))
        trade = swap(
            market, token, t, is_buy=is_buy, sol=max(sol, 1_000_000), wallet=rng.choice(market.wallets)
        )
        if trade is None:
            continue
        market.events.append(trade)
        migration = graduate(market, token, t, duration)
        if migration is not None:
            market.events.append(migration)
        if token.complete:
            live = [tok for tok in live if not tok.complete]
            cum = list(accumulate((12 if tok is hot else 1) + i for i, tok in enumerate(live)))
    market.events.sort(key=lambda e: e.t)
    return market


def graduate(market: Market, token: Token, t: float, until: float) -> Migration | None:
    """A curve that reached its graduation threshold completes at ``t`` and migrates a few
    seconds later, if that is before ``until``; None when it does not (yet)."""
    if token.real_sol < GRADUATION_REAL_SOL or token.complete:
        return None
    rng = market.rng
    token.complete = True
    migrate_t = round(t + rng.uniform(1.0, 4.0), 3)
    if migrate_t >= until:
        return None
    pool = key(rng)
    token.migrated_pool, token.migrated_t = pool, migrate_t
    return Migration(migrate_t, token, signature(rng), pool, key(rng), token.real_sol, token.real_tokens)
