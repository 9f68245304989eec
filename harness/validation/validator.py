"""Compiled validators over the project's JSON Schemas, with readable violations.

Two engines, one verdict: every schema is compiled once with ``jsonschema-rs`` (a Rust validator,
tens of times faster than pure Python) for the fast path, and ``jsonschema`` with a
``referencing`` registry stays the reference: a message the fast path rejects is explained by
``jsonschema`` (JSON pointer, rule, message). ``tests/validation/test_engines.py`` shows on a large
generated corpus that both engines give the same verdicts.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

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
)
from harness.resources import SCHEMAS_DIR

BASE_URI = "https://harness.local/schemas"
MAX_VALUE = 80
"""A violation message quotes the offending value; a longer quote is cut in the middle."""
MAX_MESSAGE = 400
"""Violation messages longer than this (a long enum, say) are cut in the middle."""


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


def _non_finite(value: Any, path: str = "") -> Iterator[str]:
    """Pointers of the NaN and infinite floats in ``value`` (RFC 8259 JSON has none)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{path}/{_escape(key)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{path}/{index}")


class Validator:
    """Every family's schema, compiled once. Safe to share between threads."""

    def __init__(self, schemas_dir: Path = SCHEMAS_DIR) -> None:
        self.schemas_dir = schemas_dir
        resources: list[tuple[str, dict[str, Any]]] = []
        for path in sorted(schemas_dir.rglob("*.json")):
            schema = json.loads(path.read_text())
            resources.append((schema["$id"], schema))
        self._by_id = dict(resources)
        self._registry: Registry[Any] = Registry().with_resources(
            (uri, Resource.from_contents(schema)) for uri, schema in resources
        )
        rs_registry = jsonschema_rs.Registry(resources)
        self._fast: dict[tuple[str, str], Callable[[Any], bool]] = {}
        self._reference: dict[tuple[str, str], Draft202012Validator] = {}
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

    def reference(self, api: str, family: str) -> Draft202012Validator:
        with self._lock:
            validator = self._reference.get((api, family))
            if validator is None:
                validator = Draft202012Validator(self.schema(api, family), registry=self._registry)
                self._reference[(api, family)] = validator
            return validator

    def is_valid(self, message: Any, api: str, family: str) -> bool:
        """The fast verdict (compiled); :meth:`explain` gives the reasons."""
        return self._fast[(api, family)](message)

    def explain(self, message: Any, api: str, family: str) -> list[Violation]:
        """Every violation ``jsonschema`` finds, one per missing or unexpected key."""
        if (api, family) == ("corto", "create") and isinstance(message, dict):
            # A create of any level is explained as the level its keys make it (CONTRACTS.md
            # 3.6), not by whichever of the three branches jsonschema finds most relevant.
            level = create_detail(message)
            return [dataclasses.replace(v, family=family) for v in self.explain(message, api, level)]
        out: list[Violation] = []
        for error in self.reference(api, family).iter_errors(message):
            out.extend(self._violations(error, api, family))
        return sorted(set(out), key=lambda v: (v.pointer, v.rule, v.message))

    def _violations(self, error: ValidationError, api: str, family: str) -> list[Violation]:
        if error.context:
            # A nullable value is anyOf [the type, null]: when it is not null, why the type
            # branch failed is the explanation, not "is not of type 'null'".
            branches = [
                e for e in error.context if not (e.validator == "type" and e.validator_value == "null")
            ]
            inner = best_match(branches or error.context)
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
        if self.is_valid(message, api, family):
            return []
        found = self.explain(message, api, family)
        if not found:
            # Python floats the JSON grammar has no words for: jsonschema takes them for numbers.
            found = [
                Violation(api, family, pointer, "json", "NaN and Infinity are not JSON numbers")
                for pointer in _non_finite(message)
            ]
        # The engines agree (tested); should they ever not, say so rather than pass silently.
        return found or [Violation(api, family, "", "engine", "rejected by the compiled validator only")]

    def validate(self, message: Any, api: str | None = None, family: str | None = None) -> list[Violation]:
        """Violations of one message; the family is found from the message when not given."""
        if isinstance(message, NotJson):
            why = f" ({message.reason})" if message.reason else ""
            return [Violation(api or "", family or "", "", "json", f"not JSON{why}: {message.text[:80]!r}")]
        if isinstance(message, UnknownEvent):
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
        if api is not None and api not in FAMILIES:
            raise UnknownFamily(f"unknown api {api!r} (known: {', '.join(FAMILIES)})")
        if family is not None:
            candidates = [api] if api else apis_of(family)
            if not candidates or (api and family not in FAMILIES[api]):
                known = ", ".join(FAMILIES[api]) if api else "see 'harness validate --list'"
                raise UnknownFamily(
                    f"unknown family {family!r}{f' for {api}' if api else ''} (known: {known})"
                )
            if len(candidates) > 1:
                guess = family_of(message)
                if guess is not None and guess[0] in candidates:
                    candidates = [guess[0]]
            results = [self.check(message, name, family) for name in candidates]
            return min(results, key=len)
        found = family_of(message, api)
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
) -> Iterator[Violation]:
    """Stream the violations of every message of every frame of a tape, both directions.

    ``progress(bytes_done, bytes_total)`` is called now and then. Messages of another api than
    ``api`` are skipped; with ``family`` only that family is checked. ``tally`` counts what was
    checked and collects the defects the reader skipped (a torn last line).
    """
    from harness.store import TapeReader

    validator = default_validator()
    tracker = FamilyTracker()
    with TapeReader(path) as reader:
        total = reader.size
        for count, (line, frame) in enumerate(reader.records()):
            if progress is not None and count % 1000 == 0:
                progress(reader.position, total)
            for msg_api, msg_family, message, prefix in tracker.classify(frame):
                if api is not None and msg_api != api:
                    continue
                if family is not None and msg_family != family:
                    continue
                if tally is not None:
                    tally.messages[f"{msg_api} {msg_family or '?'}"] += 1
                if msg_family is None:
                    found = validator.validate(message, msg_api, None)
                else:
                    found = validator.check(message, msg_api, msg_family)
                for v in found:
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
