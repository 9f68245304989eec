"""Message families: which documented message a frame or a lone message is.

Owns the classification the validators, ``harness inspect`` and the server share: corto service
messages by ``type``/``name``, corto events by ``txType``/``schemaVersion`` (CONTRACTS.md 3.5:
events have no envelope), Socket.IO messages by event name (acks by the event that asked for
them), REST bodies and query strings by path. The family names are part of the interface
(``harness validate --family``). Pure: nothing here raises on odd input; what matches no family
classifies as ``None``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harness.core.corto.detail import KEYS, Detail
from harness.core.frames import (
    C2S,
    Frame,
    HttpExchange,
    SioAck,
    SioEvent,
    WsText,
)

FAMILIES: Mapping[str, tuple[str, ...]] = {
    "pumpfun": (
        "coin", "trade", "trade_list", "sol_price", "error",
        "query.trades_all", "query.trades_count", "query.coin", "query.coins", "query.none",
    ),
    "pumpdata": (
        "subscribe_ohlcv", "unsubscribe_ohlcv", "ohlcv_history", "subscribe_trades",
        "unsubscribe_trades", "subscribe", "unsubscribe", "subscribe_new_tokens",
        "subscribe_migrations", "subscribe_sol_price", "ack", "ack_error", "ohlcv",
        "ohlcv_history_ack", "trade", "token_update", "new_token", "migration", "sol_price",
        "billing_error",
    ),
    "corto": (
        "request.subscribe", "request.unsubscribe", "request.current_state", "request.ping",
        "handshake", "subscription_ack", "current_state", "error", "pong", "create.min",
        "create.mid", "create.full", "create", "trade", "migration", "createPool", "liquidity", "burn",
    ),
}  # fmt: skip

Classified = tuple[str, str | None, Any, str]
"""``(api, family or None, message, JSON pointer of the message within the frame)``."""

PUMPDATA_CLIENT_EVENTS = frozenset(
    f for f in FAMILIES["pumpdata"] if f.startswith(("subscribe", "unsubscribe")) or f == "ohlcv_history"
)
PUMPDATA_SERVER_EVENTS = frozenset(
    {"ohlcv", "trade", "token_update", "new_token", "migration", "sol_price", "billing_error"}
)
# CONTRACTS.md 3.5: txType values of event payloads, and schemaVersion as a fallback
CORTO_TXTYPES = {
    "buy": "trade",
    "sell": "trade",
    "migrate": "migration",
    "createPool": "createPool",
    "add": "liquidity",
    "remove": "liquidity",
    "burn": "burn",
}
CORTO_SCHEMAS = {
    "buy_sell_event_v1": "trade",
    "migration_event_v1": "migration",
    "create_pool_event_v1": "createPool",
    "liquidity_event_v1": "liquidity",
    "burn_event_v1": "burn",
}
CORTO_REQUESTS = {"subscribe", "unsubscribe", "current_state", "ping"}
CORTO_SERVICES = {"handshake", "subscription_ack", "current_state", "error"}


def apis_of(family: str) -> list[str]:
    return [api for api, names in FAMILIES.items() if family in names]


def create_detail(event: Mapping[str, Any]) -> str:
    """``create.min`` / ``create.mid`` / ``create.full``: the smallest level whose keys hold it."""
    keys = set(event)
    for detail in (Detail.MIN, Detail.MID):
        if keys <= KEYS[detail]:
            return f"create.{detail.value}"
    return "create.full"


def corto_family(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    kind = message.get("type")
    if kind == "service":
        name = message.get("name")
        return name if name in CORTO_SERVICES else None
    if kind == "pong":
        return "pong"
    if kind in CORTO_REQUESTS:
        return f"request.{kind}"
    if kind is not None:
        return None
    tx = message.get("txType")
    if tx == "create" or message.get("schemaVersion") == "create_event_v1":
        return create_detail(message)
    if isinstance(tx, str) and tx in CORTO_TXTYPES:
        return CORTO_TXTYPES[tx]
    schema = message.get("schemaVersion")
    return CORTO_SCHEMAS.get(schema) if isinstance(schema, str) else None


def pumpdata_family(message: Any) -> str | None:
    """The family of a lone PumpData payload, guessed from its keys (no event name at hand)."""
    if isinstance(message, list):
        return "ohlcv" if message and all(isinstance(r, list) for r in message) else None
    if not isinstance(message, dict):
        return None
    keys = set(message)
    if "error" in keys and "message" in keys:
        return "ack_error"
    if "ok" in keys:
        return "ohlcv_history_ack" if "data" in keys else "ack"
    if {"old_pool", "new_pool"} <= keys:
        return "migration"
    if {"signature", "is_buy", "quote_amount"} <= keys:
        return "trade"
    if {"mcap", "priceUSD"} <= keys:
        return "token_update"
    if {"protocol", "decimals", "supply"} <= keys:
        return "new_token"
    if keys and keys <= {"price", "time"}:
        return "sol_price"
    if "protocols" in keys:
        return "subscribe_new_tokens"
    if "limit" in keys and keys & {"mint", "pool"}:
        return "ohlcv_history"
    return None


def pumpfun_family(message: Any) -> str | None:
    """The family of a lone Pump.fun body, guessed from its shape."""
    if isinstance(message, list):
        return "trade_list" if all(isinstance(x, dict) for x in message) else None
    if not isinstance(message, dict):
        return None
    if "solPrice" in message:
        return "sol_price"
    if "statusCode" in message or ("code" in message and "hint" in message):
        return "error"
    if "signature" in message and "sol_amount" in message:
        return "trade"
    if "mint" in message and "name" in message:
        return "coin"
    return None


_GUESSERS = {"corto": corto_family, "pumpdata": pumpdata_family, "pumpfun": pumpfun_family}


def family_of(message: Any, api: str | None = None) -> tuple[str, str] | None:
    """``(api, family)`` of a lone message, or None. Without ``api``, corto first (its
    messages say what they are), then Pump.fun, then PumpData."""
    order = [api] if api else ["corto", "pumpfun", "pumpdata"]
    for name in order:
        guess = _GUESSERS.get(name)
        family = guess(message) if guess else None
        if family is not None:
            return name, family
    return None


_MINT_PATH = re.compile(r"^/(coins|trades/all|trades/count)/[^/]+$")


def pumpfun_body_family(path: str, status: int) -> str | None:
    """The family of a REST response body by path and status (304s carry none)."""
    if status == 304 or status < 200:
        return None
    if status >= 400:
        return "error"
    if path in ("/coins/latest",) or (path.startswith("/coins/") and _MINT_PATH.match(path)):
        return "coin"
    if path == "/trades/latest":
        return "trade"
    if path.startswith("/trades/all/"):
        return "trade_list"
    if path == "/sol-price":
        return "sol_price"
    return None


def pumpfun_query_family(path: str) -> str | None:
    if path.startswith("/trades/all/"):
        return "query.trades_all"
    if path.startswith("/trades/count/"):
        return "query.trades_count"
    if path in ("/coins/latest", "/trades/latest", "/sol-price"):
        return "query.none"
    if path == "/coins":
        return "query.coins"
    if _MINT_PATH.match(path) and path.startswith("/coins/"):
        return "query.coin"
    return None


@dataclass(frozen=True, slots=True)
class NotJson:
    """A message that should be JSON and is not (a WebSocket text frame, a REST body)."""

    text: str


class FamilyTracker:
    """Classifies frames, remembering per connection which Socket.IO event asked for which ack."""

    def __init__(self) -> None:
        self._asked: dict[tuple[str, str, int], str] = {}

    def classify(self, frame: Frame) -> Iterator[Classified]:
        if isinstance(frame, HttpExchange):
            yield from self._http(frame)
        elif isinstance(frame, WsText):
            try:
                message = json.loads(frame.data)
            except (ValueError, RecursionError):  # RecursionError: nested too deeply to decode
                yield ("corto", None, NotJson(frame.data), "")
                return
            yield ("corto", corto_family(message), message, "")
        elif isinstance(frame, SioEvent):
            yield from self._sio_event(frame)
        elif isinstance(frame, SioAck):
            asked = self._asked.pop((frame.conn, frame.direction.value, frame.ack_id), None)
            payload = frame.args[0] if frame.args else None
            if isinstance(payload, dict) and "error" in payload:
                family: str | None = "ack_error"
            elif asked == "ohlcv_history":
                family = "ohlcv_history_ack"
            elif asked is not None or isinstance(payload, dict):
                family = "ack"
            else:
                family = None
            yield ("pumpdata", family, payload, "/args/0")

    def _sio_event(self, frame: SioEvent) -> Iterator[Classified]:
        payload = frame.args[0] if frame.args else None
        if frame.direction is C2S:
            if frame.ack_id is not None:
                # the ack travels the other way
                self._asked[(frame.conn, "s2c", frame.ack_id)] = frame.name
            family = frame.name if frame.name in PUMPDATA_CLIENT_EVENTS else None
        elif frame.name == "subscription_error":
            family = "ack_error"
        else:
            family = frame.name if frame.name in PUMPDATA_SERVER_EVENTS else None
        yield ("pumpdata", family, payload, "/args/0")

    @staticmethod
    def _http(frame: HttpExchange) -> Iterator[Classified]:
        parts = urlsplit(frame.request.url)
        path = parts.path or "/"
        if parts.query:
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            yield ("pumpfun", pumpfun_query_family(path), query, "/request/query")
        family = pumpfun_body_family(path, frame.response.status)
        body = frame.response.body
        if family is None or not body:
            return
        try:
            message = json.loads(body)
        except ValueError:
            if family == "error":
                return  # an HTML error page from a proxy is not the API's error body
            yield ("pumpfun", family, NotJson(body.decode("utf-8", "replace")), "/response/body")
            return
        yield ("pumpfun", family, message, "/response/body")
