"""What a PumpPortal tape shows: its events (the replay feed) and the service's own words.

Where contract §4 is silent a recording wins (the acks of the methods it does not quote, the
whole text of the refusal of a trade subscription it quotes only in part): :class:`Recording`
reads a tape's frames of PumpPortal connections in order, returns each event (a server frame with
a ``txType``) as an :class:`Event`, and then says what it saw (:class:`Observed`);
:func:`read_feed` makes the replay feed of a tape that way. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.core.families import NotJson, decode_json
from harness.core.frames import C2S, Frame, WsClose, WsText
from harness.core.pumpportal.families import METHODS, create_family

EVENT_KINDS = {"create": "create", "buy": "trade", "sell": "trade", "migrate": "migrate"}
"""txType -> what a client subscribes to for it (new tokens, trades, migrations)."""
FUNDED_WORDS = "funded"
"""A ``{"message": ...}`` answer with this word is the refusal of a trade subscription."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event of the feed: its text as recorded (number formats intact), and what filters
    look at: ``kind`` (create, trade, migrate), ``mint`` and ``trader`` (``traderPublicKey``)."""

    text: str
    kind: str
    mint: str
    trader: str
    family: str


def event_of(text: str, message: Mapping[str, Any]) -> Event | None:
    """The :class:`Event` of a decoded server message, or None when it is no event."""
    kind = EVENT_KINDS.get(str(message.get("txType")))
    if kind is None:
        return None
    mint, trader = message.get("mint"), message.get("traderPublicKey")
    family = create_family(message) if kind == "create" else kind
    return Event(
        text,
        kind,
        mint if isinstance(mint, str) else "",
        trader if isinstance(trader, str) else "",
        family,
    )


@dataclass(frozen=True, slots=True)
class Observed:
    """What a tape showed of the service (nothing observed: the defaults are used)."""

    acks: Mapping[str, str] = field(default_factory=dict)
    """method -> the ``message`` text the service answered it with."""
    refusal: str | None = None
    """The recorded text refusing a trade subscription without a funded key."""


class Recording:
    """Feed frames in order to :meth:`receive`; then :meth:`observed`."""

    def __init__(self) -> None:
        self._asked: dict[str, str] = {}
        self._acks: dict[str, str] = {}
        self._refusal: str | None = None

    def receive(self, frame: Frame) -> Event | None:
        if isinstance(frame, WsClose):
            self._asked.pop(frame.conn, None)
            return None
        if not isinstance(frame, WsText):
            return None
        message = decode_json(frame.data)
        if isinstance(message, NotJson) or not isinstance(message, dict):
            return None
        if frame.direction is C2S:
            method = message.get("method")
            if isinstance(method, str) and method in METHODS:
                self._asked[frame.conn] = method
            return None
        if message.keys() == {"message"} and isinstance(message["message"], str):
            text = message["message"]
            method = self._asked.pop(frame.conn, None)
            if FUNDED_WORDS in text:
                self._refusal = self._refusal or text
            elif method is not None:
                self._acks.setdefault(method, text)
            return None
        return event_of(frame.data, message)

    def observed(self) -> Observed:
        return Observed(dict(self._acks), self._refusal)


def read_feed(frames: Iterable[Frame]) -> tuple[list[tuple[float, Event]], Observed]:
    """The events of every recorded PumpPortal connection in ``frames`` (once each: the same event
    recorded on several connections is one event of the feed), with their times, and what the
    tape shows of the service."""
    events: list[tuple[float, Event]] = []
    seen: set[str] = set()
    recording = Recording()
    for frame in frames:
        event = recording.receive(frame)
        if event is not None and event.text not in seen:
            seen.add(event.text)
            events.append((frame.t, event))
    return events, recording.observed()
