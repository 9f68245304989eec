"""Redaction rules on concrete frames: what is kept, what becomes a placeholder."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core import base58
from harness.core.frames import (
    C2S,
    S2C,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    Recorded,
    SioConnect,
    SioEvent,
    WsBinary,
    WsText,
)
from harness.core.redact import PLACEHOLDER, RedactionRules, Redactor, shown

R = Redactor(RedactionRules(), b"key")


def test_authorization_keeps_its_scheme() -> None:
    ((name, value),) = R.headers((("Authorization", "Bearer eyJabc.def"),))
    assert name == "Authorization"
    assert value.startswith("Bearer REDACTED-")
    assert PLACEHOLDER.fullmatch(value.split()[1])


def test_cookie_names_kept_values_replaced_set_cookie_attributes_kept() -> None:
    (_, cookie), (_, set_cookie) = R.headers(
        (("Cookie", "a=1; b=2"), ("Set-Cookie", "sid=abc; Path=/; Max-Age=10"))
    )
    assert cookie.startswith("a=REDACTED-") and "; b=REDACTED-" in cookie
    assert set_cookie.startswith("sid=REDACTED-") and set_cookie.endswith("; Path=/; Max-Age=10")


def test_a_bare_cookie_value_is_redacted_too() -> None:
    ((_, cookie),) = R.headers((("Cookie", "s3cr3tvalue; theme=dark"),))
    assert "s3cr3tvalue" not in cookie and PLACEHOLDER.fullmatch(cookie.split(";")[0])
    assert R.headers((("Cookie", cookie),)) == (("Cookie", cookie),)


def test_query_parameters_case_insensitive_others_untouched() -> None:
    url = R.url("https://api.pumpdata.fun/x?API_KEY=pd_1&limit=10&token=t")
    assert "pd_1" not in url and "=t" not in url
    assert "limit=10" in url


def test_userinfo_password_is_redacted() -> None:
    assert "hunter2" not in R.url("wss://me:hunter2@corto.fun/data-stream")


def test_sio_auth_values_all_redacted_structure_kept() -> None:
    frame = R.frame(SioConnect(t=0, conn="s", auth={"api_key": "pd_x", "extra": {"n": 5, "ok": True}}))
    assert isinstance(frame, SioConnect)
    assert frame.auth["extra"]["ok"] is True
    assert PLACEHOLDER.fullmatch(frame.auth["api_key"])
    assert PLACEHOLDER.fullmatch(frame.auth["extra"]["n"])


def test_json_text_untouched_without_secret_keys_byte_for_byte() -> None:
    text = '{"price": 4e-9, "amount":1.0}'
    assert R.frame(WsText(t=0, conn="w", direction=C2S, data=text)) == WsText(
        t=0, conn="w", direction=C2S, data=text
    )


def test_user_rules_json_keys_headers_patterns() -> None:
    r = Redactor(
        RedactionRules.with_extra(headers=["X-Private"], json_keys=["secret"], patterns=[r"sk_\w+"]),
        b"k",
    )
    frame = r.frame(
        HttpExchange(
            t=0,
            conn="h",
            request=HttpRequest("POST", "/x", (("X-Private", "v"),), b'{"secret": "s1", "other": "sk_abc1"}'),
            response=HttpResponse(200, (), b"token sk_zzz here"),
        )
    )
    assert isinstance(frame, HttpExchange)
    body = json.loads(frame.request.body)
    assert PLACEHOLDER.fullmatch(body["secret"]) and PLACEHOLDER.fullmatch(body["other"])
    assert frame.response.body.startswith(b"token REDACTED-") and frame.response.body.endswith(b" here")
    assert PLACEHOLDER.fullmatch(frame.request.headers[0][1])


def test_patterns_never_eat_placeholders() -> None:
    r = Redactor(RedactionRules.with_extra(patterns=[r"[0-9a-f]{4}"]), b"k")
    once = r.text("id beef and REDACTED-0123456789abcdef")
    assert once.endswith("REDACTED-0123456789abcdef")
    assert r.text(once) == once


def test_placeholders_depend_on_the_key() -> None:
    assert Redactor(RedactionRules(), b"a").placeholder("s") != Redactor(RedactionRules(), b"b").placeholder(
        "s"
    )


def test_bad_pattern_and_empty_key_are_refused() -> None:
    with pytest.raises(ValueError, match="bad redaction pattern"):
        RedactionRules.with_extra(patterns=["("])
    with pytest.raises(ValueError, match="must not be empty"):
        Redactor(RedactionRules(), b"")
    for pattern in ("", "x*", "a?|b"):
        with pytest.raises(ValueError, match="matches the empty string"):
            RedactionRules.with_extra(patterns=[pattern])


def test_patterns_reach_binary_messages_and_bodies() -> None:
    r = Redactor(RedactionRules.with_extra(json_keys=["pw"], patterns=[r"sk_\w+"]), b"k")
    binary = b"\x00\xff\x81 sk_live123 \xfe"
    frame = r.frame(WsBinary(t=0, conn="w", direction=S2C, data=binary))
    assert isinstance(frame, WsBinary)
    assert b"sk_live123" not in frame.data
    assert frame.data.startswith(b"\x00\xff\x81 REDACTED-") and frame.data.endswith(b" \xfe")
    assert r.frame(frame) == frame
    utf8 = r.frame(WsBinary(t=0, conn="w", direction=S2C, data=b'{"pw": "hunter2"}'))
    assert isinstance(utf8, WsBinary) and b"hunter2" not in utf8.data
    exchange = r.frame(
        HttpExchange(t=0, conn="h", request=HttpRequest("GET", "/"), response=HttpResponse(200, (), binary))
    )
    assert isinstance(exchange, HttpExchange) and b"sk_live123" not in exchange.response.body
    # Nothing to redact: binary data is kept byte for byte.
    assert R.frame(WsBinary(t=0, conn="w", direction=S2C, data=binary)).data == binary  # type: ignore[union-attr]


def test_describe_lists_rules_without_quoting_patterns() -> None:
    rules = RedactionRules.with_extra(json_keys=["pw"], patterns=["secretvalue"])
    described = rules.describe()
    assert "header:authorization" in described and "query:apikey" in described
    assert "sio-auth:*" in described and "json-key:pw" in described and "patterns:1" in described
    assert not any("secretvalue" in d for d in described)


def test_recorded_upstreams_label_and_extra_are_redacted() -> None:
    r = Redactor(RedactionRules.with_extra(json_keys=["auth"], patterns=[r"pd_\w+"]), b"k")
    rec = r.recorded(
        Recorded(
            upstreams=(("sio", "https://api.pumpdata.fun/?api_key=pd_x"),),
            label="key pd_secret1",
            extra=(("options", {"auth": "pd_2", "interval": 5}),),
        )
    )
    assert "pd_x" not in rec.upstreams[0][1]
    assert "pd_secret1" not in rec.label and rec.label.startswith("key REDACTED-")
    assert rec.extra[0][1]["interval"] == 5 and PLACEHOLDER.fullmatch(rec.extra[0][1]["auth"])


# --- safe by default: every secret kind of docs/reference/redaction.md ---------------------------------

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJ1c2VyLTQyIiwiaWF0IjoxNzAwMDAwMDAwfQ"
    ".c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1oZXJl"
)
SIGNATURE = "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW"
MINT = "Haz1tCWsEAnQEeGHfrm9JCcEnS9gPi6B2XHprSPGpump"
WALLET = "7SxsVUyJ5GMBvZEHU51XXz7NtgZqgUXsUuwjSebpAjUj"


def keypair_bytes(seed: bytes) -> bytes:
    from nacl.bindings import crypto_sign_seed_keypair

    public, secret = crypto_sign_seed_keypair(seed)
    assert secret == seed + public
    return secret


def signature_bytes(seed: bytes, message: bytes) -> bytes:
    from nacl.bindings import crypto_sign

    return crypto_sign(message, keypair_bytes(seed))[:64]


def ws(data: str) -> WsText:
    return WsText(t=0, conn="w", direction=C2S, data=data)


def redacted_text(data: str, rules: RedactionRules | None = None) -> str:
    frame = Redactor(rules or RedactionRules(), b"k").frame(ws(data))
    assert isinstance(frame, WsText)
    return frame.data


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "passwd",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "api_key",
        "apiKey",
        "apikey",
        "API_KEY",
        "api-key",
        "private_key",
        "privateKey",
        "secretKey",
        "auth",
        "authorization",
        "client_secret",
        "session",
        "cookie",
        "Session-Id",
        "mnemonic",
    ],
)
def test_secret_json_keys_at_any_depth_whatever_case_and_separators(key: str) -> None:
    data = json.dumps({"type": "login", "user": {"name": "ann", "creds": [{key: "s3cr3t-V4lue"}]}})
    out = redacted_text(data)
    assert "s3cr3t-V4lue" not in out
    decoded = json.loads(out)
    assert decoded["user"]["name"] == "ann" and decoded["type"] == "login"
    assert PLACEHOLDER.fullmatch(decoded["user"]["creds"][0][key])


def test_public_fields_are_kept_byte_for_byte_signatures_mints_wallets() -> None:
    text = json.dumps(
        {"signature": SIGNATURE, "mint": MINT, "user": WALLET, "tokenAmount": 5, "keys": [MINT]}
    )
    assert redacted_text(text) == text


def test_demo_tapes_have_nothing_to_redact() -> None:
    from harness.resources import shipped
    from harness.store import TapeReader, find_tapes

    for path in find_tapes([shipped("fixtures/demo")]):
        redactor = Redactor(RedactionRules(), b"k")
        with TapeReader(path) as reader:
            for frame in reader:
                assert redactor.frame(frame) == frame, (path, frame)
        assert not redactor.counts, (path, redactor.counts)


def test_form_encoded_bodies_by_the_same_names() -> None:
    body = b"grant_type=password&username=ann&password=hunter%212&client_secret=cs-9&scope=read"
    frame = R.frame(
        HttpExchange(
            t=0, conn="h", request=HttpRequest("POST", "/oauth/token", (), body), response=HttpResponse(200)
        )
    )
    assert isinstance(frame, HttpExchange)
    out = frame.request.body.decode()
    assert "hunter" not in out and "cs-9" not in out
    assert out.startswith("grant_type=password&username=ann&password=REDACTED-") and out.endswith(
        "&scope=read"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Session-Token", JWT),
        ("X-Refresh-Token", "rt-123"),
        ("X-Api-Key", "k-1"),
        ("X-Client-Secret", "cs"),
        ("Proxy-Authorization", "Basic dXNlcjpwdw=="),
        ("X-Auth", "a-1"),
        ("X-Session", "s-1"),
        ("Cookie2", "c=1"),
    ],
)
def test_headers_whose_name_says_secret(name: str, value: str) -> None:
    ((_, out),) = R.headers(((name, value),))
    assert value not in out and "REDACTED-" in out


def test_other_headers_and_challenges_are_kept() -> None:
    headers = (
        ("Content-Type", "application/json"),
        ("x-ratelimit-remaining", "9"),
        ("WWW-Authenticate", "Bearer"),
    )
    assert R.headers(headers) == headers


def test_jwts_anywhere_but_not_other_dotted_text() -> None:
    out = redacted_text(json.dumps({"note": f"use {JWT} here", "version": "eyJ.not.a.jwt"}))
    assert JWT not in out and "use REDACTED-" in out and "eyJ.not.a.jwt" in out
    assert JWT not in R.text(f"Bearer {JWT}")
    ((_, header),) = R.headers((("X-Trace", f"jwt={JWT}"),))
    assert JWT not in header
    not_a_jwt = "eyJmb28iOiJiYXIifQ.eyJ4IjoxfQ.c2ln"  # a header without "alg"
    assert R.text(not_a_jwt) == not_a_jwt


@pytest.mark.parametrize(
    "param", ["access_token", "auth", "key", "secret", "password", "api_key", "token", "apiKey"]
)
def test_secret_query_parameters_in_urls_and_in_any_text(param: str) -> None:
    url = R.url(f"https://h/x?limit=5&{param}=S3cr3tQ")
    assert "S3cr3tQ" not in url and "limit=5" in url
    message = R.text(f"GET /coins?{param}=S3cr3tQ&limit=5 failed")
    assert "S3cr3tQ" not in message and message.endswith("&limit=5 failed")


def test_url_credentials_wherever_a_url_is_written() -> None:
    text = "upstream http://user:PassW0rd@127.0.0.1:9/?api_key=K3y: refused"
    out = R.text(text)
    assert "PassW0rd" not in out and "K3y" not in out and "http://user:REDACTED-" in out
    assert "tok3n" not in R.url("https://tok3n@host/path")
    assert shown(text) == "upstream http://user:REDACTED@127.0.0.1:9/?api_key=REDACTED: refused"


def test_a_jwt_percent_encoded_in_a_query_value_is_redacted() -> None:
    out = R.url(f"/x?note=Bearer%20{JWT}&limit=5")
    assert JWT not in out and out.startswith("/x?note=Bearer%20REDACTED-") and out.endswith("&limit=5")


@pytest.mark.parametrize("depth", [150, 5_000, 100_000])
def test_a_message_nested_deeper_than_is_searched_is_redacted_not_a_crash(depth: int) -> None:
    """A hostile client's deep nesting costs a bounded walk and no RecursionError; the secret next
    to it is redacted, and what is nested too deep goes whole (it was not searched)."""
    text = '{"password":"pw-Deep-1","a":' + "[" * depth + '"pw-Deep-2"' + "]" * depth + "}"
    redactor = Redactor(RedactionRules(), b"k")
    for out in (redactor.json_text(text), redactor.body(text.encode()).decode()):
        assert "pw-Deep" not in out
    deep: object = "pw-Deep-3"
    for _ in range(depth if depth < 50_000 else 5_000):
        deep = [deep]
    frame = redactor.frame(SioEvent(t=0, conn="s", direction=C2S, name="e", args=({"token": "t"}, deep)))
    assert "pw-Deep" not in str(frame) and redactor.counts["json-too-deep"] >= 3
    assert redactor.frame(frame) == frame


def test_solana_keypairs_as_arrays_and_base58_are_always_redacted() -> None:
    secret = keypair_bytes(bytes(range(32)))
    array_text = json.dumps({"wallet": WALLET, "keypair": list(secret)})
    assert "REDACTED-" in redacted_text(array_text) and str(list(secret))[1:-1] not in redacted_text(
        array_text
    )
    b58 = base58.encode(secret)
    assert b58 not in redacted_text(json.dumps({"exported": b58, "mint": MINT}))
    assert b58 not in R.text(f"key: {b58}.")
    frame = R.frame(SioEvent(t=0, conn="s", direction=C2S, name="import", args=(list(secret), b58)))
    assert isinstance(frame, SioEvent)
    assert all(isinstance(arg, str) and PLACEHOLDER.fullmatch(arg) for arg in frame.args)
    # both forms of one keypair give one placeholder
    assert frame.args[0] == frame.args[1]
    with pytest.raises(ValueError, match="always redacted"):
        RedactionRules.with_extra(keep=["solana-keypair"])


def test_a_keypair_array_inside_a_json_string_leaves_the_message_json() -> None:
    secret = keypair_bytes(b"\x03" * 32)
    array = json.dumps(list(secret))
    for message in (
        {"note": f"my key {array}", "n": 1.50},
        {"keypair": list(secret)},
        [[1, 2], list(secret)],
    ):
        text = json.dumps(message)
        for out in (R.json_text(text), R.body(text.encode()).decode(), redacted_text(text)):
            assert array[1:40] not in out and "REDACTED-" in out
            json.loads(out)  # still JSON: a replay sends what a client can parse
    assert R.text(f"key {array}.").startswith("key REDACTED-")


def test_a_signature_of_the_same_length_is_kept() -> None:
    signature = base58.encode(signature_bytes(bytes(range(32)), b"a transaction"))
    text = json.dumps({"signature": signature, "list": list(signature_bytes(b"\x01" * 32, b"m"))})
    assert redacted_text(text) == text


@given(st.binary(min_size=32, max_size=32), st.binary(max_size=64))
@settings(max_examples=60, deadline=None)
def test_keypairs_always_redacted_signatures_never(seed: bytes, message: bytes) -> None:
    redactor = Redactor(RedactionRules(), b"k")
    keypair, signature = keypair_bytes(seed), signature_bytes(seed, message)
    for data in (keypair, signature):
        text = json.dumps({"b58": base58.encode(data), "array": list(data)})
        out = redactor.json_text(text)
        assert (out == text) is (data is signature)
        assert redactor.json(list(data)) == (
            list(data) if data is signature else redactor.json(list(keypair))
        )


@given(st.binary(min_size=32, max_size=32), st.binary(max_size=64))
@settings(max_examples=30, deadline=None)
def test_a_keypair_among_other_words_is_redacted_in_every_kind_of_text(seed: bytes, message: bytes) -> None:
    """Not only a keypair that is a whole JSON string: one in a sentence, at the start or end of a
    text, in a WebSocket message, an HTTP body or a URL's query (percent-encoded), as a user pastes it; a signature there stays."""
    redactor = Redactor(RedactionRules(), b"k")
    keypair = base58.encode(keypair_bytes(seed))
    signature = base58.encode(signature_bytes(seed, message))
    texts = (
        '{{"note":"my wallet {} thanks","mint":"' + MINT + '"}}',
        "{} is the key I use, and here is some more text after it",
        "the key I use is {}",
        "[{}]",
    )
    for template in texts:
        for value in (keypair, signature):
            text = template.format(value)
            outs = (
                redactor.json_text(text),
                redactor.text(text),
                redactor.body(text.encode()).decode(),
                redactor.url(f"/wallets?note={quote(text)}"),
            )
            frame = redactor.frame(ws(text))
            assert isinstance(frame, WsText)
            for out in (*outs, frame.data):
                assert (value in out) is (value == signature), (template, out)


