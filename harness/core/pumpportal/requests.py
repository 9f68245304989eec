"""What a PumpPortal client may send (contract §4), read with bounded cost.

A request is ``{"method": M}`` or, for the trade methods, ``{"method": M, "keys": [...]}`` with
mints (``subscribeTokenTrade``) or wallets (``subscribeAccountTrade``) as base58 public keys.
:func:`parse_request` turns a decoded message into a :class:`Request`, or a :class:`Problem`
saying precisely what is wrong. A key list costs O(N) at most, and nothing when it is longer than
the cap; every bad item is counted in one problem that quotes the first, cut to
:data:`ECHO_BYTES`. Pure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.core import base58
from harness.core.pumpportal.families import KEYED_METHODS, METHODS

PUBKEY = base58.PUBKEY_BYTES

ECHO_BYTES = 200
"""How much of a client's own text an error quotes back."""
KEY_CHARS = 44
"""The longest base58 text of a 32-byte key (a longer item is refused before decoding it)."""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a request cannot be acted on: ``pointer`` into the message, the ``rule`` broken (as the
    validators name rules) and a message for the client and the violation report."""

    pointer: str
    rule: str
    message: str


def echo(value: Any) -> str:
    """``value`` as compact JSON (a string as itself), cut to :data:`ECHO_BYTES` UTF-8 bytes."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    data = text.encode("utf-8", "replace")
    if len(data) <= ECHO_BYTES:
        return text
    return data[: ECHO_BYTES - 3].decode("utf-8", "ignore") + "..."


def _kind(value: Any) -> str:
    names = {list: "an array", dict: "an object", str: "a string", bool: "a boolean", int: "a number"}
    return "null" if value is None else names.get(type(value), "a number")


def parse_request(message: Any, max_keys: int) -> Request | Problem:
    """The request ``message`` (decoded JSON) makes, or why it makes none."""
    if not isinstance(message, dict):
        return Problem("", "type", f"a request is a JSON object with a method, not {_kind(message)}")
    if "method" not in message:
        return Problem("/method", "required", f"a request has a method ({', '.join(METHODS)})")
    method = message["method"]
    if not isinstance(method, str) or method not in METHODS:
        return Problem("/method", "enum", f"unknown method {echo(method)} (known: {', '.join(METHODS)})")
    if method not in KEYED_METHODS:
        return Request(method)
    what = "mint addresses" if "Token" in method else "wallet addresses"
    if "keys" not in message:
        return Problem("/keys", "required", f"{method} takes keys: an array of {what}")
    keys = message["keys"]
    if not isinstance(keys, list):
        return Problem("/keys", "type", f"keys is an array of {what}, not {_kind(keys)}")
    if not keys:
        return Problem("/keys", "minItems", f"keys is empty: give at least one of the {what}")
    if len(keys) > max_keys:
        return Problem("/keys", "maxItems", f"keys has {len(keys)} items; at most {max_keys} per request")
    bad = 0
    first = -1
    for index, key in enumerate(keys):
        if not (isinstance(key, str) and len(key) <= KEY_CHARS and base58.is_base58(key, PUBKEY)):
            bad += 1
            if first < 0:
                first = index
    if bad:
        return Problem(
            f"/keys/{first}",
            "pattern",
            f"{bad} of {len(keys)} keys are not base58 public keys"
            f" (first: keys[{first}] = {echo(keys[first])})",
        )
    return Request(method, tuple(dict.fromkeys(keys)))
