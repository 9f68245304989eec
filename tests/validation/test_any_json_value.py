"""Family classification, validation and inspection take any JSON value where a name is expected
(a list, an object), and a message that names thousands of bad items is one violation that counts
them, explained at a cost that does not grow with their number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness
from harness.core.families import FamilyTracker, corto_family, family_of, why_unclassified
from harness.core.frames import C2S, S2C, WsText
from harness.store import dump_tape
from harness.validation import validate_tape
from tests.helpers import header, run_cli

ODD = [
    {"type": ["x"]},
    {"type": {}},
    {"type": "service", "name": []},
    {"type": "service", "name": {"a": 1}},
    {"type": "subscribe", "create": {"detail": ["full"]}},
    {"txType": [1]},
    {"schemaVersion": {}},
    {"txType": "create", "schemaVersion": []},
]


@pytest.mark.parametrize("message", ODD, ids=json.dumps)
def test_classification_and_validation_take_any_json_value(message: object) -> None:
    corto_family(message)
    family_of(message)
    why_unclassified(message, "corto")
    list(FamilyTracker().classify(WsText(0.0, "ws-1", C2S, json.dumps(message))))
    assert harness.validate(message), "an odd message is a violation, not a crash"
    assert harness.validate(message, "corto") != []


def test_a_list_where_a_name_goes_is_named_in_the_violation() -> None:
    [violation] = harness.validate({"type": ["x"]})
    assert (violation.pointer, violation.rule) == ("/type", "family")
    assert violation.message.startswith('["x"] is not a documented corto message type')
    [long] = harness.validate({"type": ["y" * 10_000]})
    assert len(long.message) < 400 and "… (cut)" in long.message


def test_validate_and_inspect_a_tape_of_odd_messages(tmp_path: Path) -> None:
    frames = [WsText(i * 0.1, "ws-1", C2S if i % 2 else S2C, json.dumps(m)) for i, m in enumerate(ODD)]
    path = dump_tape(tmp_path / "odd.jsonl", header(), frames)
    assert {v.line for v in validate_tape(path)} == {2, 3, 4, 5, 6, 7, 8, 9}
    done = run_cli("validate", str(path))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"{path}:2: corto /type: family:" in done.stdout
    done = run_cli("inspect", str(path))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr


def test_thousands_of_bad_items_are_one_violation_that_counts_them() -> None:
    pools = [f"pool{i}" for i in range(16_000)]
    [violation] = harness.validate({"type": "subscribe", "pools": pools}, "corto", "request.subscribe")
    assert violation.pointer == "/pools/0" and violation.rule == "pattern"
    assert violation.message.startswith(
        "16000 places break this rule (/pools/0, /pools/1, /pools/2, /pools/3"
    )
    # a few are listed one by one, as before
    assert len(harness.validate({"type": "subscribe", "pools": pools[:3]}, "corto", "request.subscribe")) == 3
    # keys the schema does not allow, by the thousand: one violation too
    extra = {f"k{i}": i for i in range(2_000)}  # (up to 100 are each named)
    [keys] = harness.validate({"type": "current_state", **extra}, "corto", "request.current_state")
    assert keys.rule == "additionalProperties" and keys.message.startswith("2000 places")
