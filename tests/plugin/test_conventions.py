"""pytest conventions: a miss fails the test and explains itself, tapes expire, the network guard
from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.expiry import ExpiryPolicy, default_policy, describe_age, parse_max_age, tape_age
from harness.core.misses import Miss, difference
from tests.helpers import ROOT
from tests.plugin.inner import PYTEST_SUBPROCESS, project

MISSES = """
import requests
import socketio
import pytest

MINT = "Fq8i3BEDJmRS2zp6oNkBtmUHdUe4ZJUjW15ZyYn3AiBp"


def test_a_rest_miss(harness_server):
    url = harness_server.urls["rest"] + "/coins/" + MINT[:-4] + "XXXX"
    assert requests.get(url, timeout=5).status_code == 404


def test_a_subscription_miss(harness_server):
    with socketio.SimpleClient() as sio:
        sio.connect(harness_server.urls["socketio"], auth={"api_key": "pd_test"})
        answer = sio.call("subscribe_ohlcv", {"pool": "F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Y"})
        assert answer["error"] == "not_found"


def test_an_expected_miss_is_taken(harness_server):
    assert requests.get(harness_server.urls["rest"] + "/nowhere", timeout=5).status_code == 404
    (miss,) = harness_server.clear_misses()
    assert miss.request == "GET /nowhere" and miss.answer == "404"


@pytest.mark.harness(allow_misses=True)
def test_misses_allowed(harness_server):
    assert requests.get(harness_server.urls["rest"] + "/nowhere", timeout=5).status_code == 404
"""


def test_a_miss_fails_at_teardown_naming_the_closest_recording(pytester: pytest.Pytester) -> None:
    project(pytester, test_misses=MISSES)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4, errors=2)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*harness: 1 request(s) the tape could not answer during test_misses.py::test_a_rest_miss:",
            "*1. pumpfun: GET /coins/Fq8i3BEDJmRS2zp6oNkBtmUHdUe4ZJUjW15ZyYn3XXXX at t=0s: answered 404,*",
            "*closest recorded: GET /coins/*",
            "*differs: part 3: 'Fq8i3BEDJmRS2zp6oNkBtmUHdUe4ZJUjW15ZyYn3XXXX' where the tape has*",
            "Record what is missing with --harness-record-mode new_episodes*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*1. pumpdata: subscribe_ohlcv pool F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Y at t=0s:"
            " answered not_found, nothing recorded",
            "*closest recorded: subscribe_ohlcv pool F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Z",
        ]
    )
    assert "test_misses_allowed" not in out.split("short test summary")[1]


def test_a_miss_says_what_differed() -> None:
    assert difference("GET /coins/AAA", "GET /coins/BBB") == "part 3: 'AAA' where the tape has 'BBB'"
    assert difference("GET /coins/AAA/x", "GET /coins/AAA") == "it has more: 'x'"
    assert difference("GET /trades/all/M?limit=5", "GET /trades/all/M?limit=20") == (
        "part 6: '5' where the tape has '20'"
    )
    assert "nothing alike" in Miss("pumpfun", "GET /x", "404", 0.0).describe()


def test_max_age_and_the_default_policy() -> None:
    assert parse_max_age("30d") == 30 * 86400 and parse_max_age(90) == 90.0 and parse_max_age("2h") == 7200
    for bad in ("soon", -1, 0, "1y", True):
        with pytest.raises(ValueError, match="max_age"):
            parse_max_age(bad)
    assert tape_age("2026-01-01T00:00:00Z", 1767225600 + 86400 * 40) == 86400 * 40
    assert describe_age(86400 * 40) == "40 days" and describe_age(1) == "1 second"
    assert default_policy(ci=True, max_age_given=True) is ExpiryPolicy.FAIL
    assert default_policy(ci=True, max_age_given=False) is ExpiryPolicy.WARN
    assert default_policy(ci=False, max_age_given=True) is ExpiryPolicy.WARN


EXPIRY = """
import os

import pytest
import requests

UPSTREAM = os.environ.get("UPSTREAM", "http://127.0.0.1:9")


