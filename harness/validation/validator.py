"""Compiled validators over the project's JSON Schemas, with readable violations.

Two engines, one verdict: every schema is compiled once with ``jsonschema-rs`` (a Rust validator,
tens of times faster than pure Python) for the fast path, and ``jsonschema`` with a
``referencing`` registry stays the reference: a message the fast path rejects is explained by
``jsonschema`` (JSON pointer, rule, message). ``tests/validation/test_engines.py`` shows on a large
generated corpus that both engines give the same verdicts; for that the reference matches patterns
as ECMA-262 says (:mod:`harness.validation.regex`), and judges alone the strings the compiled
engine cannot take (lone surrogates).
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, protocols
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.validators import extend
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from harness.core.excerpt import LISTED_ITEMS
from harness.core.families import (
    FAMILIES,
    PUMPDATA_CLIENT_EVENTS,
    PUMPDATA_SERVER_EVENTS,
    FamilyTracker,
    NotJson,
    UnknownEvent,
    apis_of,
    create_detail,
    family_of,
    why_unclassified,
)
from harness.core.tape import TapeLimits
from harness.resources import SCHEMAS_DIR
from harness.validation import regex

BASE_URI = "https://harness.local/schemas"
MAX_VALUE = 80
"""A violation message quotes the offending value; a longer quote is cut in the middle."""
MAX_MESSAGE = 400
"""Violation messages longer than this (a long enum, say) are cut in the middle."""
MAX_EXPLAINED = 100
"""Schema errors ``jsonschema`` explains per message: past them, the rest are counted by the
compiled engine, so a message naming thousands of bad items costs little more than its decoding."""
GROUP_OVER = LISTED_ITEMS
"""More violations of one rule than this at items of one array are one violation that counts
them and lists the first (docs "Input limits")."""
GROUP_KEYS_OVER = 100
"""The same for keys of one object that it does not allow: up to this many are each named (a full
create checked as ``create.min`` has 74 keys too many, each worth seeing)."""


Reference: type[protocols.Validator] = extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, validators={"pattern": regex.pattern}
)
"""``jsonschema``'s draft 2020-12 validator with patterns matched as ECMA-262 says
(:mod:`harness.validation.regex`), as the compiled engine matches them."""


class UnknownFamily(ValueError):
    """An api or family name that does not exist; the message lists the known ones."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a message breaks the contract.

    ``pointer`` is the JSON pointer of the offending value within the message (within the frame
    for tapes: ``/response/body/...``, ``/args/0/...``); ``rule`` the schema keyword that failed
    (``required``, ``type``, ``enum``, ``additionalProperties`` ...) or ``family`` / ``json`` when
    the message is not a documented message at all.
    """

    api: str
    family: str
    pointer: str
    rule: str
    message: str
    file: str = ""
    line: int | None = None
    conn: str = ""
    direction: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "api": self.api,
            "family": self.family,
            "pointer": self.pointer,
            "rule": self.rule,
            "message": self.message,
        }
        if self.file:
            out.update(file=self.file, line=self.line, conn=self.conn, direction=self.direction)
        return out

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file else ""
        what = " ".join(part for part in (self.api, self.family) if part) or "unclassified"
        return f"{where}{what} {self.pointer or '/'}: {self.rule}: {self.message}"


@dataclass(slots=True)
class Tally:
    """What a validation run looked at: messages checked per ``"api family"`` (``"api ?"`` for
    those of no family), and the tape defects the reader tolerated (``file:line: what``)."""

    messages: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def families() -> dict[str, list[str]]:
    return {api: list(names) for api, names in FAMILIES.items()}


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _pointer(path: Any) -> str:
    return "".join(f"/{_escape(p)}" for p in path)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = limit * 3 // 4
    return f"{text[:head]} … {text[head - limit :]}"


def _message(error: ValidationError) -> str:
    """jsonschema's message, with the quoted value and the whole kept short."""
    text = error.message
    quoted = repr(error.instance)
    if len(quoted) > MAX_VALUE and text.startswith(quoted):
        text = _cut(quoted, MAX_VALUE) + text[len(quoted) :]
    return _cut(text, MAX_MESSAGE)


