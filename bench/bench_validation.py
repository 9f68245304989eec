"""Validation speed: messages/s per corto family against plain ``jsonschema`` in the same run.

The corpus is a 100k-frame corto tape (10k with ``--quick``) of the demo tape's events, written to
disk and read back: the per-family figures check the events decoded from its frames. "harness" is
the validator the project uses (compiled jsonschema-rs check, jsonschema only on failure);
"plain jsonschema" is ``Draft202012Validator.is_valid`` of the same schemas with a ``referencing``
registry, as a user would write it, on a sample of the same family in the same run. The
end-to-end figure streams the tape through ``validate_tape`` (reading, decoding, classifying and
checking every frame). One core: nothing here runs in parallel.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from bench.common import Result, rate
from harness.core.families import corto_family
from harness.core.frames import S2C, Recorded, TapeHeader, WsText
from harness.store import TapeReader, TapeWriter, read_tape
from harness.validation import SCHEMAS_DIR, default_validator, validate_tape

ROOT = Path(__file__).resolve().parents[1]


def _events() -> list[dict[str, Any]]:
    _, frames = read_tape(ROOT / "fixtures" / "demo" / "corto.jsonl")
    out = []
    for frame in frames:
        if isinstance(frame, WsText) and frame.direction is S2C:
            message = json.loads(frame.data)
            if "txType" in message:
                out.append(message)
    return out


def _write_tape(path: Path, events: list[dict[str, Any]], total: int) -> None:
    with TapeWriter(path, TapeHeader("2026-01-01T00:00:00Z", "bench", Recorded())) as writer:
        for i in range(total):
            writer.write(
                WsText(t=i * 0.001, conn="ws-1", direction=S2C, data=json.dumps(events[i % len(events)]))
            )


def _read_messages(path: Path) -> list[dict[str, Any]]:
    with TapeReader(path) as reader:
        return [json.loads(frame.data) for _, frame in reader.records() if isinstance(frame, WsText)]


def run(quick: bool) -> list[Result]:
    total = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corto.jsonl"
        _write_tape(path, _events(), total)
        messages = _read_messages(path)
        assert len(messages) == total
        return _measure(path, messages, quick)


def _measure(path: Path, messages: list[dict[str, Any]], quick: bool) -> list[Result]:
    total = len(messages)
    validator = default_validator()
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema))
        for schema in (json.loads(p.read_text()) for p in SCHEMAS_DIR.rglob("*.json"))
    )
    by_family: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in messages:
        by_family[corto_family(message) or "?"].append(message)
    results = []
    # A family with few events in the tape is checked over and over, so that every figure
    # covers enough work to be measured (130 checks take well under a millisecond).
    at_least, reference_at_least = (2_000, 300) if quick else (20_000, 1_500)
    for family, batch in sorted(by_family.items(), key=lambda kv: -len(kv[1])):
        assert not any(validator.validate(m, "corto", family) for m in batch)
        work = batch * math.ceil(at_least / len(batch))
        start = time.perf_counter()
        for m in work:
            validator.validate(m, "corto", family)
        ours = rate(len(work), time.perf_counter() - start)
        reference = Draft202012Validator(validator.schema("corto", family), registry=registry)
        sample = (batch * math.ceil(reference_at_least / len(batch)))[: max(reference_at_least, 3000)]
        start = time.perf_counter()
        for m in sample:
            reference.is_valid(m)
        plain = rate(len(sample), time.perf_counter() - start)
        results.append(
            Result(
                f"corto {family} ({len(batch)} msgs)",
                ours,
                "msg/s",
                plain,
                "plain jsonschema",
                ">= 20x baseline",
                ours >= 20 * plain,
            )
        )
    start = time.perf_counter()
    for message in messages:
        validator.validate(message, "corto")
    overall = rate(len(messages), time.perf_counter() - start)
    results.append(
        Result(
            "corto events, family found per message",
            overall,
            "msg/s",
            None,
            "",
            ">= 50,000 msg/s",
            overall >= 50_000,
        )
    )
    start = time.perf_counter()
    count = sum(1 for _ in validate_tape(path))
    end_to_end = rate(total, time.perf_counter() - start)
    assert count == 0
    results.append(Result(f"validate_tape, {total} frames (read + decode + check)", end_to_end, "frames/s"))
    return results
