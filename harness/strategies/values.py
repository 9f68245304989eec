"""Hypothesis strategies for the values the three APIs share (contract §5, the unit cheat-sheet).

Keys and signatures are real base58 encodings of 32 and 64 bytes (so they decode, and shrink
towards the all-ones key); pump.fun mints end in ``pump`` like the vanity mints it issues; times
are recent, in seconds; pools are dotted as filters name them.
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness.core import base58
from harness.core.corto.filters import DEFAULT_POOLS
from harness.synth.market import EPOCH_S, FAMILIES

PUMP_SUFFIX = {"pump-fun": "pump", "letsbonk-fun": "bonk"}
"""Vanity endings of the mints a launchpad issues."""
DOTTED_POOLS: tuple[str, ...] = DEFAULT_POOLS
"""Pool families as filters and ``availablePools`` name them (contract §3.5)."""
LAUNCHPADS: tuple[str, ...] = tuple(FAMILIES)
"""Event pools a token launches on (``pump-fun``, ``letsbonk-fun``, ``meteora-dbc``)."""
SPAN_S = 86_400 * 30
"""Generated times fall in the 30 days after the synthetic epoch (2026-01-01)."""


def pubkeys() -> st.SearchStrategy[str]:
    """A Solana public key: 32 bytes in base58 (32-44 characters)."""
    return st.binary(min_size=base58.PUBKEY_BYTES, max_size=base58.PUBKEY_BYTES).map(base58.encode)


def signatures() -> st.SearchStrategy[str]:
    """A transaction signature: 64 bytes in base58 (64-88 characters)."""
    return st.binary(min_size=base58.SIGNATURE_BYTES, max_size=base58.SIGNATURE_BYTES).map(base58.encode)


def _vanity(key: str, suffix: str) -> str:
    text = key[: -len(suffix)] + suffix
    return text if base58.is_base58(text, base58.PUBKEY_BYTES) else key


def mints(pool: str | None = None) -> st.SearchStrategy[str]:
    """A mint; on ``pump-fun`` or ``letsbonk-fun`` usually with the launchpad's vanity ending."""
    suffix = PUMP_SUFFIX.get(pool or "")
    if suffix is None:
        return pubkeys()
    keys = pubkeys().filter(lambda k: len(k) >= 43)
    return st.one_of(keys.map(lambda k: _vanity(k, suffix)), keys)


def replay_times() -> st.SearchStrategy[float]:
    """Seconds since the synthetic epoch, to the millisecond."""
    return st.integers(0, SPAN_S * 1000).map(lambda ms: ms / 1000)


def unix_s() -> st.SearchStrategy[int]:
    """Unix seconds (PumpData ``time``/``timestamp``, pump.fun trade ``timestamp``)."""
    return st.integers(EPOCH_S, EPOCH_S + SPAN_S)


def dotted_pools() -> st.SearchStrategy[str]:
    return st.sampled_from(DOTTED_POOLS)


def sol_usd() -> st.SearchStrategy[float]:
    """A SOL/USD price, to the cent."""
    return st.integers(2_000, 100_000).map(lambda cents: cents / 100)
