"""What a tape already holds: the matching behind record mode ``new_episodes``
(docs/guides/record.md "Record modes").

A *new episode* is traffic the tape cannot answer, relayed to the live service and recorded:

* REST: a request whose method, path and query (parameters in any order) no recorded exchange
  made. A recorded query value that redaction replaced (``REDACTED-<16 hex>``) matches any value,
  so a request carrying the real ``api_key`` still matches its redacted recording.
* Streams (a corto.fun WebSocket or a PumpData Socket.IO connection): decided once per connection,
  at its first *subscription request* (corto ``{"type": "subscribe", ...}``, PumpData ``subscribe*``
  and ``ohlcv_history`` emits). When some recorded connection of the same API opened with an
  equal request (equal JSON, key order aside), the connection is replayed to its end; otherwise it
  is a new episode: from that request on it talks to the live service, and that connection is
  recorded. Messages before it (a corto ``ping`` or ``current_state``, a PumpData
  ``unsubscribe*``) are answered by the replay.

Owns the index of a tape's requests and the two questions asked of it. Pure: frames in, booleans
out; the router (``harness.recorder.episodes``) does the relaying.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harness.core.families import decode_json
from harness.core.frames import C2S, Frame, HttpExchange, SioEvent, WsText
from harness.core.pumpdata.rules import SUBSCRIPTIONS as PUMPDATA_SUBSCRIPTIONS
from harness.core.redact import PLACEHOLDER


@dataclass(frozen=True, slots=True)
class RestKey:
    """A REST request as ``new_episodes`` matches it: method, path, query pairs sorted."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, method: str, url: str) -> RestKey:
        """The key of ``url`` (a path with query, or an absolute URL) requested with ``method``."""
        parts = urlsplit(url)
        query = tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))
        return cls(method.upper(), parts.path or "/", query)

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


def _query_matches(recorded: tuple[tuple[str, str], ...], asked: tuple[tuple[str, str], ...]) -> bool:
    if len(recorded) != len(asked):
        return False
    left: dict[str, list[str]] = defaultdict(list)
    for name, value in asked:
        left[name].append(value)
    redacted = []
    for name, value in recorded:
        if PLACEHOLDER.fullmatch(value):
            redacted.append(name)  # a redacted secret stands for whatever the client sends
        elif value in left[name]:
            left[name].remove(value)
        else:
            return False
    for name in redacted:
        if not left[name]:
            return False
        left[name].pop()
    return True


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def subscription_request(frame: Frame) -> tuple[str, str] | None:
    """``(api, canonical JSON)`` of the subscription request a client frame carries, else None."""
    if frame.direction is not C2S:
        return None
    if isinstance(frame, WsText):
        message = decode_json(frame.data)
        # contract §3.2: a filter is chosen by {"type": "subscribe", ...}
        if isinstance(message, dict) and message.get("type") == "subscribe":
            return ("corto", _canonical(message))
        return None
    # contract §2.2: the emits that choose what a PumpData connection receives
    if isinstance(frame, SioEvent) and frame.name in PUMPDATA_SUBSCRIPTIONS:
        return ("pumpdata", _canonical([frame.name, *frame.args]))
    return None


class EpisodeIndex:
    """The requests a tape holds, for deciding what is a new episode."""

    def __init__(self) -> None:
        self._rest: dict[tuple[str, str], list[tuple[tuple[str, str], ...]]] = defaultdict(list)
        self._subscriptions: set[tuple[str, str]] = set()
        self._first_seen: set[tuple[int, str]] = set()

    @classmethod
    def of(cls, *tapes: Iterable[Frame]) -> EpisodeIndex:
        """The index of the frames of one or more tapes."""
        index = cls()
        for number, frames in enumerate(tapes):
            for frame in frames:
                index.add(frame, tape=number)
        return index

    def add(self, frame: Frame, *, tape: int = 0) -> None:
        """Index one frame; ``tape`` tells tapes apart (connection ids repeat across tapes)."""
        if isinstance(frame, HttpExchange):
            key = RestKey.of(frame.request.method, frame.request.url)
            known = self._rest[(key.method, key.path)]
            if key.query not in known:
                known.append(key.query)
            return
        if (tape, frame.conn) in self._first_seen:
            return
        found = subscription_request(frame)
        if found is not None:
            # only a connection's first subscription request decides (module docstring)
            self._first_seen.add((tape, frame.conn))
            self._subscriptions.add(found)

    def holds_request(self, method: str, url: str) -> bool:
        """Whether the tape answers this REST request (else it is a new episode)."""
        key = RestKey.of(method, url)
        return any(
            _query_matches(recorded, key.query) for recorded in self._rest.get((key.method, key.path), [])
        )

    def holds_subscription(self, api: str, canonical: str) -> bool:
        """Whether some recorded connection of ``api`` opened with this subscription request."""
        return (api, canonical) in self._subscriptions
