"""Everything a mock server can be told: clock, tapes, per-API choices, faults.

One frozen value, built by ``harness serve``'s options, by ``MockServer(...)`` keyword arguments
or by the pytest plugin; docs/guides/replay.md documents every default.
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
from harness.core.pumpportal.config import PumpPortalConfig
from harness.core.ratelimit import RateLimitConfig
from harness.core.tape import TapeLimits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_HEAD_TIMEOUT = 10.0
DEFAULT_MAX_CONNECTIONS = 1000
FD_RESERVE = 64
"""Open files kept free of connections (tapes, upstream connections, logs) by the default cap."""
DEFAULT_SIO_PING_INTERVAL = 25.0
DEFAULT_SIO_PING_TIMEOUT = 20.0
DEFAULT_MAX_SIO_SESSIONS = 1000
DEFAULT_MAX_ADVANCE_STEPS = 20_000


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
    """401 for requests without ``Authorization: Bearer ...`` (contract §1.5: auth is optional)."""


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
    """A fault schedule applied to what the server sends (``harness fuzz``; docs/guides/fuzz.md)."""
    pumpfun: PumpfunConfig = field(default_factory=PumpfunConfig)
    corto: CortoConfig = field(default_factory=CortoConfig)
    pumpdata: PumpdataConfig = field(default_factory=PumpdataConfig)
    pumpportal: PumpPortalConfig = field(default_factory=PumpPortalConfig)
    # --- control plane, timeouts and connection caps (docs/reference/control-plane.md) -----------
    control_token: str | None = field(default=None, repr=False)
    """Token the state-changing control calls must send as ``X-Harness-Token`` (None: none asked)."""
    control_hosts: tuple[str, ...] = ()
    """``Host`` names the control endpoints answer besides loopback ones and ``host``."""
    cors_origins: tuple[str, ...] = ()
    """Origins Socket.IO allows besides loopback ones (``"*"``: any); never with credentials."""
    head_timeout: float = DEFAULT_HEAD_TIMEOUT
    """Seconds a connection has to send a complete HTTP request head (a WebSocket handshake's
    too), from when it opens or its previous response ends; then it is closed."""
    max_connections: int | None = None
    """Open connections per server; past it a new one gets a 503. None: :func:`connection_cap`."""
    sio_ping_interval: float = DEFAULT_SIO_PING_INTERVAL
    """Engine.IO ping interval (seconds) told to Socket.IO clients."""
    sio_ping_timeout: float = DEFAULT_SIO_PING_TIMEOUT
    """Seconds an Engine.IO session may leave a ping unanswered (or not poll) before it expires."""
    max_sio_sessions: int = DEFAULT_MAX_SIO_SESSIONS
    """Engine.IO sessions open at once; past it a handshake gets a 503."""
    max_advance_steps: int = DEFAULT_MAX_ADVANCE_STEPS
    """Wake-ups one ``advance`` walks through; past it the replay jumps to the target time."""
    limits: InputLimits = field(default_factory=InputLimits)

    def clock(self) -> ReplayClock:
        return ReplayClock.for_speed(self.speed, manual=self.manual)

    @property
    def connection_cap(self) -> int:
        """``max_connections``, or by default 1,000 or what the open-file limit leaves (less
        :data:`FD_RESERVE`), whichever is lower."""
        if self.max_connections is not None:
            return self.max_connections
        return default_connection_cap()

    @property
    def speed_text(self) -> str:
        return "max" if math.isinf(self.speed) else f"{self.speed:g}"


def default_connection_cap() -> int:
    """1,000 connections, or fewer when the soft open-file limit would run out first."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, ValueError, OSError):
        return DEFAULT_MAX_CONNECTIONS
    if soft == resource.RLIM_INFINITY:
        return DEFAULT_MAX_CONNECTIONS
    return max(1, min(DEFAULT_MAX_CONNECTIONS, soft - FD_RESERVE))
