"""Finding a message's family: create detail levels, paths, event names, lists, bad JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import socketio

from harness.core.corto.detail import Detail, project
from harness.core.families import NotJson, decode_json, family_of
from harness.core.frames import C2S, S2C, Frame, HttpExchange, HttpRequest, HttpResponse, SioEvent, WsText
from harness.server.app import MockServer
from harness.store import dump_tape, read_tape
from harness.validation import Tally, validate, validate_tape
from tests.helpers import ROOT, header

MINT = "CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump"


def _full_create() -> dict[str, Any]:
    _, frames = read_tape(ROOT / "fixtures" / "demo" / "corto.jsonl")
    for frame in frames:
        if isinstance(frame, WsText) and '"txType":"create"' in frame.data:
            message: dict[str, Any] = json.loads(frame.data)
            return message
    raise AssertionError("the demo tape has a create")


FULL = _full_create()
MIN = project(FULL, Detail.MIN)


def test_a_lone_create_is_judged_by_its_keys() -> None:
    assert family_of(MIN) == ("corto", "create.min")
    assert family_of(project(FULL, Detail.MID)) == ("corto", "create.mid")
    # contract §3.6: mid is only "a superset of min and a subset of full": any such key set is
    # mid, not a full create missing seventy keys.
    between = {**MIN, "reserveSolBefore": 30000000000, "routeProgramId": FULL["routeProgramId"]}
    assert family_of(between) == ("corto", "create.mid") and validate(between) == []
    assert family_of(FULL) == ("corto", "create.full")
    assert family_of({**FULL, "newKey": 1}) == ("corto", "create.full")
    assert family_of({**MIN, "newKey": 1}) == ("corto", "create.full")


def _ws(conn: str, direction: Any, message: Any) -> WsText:
    return WsText(0, conn, direction, json.dumps(message))


def test_a_create_is_held_to_the_detail_its_connection_asked_for(tmp_path: Path) -> None:
    frames: list[Frame] = [
        _ws("ws-1", C2S, {"type": "subscribe", "mode": "mints", "create": {"detail": "min"}}),
        _ws("ws-1", S2C, FULL),  # asked for min, got full: the provider drifted
        _ws("ws-2", C2S, {"type": "subscribe", "mode": "mints"}),  # detail omitted: full
        _ws("ws-2", S2C, MIN),
        _ws("ws-3", C2S, {"type": "subscribe", "mode": "all", "create": {"detail": ["min"]}}),
        _ws("ws-3", S2C, MIN),  # a malformed request changes nothing: judged by keys
    ]
    found = list(validate_tape(dump_tape(tmp_path / "t.jsonl", header(), frames)))
    by_line: dict[int | None, set[str]] = {}
    for v in found:
        by_line.setdefault(v.line, set()).add(f"{v.family} {v.rule}")
    assert by_line == {
        3: {"create.min additionalProperties"},
        5: {"create.full required"},
        6: {"request.subscribe enum"},
    }


def test_the_ack_s_create_detail_wins(tmp_path: Path) -> None:
    ack = {
        "type": "service",
        "name": "subscription_ack",
        "action": "subscribe",
        "state": {
            "availablePools": ["pump.fun"],
            "availableEvents": ["create"],
            "supportedModes": ["mints"],
            "supportedMessages": ["subscribe"],
            "effectiveFilter": {"mode": "mints", "subscriptions": {}, "createDetail": "mid"},
        },
    }
    frames = [
        _ws("ws-1", C2S, {"type": "subscribe", "mode": "mints", "create": {"detail": "min"}}),
        _ws("ws-1", S2C, ack),
        _ws("ws-1", S2C, project(FULL, Detail.MID)),
    ]
    tally = Tally()
    assert list(validate_tape(dump_tape(tmp_path / "t.jsonl", header(), frames), tally=tally)) == []
    assert tally.messages["corto create.mid"] == 1


def _http(path: str, body: Any, status: int = 200) -> HttpExchange:
    return HttpExchange(
        0, "http-1", HttpRequest("GET", path), HttpResponse(status, (), json.dumps(body).encode())
    )


def test_rest_bodies_by_path_and_only_documented_paths(tmp_path: Path) -> None:
    trade = {
        "signature": "5" * 88,
        "mint": MINT,
        "sol_amount": 1,
        "token_amount": 1,
        "is_buy": True,
        "user": MINT,
        "timestamp": 1762115164,
    }
    coin = {"mint": MINT, "name": "x", "symbol": "X"}
    frames = [
        _http(f"/coins/{MINT}?sync=true", coin),
        _http(f"/trades/all/{MINT}?limit=5", [trade]),
        _http("/coins/currently-live?limit=5", [coin]),  # a list endpoint, not /coins/{mint}
        _http("/coins/for-you", [coin]),
        _http("/trades/all/not-a-mint", {"statusCode": 404}),
        _http("/coins/latest", {"statusCode": 429, "message": "Too Many Requests"}, 429),
    ]
    tally = Tally()
    assert list(validate_tape(dump_tape(tmp_path / "t.jsonl", header(), frames), tally=tally)) == []
    assert tally.messages == {
        "pumpfun coin": 1,
        "pumpfun query.coin": 1,
        "pumpfun trade_list": 1,
        "pumpfun query.trades_all": 1,
        "pumpfun error": 1,
    }


def test_a_coins_page_is_a_coin_list_and_each_item_is_held_to_the_coin_schema(tmp_path: Path) -> None:
    # contract §1.2: GET /coins answers an array of Coin; 1.3: its items vary in their keys.
    coins = [
        {"mint": MINT, "name": "a", "symbol": "A", "bonding_curve": MINT},
        {"mint": MINT, "name": "b", "symbol": "B", "created_timestamp": 1779812627000},
        {"mint": MINT, "name": "c", "symbol": "C", "complete": False, "twitter": None},
    ]
    broken = {"mint": "0OIl", "name": "d", "symbol": "D", "created_timestamp": 1779812627}
    frames = [
        _http("/coins?offset=0&limit=3&sort=created_timestamp&order=DESC", coins),
        _http("/coins?offset=3&limit=4", [*coins, broken]),
        _http("/coins?offset=9000", []),
    ]
    tally = Tally()
    found = list(validate_tape(dump_tape(tmp_path / "t.jsonl", header(), frames), tally=tally))
    assert {(v.line, v.family, v.pointer, v.rule) for v in found} == {
        (3, "coin_list", "/response/body/3/mint", "pattern"),
        (3, "coin_list", "/response/body/3/created_timestamp", "minimum"),
    }
    assert tally.messages == {"pumpfun coin_list": 3, "pumpfun query.coins": 3}


def test_a_list_is_a_trade_list_only_when_its_items_are_trades() -> None:
    assert family_of([]) == ("pumpfun", "trade_list")
    assert family_of([{"signature": "x", "sol_amount": 1}]) == ("pumpfun", "trade_list")
    assert family_of([{"type": "ping"}, {"type": "subscribe", "mode": "all"}]) is None
    assert family_of([{"error": "not_found", "message": "x"}]) is None


def test_socketio_events_are_known_by_name(tmp_path: Path) -> None:
    frames = [
        SioEvent(0, "sio-1", C2S, "unsubscribe_sol_price"),  # contract §2.2, no arguments
        SioEvent(1, "sio-1", C2S, "unsubscribe_new_tokens", ({"protocols": ["PUMPFUN"]},)),
        # guessing from keys would take this for subscribe_new_tokens and pass it
        SioEvent(2, "sio-1", C2S, "subscribe_everything", ({"protocols": ["PUMPFUN"]},)),
        SioEvent(3, "sio-1", S2C, "price", ({"price": 1.0, "time": 1779812627},)),
    ]
    found = list(validate_tape(dump_tape(tmp_path / "t.jsonl", header(), frames)))
    assert [(v.line, v.pointer, v.rule) for v in found] == [(4, "/name", "family"), (5, "/name", "family")]
    assert "'subscribe_everything' is not a documented PumpData client event" in found[0].message
    assert "'price' is not a documented PumpData server event" in found[1].message
    assert "subscription_error" in found[1].message


async def test_a_served_client_emitting_documented_events_is_not_reported() -> None:
    demo = ROOT / "fixtures" / "demo" / "pumpdata.jsonl"
    async with MockServer([demo], manual=True, port=0) as server:
        client = socketio.AsyncClient()
        await client.connect(server.urls["socketio"], auth={"api_key": "pd_test"})
        assert (await client.call("subscribe_sol_price"))["ok"] is True
        assert (await client.call("unsubscribe_sol_price"))["ok"] is True
        assert (await client.call("unsubscribe_new_tokens", {"protocols": ["PUMPFUN"]}))["ok"] is True
        await client.disconnect()
        assert server.violations == []


def test_strict_json_only() -> None:
    assert decode_json('{"a": 1e-9}') == {"a": 1e-9}
    for text, reason in (
        ('{"price": NaN}', "NaN is not a JSON number"),
        ("[Infinity]", "Infinity is not a JSON number"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("{nope", "Expecting property name"),
    ):
        found = decode_json(text)
        assert isinstance(found, NotJson) and reason in found.reason, text[:20]


def test_bad_json_in_a_tape_is_a_violation_not_a_crash(tmp_path: Path) -> None:
    frames = [
        WsText(0, "ws-1", S2C, '{"solInPool": NaN}'),
        WsText(1, "ws-1", C2S, "[" * 50_000 + "]" * 50_000),
    ]
    found = list(validate_tape(dump_tape(tmp_path / "t.jsonl", header(), frames)))
    assert [(v.line, v.rule) for v in found] == [(2, "json"), (3, "json")]
    assert "NaN is not a JSON number" in found[0].message and "nested too deeply" in found[1].message


def test_non_finite_floats_from_python_are_named() -> None:
    (violation,) = validate({"solPrice": float("nan")})
    assert (violation.pointer, violation.rule) == ("/solPrice", "json")
    candle = [1779812627000, 1.0, float("inf"), 1.0, 1.0, 1.0]
    (violation,) = validate([candle], api="pumpdata", family="ohlcv")
    assert violation.pointer == "/0/2"


def test_python_values_that_are_not_json_are_violations_not_crashes() -> None:
    """A Python caller may hand over bytes or a set (the compiled engine raises on them)."""
    (violation,) = validate(b"{}", api="pumpdata", family="subscribe_ohlcv")
    assert (violation.pointer, violation.rule) == ("", "type")
    (violation,) = validate({"mint": b"So1"}, api="pumpdata", family="subscribe_ohlcv")
    assert (violation.pointer, violation.rule) == ("/mint", "type")
    (violation,) = validate([[1779812627000, 1.0, {1.0}, 1.0, 1.0, 1.0]], api="pumpdata", family="ohlcv")
    assert violation.pointer == "/0/2"


def test_long_values_are_cut_in_violation_messages() -> None:
    (violation,) = validate({"type": "subscribe", "mode": "x" * 100_000})
    assert violation.pointer == "/mode" and len(violation.message) < 300
    assert violation.message.endswith("is not one of ['all', 'mints', 'trades', 'migrations', 'pools']")


def test_a_rest_body_that_is_not_json_is_a_violation_in_tapes_and_recordings(tmp_path: Path) -> None:
    # An HTML page answered 200 on /coins/latest (a proxy, a maintenance page): the body of a
    # documented path is not JSON. The tape says so; the validator's check (the recorder's path)
    # says so too, instead of handing the compiled engine something that is no JSON value.
    from harness.validation import default_validator

    frames = [
        HttpExchange(0, "http-1", HttpRequest("GET", "/coins/latest"), HttpResponse(200, (), b"<html>busy")),
        _http("/trades/latest", [{"signature": "x"}]),
    ]
    found = list(validate_tape(dump_tape(tmp_path / "t.jsonl", header(), frames)))
    assert [(v.line, v.family, v.pointer, v.rule) for v in found] == [
        (2, "coin", "/response/body", "json"),
        (3, "trade", "/response/body", "type"),
    ]
    assert "'<html>busy'" in found[0].message
    (violation,) = default_validator().check(NotJson("<html>", "Expecting value"), "pumpfun", "coin")
    assert (violation.family, violation.rule) == ("coin", "json")


def test_a_corto_message_of_no_documented_kind_says_which_key_is_wrong() -> None:
    def one(message: Any, api: str | None = None) -> tuple[str, str, str]:
        (v,) = validate(message, api=api)
        return v.api, v.pointer, v.message

    assert one({"type": "subscribe_all"}) == (
        "corto",
        "/type",
        "'subscribe_all' is not a documented corto message type"
        " (current_state, ping, subscribe, unsubscribe, pong, service)",
    )
    assert one({"type": "service", "name": "welcome"})[1:] == (
        "/name",
        "'welcome' is not a documented corto service message"
        " (current_state, error, handshake, subscription_ack)",
    )
    assert one({"type": "service"})[1] == "/name"
    assert one({"txType": "swap", "mint": MINT})[1:] == (
        "/txType",
        "'swap' is not a documented corto txType (create, buy, sell, migrate, createPool, add, remove, burn)",
    )
    assert one({"schemaVersion": "trade_v2"})[1] == "/schemaVersion"
    assert one([1, 2], api="corto")[2] == "a corto message is a JSON object, not an array"
    assert "has a type" in one({"hello": 1}, api="corto")[2]
    # nothing says it is corto: the family cannot be told, and the message asks for it
    assert "give its family" in one({"hello": 1})[2]


def test_a_list_of_coins_is_a_coin_list_and_other_objects_a_list_of_messages() -> None:
    coin = {"mint": MINT, "name": "x", "symbol": "X"}
    assert family_of([coin, coin]) == ("pumpfun", "coin_list"), "a /coins answer"
    assert family_of([{"mint": MINT, "created_timestamp": 1}]) == ("pumpfun", "coin_list")
    assert family_of([{"mint": MINT}, {"mint": MINT}]) is None, "PumpData subscriptions, not coins"
    assert family_of([coin, {"signature": "x", "sol_amount": 1}]) is None, "each item is a message"
    assert family_of([coin, MIN]) is None, "a corto create has a mint, a name and a symbol too"
    assert family_of([{"type": "service", "name": "x"}]) is None
    assert family_of([{"signature": "x"}]) == ("pumpfun", "trade_list"), "a broken trade is still a trade"


def test_a_broken_coin_in_a_list_is_named_by_its_index() -> None:
    coins: list[dict[str, Any]] = [
        {"mint": MINT, "name": n, "symbol": n.upper(), "bonding_curve": MINT} for n in "abc"
    ]
    found = validate([*coins, {**coins[0], "mint": "0OIl"}])
    assert [(v.api, v.family, v.pointer, v.rule) for v in found] == [
        ("pumpfun", "coin_list", "/3/mint", "pattern")
    ]
    # a coin that lost its mint is still a coin of the list, and the missing key is named
    lost = {k: v for k, v in coins[0].items() if k != "mint"}
    found = validate([*coins, lost])
    assert [(v.family, v.pointer, v.rule) for v in found] == [("coin_list", "/3/mint", "required")]


def test_the_coin_keys_that_tell_a_coin_are_the_coin_schema_s() -> None:
    # contract §1.3: platform, token_program and mayhem_state, null in every sample, are untyped
    from harness.core.families import PUMPFUN_COIN_KEYS
    from harness.validation import default_validator

    typed = set(default_validator().schema("pumpfun", "coin")["properties"])
    assert PUMPFUN_COIN_KEYS - typed == {"platform", "token_program", "mayhem_state"}
    assert typed <= PUMPFUN_COIN_KEYS


def test_validate_tape_refuses_an_unknown_family_or_api(tmp_path: Path) -> None:
    from harness.validation import UnknownFamily

    path = dump_tape(tmp_path / "t.jsonl", header(), [_ws("ws-1", C2S, {"type": "ping"})])
    with pytest.raises(UnknownFamily, match=r"unknown family 'treade' for corto \(did you mean 'trade'\?"):
        list(validate_tape(path, api="corto", family="treade"))
    with pytest.raises(UnknownFamily, match="'coin' for corto \\(it is a pumpfun family"):
        list(validate_tape(path, api="corto", family="coin"))
    with pytest.raises(UnknownFamily, match="unknown api 'binance'"):
        list(validate_tape(path, api="binance"))


def test_tape_creates_are_held_to_the_create_family_given(tmp_path: Path) -> None:
    frames = [
        _ws("ws-1", C2S, {"type": "subscribe", "mode": "mints", "create": {"detail": "min"}}),
        _ws("ws-1", S2C, MIN),
        _ws("ws-2", C2S, {"type": "subscribe", "mode": "mints"}),
        _ws("ws-2", S2C, FULL),
    ]
    path = dump_tape(tmp_path / "t.jsonl", header(), frames)
    tally = Tally()
    assert list(validate_tape(path, family="create", tally=tally)) == []
    assert tally.messages == {"corto create": 2}
    found = list(validate_tape(path, family="create.min"))
    assert {v.line for v in found} == {5} and {v.rule for v in found} == {"additionalProperties"}
    assert [v.line for v in validate_tape(path, family="create.full")][:1] == [3]


def test_a_binary_websocket_frame_is_a_violation(tmp_path: Path) -> None:
    # contract §3.1: the Data Stream is JSON text frames, as the server tells a client that
    # sends binary; a recording of one is reported the same way.
    from harness.core.frames import WsBinary

    frames = [WsBinary(0, "ws-1", S2C, b"\x00\x01\x02")]
    (violation,) = validate_tape(dump_tape(tmp_path / "t.jsonl", header(), frames))
    assert (violation.line, violation.api, violation.rule) == (2, "corto", "json")
    assert violation.message == (
        "not JSON (a binary frame of 3 bytes: the Data Stream sends JSON text frames)"
    )


async def test_a_lone_surrogate_from_a_client_is_judged_not_fatal() -> None:
    """JSON may escape a lone surrogate ("\\ud800"); the compiled engine cannot take one. The
    served client gets the documented error and stays connected; the tape check names the rule."""
    import websockets

    demo = ROOT / "fixtures" / "demo" / "corto.jsonl"
    async with MockServer([demo], manual=True, port=0) as server:
        async with websockets.connect(server.urls["websocket"]) as ws:
            assert json.loads(await ws.recv())["name"] == "handshake"
            await ws.send('{"type": "subscribe", "mode": "\\ud800"}')
            answer = json.loads(await ws.recv())
            assert answer["name"] == "error" and answer["error"]["details"]["mode"] == "\ud800"
            await ws.send('{"type": "current_state"}')
            assert json.loads(await ws.recv())["name"] == "current_state"
        assert [(v.source, v.pointer, v.rule) for v in server.violations] == [("client", "/mode", "enum")]
    assert [(v.pointer, v.rule) for v in validate({"solPrice": 1, "note": "\ud800"})] == []
    assert [(v.pointer, v.rule) for v in validate({"mint": "\ud800", "name": "x", "symbol": "X"})] == [
        ("/mint", "pattern")
    ]
