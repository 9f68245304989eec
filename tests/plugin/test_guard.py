"""The network guard of record mode ``none``: loopback passes, any other host fails the test and is
named; opting out is one marker keyword. Nothing here reaches a network: refused attempts never
leave the process, and allowed ones use non-blocking sockets to a documentation address."""

from __future__ import annotations

import _socket
import socket
from typing import Any

import pytest

from harness.plugin.guard import NetworkBlocked, NetworkGuard, is_loopback
from tests.helpers import ROOT
from tests.plugin.inner import project

GUARDED = """
import socket

import pytest
import requests


def test_names_the_host(harness_server):
    requests.get("https://api.example.invalid/coins", timeout=5)


def test_names_an_address(harness_server):
    with socket.socket() as sock:
        sock.connect(("192.0.2.7", 443))


def test_loopback_passes(harness_server):
    assert requests.get(harness_server.urls["rest"] + "/sol-price", timeout=5).status_code == 200
    rest = harness_server.urls["rest"].replace("127.0.0.1", "localhost")
    assert requests.get(rest + "/sol-price", timeout=5).status_code == 200


def test_a_swallowed_refusal_still_fails(harness_server):
    try:
        requests.get("http://swallowed.example.invalid/", timeout=5)
    except Exception:
        pass  # a client that retries or logs and goes on


def _try(address):
    with socket.socket() as sock:
        sock.setblocking(False)  # never waits for the (absent) network
        return sock.connect_ex(address)


@pytest.mark.harness(allow_hosts=["192.0.2.7"])
def test_allowed_host(harness_server):
    _try(("192.0.2.7", 9))


@pytest.mark.harness(allow_network=True)
def test_allowed_network(harness_server):
    _try(("192.0.2.8", 9))


@pytest.mark.harness(record_mode="new_episodes", tape="corto.jsonl")
def test_not_in_other_modes(harness_server):
    _try(("192.0.2.9", 9))
"""


def test_the_guard_in_a_suite(pytester: pytest.Pytester) -> None:
    (pytester.path / "corto.jsonl").write_bytes((ROOT / "fixtures" / "demo" / "corto.jsonl").read_bytes())
    project(pytester, test_net=GUARDED)
    result = pytester.runpytest()
    result.assert_outcomes(passed=5, failed=2, errors=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_a_swallowed_refusal_still_fails*",
            "*reached for swallowed.example.invalid:80, not loopback, while the record mode is 'none'"
            " (refused, even if the client caught the error; take expected ones with"
            " harness_server.clear_blocked())*",
            "*NetworkBlocked: harness: test_net.py::test_names_the_host reached for api.example.invalid:443,"
            " which is not loopback, while the record mode is 'none'*",
            "*NetworkBlocked: harness: test_net.py::test_names_an_address reached for 192.0.2.7:443*",
        ]
    )
    assert "@pytest.mark.harness(allow_hosts=['HOST']) or @pytest.mark.harness(allow_network=True)" in out
    assert socket.socket.connect is _socket.socket.connect, "unguarded again after the run"


def test_loopback_addresses() -> None:
    for host in (
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "localhost",
        "LOCALHOST.",
        b"127.0.0.1",
        "::ffff:127.0.0.1",
    ):
        assert is_loopback(host), host
    for host in ("10.0.0.1", "0.0.0.0", "example.com", "localhost.example.com", None, 42):
        assert not is_loopback(host), host


def _fake_resolver(calls: list[Any]) -> Any:
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.5", port))]

    return getaddrinfo


def test_an_allowed_name_lets_its_addresses_through() -> None:
    calls: list[Any] = []
    guard = NetworkGuard("t", allow_hosts=["feed.example"])
    lookup = guard._wrap_getaddrinfo(_fake_resolver(calls))
    connect = guard._wrap_connect(lambda sock, address: "connected")
    with pytest.raises(NetworkBlocked, match=r"reached for other\.example:80"):
        lookup("other.example", 80)
    assert calls == []  # the refused name was never looked up
    lookup("feed.example", 443)
    with socket.socket() as sock:
        assert connect(sock, ("203.0.113.5", 443)) == "connected"
        with pytest.raises(NetworkBlocked, match=r"203\.0\.113\.6:443"):
            connect(sock, ("203.0.113.6", 443))
    lookup("0.0.0.0", 0)  # numeric: binding a server looks it up; connect() judges it
    lookup(None, 8765)
    assert guard.blocked == ["other.example:80", "203.0.113.6:443"]


def test_install_and_uninstall_restore_the_socket_module() -> None:
    saved = (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex)
    with NetworkGuard("t"):
        assert socket.getaddrinfo is not saved[0]
        with pytest.raises(RuntimeError, match="already installed"):
            NetworkGuard("u").install()
    assert (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex) == saved
