"""Core rules of the REST emulation: conditional requests, rate budgets, faults, feeds, queries."""

from __future__ import annotations

import json

import pytest

from harness.core.conditional import (
    answers_not_modified,
    field_value,
    not_modified,
    opaque,
    parse_if_none_match,
)
from harness.core.etag import compute_etag
from harness.core.faults import FaultKind, parse_fault, plan
from harness.core.feed import Feed
from harness.core.frames import HttpExchange, HttpRequest, HttpResponse
from harness.core.pumpfun.timeline import (
    JSON,
    QueryError,
    Representation,
    Timeline,
    TradesQuery,
    parse_trades_query,
    synthesised,
)
from harness.core.ratelimit import Budgets, RateLimitConfig, ResetUnit, calibrate, consume, peek


@pytest.mark.parametrize(
    ("header", "etag", "expected"),
    [
        ('W/"a"', '"a"', True),
        ('"a"', 'W/"a"', True),
        ('"b", W/"a"', '"a"', True),
        ("*", 'W/"x"', True),
        ('"b"', '"a"', False),
        (None, '"a"', False),
        ('"a"', None, False),
        ("garbage", '"a"', False),
        ('garbage, "a"', '"a"', True),
    ],
)
def test_if_none_match_weak_comparison(header: str | None, etag: str | None, expected: bool) -> None:
    assert not_modified(header, etag) is expected


def test_entity_tag_parsing() -> None:
    assert opaque('W/"x-1"') == "x-1" and opaque("x") is None
    assert parse_if_none_match(' "a" ,W/"b",  "c"') == {"a", "b", "c"}
    assert parse_if_none_match(" * ") is None


def test_if_none_match_sent_on_several_lines_is_one_list() -> None:
    # RFC 9110 5.3: field lines of a list-based field are joined with commas, in order
    assert field_value([]) is None
    assert field_value(['"a"']) == '"a"'
    assert field_value(['"a"', 'W/"b"', "c"]) == '"a", W/"b", c'
    assert answers_not_modified("GET", 200, ['"x"', 'W/"a"'], '"a"')
    assert not answers_not_modified("GET", 200, ['"x"', '"y"'], '"a"')


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("GET", 200, True),
        ("HEAD", 200, True),
        ("POST", 200, False),  # RFC 9110 13.1.2: 304 only for GET and HEAD
        ("DELETE", 200, False),
        ("get", 200, False),  # methods are case-sensitive (RFC 9110 9.1)
        ("GET", 404, False),  # only a 200 is conditional: other statuses replay as recorded
        ("GET", 201, False),
        ("GET", 500, False),
    ],
)
def test_which_answers_are_conditional(method: str, status: int, expected: bool) -> None:
    assert answers_not_modified(method, status, ['W/"a"'], '"a"') is expected
    assert answers_not_modified(method, status, ["*"], '"a"') is expected
    assert not answers_not_modified(method, status, [], '"a"'), "no If-None-Match: never"
    assert not answers_not_modified(method, status, ["*"], None), "no ETag: never"


def test_fixed_window_budget() -> None:
    config = RateLimitConfig(limit=2, window=10)
    budget, d1 = consume(None, config, 0.0)
    budget, d2 = consume(budget, config, 1.0)
    budget, d3 = consume(budget, config, 2.0)
    assert (d1.allowed, d1.remaining, d2.remaining, d3.allowed) == (True, 1, 0, False)
    assert d3.reset_in == 8.0 and d3.retry_after == 8
    budget, d4 = consume(budget, config, 10.0)
    assert d4.allowed and d4.remaining == 1 and d4.reset_in == 10.0
    assert peek(budget, config, 11.0).remaining == 1


def test_headers_in_both_reset_units() -> None:
    _, decision = consume(None, RateLimitConfig(limit=5, window=60), 0.0)
    assert dict(decision.headers(RateLimitConfig(), 1000.0))["x-ratelimit-reset"] == "60"
    epoch = RateLimitConfig(reset_unit=ResetUnit.EPOCH)
    assert dict(decision.headers(epoch, 1_800_000_000.2))["x-ratelimit-reset"] == "1800000061"


def test_headers_in_the_clients_time() -> None:
    # speed 4: replay time runs four times as fast as the client's clock
    _, decision = consume(None, RateLimitConfig(limit=1, window=60), 0.0)
    assert dict(decision.headers(RateLimitConfig(), 1000.0, speed=4))["x-ratelimit-reset"] == "15"
    epoch = RateLimitConfig(reset_unit=ResetUnit.EPOCH)
    assert dict(decision.headers(epoch, 1000.0, speed=4))["x-ratelimit-reset"] == "1015"
    assert decision.retry_after_at(4) == 15 and decision.retry_after_at(1000) == 1


