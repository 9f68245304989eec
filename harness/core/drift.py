"""Contract drift between two recordings: per API and family, what changed in the messages' shape.

Owns the profile of a recording (:class:`Profile`: per family, per key path, how often the key
is present, which JSON types its values take (exponent notation told apart, as contract §3.7
shows it: ``4e-9``), whether it is null, the values of vocabulary keys (pools, events, modes, tx
types), their first order, the magnitude of numbers, and how many messages the current schemas
reject) and the comparison of two profiles into :class:`Change` values, each classed as breaking
for clients or not, with the reason. Memory is bounded whatever the recording's size: counters
per key, capped key sets and vocabularies, a few arrays items walked. Pure: messages in, changes
out; reading files is ``harness diff``'s.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_FAMILIES = 200
MAX_KEYS = 600
"""Key paths profiled per family; more are counted."""
VOCABULARY_CAP = 64
"""Distinct values kept per vocabulary key; a key with more is an open set, not compared."""
ARRAY_ITEMS = 20
"""Items walked per array (a list of 1000 trades is profiled by its first ones)."""
MAX_DEPTH = 8
ORDER_ITEMS = 64
MAGNITUDE_SHIFT = 3
"""Orders of magnitude between the typical values of OLD and NEW that make a unit or magnitude shift."""
MAX_REJECTIONS = 20

VOCABULARY_KEYS = frozenset(
    {
        "pool", "pools", "poolCreatedBy", "txType", "schemaVersion", "source", "type", "mode", "modes",
        "action", "status", "event", "events", "availablePools", "availableEvents", "supportedModes",
        "supportedMessages", "createDetail", "detail", "code", "priceSource", "riskLevel", "tokenProgram",
        "instructionName", "protocol", "protocols", "program", "platform", "method",
    }
)  # fmt: skip
"""Keys whose string values are a closed set clients branch on (contract §3.5: pool families,
events, tx types, schema versions; modes and detail levels §3.2)."""
REQUEST_VOCABULARIES = ("available", "supported")
"""A value vanishing from a key so named is one clients send back: they are now refused."""

_ADDRESS = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")
_TIME_KEY = re.compile(r"(timestamp|time|_at|At)$", re.IGNORECASE)


class Kind(StrEnum):
    INT = "int"
    FLOAT = "float"
    EXPONENT = "exponent"
    """A number written in exponent notation (``4e-9``)."""
    STRING = "string"
    BOOL = "bool"
    NULL = "null"
    OBJECT = "object"
    ARRAY = "array"


class ExponentFloat(float):
    """A float that was written in exponent notation (:func:`decode` makes them)."""

    __slots__ = ()


def _parse_float(text: str) -> float:
    return ExponentFloat(text) if "e" in text or "E" in text else float(text)


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_float=_parse_float, parse_constant=_refuse)


def decode(text: str) -> Any:
    """Strict JSON with numbers written as ``4e-9`` kept as :class:`ExponentFloat`; raises
    ValueError for text that is not JSON."""
    return _DECODER.decode(text)


_KINDS = (
    (bool, Kind.BOOL),
    (int, Kind.INT),
    (ExponentFloat, Kind.EXPONENT),
    (float, Kind.FLOAT),
    (str, Kind.STRING),
    (dict, Kind.OBJECT),
)
"""Python types of decoded JSON values and their kinds, in the order they are told apart (a bool
is an int, an exponent float a float)."""


def kind_of(value: Any) -> Kind:
    if value is None:
        return Kind.NULL
    return next((kind for cls, kind in _KINDS if isinstance(value, cls)), Kind.ARRAY)


@dataclass(slots=True)
class KeyProfile:
    present: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    values: Counter[str] | None = None
    """Vocabulary keys: how often each value came (None once over :data:`VOCABULARY_CAP`)."""
    vocabulary: bool = False
    order: tuple[str, ...] | None = None
    """A list of vocabulary strings: the first order seen."""
    magnitudes: Counter[int] = field(default_factory=Counter)
    """``floor(log10(|value|))`` of the numbers that are not 0."""
    exponent: str = ""
    """The first number written in exponent notation, as Python writes it."""


@dataclass(slots=True)
class FamilyProfile:
    messages: int = 0
    keys: dict[str, KeyProfile] = field(default_factory=dict)
    more_keys: int = 0
    rejected: int = 0
    rejections: Counter[str] = field(default_factory=Counter)

    def presence(self, path: str) -> float:
        """Share of the key's parents (messages, or array items) that hold it."""
        key = self.keys.get(path)
        if key is None:
            return 0.0
        if path.endswith("[]"):
            return 1.0  # the items of a list: there are some
        parent = _parent(path)
        total = self.messages if parent is None else self._count(parent)
        return key.present / total if total else 0.0

    def _count(self, parent: str) -> int:
        key = self.keys.get(parent)
        if key is None:
            return 0
        return sum(key.kinds.values()) if parent.endswith("[]") else key.kinds[Kind.OBJECT]


