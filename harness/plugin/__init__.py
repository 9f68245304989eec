"""The pytest plugin, registered through the ``pytest11`` entry point as ``harness``
(docs/guides/pytest-plugin.md).

Owns the wiring only: the ``--harness-*`` options (one group), the ``harness`` marker, the
fixtures ``harness_config``, ``harness_server``, ``harness_clock`` and ``harness_tape``, the
network guard around a test in record mode ``none``, and failing a test at teardown for what the
server saw go wrong. Settings and their precedence live in :mod:`harness.plugin.settings`, the
session's servers and the per-test views in :mod:`harness.plugin.decks`, fault schedules and
Hypothesis examples in :mod:`harness.plugin.fuzzing`. Heavy imports wait
until a test uses the harness, so the plugin costs nothing to suites that do not.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.lazy import exports
from harness.recorder.modes import RecordMode

if TYPE_CHECKING:
    from harness.plugin.decks import DeckCache, HarnessClock, HarnessServer, TapeInfo
    from harness.plugin.expiry import TapeExpired
    from harness.plugin.fuzzing import FuzzRun
    from harness.plugin.guard import NetworkBlocked
    from harness.plugin.settings import Clock, HarnessConfig

__all__ = [
    "Clock",
    "FuzzRun",
    "HarnessClock",
    "HarnessConfig",
    "HarnessServer",
    "NetworkBlocked",
    "RecordMode",
    "TapeExpired",
    "TapeInfo",
]

_LAZY = {
    "NetworkBlocked": "harness.plugin.guard",
    "TapeExpired": "harness.plugin.expiry",
    "Clock": "harness.plugin.settings",
    "FuzzRun": "harness.plugin.fuzzing",
    "HarnessConfig": "harness.plugin.settings",
    "HarnessServer": "harness.plugin.decks",
    "HarnessClock": "harness.plugin.decks",
    "TapeInfo": "harness.plugin.decks",
}

# the plugin is loaded by every pytest run: what only a harness test needs is imported then
__getattr__ = exports(__name__, _LAZY)


_DECKS: pytest.StashKey[DeckCache] = pytest.StashKey()
_VIEW: pytest.StashKey[HarnessServer] = pytest.StashKey()
_CALL_FAILED: pytest.StashKey[bool] = pytest.StashKey()

MARKER_USAGE = (
    "harness(tape=None, *, speed=None, clock=None, faults=(), fuzz=None, record_mode=None,"
    " max_age=None, expired=None, allow_violations=False, allow_misses=False, allow_network=False,"
    " allow_hosts=(), ...):"
    " serve this test a replayed (or recorded) feed (tape None: its own, tapes/<module>/<test>.jsonl,"
    " once recorded), fuzz=PLAN_OR_SEED with faults mixed in; every"
    " HarnessConfig and ServerConfig field is a keyword (docs/guides/pytest-plugin.md)"
)
GUARD_HINT = (
    "Point the client at harness_server.urls, or let it out:"
    " @pytest.mark.harness(allow_hosts=['HOST']) or @pytest.mark.harness(allow_network=True)."
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "harness: replay and record the Pump.fun, PumpData and corto.fun APIs")
    group.addoption(
        "--harness-record-mode",
        choices=[m.value for m in RecordMode],
        default=None,
        help="none (default): replay tapes only, no network; once: record tapes that do not exist;"
        " new_episodes: record what the tapes do not hold next to them; all (or rewrite): record"
        " every tape anew. Beats the marker and harness_config.",
    )
    group.addoption(
        "--harness-max-age",
        default=None,
        metavar="AGE",
        help="tapes older than AGE (seconds, or 30d, 12h, 90m) are expired, counted from their"
        " header's creation time. Beats the marker and harness_config.",
    )
    group.addoption(
        "--harness-expired",
        choices=["warn", "fail", "rerecord"],
        default=None,
        help="what an expired tape does: warn (default), fail (default under CI when a max age is"
        " set), or rerecord (record it anew in this run, as record mode all).",
    )
    group.addoption(
        "--harness-block-network",
        action="store_true",
        default=False,
        help="guard every test of the run, not only harness tests replaying (record mode none):"
        " only loopback and the allowed hosts can be reached.",
    )
    group.addoption(
        "--harness-allow-hosts",
        default=None,
        metavar="HOST[,HOST...]",
        help="hosts guarded tests may reach besides loopback (added to the marker's allow_hosts).",
    )
    group.addoption(
        "--harness-tapes-dir",
        default=None,
        metavar="DIR",
        help="directory relative tape paths start from (default: the test file's directory)."
        " Beats the marker and harness_config.",
    )
    group.addoption(
        "--harness-report",
        default=None,
        metavar="DIR",
        help="write an HTML report of each harness test's session (and its session tape) into DIR;"
        " a teardown failure for violations names the report. Beats report_dir of the marker and"
        " harness_config.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_USAGE)
    from harness.plugin.decks import DeckCache

    worker = getattr(config, "workerinput", {}).get("workerid")
    config.stash[_DECKS] = DeckCache(worker)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    decks = session.config.stash.get(_DECKS, None)
    if decks is not None:
        # an interrupted run does not replace a tape with a recording that stopped half-way
        clean = exitstatus not in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
        decks.close(clean=clean)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    decks = config.stash.get(_DECKS, None)
    if decks is not None and decks.outcomes:
        terminalreporter.section("harness")
        for line in decks.outcomes:
            terminalreporter.write_line(line)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
        view = item.stash.get(_VIEW, None)
        if view is not None and report.failed:
            # the test failed already: what the server saw goes with that failure, not into a
            # second error at teardown
            from harness.plugin.fuzzing import HarnessFailure, is_given

            problems = view.report()
            if problems and not (call.excinfo and call.excinfo.errisinstance(HarnessFailure)):
                report.sections.append(("harness", problems))
            if view.fuzzing is not None and not is_given(item):
                # (a Hypothesis test notes its minimal example's schedule in the failure itself)
                report.sections.append(("harness fuzz", view.fuzzing.describe()))
    return report


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def harness_config() -> HarnessConfig:
    """The harness settings of a test. Override it (in a conftest.py, a module or a class) to
    give your suite its own tapes and options; the marker and the command line still win."""
    from harness.plugin.settings import HarnessConfig

    return HarnessConfig()


@pytest.fixture
def harness_server(request: pytest.FixtureRequest, harness_config: HarnessConfig) -> Iterator[HarnessServer]:
    """A per-test view of a session-scoped server for this test's tape and settings, reset for
    the test. Fails the test at teardown for contract violations and server errors."""
    from harness.plugin.decks import HarnessServer, RecordingUnderXdist
    from harness.plugin.expiry import check_expiry
    from harness.plugin.fuzzing import install
    from harness.plugin.guard import NetworkGuard
    from harness.plugin.settings import marker_settings, own_tape_name, resolve
    from harness.recorder.modes import MissingTape
    from harness.store import TapeError

    config = request.config
    markers = [(m.args, m.kwargs) for m in request.node.iter_markers("harness")]
    try:
        resolved = resolve(
            harness_config,
            marker_settings(markers),
            _command_line(config),
            test_dir=Path(request.node.path).parent,
            invocation_dir=config.invocation_params.dir,
            own_tape=own_tape_name(
                Path(request.node.path).stem,
                request.node.cls.__name__ if getattr(request.node, "cls", None) else None,
                request.node.name,
            ),
            ci=bool(os.environ.get("CI")),
        )
        resolved = check_expiry(resolved, request.node.nodeid)
        running = config.stash[_DECKS].get(resolved)
        view = HarnessServer(
            running,
            request.node.nodeid,
            allow_violations=resolved.allow_violations,
            allow_misses=resolved.allow_misses,
            fuzz=resolved.fuzz,
        )
        view.reset()
        undo_examples = install(request.node, view)
    except MissingTape as exc:
        failure: str | None = f"harness: {exc.for_pytest()}"
    except (ValueError, TapeError, RecordingUnderXdist, OSError) as exc:
        failure = f"harness: {exc}"
    else:
        failure = None
    if failure is not None:  # outside the except: the report shows the message, not a chain
        pytest.fail(failure, pytrace=False)
    request.node.stash[_VIEW] = view
    if resolved.report_dir is not None:
        view.start_report(resolved.report_dir)
    if resolved.mode is RecordMode.NONE and not resolved.allow_network:
        view.guard = NetworkGuard(request.node.nodeid, allow_hosts=resolved.allow_hosts, hint=GUARD_HINT)
        view.guard.install()
    try:
        yield view
    finally:
        undo_examples()
        if view.guard is not None:
            view.guard.uninstall()
        del request.node.stash[_VIEW]
        view.finish_report()
        if resolved.own_tape and view.tape.recording:
            # a test's own tape is its alone: written when the test ends, as pytest-recording does
            config.stash[_DECKS].finish(resolved)
    if not request.node.stash.get(_CALL_FAILED, False):
        problems = view.report()
        if problems and view.fuzzing is not None:
            problems += "\n\n" + view.fuzzing.describe()
        if problems:
            pytest.fail(problems, pytrace=False)


@pytest.fixture
def harness_clock(harness_server: HarnessServer) -> HarnessClock:
    """The replay clock of the test's server: ``advance(seconds)``, ``now()``."""
    return harness_server.clock


