"""How a corto.fun Data Stream connection is closed: a second connection from one address, a client
too slow to read, a reset, a shutdown and a fuzz fault (each a code and reason a client sees)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from harness.core.corto.config import CortoConfig
from harness.core.corto.recorded import Observed
from harness.core.corto.session import (
    INJECTED_ERROR,
    RESET,
    SHUTDOWN,
    Close,
    Session,
    connection_refusal,
    fuzzed_close,
    overflow_close,
)

ONE_PER_IP = CortoConfig(one_connection_per_ip=True)


def test_a_second_connection_from_one_address_is_refused_with_1008() -> None:
    # contract §3.1: "One IP can keep one active connection open at a time."
    refused = connection_refusal(ONE_PER_IP, Observed(), "10.0.0.1", ["10.0.0.2", "10.0.0.1"])
    assert refused == Close(1008, "one active connection per IP")


@pytest.mark.parametrize(
    ("config", "active"),
    [
        (ONE_PER_IP, []),
        (ONE_PER_IP, ["10.0.0.2", "::1"]),
        (CortoConfig(), ["10.0.0.1", "10.0.0.1"]),  # off by default (README: --one-connection-per-ip)
    ],
)
def test_a_connection_is_served(config: CortoConfig, active: list[str]) -> None:
    assert connection_refusal(config, Observed(), "10.0.0.1", active) is None


def test_the_recorded_refusal_wins_over_the_default() -> None:
    observed = Observed(refusal=(4429, "too many connections"))
    assert connection_refusal(ONE_PER_IP, observed, "a", iter(["a"])) == Close(4429, "too many connections")
    assert connection_refusal(CortoConfig(), observed, "a", ["a"]) is None, "only when asked to emulate it"


def test_the_active_addresses_are_read_only_as_far_as_needed() -> None:
    seen: list[str] = []

    def active() -> Iterator[str]:
        for address in ("a", "b", "c"):
            seen.append(address)
            yield address

    assert connection_refusal(ONE_PER_IP, Observed(), "b", active()) is not None
    assert seen == ["a", "b"]


def test_a_client_too_slow_to_read_is_closed_with_1013_naming_its_queue() -> None:
    assert overflow_close(CortoConfig(queue_size=3)) == Close(1013, "client too slow: 3 messages queued")


def test_lifecycle_closes() -> None:
    assert (RESET.code, RESET.reason) == (1012, "harness reset")  # IANA: Service Restart
    assert (SHUTDOWN.code, SHUTDOWN.reason) == (1001, "server shutting down")  # RFC 6455 7.4.1: going away
    assert fuzzed_close(4000) == Close(4000, "harness fuzz")
    assert fuzzed_close(1006) == Close(1006, "harness fuzz")


def test_the_injected_subscription_error() -> None:
    session = Session(CortoConfig(), Observed(), 0.0)
    message = session.error(INJECTED_ERROR)
    assert message["type"] == "service" and message["name"] == "error"
    assert json.dumps(message["error"]) == json.dumps(
        {
            "code": "invalid_subscription",
            "message": "Subscription could not be applied.",
            "details": {"harness": "fuzz"},
        }
    )
