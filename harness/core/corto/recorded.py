"""What a corto.fun tape shows of the service, winning over the emulation's defaults.

docs/architecture.md "Conventions": where the contract is silent, a recording's observed behaviour wins.
Owns reading that behaviour from a tape's WebSocket frames: the recorded handshake (pools,
events, modes, messages, ``subscriptionGraceMs`` and which optional keys the service shows,
contract §3.3 and 3.7), what the service did when a connection's grace period ended
without a valid subscribe (contract §3.4, 6.1: a close, or nothing), whether it answered
``{"type":"ping"}`` with a pong or an error (6.2), and how it closed a second connection while
another was open (3.1, 6.2). Pure: frames in, an :class:`Observed` out; the frames' events are
the server's business.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.core.corto.filters import DEFAULT_EVENTS, MESSAGES, MODES, Vocabulary
from harness.core.frames import C2S, Frame, WsClose, WsOpen, WsText

DEFAULT_GRACE_MS = 3000
FILTER_KEYS: tuple[str, ...] = ("mode", "subscriptions", "createDetail", "graceActive")

GRACE_EARLY = 0.1
"""Seconds before the end of the grace window a recorded close may arrive and still be its outcome
(the recorder's open time and the service's timer start a round trip apart)."""
GRACE_LATE = 1.0
"""Seconds after the end of the grace window within which a close is the grace outcome, and beyond
which a connection still open without a subscribe shows the service leaving it idle."""


@dataclass(frozen=True, slots=True)
class Observed:
    """What a tape showed of the service (defaults: the seed's service, nothing observed)."""

    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    grace_ms: int | None = None
    grace_close: tuple[int, str] | None = None
    """A recorded close of a connection that never subscribed within the grace period."""
    grace_idle: bool = False
    """A recorded connection that never subscribed and stayed open past the grace period."""
    status: str | None = "connected"
    """The handshake's ``state.status`` (None: the recorded handshake had none)."""
    filter_keys: tuple[str, ...] = FILTER_KEYS
    """The ``effectiveFilter`` keys the service shows: the repository copy of the contract omits
    ``createDetail`` (contract §3.3, 3.7), so a recording without it replays without it."""
    answers_ping: bool | None = None
    """A recorded ``ping`` answered by ``pong`` (True) or by an ``error`` (False)."""
    refusal: tuple[int, str] | None = None
    """A recorded close of a connection, sent before any message, while another was open: how the
    service refuses a second connection (used when the one-per-IP emulation is on)."""


class Recording:
    """Reads a tape's WebSocket frames in order (:meth:`receive`), then says what it showed
    (:meth:`observed`). :meth:`receive` returns each decoded server event (a frame with a
    ``txType`` and no ``type``), so one pass also yields the feed."""

    def __init__(self) -> None:
        self._handshake: dict[str, Any] | None = None
        self._pending: dict[str, float] = {}
        """Connections neither subscribed nor closed yet, with their open time."""
        self._close: tuple[int, str] | None = None
        self._idle = False
        self._open: set[str] = set()
        self._greeted: set[str] = set()
        self._pinged: set[str] = set()
        self._answers_ping: bool | None = None
        self._refusal: tuple[int, str] | None = None

    @property
    def _window(self) -> float:
        grace = self._handshake.get("subscriptionGraceMs") if self._handshake else None
        return (grace if isinstance(grace, int) else DEFAULT_GRACE_MS) / 1000

    def receive(self, frame: Frame) -> dict[str, Any] | None:
        self._check_idle(frame.t)
        if isinstance(frame, WsOpen):
            self._pending[frame.conn] = frame.t
            self._open.add(frame.conn)
        elif isinstance(frame, WsClose):
            self._closed(frame)
        elif isinstance(frame, WsText) and frame.direction is C2S:
            message = _decode(frame.data)
            if message is not None and message.get("type") == "ping":
                self._pinged.add(frame.conn)
            else:
                self._pinged.discard(frame.conn)
        elif isinstance(frame, WsText):
            return self._server_text(frame)
        return None

    def _server_text(self, frame: WsText) -> dict[str, Any] | None:
        self._greeted.add(frame.conn)
        message = _decode(frame.data)
        if message is None:
            return None
        pong = message.get("type") == "pong"
        if frame.conn in self._pinged and (pong or message.get("name") == "error"):
            self._pinged.discard(frame.conn)  # events may come between a ping and its answer
            if self._answers_ping is None:
                self._answers_ping = pong
        if message.get("type") == "service":
            state = message.get("state")
            name = message.get("name")
            if name == "handshake" and self._handshake is None and isinstance(state, dict):
                self._handshake = state
            elif name == "subscription_ack" and message.get("action") == "subscribe":
                # a valid subscribe ends the grace period (3.4): an invalid one gets an error
                self._pending.pop(frame.conn, None)
            return None
        if "type" in message or not isinstance(message.get("txType"), str):
            return None
        return message

    def _closed(self, frame: WsClose) -> None:
        self._open.discard(frame.conn)
        opened = self._pending.pop(frame.conn, None)
        if frame.direction is C2S or frame.code is None:
            return
        if frame.conn not in self._greeted and self._open and self._refusal is None:
            self._refusal = (frame.code, frame.reason)
            return
        if opened is None or self._decided:
            return
        elapsed = frame.t - opened
        if self._window - GRACE_EARLY <= elapsed <= self._window + GRACE_LATE:
            self._close = (frame.code, frame.reason)

    def _check_idle(self, now: float) -> None:
        if self._decided:
            return
        if any(now - opened > self._window + GRACE_LATE for opened in self._pending.values()):
            self._idle = True

    @property
    def _decided(self) -> bool:
        return self._close is not None or self._idle

    def observed(self) -> Observed:
        state = self._handshake
        if state is None:
            return Observed(
                grace_close=self._close,
                grace_idle=self._idle,
                answers_ping=self._answers_ping,
                refusal=self._refusal,
            )
        grace = state.get("subscriptionGraceMs")
        shown = state.get("effectiveFilter")
        status = state.get("status")
        return Observed(
            vocabulary=Vocabulary(
                pools=_strings(state.get("availablePools")) or Vocabulary().pools,
                events=_strings(state.get("availableEvents")) or DEFAULT_EVENTS,
                modes=_strings(state.get("supportedModes")) or MODES,
                messages=_strings(state.get("supportedMessages")) or MESSAGES,
            ),
            grace_ms=grace if isinstance(grace, int) and not isinstance(grace, bool) else None,
            grace_close=self._close,
            grace_idle=self._idle,
            answers_ping=self._answers_ping,
            refusal=self._refusal,
            status=status if isinstance(status, str) else None,
            filter_keys=(
                tuple(k for k in FILTER_KEYS if k in shown or k in ("mode", "subscriptions"))
                if isinstance(shown, dict)
                else FILTER_KEYS
            ),
        )


def _decode(text: str) -> dict[str, Any] | None:
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()
