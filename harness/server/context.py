"""What the server shares with its emulators: the clock, violations, the loaded tapes, wake-ups.

An emulator (one per API) implements :class:`Emulator` and is handed a :class:`ServerContext`.
The scheduler asks every emulator for its next wake-up (the replay time of its next feed item or
timer) and calls :meth:`Emulator.tick` at each, in time order, so behaviour is the same whether
the clock runs in real time, at ``max`` speed or is stepped by a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from harness.core.excerpt import EXCERPT_CHARS, SEEN_CHARS, encode, quote, trimmed
from harness.core.families import NotJson, UnknownEvent
from harness.core.frames import Frame, TapeHeader
from harness.core.misses import Miss
from harness.core.redact import Redactor


@dataclass(slots=True)
class LoadedTapes:
    """Every frame of the tapes the server replays, split by protocol, in time order."""

    headers: list[tuple[str, TapeHeader]] = field(default_factory=list)
    http: list[Frame] = field(default_factory=list)
    ws: list[Frame] = field(default_factory=list)
    sio: list[Frame] = field(default_factory=list)
    pumpportal: list[Frame] = field(default_factory=list)
    """The WebSocket frames of connections to PumpPortal's ``/api/data`` (not in ``ws``)."""
    problems: list[str] = field(default_factory=list)
    """``file:line: what`` for each defect the readers tolerated (a torn last line, NaN as null)."""

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.headers]


_SHOWN = Redactor.masking()
"""What a report shows of a client's message passes the redaction rules (docs/reference/redaction.md)."""
VIOLATION_OVERHEAD = 512
"""Bytes a kept violation costs beyond its text (the object, its strings' headers)."""


def excerpt(message: Any) -> str:
    """A violation's message for a report: compact JSON (the text of what was not JSON), cut to
    :data:`~harness.core.excerpt.EXCERPT_CHARS` at a cost bounded by that, not by the message."""
    if isinstance(message, NotJson):
        return _shown_text(message.text)
    if isinstance(message, UnknownEvent):
        return f"event {quote(_shown_text(message.name))}"
    # the redaction rules see the part of the message an excerpt can show, so their cost is bounded too
    return encode(_SHOWN.json(trimmed(message)))


def _shown_text(text: str) -> str:
    """``text`` cut as :func:`~harness.core.excerpt.clip` cuts it, redacted: the rules see
    :data:`~harness.core.excerpt.SEEN_CHARS` of it, so a secret longer than the excerpt, or cut at
    its edge, is still found whole."""
    head = _SHOWN.text(text[:SEEN_CHARS])
    if len(text) <= SEEN_CHARS and len(head) <= EXCERPT_CHARS:
        return head
    return f"{head[:EXCERPT_CHARS]}… ({len(text)} chars)"


@dataclass(frozen=True, slots=True)
class ServedViolation:
    """A contract violation seen by the server, with where it was seen.

    ``source`` is ``"server"`` for what the server sent (a tape that breaks the contract) and
    ``"client"`` for what a client sent.
    """

    api: str
    family: str
    pointer: str
    rule: str
    message: str
    source: str
    conn: str = ""
    t: float = 0.0
    excerpt: str = ""
    """The offending message, as JSON, cut to about 200 characters (empty when unknown)."""

    def size(self) -> int:
        """About what it holds in memory, in bytes (its strings and the object around them)."""
        texts = (self.api, self.family, self.pointer, self.rule, self.message, self.source, self.conn)
        return VIOLATION_OVERHEAD + len(self.excerpt) + sum(map(len, texts))

    def as_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "family": self.family,
            "pointer": self.pointer,
            "rule": self.rule,
            "message": self.message,
            "source": self.source,
            "conn": self.conn,
            "t": self.t,
            "excerpt": self.excerpt,
        }

    def __str__(self) -> str:
        where = f" ({self.source} {self.conn})".rstrip() if self.conn else f" ({self.source})"
        return f"{self.api} {self.family} {self.pointer or '/'}: {self.rule}: {self.message}{where}"


class ServerContext(Protocol):
    def now(self) -> float:
        """Replay time now."""

    def touch(self) -> None:
        """A client connected or sent something: starts a real-time clock that waits for one."""

    def wake(self) -> None:
        """Something changed the emulators' wake-ups (a subscription, a timer): re-plan."""

    def report(self, violation: ServedViolation) -> None: ...

    def client_left(self, received: int) -> None:
        """A client that sent ``received`` bytes is gone (what it cost goes back to the system)."""

    def miss(self, miss: Miss) -> None:
        """Keep a request or subscription the tapes hold no recording of."""

    def client_violation(
        self, api: str, family: str, pointer: str, rule: str, message: str, conn: str
    ) -> None:
        """Keep a violation of what a client sent that no schema can see (when validating)."""

    def saw(self, frame: Frame) -> None:
        """A frame of a client's session (an open, a close, a message): handed to the session
        tap when one is set (the pytest plugin's ``--harness-report``); ``check_frame`` calls it."""

    def check_frame(self, frame: Frame, *, conn: str = "") -> list[ServedViolation]:
        """Validate every message ``frame`` carries against the contract (classified as a
        tape's frames are: direction, protocol, path or event). Violations are kept and returned.
        Emulators build the frame of what they sent or received and pass it here."""

    async def check_frame_async(
        self, frame: Frame, *, conn: str = "", size: int = 0
    ) -> list[ServedViolation]:
        """:meth:`check_frame` for what a client sent (``size`` bytes), off the event loop when
        it is large, so other clients do not wait for it."""

    @property
    def tapes(self) -> LoadedTapes: ...

    @property
    def counters(self) -> dict[str, int]:
        """Named counters shown by ``/_harness/state`` (slow-client disconnects, faults ...)."""


class Emulator(Protocol):
    """One API's behaviour on the shared application."""

    name: str

    def setup(self, app: web.Application) -> None:
        """Add routes (or attach a Socket.IO server) to ``app``."""

    def next_wakeup(self) -> float | None:
        """Replay time of the next feed item or timer this emulator must act on, if any."""

    def lookahead(self, count: int) -> float | None:
        """``max`` mode: the replay time up to which ``count`` feed items can be delivered in one
        tick without passing a timer (the next wake-up if a timer comes first); None: nothing."""

    async def tick(self, now: float) -> None:
        """Deliver everything due at or before replay time ``now``. Must not block on a client."""

    def skip(self, now: float) -> int:
        """The replay jumps to ``now``: drop what is due by then without sending it; how many
        feed items were dropped."""

    def active(self) -> bool:
        """Whether some client is subscribed (in ``max`` mode the feed only runs while one is)."""

    async def drained(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until clients have taken what was queued (``max`` mode)."""

    async def reset(self) -> None:
        """Per-test reset: feed back to the start, subscriptions, budgets and timers cleared."""

    def state(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


EmulatorFactory = Callable[[ServerContext], Emulator]