def _in_order(pointer: str) -> tuple[tuple[int, int, str], ...]:
    """A pointer's sort key: array items in index order (``/2`` before ``/10``)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pointer.split("/"))


def _group_key(violation: Violation) -> tuple[str, str]:
    """Violations with one key are of one rule at sibling places whose number the input decides:
    items of one array, or keys of one object that it does not allow (not ``required``: how many
    keys are missing is bounded by the schema)."""
    parts = violation.pointer.split("/")
    shape = ["*" if part.isdigit() else part for part in parts]
    if violation.rule in ("additionalProperties", "propertyNames") and len(shape) > 1:
        shape[-1] = "*"
    if violation.rule == "required":
        return violation.rule, violation.pointer
    return violation.rule, "/".join(shape)


def _grouped(violations: list[Violation], counts: dict[tuple[str, str], int]) -> list[Violation]:
    """``violations`` with every group of more than :data:`GROUP_OVER` siblings (one
    :func:`_group_key`) made one violation that counts them and lists the first few. ``counts``:
    the full count of a group of which only the first were explained (-1: not counted)."""
    groups: dict[tuple[str, str], list[Violation]] = {}
    for v in violations:
        groups.setdefault(_group_key(v), []).append(v)
    out: list[Violation] = []
    for key, members in groups.items():
        total = counts.get(key, len(members))
        over = GROUP_KEYS_OVER if key[0] in ("additionalProperties", "propertyNames") else GROUP_OVER
        if len(members) <= over and key not in counts:
            out.extend(members)
            continue
        first = members[0]
        where = ", ".join(v.pointer for v in members[:GROUP_OVER])
        many = f"at least {len(members)}" if total < 0 else f"{max(total, len(members))}"
        message = _cut(f"{many} places break this rule ({where}, …); the first: {first.message}", MAX_MESSAGE)
        out.append(dataclasses.replace(first, message=message))
    return out


def _not_json(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Pointers of the values in ``value`` that JSON has no words for, each with why: NaN and
    infinite floats (RFC 8259 6), and Python objects that are not JSON values at all (bytes, sets,
    a key that is not a string)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            yield path, "NaN and Infinity are not JSON numbers"
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield f"{path}/{_escape(str(key))}", f"a {type(key).__name__} key is not JSON"
            yield from _not_json(item, f"{path}/{_escape(str(key))}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _not_json(item, f"{path}/{index}")
    elif not (value is None or isinstance(value, (str, int))):
        yield path, f"a Python {type(value).__name__} is not a JSON value"


class Validator:
    """Every family's schema, compiled once. Safe to share between threads."""

    def __init__(self, schemas_dir: Path = SCHEMAS_DIR) -> None:
        self.schemas_dir = schemas_dir
        resources: list[tuple[str, dict[str, Any]]] = []
        for path in sorted(schemas_dir.rglob("*.json")):
            schema = json.loads(path.read_text())
            resources.append((schema["$id"], schema))
        self._by_id = dict(resources)
        # Every schema is draft 2020-12 (a test checks). The reference reads them without their
        # "$schema": following a $ref into a schema that names its dialect, jsonschema would
        # switch to the plain draft 2020-12 class and lose Reference's ECMA-262 patterns.
        self._bare = {uri: {k: v for k, v in schema.items() if k != "$schema"} for uri, schema in resources}
        self._registry: Registry[Any] = Registry().with_resources(
            (uri, DRAFT202012.create_resource(schema)) for uri, schema in self._bare.items()
        )
        rs_registry = jsonschema_rs.Registry(resources)
        self._rs_registry = rs_registry
        self._item_checks: dict[int, Callable[[Any], bool]] = {}
        self._fast: dict[tuple[str, str], Callable[[Any], bool]] = {}
        self._reference: dict[tuple[str, str], protocols.Validator] = {}
        self._lock = threading.Lock()
        for api, names in FAMILIES.items():
            for family in names:
                schema = self.schema(api, family)
                self._fast[(api, family)] = jsonschema_rs.validator_for(schema, registry=rs_registry).is_valid

    def schema(self, api: str, family: str) -> dict[str, Any]:
        uri = f"{BASE_URI}/{api}/{family}.json"
        if uri not in self._by_id:
            raise UnknownFamily(
                f"no schema for {api} {family} (expected {self.schemas_dir}/{api}/{family}.json)"
            )
        return self._by_id[uri]

    def resource(self, uri: str) -> dict[str, Any]:
        """The schema document whose ``$id`` is ``uri`` (``.../defs.json``, a family's schema)."""
        if uri not in self._by_id:
            raise UnknownFamily(f"no schema with $id {uri}")
        return self._by_id[uri]

    def reference(self, api: str, family: str) -> protocols.Validator:
        """``jsonschema``'s validator of a family: the reference and the source of explanations."""
        with self._lock:
            validator = self._reference.get((api, family))
            if validator is None:
                self.schema(api, family)  # an unknown family says so
                validator = Reference(self._bare[f"{BASE_URI}/{api}/{family}.json"], registry=self._registry)
                self._reference[(api, family)] = validator
            return validator

    def is_valid(self, message: Any, api: str, family: str) -> bool:
        """The fast verdict (compiled); :meth:`explain` gives the reasons."""
        try:
            return self._fast[(api, family)](message)
        except UnicodeEncodeError:
            # jsonschema-rs takes strings as UTF-8, which a lone surrogate is not (a peer's JSON
            # may well say "\ud800", RFC 8259 8.2): the reference judges such a message.
            return self.reference(api, family).is_valid(message)
        except ValueError:
            # A Python value that is not JSON (bytes, a set): never valid; check() says where.
            return False

    def explain(self, message: Any, api: str, family: str) -> list[Violation]:
        """Every violation ``jsonschema`` finds, one per missing or unexpected key."""
        if (api, family) == ("corto", "create") and isinstance(message, dict):
            # A create of any level is explained as the level its keys make it (the contract reference
            # 3.6), not by whichever of the three branches jsonschema finds most relevant.
            level = create_detail(message)
            return [dataclasses.replace(v, family=family) for v in self.explain(message, api, level)]
        out: list[Violation] = []
        errors = self.reference(api, family).iter_errors(message)
        firsts: dict[tuple[str, str], ValidationError] = {}
        for error in itertools.islice(errors, MAX_EXPLAINED):
            found = self._violations(error, api, family)
            out.extend(found)
            for v in found:
                firsts.setdefault(_group_key(v), error)
        counts: dict[tuple[str, str], int] = {}
        if next(errors, None) is not None:
            # Many more: counted where cheap (the items of an array against the schema that
            # refused the first of them, by the compiled engine), else "at least".
            for key, error in firsts.items():
                counted = self._count_items(error, message)
                if counted is not None:
                    counts[key] = counted
                else:
                    counts[key] = -1
        return _grouped(sorted(set(out), key=lambda v: (_in_order(v.pointer), v.rule, v.message)), counts)

    def _count_items(self, error: ValidationError, message: Any) -> int | None:
        """How many items of the array holding ``error``'s instance the schema that refused it
        refuses too, or None when its instance is no array item."""
        path = list(error.absolute_path)
        if not path or not isinstance(path[-1], int):
            return None
        parent = message
        for part in path[:-1]:
            parent = parent[part]
        if not isinstance(parent, list) or not isinstance(error.schema, dict):
            return None
        key = id(error.schema)
        check = self._item_checks.get(key)
        if check is None:
            check = jsonschema_rs.validator_for(error.schema, registry=self._rs_registry).is_valid
            self._item_checks[key] = check
        try:
            return sum(1 for item in parent if not check(item))
        except ValueError:
            return None

    def _violations(self, error: ValidationError, api: str, family: str) -> list[Violation]:
        if error.context:
            # A nullable value is anyOf [the type, null]: when it is not null, why the type
            # branch failed is the explanation, not "is not of type 'null'". Of the branches,
            # one whose type the value has (a query's "-1" is a string, not an integer) says
            # best what is wrong with it.
            branches = [
                e for e in error.context if not (e.validator == "type" and e.validator_value == "null")
            ] or error.context
            typed = [e for e in branches if not (e.validator == "type" and not e.relative_path)]
            inner = best_match(typed or branches)
            if inner is not None and inner.validator not in ("const",):
                error = inner
        base = _pointer(error.absolute_path)
        rule = str(error.validator)
        instance = error.instance
        if rule == "required" and isinstance(instance, dict):
            required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
            missing = [k for k in required if k not in instance]
            return [
                Violation(api, family, f"{base}/{_escape(k)}", rule, f"{k!r} is a required property")
                for k in missing
            ]
        if rule == "additionalProperties" and isinstance(instance, dict):
            schema: dict[str, Any] = error.schema  # type: ignore[assignment]
            known = set(schema.get("properties", {}))
            extra = sorted(k for k in instance if k not in known)
            return [
                Violation(api, family, f"{base}/{_escape(k)}", rule, f"{k!r} is not allowed here")
                for k in extra
            ]
        path = list(error.schema_path)
        if rule == "propertyNames" or (len(path) >= 2 and path[-2] == "propertyNames"):
            return [
                Violation(
                    api,
                    family,
                    f"{base}/{_escape(instance)}",
                    "propertyNames",
                    f"key {instance!r} is not allowed here",
                )
            ]
        if (
            rule == "not"
            and isinstance(error.validator_value, dict)
            and "description" in error.validator_value
        ):
            return [Violation(api, family, base, rule, str(error.validator_value["description"]))]
        return [Violation(api, family, base, rule, _message(error))]

    def check(self, message: Any, api: str, family: str) -> list[Violation]:
        """Violations of ``message`` as ``api`` ``family`` (both known: a tape's classification);
        a body that is not JSON or an undocumented Socket.IO event is one violation."""
        if isinstance(message, (NotJson, UnknownEvent)):
            return _unreadable(message, api, family)
        if self.is_valid(message, api, family):
            return []
        found = self.explain(message, api, family)
        if not found:
            # Values the JSON grammar has no words for, which jsonschema takes for numbers (NaN)
            # or lets through where a schema allows anything (bytes).
            found = [Violation(api, family, pointer, "json", why) for pointer, why in _not_json(message)]
        # The engines agree (tested); should they ever not, say so rather than pass silently.
        return found or [Violation(api, family, "", "engine", "rejected by the compiled validator only")]

    def classified(self, message: Any, api: str, family: str | None) -> list[Violation]:
        """Violations of a message a tape's :class:`~harness.core.families.FamilyTracker` classified
        (``family`` None: the tracker could not tell, so the message itself is asked)."""
        return self.validate(message, api, None) if family is None else self.check(message, api, family)

    def validate(self, message: Any, api: str | None = None, family: str | None = None) -> list[Violation]:
        """Violations of one message; the family is found from the message when not given."""
        if isinstance(message, (NotJson, UnknownEvent)):
            return _unreadable(message, api or "", family or "")
        require_known(api, family)
        if family is not None:
            candidates = [api] if api else apis_of(family)
            if len(candidates) > 1:
                guess = family_of(message)
                if guess is not None and guess[0] in candidates:
                    candidates = [guess[0]]
            results = [self.check(message, name, family) for name in candidates]
            return min(results, key=len)
        found = family_of(message, api)
        why = why_unclassified(message, api) if found is None and api in (None, "corto") else None
        if why is not None:
            return [Violation("corto", "", why[0], "family", why[1])]
        if found is None:
            what = f"{api} message" if api else "message of any API"
            # A lone Socket.IO payload such as {"pool": ...} only says what it is with its event name.
            return [
                Violation(
                    api or "",
                    "",
                    "",
                    "family",
                    f"not a documented {what}, or one only its event name or path tells (give its family)",
                )
            ]
        return self.check(message, *found)