def _parent(path: str) -> str | None:
    """``a.b`` for ``a.b.c``, ``a[]`` for ``a[].c``, None for a top-level key."""
    cut = max(path.rfind("."), -1)
    if path.endswith("[]"):
        return path[:-2] or None
    return path[:cut] if cut > 0 else None


@dataclass(slots=True)
class Profile:
    """What a recording's messages look like, per ``"api family"`` (module docstring)."""

    families: dict[str, FamilyProfile] = field(default_factory=dict)
    unclassified: int = 0
    more_families: int = 0

    def add(self, api: str, family: str | None, message: Any, rejections: Iterable[str] = ()) -> None:
        """One message; ``rejections``: ``"pointer rule"`` of each way the schemas reject it."""
        if family is None:
            self.unclassified += 1
            return
        name = f"{api} {family}"
        profile = self.families.get(name)
        if profile is None:
            if len(self.families) >= MAX_FAMILIES:
                self.more_families += 1
                return
            profile = self.families[name] = FamilyProfile()
        profile.messages += 1
        rejected = list(rejections)
        if rejected:
            profile.rejected += 1
            for what in rejected:
                if what in profile.rejections or len(profile.rejections) < MAX_REJECTIONS:
                    profile.rejections[what] += 1
        if isinstance(message, dict):
            _walk(profile, message, "", 0)
        elif isinstance(message, list):
            _value(profile, "[]", message, 0, "")


def _walk(profile: FamilyProfile, obj: dict[str, Any], prefix: str, depth: int) -> None:
    for name, value in obj.items():
        part = "{address}" if _ADDRESS.match(name) else name
        path = f"{prefix}.{part}" if prefix else part
        _value(profile, path, value, depth, name)


def _value(profile: FamilyProfile, path: str, value: Any, depth: int, name: str) -> None:
    key = profile.keys.get(path)
    if key is None:
        if len(profile.keys) >= MAX_KEYS:
            profile.more_keys += 1
            return
        vocabulary = name.removesuffix("[]") in VOCABULARY_KEYS or _vocabulary_item(path)
        key = profile.keys[path] = KeyProfile(vocabulary=vocabulary, values=Counter() if vocabulary else None)
    key.present += 1
    kind = kind_of(value)
    key.kinds[kind] += 1
    if kind in (Kind.INT, Kind.FLOAT, Kind.EXPONENT) and value and math.isfinite(value):
        key.magnitudes[math.floor(math.log10(abs(value)))] += 1
        if kind is Kind.EXPONENT and not key.exponent:
            key.exponent = repr(float(value))
    elif kind is Kind.STRING and key.values is not None:
        key.values[value] += 1
        if len(key.values) > VOCABULARY_CAP:
            key.values = None
    if depth >= MAX_DEPTH:
        return
    if kind is Kind.OBJECT:
        _walk(profile, value, path, depth + 1)
    elif kind is Kind.ARRAY:
        strings = [v for v in value[:ORDER_ITEMS] if isinstance(v, str)]
        if key.vocabulary and key.order is None and strings:
            key.order = tuple(strings)
        for item in value[:ARRAY_ITEMS]:
            _value(profile, f"{path}[]", item, depth + 1, f"{name}[]")