def test_the_budget_table_forgets_the_least_recently_seen_client_past_its_bound() -> None:
    budgets = Budgets(RateLimitConfig(limit=1, window=60, max_clients=3))
    assert budgets.consume("a", 0).allowed and not budgets.consume("a", 1).allowed
    for key in ("b", "c", "a", "d"):  # "a" seen again, so "b" is the least recent when "d" comes
        budgets.consume(key, 2)
    assert sorted(budgets.used()) == ["a", "c", "d"] and len(budgets) == 3
    assert budgets.consume("b", 3).allowed, "forgotten: a fresh window"
    for i in range(10_000):
        budgets.consume(f"flood-{i}", 4)
    assert len(budgets) == 3


def test_calibration_from_recorded_headers() -> None:
    default = RateLimitConfig()
    assert calibrate([], default) == default
    delta = calibrate([("100", "99", "59"), ("100", "98", "58.5"), ("x", None, "bad")], default)
    assert (delta.limit, delta.window, delta.reset_unit) == (100, 59.0, ResetUnit.DELTA)
    epoch = calibrate([("30", "1", "1783091197")], default)
    assert (epoch.limit, epoch.reset_unit) == (30, ResetUnit.EPOCH)


@pytest.mark.parametrize(
    ("spec", "kind", "value", "p"),
    [
        ("/trades/*:latency=250ms", FaultKind.LATENCY, 0.25, 1.0),
        ("*:latency=1.5s,p=0.5", FaultKind.LATENCY, 1.5, 0.5),
        ("/coins/latest:status=503,p=0.3", FaultKind.STATUS, 503, 0.3),
        ("*:reset", FaultKind.RESET, 0, 1.0),
    ],
)
def test_parse_fault(spec: str, kind: FaultKind, value: float, p: float) -> None:
    rule = parse_fault(spec)
    assert (rule.kind, rule.value, rule.probability) == (kind, value, p)
    assert parse_fault(str(rule)) == rule


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("status=503", "expected PATTERN:ACTION"),
        ("*:status=200", "HTTP error status"),
        ("*:latency=fast", "duration like 250ms"),
        ("*:explode", "unknown action"),
        ("*:reset,p=2", r"p must be a number in \[0, 1\]"),
        ("*:reset,q=1", "unknown option 'q'"),
    ],
)
def test_bad_fault_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fault(spec)


def test_fault_plan_uses_the_draws() -> None:
    rules = [parse_fault("/a*:status=500,p=0.5"), parse_fault("*:latency=100ms"), parse_fault("/b:reset")]
    assert plan(rules, "/abc", [0.4, 0.9, 0.0]).status == 500
    assert plan(rules, "/abc", [0.6, 0.9, 0.0]).status is None
    assert plan(rules, "/b", [0.0, 0.0, 0.0]) == plan(rules, "/b", [0.9, 0.5, 0.99])
    assert plan(rules, "/b", [0.0, 0.0, 0.0]).reset


def test_feed_takes_due_items_in_order() -> None:
    feed = Feed([(2.0, "b"), (1.0, "a"), (2.0, "c")])
    assert feed.next_time() == 1.0
    assert [d.item for d in feed.take_due(1.5)] == ["a"]
    assert [d.item for d in feed.take_due(2.0)] == ["b", "c"]
    assert feed.next_time() is None and feed.exhausted
    feed.rewind()
    assert feed.next_time() == 1.0


def test_feed_loops_with_growing_times() -> None:
    feed = Feed([(0.0, "a"), (1.0, "b")], loop=True, loop_gap=1.0)
    due = feed.take_due(4.5)
    assert [(d.t, d.item, d.loop) for d in due] == [
        (0.0, "a", 0),
        (1.0, "b", 0),
        (2.0, "a", 1),
        (3.0, "b", 1),
        (4.0, "a", 2),
    ]
    assert feed.next_time() == 5.0
    assert [t for t, _ in feed.items_until(4.5)] == [0.0], "within the current pass"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, TradesQuery()),
        ({"limit": "5", "offset": "2", "minimumSize": "1e6"}, TradesQuery(5, 2, 1e6)),
        ({"limit": "-1"}, "limit"),
        ({"offset": "x"}, "offset"),
        ({"minimumSize": "nan"}, "minimumSize"),
        ({"minimumSize": "inf"}, "minimumSize"),
        ({"minimumSize": "1e999"}, "minimumSize"),
        ({"minimumSize": "-0"}, "minimumSize"),
        ({"minimumSize": " 5"}, "minimumSize"),
        ({"limit": "1_000"}, "limit"),
        ({"limit": "\uff11"}, "limit"),  # a fullwidth one: int() takes it
        ({"limit": "+3"}, "limit"),
        ({"offset": "9" * 101}, "offset"),
        ({"limit": "9" * 100, "offset": "007"}, TradesQuery(10**100 - 1, 7)),
    ],
)
def test_trades_query(query: dict[str, str], expected: object) -> None:
    parsed = parse_trades_query(query)
    if isinstance(expected, str):
        assert isinstance(parsed, QueryError) and parsed.parameter == expected
    else:
        assert parsed == expected


