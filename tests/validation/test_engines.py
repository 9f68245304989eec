"""The compiled engine (jsonschema-rs) and the reference (jsonschema) agree on every verdict."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.families import FAMILIES, FamilyTracker, family_of
from harness.strategies.frames import json_values
from harness.synth import generate
from harness.validation import default_validator
from harness.validation.regex import ecma_regex

MUTANTS: tuple[Any, ...] = (None, "x", 1.5, -1, True, [], {})


def _string_mutants(value: str) -> list[str]:
    """Strings where regex dialects part: a trailing newline (Python's ``$`` matches before it,
    ECMA-262's does not), Unicode digits (Python's ``\\d`` takes them), an empty string, and a
    lone surrogate (valid JSON, not UTF-8: the compiled engine cannot take it)."""
    return [value + "\n", value.translate(ARABIC_INDIC), "", "\n" + value, value + "\ud800"]


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _mutations(message: Any, depth: int = 0) -> Iterator[Any]:
    """One-value mutations of ``message`` at every level: each key removed, each value replaced
    by values of other types, each string by a near miss."""
    if isinstance(message, str):
        yield from _string_mutants(message)
    if depth > 3:
        return
    if isinstance(message, dict):
        for key, value in message.items():
            yield {k: v for k, v in message.items() if k != key}
            for mutant in (*MUTANTS[:3], *_mutations(value, depth + 1)):
                yield {**message, key: mutant}
    elif isinstance(message, list):
        for index, value in enumerate(message[:3]):
            for mutant in (*MUTANTS[:3], *_mutations(value, depth + 1)):
                yield [*message[:index], mutant, *message[index + 1 :]]


def _documented() -> Iterator[tuple[str, str, Any]]:
    """Every family's documented examples (the corto.fun contract page, the repository copy,
    the contract reference), a few messages of each family a synthetic feed carries, and the create
    levels projected."""
    from harness.core.corto.detail import Detail, project
    from tests.helpers import SEEDS, seed_json_blocks
    from tests.validation.test_contracts import CORTO, PUMPDATA, PUMPFUN

    for block in seed_json_blocks("004_3ab254ca4706ad7f.txt"):
        found = family_of(block)
        assert found is not None
        yield (*found, block)
    repo = json.loads((SEEDS / "corto_repo_examples.json").read_text())
    for example in [*repo["examples"], repo["burn_template"]]:
        yield "corto", example["family"], example["message"]
    for api, examples in (("pumpfun", PUMPFUN), ("pumpdata", PUMPDATA), ("corto", CORTO)):
        for _, family, message in examples:
            yield api, family, message
    from tests.validation.test_pumpportal import PUMPPORTAL

    for family, message in PUMPPORTAL:
        yield "pumpportal", family, message
    seen: Counter[tuple[str, str]] = Counter()
    tracker = FamilyTracker()
    for _, (_, frames) in generate(1, 30.0).items():
        for frame in frames:
            for api, family, message, _ in tracker.classify(frame):
                # a full create has 87 keys, each mutated many ways: one is plenty
                if family is not None and seen[(api, family)] < (1 if family == "create.full" else 3):
                    seen[(api, family)] += 1
                    yield api, family, message
                    if family == "create.full":
                        for detail in (Detail.MIN, Detail.MID):
                            yield api, f"create.{detail.value}", project(message, detail)
                            yield api, "create", project(message, detail)


def _corpus() -> Iterator[tuple[str, str, Any]]:
    for api, family, message in _documented():
        yield api, family, message
        for mutant in _mutations(message):
            yield api, family, mutant


def test_the_corpus_covers_every_family() -> None:
    covered = {(api, family) for api, family, _ in _documented()}
    assert covered == {(api, f) for api, names in FAMILIES.items() for f in names}


def test_engines_agree_on_a_large_generated_corpus() -> None:
    validator = default_validator()
    checked = rejected = 0
    for api, family, message in _corpus():
        fast = validator.is_valid(message, api, family)
        reference = validator.reference(api, family).is_valid(message)
        checked += 1
        rejected += not reference
        assert fast == reference, (
            f"{api} {family}: rs={fast} jsonschema={reference}: {json.dumps(message)[:300]}"
        )
    assert checked > 9_000 and 0.3 < rejected / checked < 0.95, (checked, rejected)


def test_patterns_match_as_ecma_262_says() -> None:
    """A regression table: where Python's re and ECMA-262 (jsonschema-rs) read a pattern apart."""
    validator = default_validator()
    key = "So11111111111111111111111111111111111111112"
    cases = [
        ({"mint": key + "\n", "name": "x", "symbol": "X"}, "pumpfun", "coin", "/mint"),
        ({"type": "subscribe", "pools": ["pump.fun\n"]}, "corto", "request.subscribe", "/pools/0"),
        ({"limit": "١٠"}, "pumpfun", "query.trades_all", "/limit"),
    ]
    for message, api, family, pointer in cases:
        assert not validator.reference(api, family).is_valid(message)
        assert not validator.is_valid(message, api, family)
        (violation,) = validator.check(message, api, family)
        assert (violation.pointer, violation.rule) == (pointer, "pattern"), message
    assert ecma_regex(r"^\d{4}-[\d.]+$").pattern == r"^[0-9]{4}-[0-9.]+\Z"
    assert ecma_regex(r"^[$]\$$").pattern == r"^[$]\$\Z", "a $ in a class or escaped is a dollar"


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([(api, f) for api, names in FAMILIES.items() for f in names]))
def test_engines_agree_on_arbitrary_json(message: Any, target: tuple[str, str]) -> None:
    validator = default_validator()
    assert validator.is_valid(message, *target) == validator.reference(*target).is_valid(message)
