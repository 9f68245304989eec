"""The PumpPortal session's rules (contract §4), with no event loop: messages in, messages out."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from harness.core import base58
from harness.core.frames import C2S, S2C, WsClose, WsOpen, WsText
from harness.core.pumpportal.config import BadRequest, PumpPortalConfig, TradeAccess
from harness.core.pumpportal.recorded import Event, Observed, Recording, read_feed
from harness.core.pumpportal.requests import ECHO_BYTES
from harness.core.pumpportal.session import (
    ACKS,
    ONE_PER_IP,
    REFUSAL,
    ClientViolation,
    Close,
    SendJson,
    Session,
    api_key,
    connection_refusal,
)

MINT_A = "9U2RvAw8H5XpPVfFt298H7LvBAeFUf9hbBCadBQNpump"
MINT_B = "Dpgmqz9Ra659uptbYzVKsmGhYW1MhW1EbtgXXwaEpump"
MINT_C = "Haz1tCWsEAnQEeGHfrm9JCcEnS9gPi6B2XHprSPGpump"
WALLET = "HCD9JhZnrrCeuZ3iKWK7PEpjBwfiGkDDkrg643hBYZym"
OTHER = "AgK5qZJ9BJs6USCHt5CaoNxc6xTe3uGzTgueLtQZxE3G"
KEYED = "/api/data?api-key=secret"


def session(url: str = KEYED, observed: Observed | None = None, **config: Any) -> Session:
    return Session(PumpPortalConfig(**config), observed or Observed(), url)


def send(s: Session, message: Any) -> list[Any]:
    return s.receive_text(message if isinstance(message, str) else json.dumps(message), 0.0)


def said(outputs: list[Any]) -> list[Any]:
    return [o.message for o in outputs if isinstance(o, SendJson)]


def violations(outputs: list[Any]) -> list[tuple[str, str]]:
    return [(o.pointer, o.rule) for o in outputs if isinstance(o, ClientViolation)]


def trade(mint: str, trader: str = OTHER) -> Event:
    return Event("{}", "trade", mint, trader, "trade")


CREATE = Event("{}", "create", MINT_C, WALLET, "create.pump")
MIGRATE = Event("{}", "migrate", MINT_A, "", "migrate")


def test_subscriptions_are_acked_with_the_documented_texts() -> None:
    s = session()
    assert said(send(s, {"method": "subscribeNewToken"})) == [
        {"message": "Successfully subscribed to token creation events."}
    ]
    assert said(send(s, {"method": "subscribeMigration"})) == [
        {"message": "Subscribed to 'migration' events."}
    ]
    for method, keys in (("subscribeTokenTrade", [MINT_A]), ("subscribeAccountTrade", [WALLET])):
        assert said(send(s, {"method": method, "keys": keys})) == [{"message": ACKS[method]}]
    assert s.new_tokens and s.migrations and s.mints == {MINT_A} and s.wallets == {WALLET}


def test_filters_select_by_kind_mint_and_trader() -> None:
    s = session()
    assert not s.subscribed and not any(s.selects(e) for e in (CREATE, MIGRATE, trade(MINT_A)))
    send(s, {"method": "subscribeTokenTrade", "keys": [MINT_A, MINT_B]})
    assert s.selects(trade(MINT_A)) and s.selects(trade(MINT_B)) and not s.selects(trade(MINT_C))
    assert not s.selects(CREATE) and not s.selects(MIGRATE)  # trades only
    send(s, {"method": "subscribeAccountTrade", "keys": [WALLET]})
    assert s.selects(trade(MINT_C, trader=WALLET)) and not s.selects(trade(MINT_C))
    send(s, {"method": "subscribeNewToken"})
    assert s.selects(CREATE) and not s.selects(MIGRATE)
    send(s, {"method": "subscribeMigration"})
    assert s.selects(MIGRATE)


def test_unsubscribe_undoes_each_subscription() -> None:
    s = session()
    for message in (
        {"method": "subscribeNewToken"},
        {"method": "subscribeMigration"},
        {"method": "subscribeTokenTrade", "keys": [MINT_A, MINT_B]},
        {"method": "subscribeAccountTrade", "keys": [WALLET]},
    ):
        send(s, message)
    assert said(send(s, {"method": "unsubscribeTokenTrade", "keys": [MINT_A]})) == [
        {"message": "Unsubscribed from keys."}
    ]
    assert s.mints == {MINT_B} and not s.selects(trade(MINT_A)) and s.selects(trade(MINT_B))
    send(s, {"method": "unsubscribeAccountTrade", "keys": [WALLET]})
    send(s, {"method": "unsubscribeNewToken"})
    send(s, {"method": "unsubscribeMigration"})
    send(s, {"method": "unsubscribeTokenTrade", "keys": [MINT_B]})
    assert not s.subscribed


@pytest.mark.parametrize("url", ["/api/data", "/api/data?api-key=", "/api/data?apikey=secret"])
def test_trade_subscriptions_need_a_funded_key(url: str) -> None:
    s = session(url)
    for method, keys in (("subscribeTokenTrade", [MINT_A]), ("subscribeAccountTrade", [WALLET])):
        out = send(s, {"method": method, "keys": keys})
        assert said(out) == [{"message": REFUSAL}] and violations(out) == []
    assert REFUSAL.endswith("only available when connecting with an API key funded with at least 0.02 SOL.")
    assert not s.subscribed
    assert said(send(s, {"method": "subscribeNewToken"})) == [{"message": ACKS["subscribeNewToken"]}]


def test_which_keys_are_funded_is_configurable() -> None:
    ask = {"method": "subscribeTokenTrade", "keys": [MINT_A]}
    assert said(send(session("/api/data", trade_access=TradeAccess.OPEN), ask)) == [
        {"message": ACKS["subscribeTokenTrade"]}
    ]
    assert said(send(session(trade_access=TradeAccess.CLOSED), ask)) == [{"message": REFUSAL}]
    funded = frozenset({"good"})
    assert session("/api/data?api-key=good", funded_keys=funded).funded
    assert not session("/api/data?api-key=other", funded_keys=funded).funded
    assert api_key("wss://pumpportal.fun/api/data?x=1&api-key=k%20y") == "k y"


def test_a_recording_s_words_win() -> None:
    observed = Observed(acks={"subscribeTokenTrade": "Subscribed to keys."}, refusal="Fund your key.")
    s = session(observed=observed)
    assert said(send(s, {"method": "subscribeTokenTrade", "keys": [MINT_A]})) == [
        {"message": "Subscribed to keys."}
    ]
    assert said(
        send(session("/api/data", observed), {"method": "subscribeAccountTrade", "keys": [WALLET]})
    ) == [{"message": "Fund your key."}]


@pytest.mark.parametrize(
    ("message", "pointer", "rule", "words"),
    [
        ("{not json", "", "json", "not JSON"),
        ("NaN", "", "json", "not JSON"),
        ([1, 2], "", "type", "not an array"),
        ({"keys": [MINT_A]}, "/method", "required", "a request has a method"),
        ({"method": "subscribeEverything"}, "/method", "enum", "unknown method subscribeEverything"),
        ({"method": 7}, "/method", "enum", "unknown method 7"),
        ({"method": "subscribeTokenTrade"}, "/keys", "required", "takes keys: an array of mint addresses"),
        ({"method": "subscribeAccountTrade", "keys": WALLET}, "/keys", "type", "not a string"),
        ({"method": "subscribeTokenTrade", "keys": []}, "/keys", "minItems", "keys is empty"),
        ({"method": "subscribeTokenTrade", "keys": [MINT_A, 5, "x"]}, "/keys/1", "pattern", "2 of 3 keys"),
    ],
)
def test_bad_requests_get_a_clear_answer_and_one_violation(
    message: Any, pointer: str, rule: str, words: str
) -> None:
    s = session()
    out = send(s, message)
    assert violations(out) == [(pointer, rule)]
    (answer,) = said(out)
    assert list(answer) == ["errors"] and words in answer["errors"], answer
    assert not s.subscribed


def test_the_answer_to_a_bad_request_is_configurable() -> None:
    ask = {"method": "nope"}
    assert list(said(send(session(bad_request=BadRequest.MESSAGE), ask))[0]) == ["message"]
    out = send(session(bad_request=BadRequest.IGNORE), ask)
    assert said(out) == [] and violations(out) == [("/method", "enum")]


def test_huge_key_lists_cost_one_bounded_answer() -> None:
    s = session(max_keys=1000)
    out = send(s, {"method": "subscribeTokenTrade", "keys": ["x" * 50] * 100_000})
    assert violations(out) == [("/keys", "maxItems")]
    assert "100000 items; at most 1000" in said(out)[0]["errors"]
    bad = ["y" * 10_000, *([7] * 999)]
    out = send(s, {"method": "subscribeTokenTrade", "keys": bad})
    (answer,) = said(out)
    assert violations(out) == [("/keys/0", "pattern")] and "1000 of 1000 keys" in answer["errors"]
    assert len(answer["errors"].encode()) < 2 * ECHO_BYTES  # the echo is cut
    unknown = send(s, {"method": "m" * 100_000})
    assert len(said(unknown)[0]["errors"]) < 2 * ECHO_BYTES + 300


def test_a_connection_holds_a_bounded_number_of_keys() -> None:
    s = session(max_keys=2)
    send(s, {"method": "subscribeTokenTrade", "keys": [MINT_A, MINT_B]})
    out = send(s, {"method": "subscribeTokenTrade", "keys": [MINT_C]})
    assert violations(out) == [("/keys", "maxItems")] and s.mints == {MINT_A, MINT_B}
    assert "holds at most 2 mints" in said(out)[0]["errors"]
    assert said(send(s, {"method": "subscribeTokenTrade", "keys": [MINT_A]})) == [
        {"message": ACKS["subscribeTokenTrade"]}
    ]  # a key already held costs nothing


def test_binary_frames_are_refused_in_words() -> None:
    out = session().receive_binary(b"\x00\x01", 0.0)
    assert violations(out) == [("", "json")] and "binary frame of 2 bytes" in said(out)[0]["errors"]


def test_a_second_connection_from_one_address_is_closed() -> None:
    config = PumpPortalConfig()
    assert connection_refusal(config, "10.0.0.1", ["10.0.0.2"]) is None
    assert connection_refusal(config, "10.0.0.1", ["10.0.0.1"]) == ONE_PER_IP
    assert (
        isinstance(ONE_PER_IP, Close) and ONE_PER_IP.code == 1008 and len(ONE_PER_IP.reason.encode()) <= 123
    )
    many = PumpPortalConfig(one_connection_per_ip=False)
    assert connection_refusal(many, "10.0.0.1", ["10.0.0.1"]) is None


def test_a_tape_s_events_and_words_are_read() -> None:
    key = base58.encode(bytes(range(32)))
    recording = Recording()
    frames = [
        WsOpen(0.0, "c1", "/api/data"),
        WsText(0.1, "c1", C2S, '{"method":"subscribeMigration"}'),
        WsText(0.2, "c1", S2C, '{"message":"Subscribed to migrations."}'),
        WsText(0.3, "c1", C2S, json.dumps({"method": "subscribeTokenTrade", "keys": [key]})),
        WsText(0.4, "c1", S2C, '{"message":"Only with an API key funded with at least 0.02 SOL."}'),
        WsText(0.5, "c1", S2C, json.dumps({"txType": "sell", "mint": key, "traderPublicKey": WALLET})),
        WsText(0.6, "c1", S2C, json.dumps({"txType": "create", "mint": key, "pool": "bonk"})),
        WsText(0.7, "c1", S2C, "{broken"),
        WsClose(0.8, "c1", S2C, 1000, ""),
    ]
    events = [e for e in map(recording.receive, frames) if e is not None]
    assert [(e.kind, e.mint, e.trader, e.family) for e in events] == [
        ("trade", key, WALLET, "trade"),
        ("create", key, "", "create.bonk"),
    ]
    observed = recording.observed()
    assert observed.acks == {"subscribeMigration": "Subscribed to migrations."}
    assert observed.refusal == "Only with an API key funded with at least 0.02 SOL."
    # the same events recorded on two connections are one feed
    again = [dataclasses.replace(f, conn="c2", t=f.t + 1) for f in frames]
    feed, _ = read_feed([*frames, *again])
    assert [(t, e.kind) for t, e in feed] == [(0.5, "trade"), (0.6, "create")]