def _vocabulary_item(path: str) -> bool:
    """An item of a vocabulary list (``state.availablePools[]``)."""
    if not path.endswith("[]"):
        return False
    last = path[:-2].rsplit(".", 1)[-1]
    return last in VOCABULARY_KEYS


class ChangeKind(StrEnum):
    FAMILY_ADDED = "family added"
    FAMILY_REMOVED = "family removed"
    KEY_ADDED = "key added"
    KEY_REMOVED = "key removed"
    PRESENCE = "presence"
    TYPE = "type"
    EXPONENT = "exponent notation"
    NULLABILITY = "nullability"
    VALUE_ADDED = "new value"
    VALUE_REMOVED = "vanished value"
    ORDER = "order"
    MAGNITUDE = "magnitude"
    UNIT = "unit"
    SCHEMA = "schema"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between OLD and NEW: where (``api``, ``family``, key path), what, and
    whether it breaks clients, with the reason."""

    api: str
    family: str
    key: str
    kind: ChangeKind
    detail: str
    breaking: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "family": self.family,
            "key": self.key,
            "kind": self.kind.value,
            "detail": self.detail,
            "breaking": self.breaking,
            "reason": self.reason,
        }


def compare(old: Profile, new: Profile) -> list[Change]:
    """Every change from ``old`` to ``new``, family by family, key by key (breaking first within
    a family)."""
    out: list[Change] = []
    for name in sorted(set(old.families) | set(new.families)):
        api, family = name.split(" ", 1)
        before, after = old.families.get(name), new.families.get(name)
        if before is None:
            assert after is not None
            out.append(
                Change(
                    api,
                    family,
                    "",
                    ChangeKind.FAMILY_ADDED,
                    f"{after.messages} messages in NEW, none in OLD",
                    False,
                    "a family clients did not see before; clients that ignore what they do not know are fine",
                )
            )
            continue
        if after is None:
            out.append(
                Change(
                    api,
                    family,
                    "",
                    ChangeKind.FAMILY_REMOVED,
                    f"{before.messages} messages in OLD, none in NEW",
                    False,
                    "nothing of it to compare: the recording may not have caught one",
                )
            )
            continue
        changes = _family(api, family, before, after)
        out.extend(sorted(changes, key=lambda c: (not c.breaking, c.key, c.kind)))
    return out


def _family(api: str, family: str, old: FamilyProfile, new: FamilyProfile) -> list[Change]:
    out: list[Change] = []

    def change(key: str, kind: ChangeKind, detail: str, breaking: bool, reason: str) -> None:
        out.append(Change(api, family, key, kind, detail, breaking, reason))

    for path in sorted(set(old.keys) | set(new.keys)):
        was, now = old.keys.get(path), new.keys.get(path)
        p_old, p_new = old.presence(path), new.presence(path)
        parent = _parent(path)
        parent_seen = parent is None or new._count(parent) > 0
        if (now is None or was is None) and path.endswith("[]"):
            continue  # a list that is empty on one side: its own key says more
        if now is None or was is None:
            if now is None and parent_seen:
                required = p_old >= 1.0
                change(
                    path,
                    ChangeKind.KEY_REMOVED,
                    f"in {p_old:.0%} of OLD, in no NEW message",
                    required,
                    "clients that read it get nothing"
                    if required
                    else f"it was optional already (absent from {1 - p_old:.0%} of OLD)",
                )
            elif was is None and (parent is None or old._count(parent) > 0):
                change(
                    path,
                    ChangeKind.KEY_ADDED,
                    f"in {p_new:.0%} of NEW, in no OLD message",
                    False,
                    "an added key: clients that ignore unknown keys are fine",
                )
            continue
        if p_old >= 1.0 > p_new:
            change(
                path,
                ChangeKind.PRESENCE,
                f"in every OLD message, in {p_new:.0%} of NEW",
                True,
                "a key clients could count on is sometimes missing now",
            )
        elif abs(p_old - p_new) >= 0.25:
            change(
                path,
                ChangeKind.PRESENCE,
                f"in {p_old:.0%} of OLD, in {p_new:.0%} of NEW",
                False,
                "an optional key came more or less often",
            )
        out.extend(Change(api, family, path, *c) for c in _kinds(was, now))
        out.extend(Change(api, family, path, *c) for c in _vocabulary(path, was, now))
        shift = _magnitude(path, was, now)
        if shift is not None:
            out.append(Change(api, family, path, *shift))
    if new.rejected and new.rejected / new.messages > (old.rejected / old.messages if old.messages else 0):
        top = ", ".join(what for what, _ in new.rejections.most_common(3))
        change(
            "",
            ChangeKind.SCHEMA,
            f"the current schemas reject {new.rejected} of {new.messages} NEW messages"
            f" ({old.rejected} of {old.messages} OLD): {top}",
            True,
            "messages a client validating against the contract refuses",
        )
    elif old.rejected and not new.rejected:
        change(
            "",
            ChangeKind.SCHEMA,
            f"the current schemas reject {old.rejected} of {old.messages} OLD messages and none of NEW",
            False,
            "NEW keeps the contract better",
        )
    return out


Found = tuple[ChangeKind, str, bool, str]

_NUMBERS = {Kind.INT, Kind.FLOAT, Kind.EXPONENT}


def _kinds(old: KeyProfile, new: KeyProfile) -> list[Found]:
    out: list[Found] = []
    before, after = set(old.kinds), set(new.kinds)
    if Kind.NULL in after - before:
        nulls, total = new.kinds[Kind.NULL], sum(new.kinds.values())
        out.append(
            (
                ChangeKind.NULLABILITY,
                f"null in {nulls} of {total} NEW values, never in OLD",
                True,
                "clients that read it as a value get null",
            )
        )
    elif Kind.NULL in before - after and before != {Kind.NULL}:
        out.append(
            (
                ChangeKind.NULLABILITY,
                "null in OLD, never in NEW",
                False,
                "clients that handle null still work",
            )
        )
    before.discard(Kind.NULL)
    after.discard(Kind.NULL)
    if not before:
        if after:
            out.append(
                (
                    ChangeKind.TYPE,
                    f"{_names(after)} in NEW where OLD was always null",
                    False,
                    "a value where only null came: clients that handle null still work",
                )
            )
        return out
    if Kind.EXPONENT in after - before:
        out.append(
            (
                ChangeKind.EXPONENT,
                f"written as {new.exponent} in NEW, never so in OLD",
                True,
                "parsers of fixed-point decimals (and patterns such as ^[0-9.]+$) reject exponent notation",
            )
        )
    added = (after - before) - {Kind.EXPONENT}
    if not added:
        return out
    numbers_only = before <= _NUMBERS and added <= _NUMBERS
    if numbers_only and added == {Kind.INT}:
        out.append(
            (
                ChangeKind.TYPE,
                f"{_names(before)} in OLD, also int in NEW",
                False,
                "an integer is a valid float to every JSON reader",
            )
        )
    elif numbers_only:
        out.append(
            (
                ChangeKind.TYPE,
                f"{_names(before)} in OLD, also {_names(added)} in NEW",
                True,
                "clients that parse an integer fail on a fraction",
            )
        )
    else:
        out.append(
            (
                ChangeKind.TYPE,
                f"{_names(before)} in OLD, {_names(after)} in NEW",
                True,
                "clients that expect the OLD type fail to parse the new one",
            )
        )
    return out


def _vocabulary(path: str, old: KeyProfile, new: KeyProfile) -> list[Found]:
    out: list[Found] = []
    if old.order and new.order:
        common = set(old.order) & set(new.order)
        a = [v for v in old.order if v in common]
        b = [v for v in new.order if v in common]
        if a != b:
            at = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
            where = (
                f"the {len(a)} values both hold first differ at position {at + 1}: OLD {a[at]}, NEW {b[at]}"
            )
            out.append(
                (
                    ChangeKind.ORDER,
                    where,
                    False,
                    "the order is not part of the contract: clients must not index by position",
                )
            )
    if old.values is None or new.values is None or not old.values or not new.values:
        return out
    added = sorted(set(new.values) - set(old.values))
    removed = sorted(set(old.values) - set(new.values))
    if added:
        out.append(
            (
                ChangeKind.VALUE_ADDED,
                ", ".join(added),
                True,
                "clients that branch on the known values meet one they do not know",
            )
        )
    if removed:
        request = any(word in path for word in REQUEST_VOCABULARIES)
        out.append(
            (
                ChangeKind.VALUE_REMOVED,
                ", ".join(removed),
                request,
                "clients that send it back (subscribe to it) are refused or get nothing"
                if request
                else "a value clients handle no longer comes",
            )
        )
    return out


def _magnitude(path: str, old: KeyProfile, new: KeyProfile) -> Found | None:
    if not old.magnitudes or not new.magnitudes:
        return None
    a, b = _median(old.magnitudes), _median(new.magnitudes)
    shift = b - a
    if abs(shift) < MAGNITUDE_SHIFT:
        return None
    detail = f"typical value about 1e{a} in OLD, 1e{b} in NEW"
    if _TIME_KEY.search(path.rsplit(".", 1)[-1]) and {a, b} <= {8, 9, 10, 11, 12, 13}:
        units = {True: "milliseconds", False: "seconds"}
        return (
            ChangeKind.UNIT,
            f"{detail}: {units[a >= 11]} in OLD, {units[b >= 11]} in NEW",
            True,
            "a timestamp read in the OLD unit is off by a factor of 1000",
        )
    if abs(shift) == 9:
        return (
            ChangeKind.UNIT,
            f"{detail}: lamports against SOL (1 SOL = 1e9 lamports)?",
            True,
            "an amount read in the OLD unit is off by a factor of 1e9",
        )
    return (
        ChangeKind.MAGNITUDE,
        detail,
        True,
        f"values are off by about 10^{abs(shift)}: another unit or scale",
    )


def _median(counts: Counter[int]) -> int:
    total = sum(counts.values())
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen * 2 >= total:
            return value
    return 0


def _names(kinds: set[str]) -> str:
    return " or ".join(sorted(kinds))


def describe(
    changes: list[Change], old: Profile, new: Profile, title: str, *, limit: int | None = None
) -> str:
    """The drift as lines to read: per family, breaking changes first (at most ``limit``
    changes, the rest counted)."""
    breaking = sum(c.breaking for c in changes)
    lines = [f"contract drift {title}: {plural(len(changes), 'change')}, {breaking} breaking"]
    current = None
    for change in changes[:limit]:
        name = f"{change.api} {change.family}"
        if name != current:
            current = name
            n_old = old.families[name].messages if name in old.families else 0
            n_new = new.families[name].messages if name in new.families else 0
            lines.append(f"\n{name}  (OLD {plural(n_old, 'message')}, NEW {plural(n_new, 'message')})")
        mark = "BREAKING" if change.breaking else "ok      "
        key = f"{change.key}: " if change.key else ""
        lines.append(f"  {mark}  {change.kind.value:<17} {key}{change.detail}")
        lines.append(f"  {'':8}  {'':17} ({change.reason})")
    if limit is not None and len(changes) > limit:
        lines.append(f"\n... {len(changes) - limit} more changes (harness diff shows them all)")
    if not changes:
        lines.append("no drift: the same families, keys, types and vocabularies")
    for label, profile in (("OLD", old), ("NEW", new)):
        if profile.unclassified:
            lines.append(
                f"\n{label}: {plural(profile.unclassified, 'message')} of no documented family, not compared"
            )
    return "\n".join(lines)


def profile_dict(profile: Profile) -> dict[str, Any]:
    """How often each key is present and the kinds it takes, per family (``--format json``)."""
    return {
        name: {
            "messages": fp.messages,
            "rejected": fp.rejected,
            "keys": {
                path: {"present": round(fp.presence(path), 4), "kinds": dict(key.kinds)}
                for path, key in sorted(fp.keys.items())
            },
            "more_keys": fp.more_keys,
        }
        for name, fp in sorted(profile.families.items())
    }


def plural(count: int, noun: str) -> str:
    return f"{count} {noun if count == 1 else noun + 's'}"
