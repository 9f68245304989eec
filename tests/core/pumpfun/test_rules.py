"""Pump.fun REST request rules: whose budget a request spends, which query values are refused, and
what every refusal looks like on the wire (status, headers, body bytes)."""

from __future__ import annotations

import json

import pytest

from harness.core.pumpfun.rules import (
    BOOLEAN_PARAMS,
    NUMERIC_PARAMS,
    UNAUTHORIZED,
    ErrorAnswer,
    bad_query,
    bearer,
    check_query,
    client_key,
    injected,
    method_not_allowed,
    not_found,
    too_many_requests,
)
from harness.core.pumpfun.timeline import JSON, QueryError

# --- who is asking -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER abc", "abc"),
        ("BeArEr abc", "abc"),
        ("Bearer   abc  ", "abc"),
        ("Bearer a b", "a b"),
        ("Bearer ", None),
        ("Bearer    ", None),
        ("Bearer", None),
        ("Bearerabc", None),
        ("Basic YTpi", None),
        ("Token abc", None),
        (" Bearer abc", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(authorization: str | None, token: str | None) -> None:
    assert bearer(authorization) == token


def test_a_budget_is_per_bearer_token_whatever_the_schemes_case() -> None:
    key = client_key("Bearer tok", "127.0.0.1")
    assert key == "bearer:1a7674eb4ee7", "sha-256 of the token, its first 12 hex digits"
    assert client_key("bearer tok", "10.0.0.9") == key, "the same token from elsewhere: one budget"
    assert client_key("Bearer other", "127.0.0.1") != key


@pytest.mark.parametrize(
    "token",
    [
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl",
        "deadbeefcafe0123",  # hexadecimal itself, longer than the 12 digits shown
        "1a7674eb4ee7ffff",
        "p\u00e4ssw\u00f6rd-\u5bc6\u7801",
        "\udcff\udcfebytes-that-were-not-utf8",  # aiohttp decodes such a header with surrogateescape
    ],
)
def test_the_budget_key_never_shows_the_token(token: str) -> None:
    key = client_key(f"Bearer {token}", "127.0.0.1")
    assert token not in key
    assert key.startswith("bearer:") and len(key) == len("bearer:") + 12
    assert all(c in "0123456789abcdef" for c in key.removeprefix("bearer:"))


@pytest.mark.parametrize("authorization", [None, "", "Bearer ", "Bearer   ", "Basic YTpi", "Bearer"])
def test_without_a_token_the_budget_is_the_remote_addresss(authorization: str | None) -> None:
    assert client_key(authorization, "127.0.0.1") == "addr:127.0.0.1"
    assert client_key(authorization, "::1") == "addr:::1"


# --- the query -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ({"limit": "abc"}, "limit", "limit must be a non-negative integer, got 'abc'"),
        ({"limit": "-1"}, "limit", "limit must be a non-negative integer, got '-1'"),
        ({"limit": "9" * 101}, "limit", "limit is out of range (more than 100 digits)"),
        ({"offset": "1.5"}, "offset", "offset must be a non-negative integer, got '1.5'"),
        ({"minimumSize": "x"}, "minimumSize", "minimumSize must be a number >= 0, got 'x'"),
        ({"minimumSize": "inf"}, "minimumSize", "minimumSize must be a number >= 0, got 'inf'"),
        ({"minimumSize": "1e400"}, "minimumSize", "minimumSize is out of range (not a finite number)"),
        ({"sync": "yes"}, "sync", "sync must be true or false, got 'yes'"),
        ({"includeNsfw": "2"}, "includeNsfw", "includeNsfw must be true or false, got '2'"),
        ({"complete": "TRUE"}, "complete", "complete must be true or false, got 'TRUE'"),
        ({"complete": " true"}, "complete", "complete must be true or false, got ' true'"),
        # numbers are checked before booleans, each in its documented order
        ({"sync": "x", "limit": "y"}, "limit", "limit must be a non-negative integer, got 'y'"),
        ({"complete": "x", "sync": "y"}, "sync", "sync must be true or false, got 'y'"),
        ({"minimumSize": "x", "offset": "y"}, "offset", "offset must be a non-negative integer, got 'y'"),
    ],
)
def test_each_malformed_query_value(query: dict[str, str], parameter: str, message: str) -> None:
    assert check_query(query) == QueryError(parameter, message)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"limit": "50", "offset": "0", "minimumSize": "1e6"},
        *({name: value} for name in BOOLEAN_PARAMS for value in ("true", "false", "1", "0", "")),
        {"unknown": "anything", "api_key": "-1"},  # undocumented parameters are not checked
    ],
)
def test_well_formed_queries_pass(query: dict[str, str]) -> None:
    assert check_query(query) is None