def test_a_keypair_is_found_as_a_word_of_its_own_only() -> None:
    """Next to any character that is not base58 (Unicode too) a keypair is a word and goes; glued to
    base58 characters it is part of a longer word, which is no keypair."""
    keypair = base58.encode(keypair_bytes(b"\x07" * 32))
    for text in (f"é{keypair}…", f"0{keypair}0", f"{keypair} {keypair}", f"日本:{keypair}"):
        out = R.text(text)
        assert keypair not in out and out.count("REDACTED-") == text.count(keypair), text
    for text in (f"a{keypair}", f"{keypair}{keypair}", f"{keypair}z"):
        assert R.text(text) == text


def test_every_default_is_kept_by_name_but_the_keypair() -> None:
    def kept(*names: str) -> Redactor:
        return Redactor(RedactionRules.with_extra(keep=names), b"k")

    out = kept("session").json({"session": "s", "sessionId": "i"})
    assert isinstance(out, dict) and out["session"] == "s" and PLACEHOLDER.fullmatch(out["sessionId"])
    assert kept("json-key:session").json({"Session": "s"}) == {"Session": "s"}
    assert kept("x-session-id").headers((("X-Session-Id", "1"),)) == (("X-Session-Id", "1"),)
    assert kept("header-word:key").headers((("X-Idempotency-Key", "1"),)) == (("X-Idempotency-Key", "1"),)
    assert kept("header:cookie").headers((("Cookie", "a=1"),)) == (("Cookie", "a=1"),)
    assert kept("key").url("/x?key=1") == "/x?key=1"
    assert kept("jwt").text(JWT) == JWT
    assert kept("url-credentials").text("http://u:p@h/") == "http://u:p@h/"
    connect = SioConnect(t=0, conn="s", auth={"api_key": "pd_1", "client": "x"})
    assert kept("sio-auth:*").frame(connect) == SioConnect(
        t=0,
        conn="s",
        auth={"api_key": R.placeholder("pd_1") and kept("sio-auth").placeholder("pd_1"), "client": "x"},
    )
    for bad in ("price", "json-key:price", "bogus:x"):
        with pytest.raises(ValueError, match="cannot keep"):
            RedactionRules.with_extra(keep=[bad])
    rules = RedactionRules.with_extra(keep=["session", "jwt"])
    assert "jwt" not in rules.describe() and "keep:session" in rules.describe()
    assert "solana-keypair" in rules.describe()


def test_counts_per_rule_never_values() -> None:
    redactor = Redactor(RedactionRules(), b"k")
    redactor.frame(ws(json.dumps({"apiKey": "a", "nested": {"password": "b"}, "t": JWT})))
    redactor.url("/x?access_token=c")
    assert redactor.counts == {"json-key:apikey": 1, "json-key:password": 1, "jwt": 1, "query:accesstoken": 1}
    again = Redactor(RedactionRules(), b"k")
    again.frame(redactor.frame(ws(json.dumps({"apiKey": "a"}))))
    assert again.counts == {}  # placeholders are not counted twice


def test_masking_redactor_for_consoles() -> None:
    assert Redactor.masking().url("http://u:pw@h/?token=t&x=1") == "http://u:REDACTED@h/?token=REDACTED&x=1"
