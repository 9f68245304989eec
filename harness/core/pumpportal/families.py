"""Which PumpPortal message a lone message is (contract §4), for the validators and the server.

Requests carry a ``method``; the service's answers are a bare ``{"message": ...}`` (acks, and
the refusal of a trade subscription) or the harness's ``{"errors": ...}``; events have no
envelope: a ``txType`` of ``create``, ``buy``, ``sell`` or ``migrate``, and keys of their own
(``traderPublicKey``; a migrate is ``{signature, mint, txType, pool}``). A create is one of two
key sets, pool ``pump`` (bonding curve) or pool ``bonk``. Pure, and imports nothing of the core,
so :mod:`harness.core.families` can import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

PATH = "/api/data"
"""Where the service listens (``wss://pumpportal.fun/api/data``)."""

SUBSCRIBE_METHODS = (
    "subscribeNewToken",
    "subscribeMigration",
    "subscribeTokenTrade",
    "subscribeAccountTrade",
)
UNSUBSCRIBE_METHODS = tuple("un" + m for m in SUBSCRIBE_METHODS)
METHODS = SUBSCRIBE_METHODS + UNSUBSCRIBE_METHODS
KEYED_METHODS = frozenset(m for m in METHODS if m.endswith("Trade"))
"""The methods that take ``keys`` (mints for token trades, wallets for account trades)."""

FAMILIES: tuple[str, ...] = (
    *(f"request.{m}" for m in METHODS),
    "message", "errors", "create.pump", "create.bonk", "trade", "migrate",
)  # fmt: skip
TXTYPES = {"buy": "trade", "sell": "trade", "migrate": "migrate"}
"""txType of an event -> its family (a create is ``create.<pool>``)."""
OWN_KEYS = frozenset({"traderPublicKey", "bondingCurveKey", "newTokenBalance", "is_mayhem_mode"})
"""Keys of PumpPortal events that no other API's event has (the corto.fun Data Stream's use
``txSigner``; contract §3.6, §4)."""
MIGRATE_KEYS = frozenset({"signature", "mint", "txType", "pool"})


def is_pumpportal_url(url: str) -> bool:
    """Whether a WebSocket URL (or path) is the PumpPortal data feed's."""
    return urlsplit(url).path.rstrip("/") == PATH


def create_family(message: Mapping[str, Any]) -> str:
    """``create.bonk`` for a create of pool ``bonk``, else ``create.pump`` (contract §4)."""
    return "create.bonk" if message.get("pool") == "bonk" else "create.pump"


def pumpportal_family(message: Any) -> str | None:
    """The family of a lone PumpPortal message, or None when it is none (or another API's)."""
    if not isinstance(message, dict):
        return None
    method = message.get("method")
    if isinstance(method, str) and "type" not in message:
        return f"request.{method}" if method in METHODS else None
    keys = message.keys()
    if keys == {"message"}:
        return "message"
    if keys == {"errors"}:
        return "errors"
    if "schemaVersion" in keys or "type" in keys:
        return None  # a Data Stream message (contract §3.5)
    tx = message.get("txType")
    if not isinstance(tx, str):
        return None
    if keys.isdisjoint(OWN_KEYS) and not (tx == "migrate" and keys <= MIGRATE_KEYS):
        return None
    if tx == "create":
        return create_family(message)
    return TXTYPES.get(tx)


def pumpportal_family_on_connection(message: Any) -> str | None:
    """The family of a message known to be PumpPortal's (a frame of a connection to
    :data:`PATH`): an event is known by its ``txType`` alone."""
    family = pumpportal_family(message)
    if family is not None or not isinstance(message, dict):
        return family
    tx = message.get("txType")
    if tx == "create":
        return create_family(message)
    return TXTYPES.get(tx) if isinstance(tx, str) else None