@pytest.fixture
def harness_tape(harness_server: HarnessServer) -> TapeInfo:
    """The test's tape(s): what is replayed, what is recorded and where."""
    return harness_server.tape


@pytest.fixture(autouse=True)
def _harness_marker(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test marked ``harness`` gets its server (and the network guard) without asking; with
    ``--harness-block-network`` every other test gets the network guard."""
    if request.node.get_closest_marker("harness") is not None or "harness_server" in request.fixturenames:
        if "harness_server" not in request.fixturenames:
            request.getfixturevalue("harness_server")
        yield
        return
    if not request.config.getoption("harness_block_network"):
        yield
        return
    from harness.plugin.guard import NetworkGuard

    guard = NetworkGuard(
        request.node.nodeid,
        allow_hosts=_command_line(request.config).get("allow_hosts", ()),
        hint="Let it out with --harness-allow-hosts HOST, or run without --harness-block-network.",
        reason="while --harness-block-network is on",
    )
    guard.install()
    try:
        yield
    finally:
        guard.uninstall()


def _command_line(config: pytest.Config) -> dict[str, Any]:
    """The harness options given on the command line (precedence: they beat everything)."""
    given: dict[str, Any] = {}
    for key in ("record_mode", "tapes_dir", "max_age", "expired"):
        value = config.getoption(f"harness_{key}")
        if value is not None:
            given[key] = value
    report = config.getoption("harness_report")
    if report is not None:
        given["report_dir"] = report
    hosts = config.getoption("harness_allow_hosts")
    if hosts:
        given["allow_hosts"] = tuple(h.strip() for h in hosts.split(",") if h.strip())
    return given
