"""One PumpPortal data WebSocket connection, sans I/O: messages in, messages to send out.

As :mod:`harness.core.corto.session` does for the Data Stream: the adapter makes a
:class:`Session` from the URL the client connected to, feeds it what the client sends
(:meth:`Session.receive_text`, :meth:`Session.receive_binary`) and sends what comes back
(:class:`SendJson`, :class:`Close`), reporting each :class:`ClientViolation`. Owns every rule of
contract §4: the methods and their ``{"message": ...}`` acks, the refusal of trade subscriptions
without a funded key (the ``api-key`` query parameter), what each connection's filters select
(new tokens, migrations, trades of given mints or wallets), and the refusal of a second
connection from one address. docs/guides/pumpportal.md documents the choices. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from harness.core.corto.session import Close, SendJson
from harness.core.families import NotJson, decode_json
from harness.core.pumpportal.config import BadRequest, PumpPortalConfig, TradeAccess
from harness.core.pumpportal.families import pumpportal_family
from harness.core.pumpportal.recorded import Event, Observed
from harness.core.pumpportal.requests import Problem, echo, parse_request

# SendJson and Close are the outputs every WebSocket session shares (corto's session defined them
# first); an adapter sends one and closes with the other.
__all__ = ["ClientViolation", "Close", "Output", "SendJson", "Session", "connection_refusal"]

API_KEY_PARAM = "api-key"
"""The query parameter PumpPortal clients pass their key in (``/api/data?api-key=KEY``)."""

ACKS = {
    # contract §4, as recorded
    "subscribeNewToken": "Successfully subscribed to token creation events.",
    "subscribeMigration": "Subscribed to 'migration' events.",
    # the harness's words (a recording's win)
    "subscribeTokenTrade": "Successfully subscribed to keys.",
    "subscribeAccountTrade": "Successfully subscribed to keys.",
    "unsubscribeNewToken": "Unsubscribed from token creation events.",
    "unsubscribeMigration": "Unsubscribed from 'migration' events.",
    "unsubscribeTokenTrade": "Unsubscribed from keys.",
    "unsubscribeAccountTrade": "Unsubscribed from keys.",
}
REFUSAL = (
    "Token and account trade subscriptions are only available when connecting with an API key"
    " funded with at least 0.02 SOL."
)
"""Contract §4 quotes the end of it; a recorded refusal's whole text wins."""
ONE_PER_IP = Close(1008, "one connection per IP: the service bans an address that opens a second one")
"""RFC 6455 7.4.1: 1008 policy violation."""
FUZZ_ERROR = "Subscription could not be applied. (harness fuzz)"


@dataclass(frozen=True, slots=True)
class ClientViolation:
    """What the client sent broke the contract (the adapter reports it; one per message)."""

    family: str
    pointer: str
    rule: str
    message: str


Output = SendJson | Close | ClientViolation


def api_key(url: str) -> str:
    """The ``api-key`` query parameter of the URL (or path) a client connected to ('' if none)."""
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name == API_KEY_PARAM:
            return value
    return ""


def funded(config: PumpPortalConfig, key: str) -> bool:
    """Whether a connection made with ``key`` may subscribe to trades (:class:`TradeAccess`)."""
    if config.trade_access is TradeAccess.OPEN:
        return True
    if config.trade_access is TradeAccess.CLOSED or not key:
        return False
    return not config.funded_keys or key in config.funded_keys


def connection_refusal(config: PumpPortalConfig, remote: str, active: Iterable[str]) -> Close | None:
    """How a new connection from ``remote`` is closed at once, given the addresses of the
    connections already open, else None (contract §4: a second concurrent connection from one IP
    gets the IP banned)."""
    if config.one_connection_per_ip and remote in active:
        return ONE_PER_IP
    return None


class Session:
    def __init__(self, config: PumpPortalConfig, observed: Observed, url: str) -> None:
        self.config = config
        self.observed = observed
        self.funded = funded(config, api_key(url))
        self.new_tokens = False
        self.migrations = False
        self.mints: set[str] = set()
        self.wallets: set[str] = set()

    @property
    def subscribed(self) -> bool:
        return self.new_tokens or self.migrations or bool(self.mints) or bool(self.wallets)

    def selects(self, event: Event) -> bool:
        """Whether this connection is sent ``event``: creates to new-token subscribers,
        migrations to migration subscribers, a buy or sell when its mint or its
        ``traderPublicKey`` is one subscribed to."""
        if event.kind == "trade":
            return event.mint in self.mints or event.trader in self.wallets
        return self.new_tokens if event.kind == "create" else self.migrations

    def error(self, text: str) -> SendJson | None:
        """The answer to a request the service cannot act on, as configured (:class:`BadRequest`)."""
        style = self.config.bad_request
        if style is BadRequest.IGNORE:
            return None
        return SendJson({style.value: text})

    def _refused(self, family: str, problem: Problem) -> list[Output]:
        out: list[Output] = [ClientViolation(family, problem.pointer, problem.rule, problem.message)]
        answer = self.error(problem.message)
        return [*out, answer] if answer is not None else out

    def receive_text(self, text: str, now: float) -> list[Output]:
        message = decode_json(text)
        if isinstance(message, NotJson):
            return self._refused("", Problem("", "json", f"not JSON ({message.reason}): {echo(text)}"))
        family = pumpportal_family(message) or ""
        request = parse_request(message, self.config.max_keys)
        if isinstance(request, Problem):
            return self._refused(family, request)
        method = request.method
        if method in ("subscribeTokenTrade", "subscribeAccountTrade") and not self.funded:
            return [SendJson({"message": self.observed.refusal or REFUSAL})]
        if method.endswith("Trade"):
            held = self.mints if "Token" in method else self.wallets
            if method.startswith("subscribe"):
                added = [k for k in request.keys if k not in held]
                if len(held) + len(added) > self.config.max_keys:
                    what = "mints" if held is self.mints else "wallets"
                    limit = f"a connection holds at most {self.config.max_keys} {what}; it holds {len(held)}"
                    return self._refused(family, Problem("/keys", "maxItems", limit))
                held.update(added)
            else:
                held.difference_update(request.keys)
        elif method.endswith("NewToken"):
            self.new_tokens = method.startswith("subscribe")
        else:
            self.migrations = method.startswith("subscribe")
        return [SendJson({"message": self.observed.acks.get(method, ACKS[method])})]

    def receive_binary(self, data: bytes, now: float) -> list[Output]:
        why = f"a binary frame of {len(data)} bytes: send JSON text"
        return self._refused("", Problem("", "json", why))
