"""Everything a mock server can be told: clock, tapes, per-API choices, faults.

One frozen value, built by ``harness serve``'s options, by ``MockServer(...)`` keyword arguments
or by the pytest plugin; the README documents every default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from harness.core.clock import ReplayClock
from harness.core.corto.config import CortoConfig
from harness.core.faults import FaultRule
from harness.core.fuzz import FuzzPlan
from harness.core.pumpdata.config import PumpdataConfig
from harness.core.ratelimit import RateLimitConfig
from harness.core.tape import TapeLimits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ClockStart(StrEnum):
    """When a real-time (or ``max``) clock starts running."""

    FIRST_CLIENT = "first-client"
    """At the first connection or request of any client (the default)."""
    LISTEN = "listen"
    """As soon as the server listens."""


@dataclass(frozen=True, slots=True)
class PumpfunConfig:
    rate_limit: RateLimitConfig | None = None
    """None: calibrated from the tape's recorded headers, else :class:`RateLimitConfig` defaults."""
    require_auth: bool = False
    """401 for requests without ``Authorization: Bearer ...`` (CONTRACTS.md 1.5: auth is optional)."""


# --- input limits (README "Input limits"; harness/cli/limits.py sets them) ------------------------


@dataclass(frozen=True, slots=True)
class InputLimits:
    """What one client's input, and the server's record of it, may cost at most."""

    max_violations: int = 10_000
    """Violations kept; later ones are counted (``violations_dropped`` in ``/_harness/state``)."""
    violation_bytes: int = 8 << 20
    """Bytes the kept violations may hold (each excerpt is cut to about 200 characters)."""
    ws_message_bytes: int = 4 << 20
    """The largest WebSocket message a Data Stream client may send: past it, close 1009."""
    queue_bytes: int = 8 << 20
    """Bytes queued for one stream client (Data Stream, Socket.IO) that does not read, as well as
    ``--ws-queue`` / ``--sio-queue`` messages: past either, the client meets ``--ws-overflow`` /
    ``--sio-overflow`` (closed by default)."""
    tape: TapeLimits = field(default_factory=TapeLimits)
    """What one tape line may cost before it is decoded (size, JSON values)."""


# --- end of input limits -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    speed: float = 1.0
    """Replay speed factor; ``math.inf`` is ``max``."""
    manual: bool = False
    """Manual clock: nothing moves until advanced."""
    loop: bool = False
    start: ClockStart = ClockStart.FIRST_CLIENT
    validate: bool = True
    """Check every message sent and received against the schemas; collect violations."""
    seed: int = 0
    """Seed of every random choice (faults), so a run is reproducible."""
    faults: tuple[FaultRule, ...] = ()
    fuzz: FuzzPlan | None = None
    """A fault schedule applied to what the server sends (``harness fuzz``; README "Fuzzing")."""
    pumpfun: PumpfunConfig = field(default_factory=PumpfunConfig)
    corto: CortoConfig = field(default_factory=CortoConfig)
    pumpdata: PumpdataConfig = field(default_factory=PumpdataConfig)
    limits: InputLimits = field(default_factory=InputLimits)

    def clock(self) -> ReplayClock:
        return ReplayClock.for_speed(self.speed, manual=self.manual)

    @property
    def speed_text(self) -> str:
        return "max" if math.isinf(self.speed) else f"{self.speed:g}"
