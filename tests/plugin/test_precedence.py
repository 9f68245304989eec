"""Precedence, per setting: command line > marker (the closest one) > harness_config > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.plugin.settings import HarnessConfig, marker_settings, resolve
from harness.recorder.modes import RecordMode
from tests.helpers import ROOT
from tests.plugin.inner import project

TESTS = """
import pytest
from harness.plugin import HarnessConfig

pytestmark = pytest.mark.harness(tape="corto.jsonl")  # module level: the farthest marker


def test_default(harness_tape, harness_clock):
    assert harness_tape.mode == "{default_mode}"
    assert harness_tape.path.parent.name == "{default_dir}"
    assert harness_clock.manual


class TestConfigured:
    @pytest.fixture
    def harness_config(self):
        return HarnessConfig(record_mode="new_episodes", tapes_dir="cfg", speed=10)

    def test_config(self, harness_tape, harness_clock):
        assert harness_tape.mode == "{config_mode}"
        assert harness_tape.path.parent.name == "{config_dir}"
        assert not harness_clock.manual, "a speed makes the clock real"

    @pytest.mark.harness(record_mode="once", tapes_dir="mk", clock="manual")
    def test_marker(self, harness_tape, harness_clock):
        assert harness_tape.mode == "{marker_mode}"
        assert harness_tape.path.parent.name == "{marker_dir}"
        assert harness_clock.manual
"""


def _project(pytester: pytest.Pytester, **expected: str) -> pytest.Pytester:
    corto = (ROOT / "fixtures" / "demo" / "corto.jsonl").read_bytes()
    for directory in ("", "cfg", "mk", "cli"):
        target = pytester.path / directory
        target.mkdir(exist_ok=True)
        (target / "corto.jsonl").write_bytes(corto)
    return project(pytester, test_layers=TESTS.format(**expected))


def test_marker_beats_config_beats_default(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        default_mode="none",
        default_dir=pytester.path.name,  # the test file's directory
        config_mode="new_episodes",
        config_dir="cfg",
        marker_mode="once",
        marker_dir="mk",
    )
    pytester.runpytest().assert_outcomes(passed=3)


def test_the_command_line_beats_everything(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        default_mode="once",
        default_dir="cli",
        config_mode="once",
        config_dir="cli",
        marker_mode="once",
        marker_dir="cli",
    )
    result = pytester.runpytest("--harness-record-mode", "once", "--harness-tapes-dir", "cli")
    result.assert_outcomes(passed=3)


def test_closest_marker_wins_per_keyword() -> None:
    farthest_first = [((), {"tape": "far.jsonl", "speed": 2}), (("near.jsonl",), {"loop": True})]
    merged = marker_settings(list(reversed(farthest_first)))  # pytest gives the closest first
    assert merged == {"tape": "near.jsonl", "speed": 2, "loop": True}


def test_server_config_fields_are_marker_keywords_and_every_server_listens_on_port_0(tmp_path: Path) -> None:
    resolved = resolve(
        HarnessConfig(faults=["/coins/*:status=503"]),
        {"seed": 7, "validate": False, "speed": "max"},
        {},
        test_dir=tmp_path,
        invocation_dir=tmp_path,
    )
    server = resolved.server
    assert (server.seed, server.validate, server.port, server.host) == (7, False, 0, "127.0.0.1")
    assert server.speed == float("inf") and not server.manual
    assert [str(f) for f in server.faults] == ["/coins/*:status=503"]
    assert resolved.mode is RecordMode.NONE and resolved.tapes == ()


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ({"faults": "/coins:status=503"}, "faults takes a list of rules"),
        ({"allow_hosts": "example.com"}, "allow_hosts takes a list of hosts"),
        ({"speed": -1}, "speed must be a positive number or 'max', got -1"),
    ],
)
def test_a_string_where_a_list_is_meant_is_refused(
    tmp_path: Path, marker: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        resolve(HarnessConfig(), marker, {}, test_dir=tmp_path, invocation_dir=tmp_path)


def test_marker_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match=r"one positional argument \(the tape\), got 2"):
        marker_settings([(("a.jsonl", "b.jsonl"), {})])
    with pytest.raises(ValueError, match="got the tape twice"):
        marker_settings([(("a.jsonl",), {"tape": "b.jsonl"})])


def test_report_dir_from_the_command_line_beats_the_marker_and_the_config(tmp_path: Path) -> None:
    config = HarnessConfig(report_dir="cfg")
    where = {"test_dir": tmp_path / "tests", "invocation_dir": tmp_path}
    assert resolve(HarnessConfig(), {}, {}, **where).report_dir is None
    assert resolve(config, {}, {}, **where).report_dir == tmp_path / "tests" / "cfg"
    assert resolve(config, {"report_dir": "mk"}, {}, **where).report_dir == tmp_path / "tests" / "mk"
    resolved = resolve(config, {"report_dir": "mk"}, {"report_dir": "cli"}, **where)
    assert resolved.report_dir == tmp_path / "cli"
    assert resolved.deck_key == resolve(HarnessConfig(), {}, {}, **where).deck_key, "tests share servers"
