"""Fault schedules: seeded, reproducible, serialisable; what each fault does to a message."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.fuzz import (
    End,
    FuzzKind,
    FuzzPlan,
    Hold,
    RequestFault,
    ScheduledFault,
    Send,
    generate,
    parse_kinds,
    request_fault,
    stream_actions,
)

COUNTS = {"corto": 500, "pumpdata": 500, "pumpfun": 200}


def test_same_seed_same_schedule_other_seed_other() -> None:
    kinds = parse_kinds("all")
    assert generate(7, kinds, COUNTS) == generate(7, kinds, COUNTS)
    assert generate(7, kinds, COUNTS) != generate(8, kinds, COUNTS)


def test_kinds_fit_their_api_and_connection_ends_are_rare() -> None:
    plan = generate(3, parse_kinds("all"), COUNTS, rate=0.3)
    assert {f.kind for f in plan.faults if f.api == "pumpfun"} <= {
        FuzzKind.STORM_429,
        FuzzKind.HTTP_5XX,
        FuzzKind.DELAY,
        FuzzKind.MALFORMED,
    }
    assert not any(f.kind is FuzzKind.CLOSE for f in plan.faults if f.api != "corto")
    for api in ("corto", "pumpdata"):
        ends = [f for f in plan.faults if f.api == api and f.kind in (FuzzKind.CLOSE, FuzzKind.DISCONNECT)]
        assert len(ends) <= 1


def test_only_the_asked_kinds() -> None:
    plan = generate(1, parse_kinds("drop,duplicate"), COUNTS, rate=0.5)
    assert {f.kind for f in plan.faults} == {FuzzKind.DROP, FuzzKind.DUPLICATE}
    assert not any(f.api == "pumpfun" for f in plan.faults)


@given(st.integers(0, 2**32), st.floats(0, 1))
def test_schedule_round_trips_through_json(seed: int, rate: float) -> None:
    plan = generate(seed, parse_kinds("all"), {"corto": 50, "pumpfun": 20}, rate)
    assert FuzzPlan.from_json(plan.to_json()) == plan
    assert plan.describe().splitlines()[0].startswith(f"seed {seed}: {len(plan.faults)} fault")
    assert FuzzPlan.parse("corto#0:duplicate").describe() == "seed 0: 1 fault\n  corto#0:duplicate"
    assert FuzzPlan.parse("").describe() == "seed 0: 0 faults"


def test_bad_kinds_and_schedules() -> None:
    with pytest.raises(ValueError, match="unknown fault 'melt'"):
        parse_kinds("drop,melt")
    with pytest.raises(ValueError, match="not a fault schedule"):
        FuzzPlan.from_json('{"seed": 1}')
    with pytest.raises(ValueError, match="rate must be"):
        generate(1, [], {}, rate=2)


def f(kind: FuzzKind, value: float = 0) -> ScheduledFault:
    return ScheduledFault("corto", 0, kind, value)


MSG = '{"txType":"buy","price":4e-9}'


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        ([], [Send(MSG)]),
        ([f(FuzzKind.DROP)], []),
        ([f(FuzzKind.DUPLICATE)], [Send(MSG), Send(MSG)]),
        ([f(FuzzKind.REORDER)], [Hold(MSG)]),
        ([f(FuzzKind.DELAY, 1.5)], [Send(MSG, 1.5)]),
        ([f(FuzzKind.CLOSE, 1011)], [Send(MSG), End(1011)]),
        ([f(FuzzKind.DUPLICATE), f(FuzzKind.DELAY, 2)], [Send(MSG, 2), Send(MSG, 2)]),
        ([f(FuzzKind.SUBSCRIPTION_ERROR)], [Send("ERR"), Send(MSG)]),
    ],
)
def test_stream_actions(faults: list[ScheduledFault], expected: list[object]) -> None:
    assert stream_actions(faults, MSG, error_text="ERR") == expected


def test_malformed_is_not_json_and_oversized_is_big() -> None:
    (cut,) = stream_actions([f(FuzzKind.MALFORMED)], MSG)
    assert isinstance(cut, Send)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.text)
    (big,) = stream_actions([f(FuzzKind.OVERSIZED, 100_000)], MSG)
    assert isinstance(big, Send) and len(big.text) == 100_000 and json.loads(big.text) == json.loads(MSG)
    assert big.text.startswith(MSG)  # the same bytes (4e-9 stays 4e-9), then whitespace


@pytest.mark.parametrize(
    ("faults", "storm_left", "expected", "left"),
    [
        ([], 0, RequestFault(), 0),
        ([f(FuzzKind.STORM_429, 3)], 0, RequestFault(429), 2),
        ([], 2, RequestFault(429), 1),
        ([f(FuzzKind.HTTP_5XX, 503)], 0, RequestFault(503), 0),
        ([f(FuzzKind.DELAY, 1.5), f(FuzzKind.MALFORMED)], 0, RequestFault(None, 1.5, True), 0),
        ([f(FuzzKind.HTTP_5XX, 502), f(FuzzKind.MALFORMED)], 0, RequestFault(502), 0),  # no body to cut
    ],
)
def test_request_fault(
    faults: list[ScheduledFault], storm_left: int, expected: RequestFault, left: int
) -> None:
    assert request_fault(faults, storm_left) == (expected, left)


@given(st.integers(0, 2**32), st.floats(0, 1))
def test_a_plan_prints_as_the_code_that_makes_it(seed: int, rate: float) -> None:
    plan = generate(seed, parse_kinds("all"), {"corto": 30, "pumpdata": 30, "pumpfun": 20}, rate)
    assert eval(repr(plan), {"FuzzPlan": FuzzPlan}) == plan
    assert FuzzPlan.parse(" ".join(line.strip() for line in plan.describe().splitlines()[1:]), seed) == plan


def test_a_plan_reads_as_describe_prints_it() -> None:
    plan = FuzzPlan.parse("corto#3:delay=0.5, pumpfun#0:429=4  pumpdata#7:duplicate", seed=9)
    assert plan == FuzzPlan(
        9,
        (
            ScheduledFault("corto", 3, FuzzKind.DELAY, 0.5),
            ScheduledFault("pumpfun", 0, FuzzKind.STORM_429, 4.0),
            ScheduledFault("pumpdata", 7, FuzzKind.DUPLICATE),
        ),
    )
    assert repr(plan) == "FuzzPlan.parse('corto#3:delay=0.5 pumpfun#0:429=4 pumpdata#7:duplicate', seed=9)"
    assert repr(FuzzPlan(0)) == "FuzzPlan.parse('')"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("corto#x:drop", "write a fault as API#ORDINAL:KIND"),
        ("binance#1:drop", "unknown api 'binance'"),
        ("corto#1:nope", "unknown fault 'nope'"),
        ("corto#1:429=2", "corto takes close, delay, drop"),
        ("pumpfun#1:close=1000", "pumpfun takes 429, 5xx"),
        ("corto#1:close", "close takes a value"),
        ("corto#1:drop=3", "drop takes no value"),
        ("corto#1:delay=soon", "'soon' is not a number"),
        ("corto#1:delay=-1", "a positive finite number"),
        ("corto#1:delay=inf", "a positive finite number"),
    ],
)
def test_a_fault_that_cannot_be_read_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        FuzzPlan.parse(f"corto#0:drop {text}")
