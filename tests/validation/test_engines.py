"""The compiled engine (jsonschema-rs) and the reference (jsonschema) agree on every verdict."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.families import FAMILIES, FamilyTracker
from harness.strategies.frames import json_values
from harness.synth import generate
from harness.validation import default_validator

MUTANTS: tuple[Any, ...] = (None, "x", 1.5, -1, True, [], {})


def _corpus() -> Iterator[tuple[str, str, Any]]:
    tracker = FamilyTracker()
    for seed in (1, 2):
        for _, (_, frames) in generate(seed, 30.0).items():
            for frame in frames:
                for api, family, message, _ in tracker.classify(frame):
                    if family is None:
                        continue
                    yield api, family, message
                    if isinstance(message, dict):
                        for key in list(message)[:30]:
                            yield api, family, {k: v for k, v in message.items() if k != key}
                            for value in MUTANTS[:3]:
                                yield api, family, {**message, key: value}


def test_engines_agree_on_a_large_generated_corpus() -> None:
    validator = default_validator()
    checked = disagreements = 0
    for api, family, message in _corpus():
        fast = validator.is_valid(message, api, family)
        reference = validator.reference(api, family).is_valid(message)
        checked += 1
        if fast != reference:
            disagreements += 1
            raise AssertionError(
                f"{api} {family}: rs={fast} jsonschema={reference}: {json.dumps(message)[:300]}"
            )
    assert checked > 10_000 and disagreements == 0


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([(api, f) for api, names in FAMILIES.items() for f in names]))
def test_engines_agree_on_arbitrary_json(message: Any, target: tuple[str, str]) -> None:
    validator = default_validator()
    assert validator.is_valid(message, *target) == validator.reference(*target).is_valid(message)
