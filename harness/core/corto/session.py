"""One corto.fun Data Stream connection, sans I/O: messages and time in, messages to send out.

In the style of the websockets library's protocol objects: the adapter feeds what the client sent
(:meth:`Session.receive_text`, :meth:`Session.receive_binary`) and the replay time
(:meth:`Session.on_time`), and sends what comes back (:class:`SendJson`, :class:`Close`). Owns
the handshake, every answer (subscription_ack, current_state, error, pong), the grace period
(contract §3.3, 3.4; docs/guides/replay.md "corto.fun Data Stream" for the choices), and every close a client
sees: a second connection from one address (3.1), a client too slow to read, a reset, a shutdown,
a fuzz fault. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.core.corto.config import CortoConfig, GraceOutcome
from harness.core.corto.detail import Detail, project
from harness.core.corto.filters import (
    CurrentState,
    Filter,
    FilterError,
    Ping,
    Subscribe,
    Unsubscribe,
    parse_request,
    subscribe,
    unsubscribe,
)
from harness.core.corto.recorded import DEFAULT_GRACE_MS, Observed
from harness.core.families import NotJson, decode_json

GRACE_CLOSE_CODE = 1008
GRACE_CLOSE_REASON = "no subscription within the grace period"
ONE_PER_IP_CODE = 1008
ONE_PER_IP_REASON = "one active connection per IP"
SLOW_CLIENT_CODE = 1013
"""RFC 6455 7.4.1 (IANA registry): 1013 Try Again Later."""
FUZZ_REASON = "harness fuzz"


@dataclass(frozen=True, slots=True)
class SendJson:
    message: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str


Output = SendJson | Close

RESET = Close(1012, "harness reset")
"""A reset between tests ends every connection: 1012 Service Restart (IANA registry)."""
SHUTDOWN = Close(1001, "server shutting down")
"""RFC 6455 7.4.1: 1001, the endpoint is going away."""
INJECTED_ERROR = FilterError("Subscription could not be applied.", {"harness": "fuzz"})
"""The ``error`` a fuzz plan's ``suberror`` fault sends (the service's code, the harness's word)."""


def refusal(observed: Observed) -> Close:
    """How a second connection from one IP is closed (contract §3.1; the code is an open
    question, 6.2): as the tape shows it, else 1008 (policy violation)."""
    if observed.refusal is not None:
        return Close(*observed.refusal)
    return Close(ONE_PER_IP_CODE, ONE_PER_IP_REASON)


def connection_refusal(
    config: CortoConfig, observed: Observed, remote: str, active: Iterable[str]
) -> Close | None:
    """How a new connection from ``remote`` is closed at once, given the addresses of the
    connections already active, else None (it is served)."""
    # contract §3.1: "One IP can keep one active connection open at a time."
    if config.one_connection_per_ip and remote in active:
        return refusal(observed)
    return None


def overflow_close(config: CortoConfig, queue_bytes: int | None = None) -> Close:
    """How a client whose queue is full is closed (:attr:`Overflow.CLOSE`): it stopped reading.
    ``queue_bytes``: it was full in bytes (this many), not in messages."""
    if queue_bytes is not None:
        return Close(SLOW_CLIENT_CODE, f"client too slow: {queue_bytes} bytes queued")
    return Close(SLOW_CLIENT_CODE, f"client too slow: {config.queue_size} messages queued")


def fuzzed_close(code: int) -> Close:
    """A fuzz plan's ``close`` fault (1006: the connection drops without a close frame)."""
    return Close(code, FUZZ_REASON)


def grace_ms(config: CortoConfig, observed: Observed) -> int:
    """``subscriptionGraceMs``: the configured one, else the recorded handshake's, else 3000 (3.4)."""
    if config.grace_ms is not None:
        return config.grace_ms
    return observed.grace_ms if observed.grace_ms is not None else DEFAULT_GRACE_MS