def test_the_documented_parameters() -> None:
    assert NUMERIC_PARAMS == ("limit", "offset", "minimumSize")
    assert BOOLEAN_PARAMS == ("sync", "includeNsfw", "complete")


# --- error answers -------------------------------------------------------------------------------


def test_429_says_when_to_come_back() -> None:
    answer = too_many_requests(17)
    assert answer.status == 429
    assert answer.response_headers() == (("Retry-After", "17"), ("Content-Type", JSON))
    assert answer.body() == (
        b'{"statusCode":429,"message":"ThrottlerException: Too Many Requests","error":"Too Many Requests"}'
    )


def test_401_challenges_for_a_bearer_token() -> None:
    assert UNAUTHORIZED.status == 401
    assert UNAUTHORIZED.response_headers() == (("WWW-Authenticate", "Bearer"), ("Content-Type", JSON))
    assert UNAUTHORIZED.body() == (
        b'{"statusCode":401,"message":"Unauthorized: send Authorization: Bearer <token>",'
        b'"error":"Unauthorized"}'
    )


def test_400_names_the_parameter() -> None:
    answer = bad_query(QueryError("limit", "limit must be a non-negative integer, got 'x'"))
    assert answer.status == 400 and answer.response_headers() == (("Content-Type", JSON),)
    assert answer.body() == (
        b'{"statusCode":400,"message":"limit must be a non-negative integer, got \'x\'",'
        b'"error":"Bad Request","parameter":"limit"}'
    )


def test_404_names_the_closest_recorded_paths() -> None:
    answer = not_found("/coins/lates", ["/coins/latest", "/coins/king"])
    assert answer.status == 404 and answer.response_headers() == (("Content-Type", JSON),)
    assert answer.body() == (
        b'{"statusCode":404,"message":"no recorded path /coins/lates; closest recorded: /coins/latest, '
        b'/coins/king","error":"Not Found","closest":["/coins/latest","/coins/king"]}'
    )
    alone = not_found("/zzz", [])
    assert (
        alone.body()
        == b'{"statusCode":404,"message":"no recorded path /zzz","error":"Not Found","closest":[]}'
    )


def test_a_body_is_utf8_json_without_escapes() -> None:
    assert (
        not_found("/coins/\u00fc", [])
        .body()
        .startswith(b'{"statusCode":404,"message":"no recorded path /coins/\xc3\xbc"')
    )


def test_405_lists_what_is_allowed() -> None:
    answer = method_not_allowed("POST", "/coins/latest", ["GET", "HEAD"])
    assert answer.response_headers() == (("Allow", "GET, HEAD"), ("Content-Type", JSON))
    assert answer.body() == (
        b'{"statusCode":405,"message":"method POST not allowed on /coins/latest",'
        b'"error":"Method Not Allowed"}'
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, "Internal Server Error"),
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
        (504, "Gateway Timeout"),
        (418, "Error"),
        (530, "Error"),
    ],
)
def test_injected_statuses(status: int, error: str) -> None:
    for source in ("fault injected", "fuzz"):
        answer = injected(status, source)
        assert answer.status == status and answer.response_headers() == (("Content-Type", JSON),)
        assert json.loads(answer.body()) == {
            "statusCode": status,
            "message": f"{source}: status {status}",
            "error": error,
        }


def test_the_body_keeps_its_member_order() -> None:
    answer = ErrorAnswer(400, "m", extra=(("b", 1), ("a", [2])))
    assert answer.body() == b'{"statusCode":400,"message":"m","error":"Bad Request","b":1,"a":[2]}'
