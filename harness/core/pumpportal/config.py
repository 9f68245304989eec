"""The PumpPortal emulation's choices where contract §4 is silent.

(A client's outgoing queue and what happens when it fills are the Data Stream's settings,
``--ws-queue`` and ``--ws-overflow``: one for every WebSocket client.)

Each field is documented in docs/guides/pumpportal.md with its default; a tape that shows the
service's own words (its acks, its refusal of a trade subscription) wins over these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class TradeAccess(StrEnum):
    """Which connections may subscribe to token and account trades (contract §4: "only available
    when connecting with an API key funded with at least 0.02 SOL")."""

    KEY = "key"
    """A connection whose URL carries a non-empty ``api-key`` query parameter is funded (when
    :attr:`PumpPortalConfig.funded_keys` is set, only a key among them is)."""
    OPEN = "open"
    """Every connection may subscribe to trades, key or not."""
    CLOSED = "closed"
    """No connection may: every trade subscription is refused."""


class BadRequest(StrEnum):
    """How a request the service cannot act on is answered (contract §4 documents none)."""

    ERRORS = "errors"
    """``{"errors": "<what is wrong>"}``: a client can tell it from an ack."""
    MESSAGE = "message"
    """``{"message": "<what is wrong>"}``, shaped like the acks."""
    IGNORE = "ignore"
    """No answer (the violation is still kept by the server)."""


@dataclass(frozen=True, slots=True)
class PumpPortalConfig:
    trade_access: TradeAccess = TradeAccess.KEY
    funded_keys: frozenset[str] = field(default_factory=frozenset)
    """With :attr:`TradeAccess.KEY`: the ``api-key`` values that are funded (empty: any key)."""
    one_connection_per_ip: bool = True
    """Refuse a second concurrent connection from one address (contract §4: the service bans the
    IP for it), closing it with :data:`harness.core.pumpportal.session.ONE_PER_IP`."""
    bad_request: BadRequest = BadRequest.ERRORS
    max_keys: int = 10_000
    """Keys one request may carry, and keys of each kind (mints, wallets) one connection may hold."""
