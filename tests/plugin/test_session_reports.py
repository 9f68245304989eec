"""``--harness-report DIR`` (and ``report_dir``): each test's session as a tape and an HTML report,
named by the teardown failure for violations."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.plugin.reports import report_name
from harness.store import read_tape
from tests.plugin.inner import project
from tests.plugin.test_violations import CLIENT

TESTS = (
    CLIENT
    + """

def test_reported(harness_server):
    send_wide(harness_server)


@pytest.mark.harness(allow_violations=True)
def test_with_secrets(harness_server):
    ws = websocket.create_connection(harness_server.urls["websocket"], timeout=5)
    assert json.loads(ws.recv())["name"] == "handshake"
    ws.send(json.dumps({"action": "login", "apiKey": "sk-Session-Secret"}))
    ws.close()


def test_clean(harness_server):
    ws = websocket.create_connection(harness_server.urls["websocket"], timeout=5)
    assert json.loads(ws.recv())["name"] == "handshake"
    ws.close()
"""
)


def test_each_session_gets_a_report_and_the_failure_names_it(pytester: pytest.Pytester) -> None:
    project(pytester, test_client=TESTS)
    result = pytester.runpytest("-p", "no:randomly", "--harness-report", "reports")
    result.assert_outcomes(passed=3, errors=1)
    reports = pytester.path / "reports"
    html = reports / "test_client.py-test_reported.html"
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_reported*",
            f"Report of the session: {html} (its frames: {reports / 'test_client.py-test_reported.jsonl'})",
        ]
    )
    header, frames = read_tape(reports / "test_client.py-test_reported.jsonl")
    assert header.recorded.label == "test_client.py::test_reported"
    kinds = [(f.kind, f.direction.value) for f in frames if f.conn == "ws-1"]
    assert kinds[0] == ("open", "c2s") and kinds[-1][0] == "close"
    assert ("text", "c2s") in kinds and ("text", "s2c") in kinds
    page = html.read_text()
    assert "Violations: 1" in page and "/create/detail" in page
    assert (reports / "test_client.py-test_clean.html").is_file()
    assert "Violations: 0" in (reports / "test_client.py-test_clean.html").read_text()
    # what the client under test sent is redacted like a recording, on the tape and in its report
    secret_tape = reports / "test_client.py-test_with_secrets.jsonl"
    for path in (secret_tape, secret_tape.with_suffix(".html")):
        assert "Session-Secret" not in path.read_text()
    assert '\\"apiKey\\":\\"REDACTED-' in secret_tape.read_text()
    assert "json-key:apikey" in read_tape(secret_tape)[0].redaction


def test_the_config_field_writes_reports_next_to_the_tests(pytester: pytest.Pytester) -> None:
    conftest = """
import pytest
from harness.plugin import HarnessConfig

@pytest.fixture
def harness_config():
    return HarnessConfig(report_dir="session-reports")
"""
    project(pytester, test_client=TESTS, conftest=conftest)
    result = pytester.runpytest("-p", "no:randomly", "-k", "clean")
    result.assert_outcomes(passed=1)
    assert sorted(p.name for p in (pytester.path / "session-reports").iterdir()) == [
        "test_client.py-test_clean.html",
        "test_client.py-test_clean.jsonl",
    ]


def test_report_names_are_safe_and_unique() -> None:
    assert report_name("tests/test_feed.py::test_x[a b]") == "tests-test_feed.py-test_x-a-b"
    long_a, long_b = (report_name(f"t.py::test[{'x' * 300}{n}]") for n in (1, 2))
    assert long_a != long_b and len(long_a) < 140
    assert Path(long_a).name == long_a
