"""The reference validator's ``pattern`` keyword, with ECMA-262 semantics as JSON Schema says.

JSON Schema 2020-12 (section 6.4) writes patterns in the ECMA-262 dialect, and the compiled
engine (jsonschema-rs) follows it. ``jsonschema`` hands them to Python's ``re`` instead, where
``$`` also matches before a final newline and ``\\d`` matches any Unicode digit: there a pubkey
``"So11...12\\n"`` or a date written in Arabic-Indic digits passed, the compiled engine refused
it, and the two engines disagreed. This module translates those two constructs (the only ones
the schemas use whose meaning differs) so that both engines give the contract's verdict. It owns
nothing else: every other keyword is ``jsonschema``'s.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from harness.core.excerpt import quote

MAX_QUOTE = 80
"""Characters of a string a ``pattern`` violation quotes."""


@functools.cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled for Python's ``re`` to match what it matches in ECMA-262:
    ``$`` only at the very end, ``\\d`` only ``0-9``."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escape = pattern[i : i + 2]
            if escape == "\\d":
                escape = "0-9" if in_class else "[0-9]"
            elif escape == "\\D" and not in_class:
                escape = "[^0-9]"
            out.append(escape)
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
        i += 1
    return re.compile("".join(out))


LONG = 10_000
"""Strings longer than this are matched by the compiled engine's regex (linear time), not by
``re``, whose backtracking makes a pattern over a client's 4 MB string cost half a second."""


@functools.cache
def compiled(pattern: str) -> Any:
    """``pattern`` as the compiled engine matches it (ECMA-262, linear time): ``.is_valid(s)``."""
    return jsonschema_rs.validator_for({"type": "string", "pattern": pattern})


def matches(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text``, as ECMA-262 says."""
    if len(text) > LONG:
        try:
            return bool(compiled(pattern).is_valid(text))
        except UnicodeEncodeError:  # a lone surrogate: re judges it, as for the whole message
            pass
    return ecma_regex(pattern).search(text) is not None


def pattern(
    validator: Validator, patrn: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """The ``pattern`` keyword (JSON Schema 2020-12, 6.3.3), matched as ECMA-262 matches."""
    if validator.is_type(instance, "string") and not matches(patrn, instance):
        yield ValidationError(f"{quote(instance, MAX_QUOTE)} does not match {patrn!r}")
