"""What a violation report shows of a client's message: cut to an excerpt, and redacted whole
before it is cut (no event loop: the excerpt is a function of the message)."""

from __future__ import annotations

import base64
import json

import pytest

from harness.core.excerpt import EXCERPT_CHARS
from harness.core.families import NotJson
from harness.server.context import excerpt


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


# a JWT longer than an excerpt: cut before redaction, it would no longer look like a JWT
LONG_JWT = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': 'x' * 600})}.{'s' * 43}"
HEADER = LONG_JWT.split(".")[0]


@pytest.mark.parametrize(
    "message",
    [
        {"type": "subscribe", "note": LONG_JWT},
        ["subscribe_ohlcv", {"pool": "p", "memo": LONG_JWT}],
        NotJson("garbage " + LONG_JWT),
        NotJson("x" * 150 + " " + LONG_JWT),  # the token starts inside the excerpt and ends past it
    ],
    ids=["json", "sio-args", "text", "text-at-the-edge"],
)
def test_a_secret_longer_than_the_excerpt_shows_no_part_of_itself(message: object) -> None:
    shown = excerpt(message)
    assert HEADER not in shown and "REDACTED" in shown, shown
    assert len(shown) <= EXCERPT_CHARS + 40


def test_an_excerpt_of_a_long_message_is_cut_and_says_so() -> None:
    shown = excerpt(NotJson("y" * 10_000))
    assert shown.startswith("y" * EXCERPT_CHARS) and shown.endswith("(10000 chars)")