class Session:
    def __init__(self, config: CortoConfig, observed: Observed, connected_at: float) -> None:
        self.config = config
        self.observed = observed
        self.vocabulary = observed.vocabulary
        self.grace_ms = grace_ms(config, observed)
        self.filter = Filter()
        self.grace_active = True
        self.grace_deadline: float | None = connected_at + self.grace_ms / 1000
        self.closed = False

    # --- messages -----------------------------------------------------------------------------

    def _state(self, handshake: bool = False) -> dict[str, Any]:
        state: dict[str, Any] = {}
        if handshake and self.observed.status is not None:
            state["status"] = self.observed.status
        shown = self.filter.effective(self.vocabulary, self.grace_active)
        state.update(
            availablePools=list(self.vocabulary.pools),
            availableEvents=list(self.vocabulary.events),
            supportedModes=list(self.vocabulary.modes),
            supportedMessages=list(self.vocabulary.messages),
            # the optional keys the recorded service shows (contract §3.3, 3.7)
            effectiveFilter={k: shown[k] for k in self.observed.filter_keys},
        )
        if handshake:
            state["subscriptionGraceMs"] = self.grace_ms
        return state

    def handshake(self) -> dict[str, Any]:
        return {"type": "service", "name": "handshake", "state": self._state(handshake=True)}

    def _service(self, name: str, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "service", "name": name}
        if "action" in extra:
            message["action"] = extra.pop("action")
        message["state"] = self._state()
        message.update(extra)
        return message

    def error(self, error: FilterError) -> dict[str, Any]:
        """The ``error`` service message for ``error``, with this connection's state."""
        return self._service("error", error=error.body())

    def _error(self, error: FilterError) -> list[Output]:
        # After an error the connection stays open and the filter is unchanged (the corto.fun contract page's
        # example: an invalid subscribe does not end the grace period, contract §3.4).
        return [SendJson(self.error(error))]

    def receive_text(self, text: str, now: float) -> list[Output]:
        message = decode_json(text)
        if isinstance(message, NotJson):  # NaN or nesting too deep included: strict JSON only
            return self._error(FilterError("Malformed JSON.", {"error": message.reason}))
        # contract §6.2: pong or an error, as the tape shows it, else as configured
        answer_ping = self.observed.answers_ping
        if answer_ping is None:
            answer_ping = self.config.answer_ping
        request = parse_request(message, self.vocabulary, answer_ping=answer_ping)
        if isinstance(request, FilterError):
            return self._error(request)
        if isinstance(request, Ping):
            return [SendJson({"type": "pong"})]
        if isinstance(request, CurrentState):
            return [SendJson(self._service("current_state"))]
        if isinstance(request, Subscribe):
            self.filter = subscribe(self.filter, request, self.config.subscribe_merge)
            self.grace_active = False
            self.grace_deadline = None
            return [SendJson(self._service("subscription_ack", action="subscribe"))]
        assert isinstance(request, Unsubscribe)
        self.filter = unsubscribe(self.filter, request, self.vocabulary)
        return [SendJson(self._service("subscription_ack", action="unsubscribe"))]

    def receive_binary(self, data: bytes, now: float) -> list[Output]:
        return self._error(
            FilterError("Binary frames are not supported; send JSON text.", {"receivedBytes": len(data)})
        )

    # --- time ---------------------------------------------------------------------------------

    def on_time(self, now: float) -> list[Output]:
        """What the grace period does when its deadline passes without a valid subscribe."""
        if self.grace_deadline is None or now < self.grace_deadline:
            return []
        self.grace_deadline = None
        self.grace_active = False
        # a tape that shows what the service did wins over the configured outcome (6.1)
        if self.observed.grace_close is not None:
            return [Close(*self.observed.grace_close)]
        if self.observed.grace_idle:
            return []
        if self.config.grace_outcome is GraceOutcome.CLOSE:
            return [Close(GRACE_CLOSE_CODE, GRACE_CLOSE_REASON)]
        return []

    # --- events -------------------------------------------------------------------------------

    @property
    def detail(self) -> Detail:
        return self.filter.detail

    def selects(self, event: Mapping[str, Any]) -> bool:
        return self.filter.selects(event)


def projected(event: Mapping[str, Any], detail: Detail) -> Mapping[str, Any]:
    """Contract §3.2: create.detail affects only create events."""
    return project(event, detail) if event.get("txType") == "create" else event
