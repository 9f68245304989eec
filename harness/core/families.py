"""Message families: which documented message a frame or a lone message is.

Owns the classification the validators, ``harness inspect`` and the server share: corto service
messages by ``type``/``name``, corto events by ``txType``/``schemaVersion`` (contract §3.5:
events have no envelope), Socket.IO messages by event name (acks by the event that asked for
them), REST bodies and query strings by path. The family names are part of the interface
(``harness validate --family``). Pure: nothing here raises on odd input; what matches no family
classifies as ``None``, text that is not strict JSON as :class:`NotJson` and a Socket.IO event of
an undocumented name as :class:`UnknownEvent`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harness.core.corto.detail import KEYS, Detail
from harness.core.excerpt import quote
from harness.core.frames import (
    C2S,
    Frame,
    HttpExchange,
    SioAck,
    SioEvent,
    WsBinary,
    WsOpen,
    WsText,
)
from harness.core.pumpportal.families import FAMILIES as PUMPPORTAL_FAMILIES
from harness.core.pumpportal.families import (
    is_pumpportal_url,
    pumpportal_family,
    pumpportal_family_on_connection,
)

FAMILIES: Mapping[str, tuple[str, ...]] = {
    "pumpfun": (
        "coin", "trade", "trade_list", "coin_list", "sol_price", "error",
        "query.trades_all", "query.trades_count", "query.coin", "query.coins", "query.none",
    ),
    "pumpdata": (
        "subscribe_ohlcv", "unsubscribe_ohlcv", "ohlcv_history", "subscribe_trades",
        "unsubscribe_trades", "subscribe", "unsubscribe", "subscribe_new_tokens",
        "subscribe_migrations", "subscribe_sol_price", "unsubscribe_new_tokens",
        "unsubscribe_sol_price", "ack", "ack_error", "ohlcv",
        "ohlcv_history_ack", "trade", "token_update", "new_token", "migration", "sol_price",
        "billing_error",
    ),
    "corto": (
        "request.subscribe", "request.unsubscribe", "request.current_state", "request.ping",
        "handshake", "subscription_ack", "current_state", "error", "pong", "create.min",
        "create.mid", "create.full", "create", "trade", "migration", "createPool", "liquidity", "burn",
    ),
}  # fmt: skip
# contract §4: the PumpPortal data WebSocket (its families are its profile's)
FAMILIES = {**FAMILIES, "pumpportal": PUMPPORTAL_FAMILIES}

Classified = tuple[str, str | None, Any, str]
"""``(api, family or None, message, JSON pointer of the message within the frame)``."""

PUMPDATA_CLIENT_EVENTS = frozenset(
    f for f in FAMILIES["pumpdata"] if f.startswith(("subscribe", "unsubscribe")) or f == "ohlcv_history"
)
PUMPDATA_SERVER_EVENTS = frozenset(
    {"ohlcv", "trade", "token_update", "new_token", "migration", "sol_price", "billing_error"}
)
# contract §3.5: txType values of event payloads, and schemaVersion as a fallback
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
    """``create.min`` / ``create.mid`` / ``create.full`` of a lone create, from its keys.

    contract §3.6: min is exactly its 13 keys and full all 87 (extra keys allowed); mid has no
    public example, only "a superset of min and a subset of full", so a create between the two
    is mid, whichever of the full keys it carries.
    """
    keys = event.keys()
    if keys <= KEYS[Detail.MIN]:
        return "create.min"
    if keys >= KEYS[Detail.FULL] or not keys <= KEYS[Detail.FULL]:
        return "create.full"
    return "create.mid"


def corto_family(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    # any JSON value may stand where a name is expected: a list or an object is no name
    kind = message.get("type")
    if kind == "service":
        name = message.get("name")
        return name if isinstance(name, str) and name in CORTO_SERVICES else None
    if kind == "pong":
        return "pong"
    if isinstance(kind, str) and kind in CORTO_REQUESTS:
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


_PUMPFUN_TRADE_KEYS = frozenset({"signature", "sol_amount", "token_amount", "is_buy", "tx_index"})
"""Keys a Pump.fun trade has and a coin has not (contract §1.4)."""
PUMPFUN_COIN_KEYS = frozenset(
    {
        "mint", "name", "symbol", "description", "image_uri", "metadata_uri", "twitter", "telegram",
        "website", "bonding_curve", "associated_bonding_curve", "creator", "created_timestamp",
        "raydium_pool", "pump_swap_pool", "complete", "virtual_sol_reserves", "virtual_token_reserves",
        "real_sol_reserves", "real_token_reserves", "total_supply", "hidden", "show_name",
        "last_trade_timestamp", "king_of_the_hill_timestamp", "market_cap", "usd_market_cap",
        "ath_market_cap", "ath_market_cap_timestamp", "reply_count", "last_reply", "nsfw", "is_banned",
        "is_currently_live", "initialized", "hide_banner", "market_id", "inverted", "username",
        "profile_image", "video_uri", "banner_uri", "updated_at", "livestream_ban_expiry",
        "livestream_downrank_score", "downrank_score", "num_participants", "thumbnail_updated_at",
        "program", "platform", "token_program", "mayhem_state", "thumbnail", "rec_id",
    }
)  # fmt: skip
"""The keys of a coin object (contract §1.3; the coin schema's properties, a test checks)."""


def _pumpfun_item(item: Any) -> str | None:
    """``trade`` or ``coin`` for an item of a Pump.fun list, by its keys, or None.

    A trade has one of a trade's own keys; a coin none of them and at least two of a coin's
    keys, so a coin that lost its ``mint`` is still a coin (and is reported at ``/i/mint``)
    while a bare ``{"mint": ...}`` (a PumpData subscription) is not. Either is no message of
    another API."""
    if not isinstance(item, dict) or corto_family(item) is not None or pumpdata_family(item) is not None:
        return None
    keys = item.keys()
    if not keys.isdisjoint(_PUMPFUN_TRADE_KEYS):
        return "trade"
    return "coin" if len(keys & PUMPFUN_COIN_KEYS) >= 2 else None


def pumpfun_family(message: Any) -> str | None:
    """The family of a lone Pump.fun body, guessed from its shape. A list is a trade list when
    all its items are trades, a coin list when all are coins (:func:`_pumpfun_item`); an empty
    list is a trade list (valid as either, contract §1.2; on a tape its path tells); a list
    of anything else is a list of messages, not one."""
    if isinstance(message, list):
        kinds = set()
        for item in message:
            kinds.add(_pumpfun_item(item))
            if None in kinds or len(kinds) > 1:
                return None  # a list of messages: checked one by one
        return "coin_list" if kinds == {"coin"} else "trade_list"
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
_GUESSERS["pumpportal"] = pumpportal_family_on_connection


def family_of(message: Any, api: str | None = None) -> tuple[str, str] | None:
    """``(api, family)`` of a lone message, or None. Without ``api``, corto first (its
    messages say what they are), then Pump.fun, then PumpData."""
    if api is None and (portal := pumpportal_family(message)) is not None:
        return "pumpportal", portal  # keys of its own say so (contract §4), before corto's txType
    order = [api] if api else ["corto", "pumpfun", "pumpdata"]
    for name in order:
        guess = _GUESSERS.get(name)
        family = guess(message) if guess else None
        if family is not None:
            return name, family
    return None


def why_unclassified(message: Any, api: str | None = None) -> tuple[str, str] | None:
    """``(pointer, reason)`` when ``message`` is a corto message (``api`` says so, or it has a
    ``type``, ``txType`` or ``schemaVersion``) of no documented kind (contract §3.2, 3.3, 3.5)."""
    if not isinstance(message, dict):
        if api != "corto":
            return None
        return "", f"a corto message is a JSON object, not {_json_type(message)}"
    kind = message.get("type")
    if kind == "service":
        names = ", ".join(sorted(CORTO_SERVICES))
        if "name" not in message:
            return "/name", f"a corto service message has a name ({names})"
        return "/name", f"{quote(message['name'])} is not a documented corto service message ({names})"
    if kind is not None:
        kinds = ", ".join([*sorted(CORTO_REQUESTS), "pong", "service"])
        return "/type", f"{quote(kind)} is not a documented corto message type ({kinds})"
    documented = {"txType": ["create", *CORTO_TXTYPES], "schemaVersion": ["create_event_v1", *CORTO_SCHEMAS]}
    for key, known in documented.items():
        if key in message:
            return f"/{key}", f"{quote(message[key])} is not a documented corto {key} ({', '.join(known)})"
    if api == "corto":
        return "", "a corto message has a type (requests, service messages) or a txType (events)"
    return None


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


# contract §1.2: the {mint} of a path is a base58 key, so /coins/currently-live,
# /coins/for-you or /coins/search (lists, out of scope) are not mistaken for /coins/{mint}.
_MINT_PATH = re.compile(r"^/(coins|trades/all|trades/count)/[1-9A-HJ-NP-Za-km-z]{32,44}$")


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
    if path.startswith("/trades/all/") and _MINT_PATH.match(path):
        return "trade_list"
    if path == "/coins":  # contract §1.2: CoinsController_getAll, an array of Coin
        return "coin_list"
    if path == "/sol-price":
        return "sol_price"
    return None


def pumpfun_query_family(path: str) -> str | None:
    if path.startswith("/trades/all/") and _MINT_PATH.match(path):
        return "query.trades_all"
    if path.startswith("/trades/count/") and _MINT_PATH.match(path):
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
    reason: str = ""


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """A Socket.IO event whose name no documented family has (contract §2.2 lists them)."""

    name: str
    client: bool


def decode_json(text: str) -> Any:
    """``json.loads`` for a message off the wire, or :class:`NotJson` saying why it is not JSON.

    Strict JSON (RFC 8259): ``NaN`` and ``Infinity``, which Python's decoder accepts, are refused,
    and nesting too deep to decode is refused rather than raised.
    """
    try:
        return _STRICT.decode(text)
    except ValueError as exc:
        return NotJson(text, str(exc))
    except RecursionError:
        return NotJson(text, "nested too deeply")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_STRICT = json.JSONDecoder(parse_constant=_refuse_constant)
"""One decoder for every message (``json.loads`` with an argument builds one per call)."""


_DETAILS = frozenset(d.value for d in Detail)


class FamilyTracker:
    """Classifies frames, remembering per connection which Socket.IO event asked for which ack
    and which create detail level a corto client asked for."""

    def __init__(self) -> None:
        self._asked: dict[tuple[str, str, int], str] = {}
        self._detail: dict[str, str] = {}
        self._pumpportal: set[str] = set()
        """Connections to the PumpPortal data WebSocket (by the URL they opened)."""

    def classify(self, frame: Frame) -> Iterator[Classified]:
        if isinstance(frame, WsOpen) and is_pumpportal_url(frame.url):
            self._pumpportal.add(frame.conn)
        if isinstance(frame, (WsText, WsBinary)) and frame.conn in self._pumpportal:
            yield _pumpportal_frame(frame)
            return
        if isinstance(frame, HttpExchange):
            yield from self._http(frame)
        elif isinstance(frame, WsText):
            message = decode_json(frame.data)
            if isinstance(message, NotJson):
                yield ("corto", None, message, "")
                return
            yield ("corto", self._corto(frame.conn, message), message, "")
        elif isinstance(frame, WsBinary):
            # contract §3.1: "Plain WebSocket with JSON text frames"
            reason = f"a binary frame of {len(frame.data)} bytes: the Data Stream sends JSON text frames"
            yield ("corto", None, NotJson("", reason), "")
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

    def _corto(self, conn: str, message: Any) -> str | None:
        """The family of a corto message; a create is held to the detail level its connection
        asked for (contract §3.2: ``create.detail``, default full, echoed as
        ``effectiveFilter.createDetail``), and judged by its keys when nothing was asked."""
        family = corto_family(message)
        if family is None:
            return None
        if family.startswith("create."):
            detail = self._detail.get(conn)
            return f"create.{detail}" if detail else family
        if family == "request.subscribe":
            create = message.get("create", {})
            detail = create.get("detail", "full") if isinstance(create, dict) else None
        else:
            state = message.get("state")
            found = state.get("effectiveFilter") if isinstance(state, dict) else None
            detail = found.get("createDetail") if isinstance(found, dict) else None
        if isinstance(detail, str) and detail in _DETAILS:
            self._detail[conn] = detail
        return family

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
        if family is None:
            # Socket.IO messages are known by their event name: an unknown one is reported as
            # such, never guessed from the payload's keys.
            yield ("pumpdata", None, UnknownEvent(frame.name, frame.direction is C2S), "")
            return
        yield ("pumpdata", family, payload, "/args/0")

    @staticmethod
    def _http(frame: HttpExchange) -> Iterator[Classified]:
        parts = urlsplit(frame.request.url)
        path = parts.path or "/"
        query_family = pumpfun_query_family(path)
        if parts.query and query_family is not None:
            # the parameters of a path the contract does not describe are not checked
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            yield ("pumpfun", query_family, query, "/request/query")
        family = pumpfun_body_family(path, frame.response.status)
        body = frame.response.body
        if family is None or not body:
            return
        message = decode_json(body.decode("utf-8", "replace"))
        if isinstance(message, NotJson):
            if family == "error":
                return  # an HTML error page from a proxy is not the API's error body
            yield ("pumpfun", family, message, "/response/body")
            return
        yield ("pumpfun", family, message, "/response/body")


def _pumpportal_frame(frame: WsText | WsBinary) -> Classified:
    """A frame of a PumpPortal connection (contract §4: JSON text frames)."""
    if isinstance(frame, WsBinary):
        reason = f"a binary frame of {len(frame.data)} bytes: PumpPortal sends JSON text frames"
        return ("pumpportal", None, NotJson("", reason), "")
    message = decode_json(frame.data)
    if isinstance(message, NotJson):
        return ("pumpportal", None, message, "")
    return ("pumpportal", pumpportal_family_on_connection(message), message, "")