@pytest.mark.harness(tape="tapes/pumpfun.jsonl", max_age="30d", rest_upstream=UPSTREAM)
def test_old_tape(harness_server, harness_tape):
    assert requests.get(harness_server.urls["rest"] + "/sol-price", timeout=5).status_code == 200
"""


def _expiry_run(
    pytester: pytest.Pytester, *args: str, ci: bool = False, upstream: str = ""
) -> pytest.RunResult:
    """A run in a subprocess (``CI`` set or not, and the upstream a recording goes to)."""
    project(pytester, test_expiry=EXPIRY)
    (pytester.path / "tapes").mkdir(exist_ok=True)
    tape = pytester.path / "tapes" / "pumpfun.jsonl"
    tape.write_bytes((ROOT / "fixtures" / "demo" / "pumpfun.jsonl").read_bytes())  # created 2026-01-01
    # filterwarnings = error would make the warning a failure: this project shows warnings
    pytester.makeini("[pytest]\naddopts = -p no:hypothesispytest\n")
    with pytest.MonkeyPatch.context() as env:
        if ci:
            env.setenv("CI", "true")
        else:
            env.delenv("CI", raising=False)
        env.setenv("UPSTREAM", upstream or "http://127.0.0.1:9")
        return _run_keeping_the_tape(pytester, tape, args, upstream)


def _run_keeping_the_tape(
    pytester: pytest.Pytester, tape: Path, args: tuple[str, ...], upstream: str
) -> pytest.RunResult:
    before = tape.stat().st_mtime_ns
    result = pytester.run(*PYTEST_SUBPROCESS, *args)
    assert tape.stat().st_mtime_ns == before or upstream, "reading a tape never touches it"
    return result


def test_an_expired_tape_warns_by_default(pytester: pytest.Pytester) -> None:
    result = _expiry_run(pytester)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*TapeExpired: harness: *pumpfun.jsonl: recorded 2026-01-01T00:00:00Z, * days ago,"
            " over max_age 30 days (record it anew with --harness-record-mode rewrite)"
        ]
    )


def test_an_expired_tape_fails_under_ci_when_a_max_age_is_set(pytester: pytest.Pytester) -> None:
    result = _expiry_run(pytester, ci=True)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*harness: expired tape(s) for test_expiry.py::test_old_tape:*",
            "*Record anew with --harness-record-mode rewrite*",
        ]
    )
    _expiry_run(pytester, "--harness-expired", "warn", ci=True).assert_outcomes(passed=1, warnings=1)
    _expiry_run(pytester, "--harness-max-age", "100000d", ci=True).assert_outcomes(passed=1)


def test_an_expired_tape_can_be_recorded_anew(pytester: pytest.Pytester) -> None:
    from harness.store import TapeReader
    from tests.helpers import threaded_upstream

    with threaded_upstream() as upstream:
        result = _expiry_run(pytester, "--harness-expired", "rerecord", upstream=upstream.urls["rest"])
    result.assert_outcomes(passed=1)
    with TapeReader(pytester.path / "tapes" / "pumpfun.jsonl") as reader:
        assert not reader.header.created.startswith("2026-01-01"), "recorded anew: a new creation time"
    _expiry_run(pytester).assert_outcomes(passed=1)  # fresh now: no warning


def test_the_cli_suggests_cli_flags_for_a_missing_tape(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness", "fuzz", str(tmp_path / "missing.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        "harness serve --record-mode once" in result.stderr and "--harness-record-mode" not in result.stderr
    )


BLOCK = """
import pytest
import requests
from harness.plugin import NetworkBlocked


def test_no_harness_here():
    with pytest.raises(NetworkBlocked, match="while --harness-block-network is on"):
        requests.get("https://api.example.invalid/", timeout=5)


def test_allowed_from_the_command_line(harness_server):
    with pytest.raises(requests.ConnectionError):
        requests.get("http://allowed.invalid/", timeout=5)   # let through: the lookup fails
"""


def test_the_network_guard_from_the_command_line(pytester: pytest.Pytester) -> None:
    project(pytester, test_block=BLOCK)
    result = pytester.runpytest("--harness-block-network", "--harness-allow-hosts", "allowed.invalid")
    result.assert_outcomes(passed=2)
