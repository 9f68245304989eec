"""Near-valid messages: a valid message with exactly one contract rule broken, labelled with it.

The ways to break a message are read from its family's schema (the contract's one encoding), at
every value the message has: a required key removed (``required``), a key added where none may
be (``additionalProperties``, ``propertyNames``, ``maxProperties``), null or another JSON type
where the contract guarantees one (``type``), a value outside a closed set (``enum``,
``const``), a string that breaks its pattern (``pattern``: a key that is not base58, a pool
dotted where events hyphenate it or the reverse), a number out of range (``minimum``,
``maximum``: a time in ms where s is documented, or the reverse), an empty string or list
(``minLength``, ``minItems``), and mode combined with events in a corto subscribe (``not``).
``harness.validate`` under the family reports exactly that ``pointer`` and ``rule``; a property
test proves it for every family.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from harness.core.corto.detail import MIN_KEYS
from harness.core.families import create_detail
from harness.strategies.families import messages
from harness.synth.market import LAMPORTS
from harness.validation import default_validator
from harness.validation.validator import BASE_URI

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class NearValid:
    """A message of ``api`` ``family`` with one rule broken: ``harness.validate`` names exactly
    ``(pointer, rule)``; ``broken`` says what was done, in words."""

    api: str
    family: str
    message: Any
    pointer: str
    rule: str
    broken: str


@dataclass(frozen=True, slots=True)
class Mutation:
    path: Path
    """Where, as keys and indexes from the message's root."""
    op: str
    """``set`` (the value at ``path``), ``remove`` or ``add`` (the key at the end of ``path``)."""
    value: Any
    rule: str
    broken: str

    @property
    def pointer(self) -> str:
        return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in self.path)

    def apply(self, message: Any) -> Any:
        if not self.path:
            return self.value
        out = copy.deepcopy(message)
        parent = out
        for part in self.path[:-1]:
            parent = parent[part]
        if self.op == "remove":
            del parent[self.path[-1]]
        else:
            parent[self.path[-1]] = self.value
        return out


