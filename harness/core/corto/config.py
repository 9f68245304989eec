"""The corto.fun emulation's choices where the contract is silent
(contract §6.1, 6.2, 6.4).

Each field is documented in the "corto.fun Data Stream" section of docs/guides/replay.md with its
default; a tape that shows the service's behaviour (a recorded handshake, grace
outcome) wins over these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class GraceOutcome(StrEnum):
    """What happens when the subscription grace period ends without a valid subscribe."""

    IDLE = "idle"
    """Stay connected with an empty filter (graceActive becomes false)."""
    CLOSE = "close"
    """Close the connection with 1008 (policy violation)."""


class SubscribeMerge(StrEnum):
    """Whether a second subscribe adds to the filter or replaces it (contract §6.4)."""

    REPLACE = "replace"
    MERGE = "merge"


class Overflow(StrEnum):
    """What happens to a client whose outgoing queue is full (it stopped reading)."""

    CLOSE = "close"
    """Close it with 1013 (try again later) and count it."""
    DROP = "drop"
    """Drop the new message for that client and count it."""


@dataclass(frozen=True, slots=True)
class CortoConfig:
    grace_ms: int | None = None
    """``subscriptionGraceMs``; None: the tape's recorded handshake, else 3000."""
    grace_outcome: GraceOutcome = GraceOutcome.IDLE
    subscribe_merge: SubscribeMerge = SubscribeMerge.REPLACE
    one_connection_per_ip: bool = False
    """Emulate "one IP can keep one active connection open at a time" (contract §3.1)."""
    queue_size: int = 10_000
    """Messages queued per client before ``overflow`` applies."""
    overflow: Overflow = Overflow.CLOSE
    answer_ping: bool = True
    """Answer ``{"type":"ping"}`` with ``{"type":"pong"}`` (contract §6.2) instead of an error."""