def _exchange(t: float, url: str, body: bytes, status: int = 200) -> HttpExchange:
    return HttpExchange(t, "c", HttpRequest("GET", url), HttpResponse(status, (), body))


def test_timeline_shows_the_representation_of_the_exact_recorded_query_first() -> None:
    timeline = Timeline(
        [
            _exchange(0, "/coins?offset=0&limit=2", b"[1,2]"),
            _exchange(1, "/coins?limit=2&offset=2", b"[3]"),
        ]
    )
    assert timeline.representation("GET", "/coins", 5, [("limit", "2"), ("offset", "0")]).body == b"[1,2]"
    assert timeline.representation("GET", "/coins", 5, [("offset", "9")]).body == b"[3]", "any query: latest"
    assert timeline.representation("HEAD", "/coins", 0, []).body == b"[1,2]"
    assert timeline.representation("POST", "/coins", 5) is None


def test_timeline_loops_one_second_after_its_last_exchange() -> None:
    timeline = Timeline([_exchange(0, "/a", b"1"), _exchange(9, "/a", b"2")])
    assert [timeline.local_time(t, loop=True) for t in (9.5, 10, 19.5)] == [9.5, 0, 9.5]
    assert timeline.local_time(19.5, loop=False) == 19.5


def test_trades_of_a_mints_first_observation_are_known_from_the_start() -> None:
    mint = "CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump"
    first = b'[{"signature":"s1","mint":"%s","timestamp":1,"sol_amount":5}]' % mint.encode()
    later = b'[{"signature":"s2","mint":"%s","timestamp":2,"sol_amount":5}]' % mint.encode()
    timeline = Timeline(
        [_exchange(4, f"/trades/all/{mint}", first), _exchange(8, "/trades/latest", later[1:-1])]
    )
    assert [t["signature"] for t in timeline.trades(mint, TradesQuery(), 0)] == ["s1"]
    assert [t["signature"] for t in timeline.trades(mint, TradesQuery(), 8)] == ["s2", "s1"]


def test_a_miss_names_the_closest_paths_among_thousands() -> None:
    mints = [f"{i:04d}".translate(str.maketrans("0", "z")) + "x" * 40 for i in range(5000)]
    exchanges = [_exchange(0, f"/coins/{m}", b"{}") for m in mints] + [_exchange(0, "/coins/latest", b"{}")]
    timeline = Timeline(exchanges)
    assert timeline.closest_paths("/coins/latst")[0] == "/coins/latest"
    unknown = timeline.closest_paths("/coins/" + "9" * 44)
    assert len(unknown) == 3 and all(p.startswith("/coins/") and p != "/coins/latest" for p in unknown)
    assert timeline.closest_paths("/coins/" + "a" * 8000)[0].startswith("/coins/"), "a long path is cut"
    assert timeline.closest_paths("/zzz") == []


def test_trades_all_is_made_from_the_known_trades() -> None:
    mint = "CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump"
    path = f"/trades/all/{mint}"
    trades = b'[{"signature":"s2","mint":"%s","timestamp":2,"sol_amount":7},' % mint.encode()
    trades += b'{"signature":"s1","mint":"%s","timestamp":1,"sol_amount":5}]' % mint.encode()
    recorded = HttpExchange(
        0, "c", HttpRequest("GET", path), HttpResponse(200, (("ETag", 'W/"rec"'),), trades)
    )
    timeline = Timeline([recorded])
    assert synthesised("GET", path) and synthesised("HEAD", path)
    assert not synthesised("POST", path) and not synthesised("GET", "/trades/latest")

    same = timeline.trades_all(path, {}, 5)
    assert isinstance(same, Representation)
    assert (same.status, same.body, same.etag) == (200, trades, 'W/"rec"'), "the same body: its recorded ETag"
    assert same.replayed == (("Content-Type", JSON),)
    paged = timeline.trades_all(path, {"limit": "1", "offset": "1"}, 5)
    assert isinstance(paged, Representation)
    assert json.loads(paged.body) == [json.loads(trades)[1]]
    assert paged.etag == compute_etag(paged.body), "a body never recorded: an ETag computed as Express does"
    assert timeline.trades_all(path, {"limit": "x"}, 5) == QueryError(
        "limit", "limit must be a non-negative integer, got 'x'"
    )
    assert timeline.trades_all("/trades/all/" + "1" * 44, {}, 5) is None, "a mint the tape never shows"