def _unreadable(message: NotJson | UnknownEvent, api: str, family: str) -> list[Violation]:
    """The violation of a message that cannot be checked: not JSON, or a Socket.IO event of an
    undocumented name (contract §2.2 lists them)."""
    if isinstance(message, NotJson):
        why = f" ({message.reason})" if message.reason else ""
        quote = f": {message.text[:80]!r}" if message.text else ""
        return [Violation(api, family, "", "json", f"not JSON{why}{quote}")]
    side, documented = (
        ("client", PUMPDATA_CLIENT_EVENTS)
        if message.client
        else ("server", PUMPDATA_SERVER_EVENTS | {"subscription_error"})
    )
    return [
        Violation(
            "pumpdata",
            "",
            "/name",
            "family",
            f"{message.name!r} is not a documented PumpData {side} event"
            f" (documented: {', '.join(sorted(documented))})",
        )
    ]


_default: Validator | None = None
_default_lock = threading.Lock()


def default_validator() -> Validator:
    global _default
    with _default_lock:
        if _default is None:
            _default = Validator()
        return _default


def validate(message: Any, api: str | None = None, family: str | None = None) -> list[Violation]:
    """The violations of ``message`` (empty when it keeps the contract).

    >>> validate({"solPrice": 244.2})
    []
    >>> validate({"type": "subscribe", "mode": "all", "events": ["trade"]})[0].rule
    'not'
    """
    return default_validator().validate(message, api, family)


