"""The PumpData emulation's choices where the contract is silent (contract §6.6-6.9), and its
faults and limits.

Each field is documented in the "PumpData Socket.IO" section of docs/guides/replay.md with its default.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.corto.config import Overflow


@dataclass(frozen=True, slots=True)
class PumpdataConfig:
    require_api_key: bool = False
    """Refuse a connect without a non-empty ``auth.api_key`` (connect_error saying why)."""
    max_subscriptions: int = 50
    """Subscriptions per connection before ``limit_exceeded`` (undocumented maximum, 6.7)."""
    history_window_s: float = 120.0
    """``ohlcv_history`` serves candles from this rolling window before replay time (2.2)."""
    unavailable_rate: float = 0.0
    """Share of subscribe and ``ohlcv_history`` calls answered ``unavailable`` (a seeded fault)."""
    billing_error_after: int | None = None
    """Emit ``billing_error`` and disconnect a client after this many delivered events (fault)."""
    flat_empty_seconds: bool = False
    """Emit flat candles for silent seconds instead of skipping them (2.4(b), 6.6)."""
    queue_size: int = 10_000
    """Packets queued for one client (it stopped reading) before ``overflow`` applies."""
    overflow: Overflow = Overflow.CLOSE
    """CLOSE: a server disconnect (then the TCP connection is dropped if that cannot get
    through); DROP: the client misses events until it catches up (answers are never dropped)."""
