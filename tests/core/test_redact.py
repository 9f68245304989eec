"""Redaction rules on concrete frames: what is kept, what becomes a placeholder."""

from __future__ import annotations

import json

import pytest

from harness.core.frames import (
    C2S,
    S2C,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    Recorded,
    SioConnect,
    WsBinary,
    WsText,
)
from harness.core.redact import PLACEHOLDER, RedactionRules, Redactor

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
