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

from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator


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


def pattern(
    validator: Validator, patrn: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """The ``pattern`` keyword (JSON Schema 2020-12, 6.3.3), matched as ECMA-262 matches."""
    if validator.is_type(instance, "string") and not ecma_regex(patrn).search(instance):
        yield ValidationError(f"{instance!r} does not match {patrn!r}")