def validate_tape(
    path: Path | str,
    *,
    api: str | None = None,
    family: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    tally: Tally | None = None,
    limits: TapeLimits | None = None,
) -> Iterator[Violation]:
    """Stream the violations of every message of every frame of a tape, both directions.

    ``progress(bytes_done, bytes_total)`` is called now and then. Messages of another api than
    ``api`` are skipped; with ``family`` only that family is checked, and a create of any level
    is checked as the ``create*`` family given (``create.min``: are the creates min?).
    ``tally`` counts what was checked and collects the defects the reader skipped (a torn last
    line). ``limits``: what one tape line may cost before it is decoded. An unknown ``api`` or
    ``family`` raises :class:`UnknownFamily`.
    """
    from harness.store import TapeReader

    require_known(api, family)
    validator = default_validator()
    tracker = FamilyTracker()
    # NaN and Infinity are kept, so they are reported where they are, as violations
    with TapeReader(path, limits, nonfinite=False) as reader:
        total = reader.size
        for count, (line, frame) in enumerate(reader.records()):
            if progress is not None and count % 1000 == 0:
                progress(reader.position, total)
            for msg_api, msg_family, message, prefix in tracker.classify(frame):
                if api is not None and msg_api != api:
                    continue
                if family is not None:
                    if msg_family != family and not _both_creates(family, msg_family):
                        continue
                    msg_family = family
                if tally is not None:
                    tally.messages[f"{msg_api} {msg_family or '?'}"] += 1
                for v in validator.classified(message, msg_api, msg_family):
                    yield Violation(
                        v.api or msg_api,
                        v.family,
                        prefix + v.pointer,
                        v.rule,
                        v.message,
                        file=str(path),
                        line=line,
                        conn=frame.conn,
                        direction=frame.direction.value,
                    )
        if progress is not None:
            progress(total, total)
        if tally is not None:
            tally.problems.extend(f"{path}:{p.line}: {p.message}" for p in reader.problems)


def _both_creates(family: str, found: str | None) -> bool:
    return found is not None and found.startswith("create.") and family.startswith("create")


def require_known(api: str | None, family: str | None) -> None:
    """Raise :class:`UnknownFamily` for an api or family no schema has (or a family of another api)."""
    if api is not None and api not in FAMILIES:
        raise UnknownFamily(f"unknown api {api!r} (known: {', '.join(FAMILIES)})")
    if family is not None and (not apis_of(family) or (api and family not in FAMILIES[api])):
        names = FAMILIES[api] if api else sorted({f for fs in FAMILIES.values() for f in fs})
        close = difflib.get_close_matches(family, names, n=1)
        elsewhere = " and ".join(apis_of(family))
        hint = f"did you mean {close[0]!r}? " if close else ""
        if elsewhere:
            hint = f"it is a {elsewhere} family; "
        known = f"known: {', '.join(names)}" if api else "see harness validate --list"
        raise UnknownFamily(f"unknown family {family!r}{f' for {api}' if api else ''} ({hint}{known})")
