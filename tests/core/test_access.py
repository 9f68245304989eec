"""The control plane's rules, without a server: hosts, origins, content type, token."""

from __future__ import annotations

import pytest

from harness.cli.serve import beyond_loopback_warning
from harness.core.access import ControlAccess, host_name, is_loopback, origin_allowed, url_host
from harness.server.listening import service_urls


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("localhost:8765", "localhost"),
        ("LocalHost.", "localhost"),
        ("[::1]:8765", "::1"),
        ("[::1]", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("evil.example:80", "evil.example"),
        ("::1", "::1"),
    ],
)
def test_host_name(value: str, name: str) -> None:
    assert host_name(value) == name


@pytest.mark.parametrize(
    ("name", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("localhost.evil.example", False),
        ("", False),
    ],
)
def test_is_loopback(name: str, loopback: bool) -> None:
    assert is_loopback(name) is loopback


def test_origins() -> None:
    assert origin_allowed("http://localhost:3000") and origin_allowed("https://127.0.0.1")
    assert not origin_allowed("https://evil.example") and not origin_allowed("null")
    assert origin_allowed("https://app.example", ("https://app.example",))
    assert origin_allowed("https://any.example", ("*",))


def test_check_order_and_statuses() -> None:
    access = ControlAccess("127.0.0.1", ("ci.internal",), token="t")
    assert access.check("GET", "evil.example", "", None).status == 403  # type: ignore[union-attr]
    assert access.check("GET", None, "", None).status == 403  # type: ignore[union-attr]
    assert access.check("GET", "ci.internal:8765", "", None) is None
    assert access.check("POST", "localhost", "text/plain", "t").status == 415  # type: ignore[union-attr]
    assert access.check("POST", "localhost", "application/json", None).status == 401  # type: ignore[union-attr]
    assert access.check("POST", "localhost", "application/json", "t") is None
    assert access.check("POST", "localhost", "", None, changes_state=False) is None
    assert "token='t'" not in repr(access)


def test_a_wildcard_listening_address_is_no_allowed_host_but_a_named_one_is() -> None:
    assert not ControlAccess("0.0.0.0").host_allowed("0.0.0.0")
    assert ControlAccess("192.168.1.20").host_allowed("192.168.1.20")


def test_urls_of_a_wildcard_listener_are_usable() -> None:
    assert service_urls("0.0.0.0", 8765)["rest"] == "http://127.0.0.1:8765"
    assert service_urls("::", 8765)["websocket"] == "ws://[::1]:8765/data-stream"
    assert service_urls("::1", 8765, control=True)["control"] == "http://[::1]:8765/_harness"
    assert url_host("192.168.1.20") == "192.168.1.20"


def test_listening_beyond_loopback_is_warned() -> None:
    for host in ("0.0.0.0", "::", "192.168.1.20"):
        warning = beyond_loopback_warning("serve", host)
        assert warning is not None and "--control-token" in warning and host in warning
    for host in ("127.0.0.1", "localhost", "::1"):
        assert beyond_loopback_warning("serve", host) is None