# --- reading the schemas ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """A schema at one place, ``$ref`` and ``allOf`` resolved; ``ref`` names the shared
    definition it came from (``pubkey``, ``unix_s`` ...)."""

    schema: dict[str, Any]
    base: str
    ref: str = ""
    nullable: bool = False


def _resolve(schema: Any, base: str, ref: str = "") -> Node:
    if not isinstance(schema, dict):
        return Node({}, base, ref)
    if "$ref" in schema:
        target = schema["$ref"]
        uri, _, fragment = target.partition("#")
        uri = uri or base
        document: Any = default_validator().resource(uri)
        for part in fragment.strip("/").split("/") if fragment else []:
            document = document[part]
        name = fragment.rsplit("/", 1)[-1] if fragment else ""
        inner = _resolve(document, uri, name or ref)
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return Node({**inner.schema, **rest}, inner.base, inner.ref, inner.nullable) if rest else inner
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema.get("allOf", []):
        shared = _resolve(part, base).schema
        merged["properties"] = {**shared.get("properties", {}), **_real(merged.get("properties", {}))}
        merged["required"] = sorted({*shared.get("required", []), *merged.get("required", [])})
        for key, value in shared.items():
            merged.setdefault(key, value)
    branches = merged.get("anyOf")
    if isinstance(branches, list) and len(branches) == 2 and {"type": "null"} in branches:
        other = next(b for b in branches if b != {"type": "null"})
        inner_node = _resolve(other, base, ref)
        rest = {k: v for k, v in merged.items() if k != "anyOf"}
        return Node({**inner_node.schema, **rest}, inner_node.base, inner_node.ref, True)
    return Node(merged, base, ref)


def _real(properties: dict[str, Any]) -> dict[str, Any]:
    """Property schemas other than ``true`` (create.min lists its keys as ``true``)."""
    return {k: v for k, v in properties.items() if v is not True}


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    return set(declared) if isinstance(declared, list) else set()


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _accepts(types: set[str], value: Any) -> bool:
    kind = _json_type(value)
    return kind in types or (kind == "integer" and "number" in types)


# --- the ways to break a value ----------------------------------------------------------------


def _wrong_type(value: Any, node: Node) -> tuple[Any, str] | None:
    types = _types(node.schema)
    if not types:
        return None
    if node.ref == "lamports" and isinstance(value, int):
        sol = value / LAMPORTS
        return (sol if not sol.is_integer() else sol + 0.5), "lamports given in SOL (a fraction)"
    candidates: list[tuple[Any, str]] = [
        (str(value), "a number sent as a string"),
        (12345, "a number where a string is documented"),
        ([], "a list where another type is documented"),
        ("true", "a string where another type is documented"),
        ({"value": value}, "an object where another type is documented"),
    ]
    if isinstance(value, int) and not isinstance(value, bool):
        candidates.insert(0, (value + 0.5, "a fraction where an integer is documented"))
    for candidate, why in candidates:
        if not _accepts(types, candidate) and candidate != value:
            return candidate, why
    return None


def _breaks_pattern(value: str, node: Node) -> tuple[str, str] | None:
    pattern = node.schema["pattern"]
    if node.ref == "hyphen_pool":
        candidates = [(value.replace("-", ".", 1), "a pool dotted where events hyphenate it")]
    elif node.ref == "dotted_pool":
        candidates = [(value.replace(".", "-"), "a pool hyphenated where filters dot it")]
    elif node.ref in ("pubkey", "signature"):
        candidates = [("0" + value[1:], f"a {node.ref} that is not base58 (0 is not in the alphabet)")]
    else:
        candidates = [("-1", "a negative number"), ("ten", "a word where digits are documented")]
    candidates.append(("not valid!", "a string that breaks the documented pattern"))
    for candidate, why in candidates:
        if candidate != value and not re.search(pattern, candidate):
            return candidate, why
    return None


def _value_mutations(value: Any, node: Node, path: Path) -> Iterator[Mutation]:
    schema = node.schema
    if "const" in schema:
        other = "other" if schema["const"] != "other" else "another"
        if isinstance(schema["const"], bool):
            other = not schema["const"]  # type: ignore[assignment]
        yield Mutation(path, "set", other, "const", f"{other!r} where only {schema['const']!r} is documented")
        return
    if "enum" in schema:
        bad = f"{value}_v2" if isinstance(value, str) else "unknown"
        yield Mutation(path, "set", bad, "enum", f"{bad!r} is not one of the documented values")
        return
    types = _types(schema)
    if types and not node.nullable and "null" not in types and value is not None:
        yield Mutation(path, "set", None, "type", "null where the contract guarantees a value")
    wrong = _wrong_type(value, node)
    if wrong is not None:
        yield Mutation(path, "set", wrong[0], "type", wrong[1])
    if isinstance(value, str) and "pattern" in schema and re.search(schema["pattern"], value):
        broken = _breaks_pattern(value, node)
        if broken is not None:
            yield Mutation(path, "set", broken[0], "pattern", broken[1])
    if isinstance(value, str) and schema.get("minLength", 0) >= 1 and value:
        yield Mutation(path, "set", "", "minLength", "an empty string")
    if isinstance(value, int | float) and not isinstance(value, bool):
        yield from _range_mutations(value, node, path)
    if isinstance(value, list) and schema.get("minItems", 0) >= 1:
        yield Mutation(path, "set", [], "minItems", "an empty list")
    if isinstance(value, dict) and schema.get("maxProperties") == 0:
        yield Mutation(path, "set", {**value, "extra": 1}, "maxProperties", "an argument where none is taken")


def _range_mutations(value: float, node: Node, path: Path) -> Iterator[Mutation]:
    schema = node.schema
    if node.ref == "unix_s":
        yield Mutation(path, "set", int(value) * 1000, "maximum", "a time in ms where s is documented")
    elif node.ref == "unix_ms":
        yield Mutation(path, "set", int(value) // 1000, "minimum", "a time in s where ms is documented")
    elif "minimum" in schema and "maximum" in schema and isinstance(value, int):
        yield Mutation(path, "set", schema["maximum"] + 1, "maximum", "above the documented maximum")
    elif "minimum" in schema:
        below = schema["minimum"] - (1 if value == int(value) else 0.5)
        yield Mutation(path, "set", below, "minimum", "below the documented minimum")
    elif "exclusiveMinimum" in schema:
        bound = schema["exclusiveMinimum"]
        yield Mutation(path, "set", bound, "exclusiveMinimum", "at the documented exclusive minimum")


def mutations(message: Any, node: Node, path: Path = ()) -> Iterator[Mutation]:
    """Every one-rule break of ``message`` that its schema ``node`` documents."""
    schema = node.schema
    if isinstance(schema.get("anyOf"), list) and "type" not in schema:
        # a union of shapes (a create of any level, a payload or nothing): a value of none
        branches = [_resolve(b, node.base).schema for b in schema["anyOf"]]
        kinds = set().union(*(_types(b) for b in branches))
        candidate: Any
        for candidate in (12345, "text", []):
            if not _accepts(kinds, candidate):
                yield Mutation(
                    path, "set", candidate, "type", f"a {_json_type(candidate)}: none of its shapes"
                )
                break
        return
    if "not" not in schema:  # another type would also pass the "not" (request.subscribe)
        yield from _value_mutations(message, node, path)
    if isinstance(message, dict):
        properties = _real(schema.get("properties", {}))
        for key in schema.get("required", []):
            if key in message:
                yield Mutation((*path, key), "remove", None, "required", f"required key {key!r} removed")
        extra = schema.get("additionalProperties")
        if extra is False:
            yield Mutation(
                (*path, "extra"), "add", 1, "additionalProperties", "a key the contract does not allow"
            )
        names = schema.get("propertyNames", {})
        if isinstance(names, dict) and "enum" in names:
            key = next(k for k in ("slot", "extra", "padding") if k not in names["enum"])
            yield Mutation((*path, key), "add", 1, "propertyNames", f"{key!r}: not a key of this family")
        for key, value in message.items():
            if key in properties:
                yield from mutations(value, _resolve(properties[key], node.base), (*path, key))
            elif isinstance(extra, dict) and key not in schema.get("properties", {}):
                yield from mutations(value, _resolve(extra, node.base), (*path, key))
    elif isinstance(message, list):
        prefix = schema.get("prefixItems", [])
        items = schema.get("items")
        for index, value in enumerate(message):
            sub = prefix[index] if index < len(prefix) else items
            if isinstance(sub, dict):
                yield from mutations(value, _resolve(sub, node.base), (*path, index))


def _extra_mutations(api: str, family: str, message: Any) -> Iterator[Mutation]:
    if (api, family) == ("corto", "request.subscribe"):
        # contract §3.2: combining mode with events or pools is an error
        if "mode" in message:
            yield Mutation((), "set", {**message, "events": ["create"]}, "not", "mode combined with events")
        elif {"events", "pools"} & message.keys():
            yield Mutation(
                (), "set", {**message, "mode": "all"}, "not", "events or pools combined with a mode"
            )


def family_mutations(api: str, family: str, message: Any) -> list[Mutation]:
    """The one-rule breaks of ``message`` of ``api`` ``family``."""
    if (api, family) == ("corto", "create") and isinstance(message, dict):
        # a create of any level is judged as the level its keys make it: break it without
        # changing its key set's level (no key added, only the 13 shared keys removed)
        root = _resolve({"$ref": f"{BASE_URI}/corto/create.json"}, BASE_URI)
        level = _resolve({"$ref": f"{BASE_URI}/corto/{create_detail(message)}.json"}, BASE_URI)
        kept = [
            m
            for m in mutations(message, level)
            if m.op != "add" and (m.op != "remove" or m.path[-1] in MIN_KEYS) and m.path
        ]
        return [*mutations(message, root), *kept]
    node = _resolve({"$ref": f"{BASE_URI}/{api}/{family}.json"}, BASE_URI)
    return [*mutations(message, node), *_extra_mutations(api, family, message)]


@st.composite
def _near_valid(draw: st.DrawFn, api: str, family: str) -> NearValid:
    message = draw(messages(api, family))
    found = family_mutations(api, family, message)
    mutation = draw(st.sampled_from(found))
    return NearValid(api, family, mutation.apply(message), mutation.pointer, mutation.rule, mutation.broken)


def near_valid(api: str, family: str) -> st.SearchStrategy[NearValid]:
    """Messages of ``api`` ``family`` with exactly one rule broken, as :class:`NearValid` values:
    ``harness.validate(v.message, api=api, family=family)`` reports exactly ``v.pointer`` and
    ``v.rule``.

    >>> from harness.strategies import near_valid
    >>> case = near_valid("pumpdata", "trade").example()
    >>> [(v.pointer, v.rule) for v in validate(case.message, api="pumpdata", family="trade")] == [
    ...     (case.pointer, case.rule)]
    True
    """
    messages(api, family)  # unknown names fail here, not at the first draw
    return _near_valid(api, family)
