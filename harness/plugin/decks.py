"""The servers of a pytest session, and the per-test views of one that the fixtures hand out.

Owns the session's :class:`DeckCache` (one :class:`~harness.recorder.deck.TapeDeck` per distinct
tape and config, each in its own background thread with its own event loop, so sync tests and
tests on any event loop can use it), the per-test reset, and :class:`HarnessServer`,
:class:`HarnessClock` and :class:`TapeInfo`, which is what tests see. Also the teardown report of
what went wrong during a test. No contract rule lives here.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from harness.recorder.deck import TapeDeck
from harness.recorder.modes import Action, RecordMode, episodes_dir
from harness.server.threaded import BackgroundLoop, ServerError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from harness.core.fuzz import FuzzKind, FuzzPlan, ScheduledFault
    from harness.core.misses import Miss
    from harness.plugin.fuzzing import FuzzRun
    from harness.plugin.guard import NetworkGuard
    from harness.plugin.reports import SessionReport
    from harness.plugin.settings import Fuzz, Resolved
    from harness.server.app import MockServer
    from harness.server.context import ServedViolation

T = TypeVar("T")

MAX_IDLE_REPLAYS = 8
"""Replaying servers kept for later tests; beyond that the least recently used one is closed
(a recording one never is: it finishes at the end of the session)."""

REPORT_LINES = 20
"""Violations listed in a teardown report (the rest are counted)."""


class RecordingUnderXdist(Exception):
    """A recording was asked of an xdist worker (workers would write one tape at once)."""


class RunningDeck:
    """A :class:`TapeDeck` running in its own thread."""

    def __init__(self, deck: TapeDeck, name: str) -> None:
        self.deck = deck
        self.background = BackgroundLoop(name)
        self.started = time.monotonic()

    def start(self) -> None:
        self.background.start()
        try:
            self.background.run(self.deck.start())
        except BaseException:
            self.background.stop()
            raise

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` in the deck's thread: its result here."""
        return self.background.run(coro)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the deck's thread: its result here."""
        return self.background.call(fn, *args)

    def close(self, *, clean: bool) -> str:
        try:
            self.run(self.deck.finish(clean=clean))
        finally:
            self.background.stop()
        return self.deck.outcome()


class DeckCache:
    """The servers of one pytest session (one xdist worker), by the settings they serve."""

    def __init__(self, worker: str | None = None) -> None:
        self.worker = worker
        self._decks: OrderedDict[tuple[Any, ...], RunningDeck] = OrderedDict()
        self._made = 0
        self.outcomes: list[str] = []
        """One line per tape a closed deck wrote (or kept), for the terminal summary."""

    def get(self, resolved: Resolved) -> RunningDeck:
        key = resolved.deck_key
        running = self._decks.get(key)
        if running is not None:
            self._decks.move_to_end(key)
            return running
        deck = TapeDeck(
            list(resolved.tapes),
            resolved.mode,
            config=resolved.server,
            upstreams=resolved.upstreams,
            redaction=resolved.redaction,
        )
        if deck.action is Action.RECORD:
            for other in self._decks.values():
                if other.deck.action is Action.RECORD and other.deck.target == deck.target:
                    return other  # one recording per tape, whatever the replay settings of its tests
            if self.worker is not None:
                raise RecordingUnderXdist(
                    f"{deck.describe()}: recording a tape needs a single process, but this is xdist"
                    f" worker {self.worker}. Record with -n 0 (or -p no:xdist); replaying runs in parallel."
                )
        self._made += 1
        running = RunningDeck(deck, f"harness-server-{self._made}")
        running.start()
        self._decks[key] = running
        self._evict()
        return running

    def finish(self, resolved: Resolved) -> None:
        """Finish the recording of ``resolved`` now (a test's own tape, when the test ends)."""
        running = self._decks.pop(resolved.deck_key, None)
        if running is not None:
            outcome = running.close(clean=True)
            if outcome:
                self.outcomes.append(outcome)

    def _evict(self) -> None:
        idle = [k for k, d in self._decks.items() if d.deck.action is Action.REPLAY]
        for key in idle[: max(0, len(idle) - MAX_IDLE_REPLAYS)]:
            self._decks.pop(key).close(clean=True)

    def close(self, *, clean: bool) -> None:
        decks, self._decks = list(self._decks.values()), OrderedDict()
        for running in decks:
            outcome = running.close(clean=clean)
            if outcome:
                self.outcomes.append(outcome)


class ReplayTime(float):
    """Seconds of replay time, as :meth:`HarnessClock.advance` returns them.

    Awaitable, so ``await harness_clock.advance(5)`` reads as it does with ``MockServer``. In a
    sync test the advance is done when the call returns; in an async test it is done when the
    result is awaited (:class:`PendingAdvance`).
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, float]:
        return _done(float(self)).__await__()


class PendingAdvance(ReplayTime):
    """What :meth:`HarnessClock.advance` returns in an async test: the replay time the advance
    aims at, and the advance itself, which awaiting runs while the test's event loop runs
    (:meth:`HarnessClock.advance` says what it guarantees). Not awaited, the advance happens
    when the value is dropped, at once and without letting the test's loop run, as it did in
    harness 0.x; a value kept and never awaited advances nothing until it is dropped."""

    __slots__ = ("_clock", "_seconds", "_started")
    _clock: HarnessClock
    _seconds: float
    _started: bool

    def __new__(cls, target: float, clock: HarnessClock, seconds: float) -> PendingAdvance:
        value = super().__new__(cls, target)
        value._clock = clock
        value._seconds = seconds
        value._started = False
        return value

    def __await__(self) -> Generator[Any, None, float]:
        self._started = True
        return self._clock._advance_async(self._seconds).__await__()

    def __del__(self) -> None:
        if not getattr(self, "_started", True):
            self._started = True
            if self._clock._running.deck.server is not None:  # recording: only awaiting waits
                self._clock._advance_now(self._seconds)


async def _done(value: float) -> float:
    return value


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class HarnessClock:
    """The replay clock of the test's server (``harness_clock``)."""

    def __init__(self, running: RunningDeck) -> None:
        self._running = running
        self.settled: bool | None = None
        """Whether the last awaited advance saw the loops settle (None: none awaited yet)."""

    @property
    def manual(self) -> bool:
        """Whether time stands still until :meth:`advance`."""
        server = self._running.deck.server
        return server is not None and server.config.manual

    def now(self) -> float:
        """Replay time in seconds; while recording, seconds since the recording started."""
        server = self._running.deck.server
        if server is None:
            return time.monotonic() - self._running.started
        return self._running.call(server.now)

    def advance(self, seconds: float) -> ReplayTime:
        """Move replay time forward, delivering everything due on the way; returns the new time.

        In a sync test the advance is done when the call returns (the server runs in its own
        thread). In an async test, ``await`` it: the test's event loop runs before, during and
        after the advance, so clients started with ``asyncio.create_task`` connect, subscribe and
        read meanwhile. When the ``await`` returns, every frame due up to the new time has been
        written to each client's socket, and the test's loop has run until it and the server were
        settled: for 3 rounds in a row neither loop had a callback ready and the bytes waiting
        unread in each socket the two loops watch stayed the same, so a client that reads has
        read those bytes (one that does not leaves them queued), or 2000 rounds passed
        (``harness_clock.settled`` is then False). The same settling runs before the advance,
        so what a task started just before asks for is asked in time. Awaiting the result of a
        sync call gives the time at once.

        While recording from a live service nothing can be fast-forwarded: real time passes
        instead (a sync test sleeps; an async test must ``await`` the result, which sleeps).
        With new episodes, only the replay moves.
        """
        if not isinstance(seconds, int | float) or math.isnan(seconds) or not 0 <= seconds < math.inf:
            raise ValueError(
                f"the replay clock only moves forward by a finite time (asked for {seconds!r} s)"
            )
        if _in_event_loop():
            return PendingAdvance(self.now() + seconds, self, float(seconds))
        return ReplayTime(self._advance_now(seconds))

    def _advance_now(self, seconds: float) -> float:
        server = self._running.deck.server
        if server is not None:
            return self._running.run(server.advance(seconds))
        target = self.now() + seconds
        time.sleep(seconds)
        return target

    async def _advance_async(self, seconds: float) -> float:
        from harness.plugin.settle import probe, settle

        server = self._running.deck.server
        if server is None:
            target = self.now() + seconds
            await asyncio.sleep(seconds)
            return target
        loop = self._running.background.loop

        def server_probe() -> asyncio.Future[tuple[bool, tuple[tuple[int, int], ...]]]:
            return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(probe(), loop))

        await settle(server_probe)
        now = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(server.advance(seconds), loop))
        self.settled = await settle(server_probe)
        return now


@dataclass(frozen=True, slots=True)
class TapeInfo:
    """The tape(s) of the test (``harness_tape``)."""

    mode: RecordMode
    action: Action
    """``replay``, ``record`` or ``episodes`` (what the mode does with this tape in this run)."""
    paths: tuple[Path, ...]
    """The tapes as configured, resolved; empty for the demo tapes."""
    replayed: tuple[Path, ...]
    """The files being replayed: the tapes and their episodes (empty while recording)."""
    recording_to: Path | None
    """Where this run records: the tape (``record``), or its episodes directory (``episodes``)."""

    @property
    def path(self) -> Path | None:
        """The (first) tape, or None for the demo tapes."""
        return self.paths[0] if self.paths else None

    @property
    def recording(self) -> bool:
        return self.action is not Action.REPLAY


class HarnessServer:
    """The test's view of a session-scoped server (``harness_server``), reset for each test."""

    def __init__(
        self,
        running: RunningDeck,
        test: str,
        *,
        allow_violations: bool = False,
        allow_misses: bool = False,
        fuzz: Fuzz | None = None,
    ) -> None:
        self._running = running
        self.test = test
        self.clock = HarnessClock(running)
        deck = running.deck
        self.tape = TapeInfo(
            mode=deck.mode,
            action=deck.action,
            paths=tuple(deck.tapes),
            replayed=tuple(deck.files),
            recording_to=(
                deck.target
                if deck.action is Action.RECORD
                else episodes_dir(deck.target)
                if deck.action is Action.EPISODES and deck.target is not None
                else None
            ),
        )
        self._violations_allowed = allow_violations
        self._misses_allowed = allow_misses
        self._errors_from = len(running.background.errors)
        self.guard: NetworkGuard | None = None
        """The network guard around this test (record mode ``none``), set by the fixture."""
        self.session_report: SessionReport | None = None
        """With ``--harness-report``: the test's session tape and report."""
        self.report_error = ""
        """Why the session report could not be written, if it could not."""
        self._own_fuzz: FuzzRun | None = None
        self.fuzzing: FuzzRun | None = None
        """The fault schedule applied now, if any (``fuzz``, or the test's ``fuzz`` setting)."""
        if fuzz is not None:
            self._own_fuzz = self._fuzz_run(fuzz)

    def __repr__(self) -> str:
        return f"<harness_server of {self.test} at {self.urls.get('rest', '?')}>"

    # --- what a test uses ----------------------------------------------------------------------

    @property
    def urls(self) -> dict[str, str]:
        """``rest``, ``socketio``, ``websocket`` (and ``control`` when replaying)."""
        return dict(self._running.deck.urls)

    @property
    def control_headers(self) -> dict[str, str]:
        """The headers a client sends with a state-changing call to ``urls["control"]``
        (``Content-Type: application/json``, and the server's control token when it has one)."""
        from harness.core.access import JSON, TOKEN_HEADER

        server = self.server
        token = server.config.control_token if server is not None else None
        return {"Content-Type": JSON, **({TOKEN_HEADER: token} if token else {})}

    @property
    def mode(self) -> RecordMode:
        return self._running.deck.mode

    @property
    def server(self) -> MockServer | None:
        """The :class:`~harness.MockServer` replaying (None while recording). It runs in another
        thread: call its coroutines through this view, not on the test's event loop."""
        return self._running.deck.server

    def advance(self, seconds: float) -> ReplayTime:
        """``harness_clock.advance`` (see :class:`HarnessClock`)."""
        return self.clock.advance(seconds)

    def now(self) -> float:
        return self.clock.now()

    @property
    def violations(self) -> list[ServedViolation]:
        """Contract violations the server saw during this test so far (both sides)."""
        server = self.server
        return [] if server is None else self._running.call(lambda: server.violations)

    def drop_connections(self, apis: Iterable[str] | None = None) -> dict[str, int]:
        """Cut the clients' connections of ``apis`` (``"pumpfun"``, ``"pumpdata"``, ``"corto"``;
        None: all) as a network failure would, without a clean close, so their reconnect logic
        runs; how many per API (``POST /_harness/drop`` over HTTP)."""
        return self._running.call(self._replaying("drop_connections").drop_connections, apis)

    def clear_violations(self) -> list[ServedViolation]:
        """Take the violations seen so far: the test has dealt with them, teardown will not."""
        server = self.server
        if server is None:
            return []
        return self._running.call(server.clear_violations)

    @property
    def misses(self) -> list[Miss]:
        """Requests and subscriptions the tape could not answer during this test so far."""
        server = self.server
        return [] if server is None else self._running.call(lambda: server.misses)

    def clear_misses(self) -> list[Miss]:
        """Take the misses seen so far: the test expected them, teardown will not report them."""
        server = self.server
        return [] if server is None else self._running.call(server.clear_misses)

    def allow_misses(self) -> None:
        """Do not fail this test for misses (as ``@pytest.mark.harness(allow_misses=True)``)."""
        self._misses_allowed = True

    def allow_violations(self) -> None:
        """Do not fail this test for violations (as ``@pytest.mark.harness(allow_violations=True)``)."""
        self._violations_allowed = True

    def reset(self) -> None:
        """Back to a fresh server, as at the start of every test: clock at 0, feeds rewound,
        clients disconnected (subscriptions gone), rate budgets and violations cleared, and the
        test's own fault schedule (none, unless its settings give one) from its start."""
        server = self.server
        if server is not None:
            self._running.run(_reset(server, self._own_fuzz.plan if self._own_fuzz else None))
        self.fuzzing = self._own_fuzz

    def fuzz(
        self,
        plan: FuzzPlan | int | None,
        *,
        faults: str | Iterable[str | FuzzKind] = "all",
        rate: float = 0.05,
    ) -> FuzzRun:
        """Apply fault schedule ``plan`` to what the server sends from now on (docs/guides/fuzz.md):
        a :class:`~harness.core.fuzz.FuzzPlan` (``harness.strategies.fault_plans`` draws them),
        a seed (drawn over the tapes as ``harness fuzz --seed SEED --faults FAULTS --rate RATE``
        draws it), or None for no faults. Each API's message and request ordinals count from 0
        again. In a Hypothesis test every example starts from a reset server, so calling this
        first thing runs the whole example under ``plan``; a failing report shows the plan and
        what was applied of it. As a context manager, the test's own schedule is back after it.
        """
        from harness.core.fuzz import FuzzPlan
        from harness.plugin.fuzzing import FuzzRun
        from harness.plugin.settings import fuzz_setting

        setting = fuzz_setting(plan, faults if isinstance(faults, str) else [*faults], rate)
        run = None if setting is None else self._fuzz_run(setting)
        self._apply_fuzz(run)
        return run or FuzzRun(FuzzPlan(0), self)

    def restore_fuzz(self) -> None:
        """The test's own fault schedule again (none, unless its settings give one)."""
        self._apply_fuzz(self._own_fuzz)

    def fuzz_applied(self) -> list[tuple[float, ScheduledFault]]:
        """Each fault of the schedule applied so far, with its replay time."""
        server = self.server
        return [] if server is None else self._running.call(lambda: list(server.fuzz.applied))

    def _apply_fuzz(self, run: FuzzRun | None) -> None:
        self._running.call(self._replaying("fuzz").set_fuzz, run.plan if run else None)
        self.fuzzing = run

    def _fuzz_run(self, setting: Fuzz) -> FuzzRun:
        from harness.plugin.fuzzing import FuzzRun
        from harness.server.fuzz import draw_plan

        if setting.plan is not None:
            return FuzzRun(setting.plan, self)
        seed = setting.seed or 0
        plan = draw_plan(self._replaying("fuzz"), seed, setting.kinds, setting.rate)
        return FuzzRun(plan, self, drawn=setting.arguments())

    def _replaying(self, what: str) -> MockServer:
        server = self.server
        if server is None:
            raise ValueError(
                f"{what} needs a replayed tape, and {self.test} records one (record mode {self.mode.value})"
            )
        return server

    # --- Hypothesis examples (harness.plugin.fuzzing) ---------------------------------------------

    def begin_example(self) -> None:
        """A fresh server for the next example of a Hypothesis test, as for a new test."""
        self.reset()
        self._errors_from = len(self._running.background.errors)
        if self.guard is not None:
            self.guard.blocked = []

    def end_example(self) -> None:
        """What the fixture checks at teardown, checked for one example, so that a failure
        shrinks (raises :class:`~harness.plugin.fuzzing.HarnessFailure`)."""
        __tracebackhide__ = True
        problems = self.report()
        if problems:
            from harness.plugin.fuzzing import HarnessFailure

            raise HarnessFailure(problems)

    def state(self) -> dict[str, Any]:
        """What ``GET /_harness/state`` answers (empty while recording)."""
        server = self.server
        return {} if server is None else self._running.call(server.state)

    @property
    def blocked(self) -> list[str]:
        """``host:port`` of every connection the network guard refused during this test so far."""
        return [] if self.guard is None else list(self.guard.blocked)

    def clear_blocked(self) -> list[str]:
        """Take the refused connections: the test expected them, teardown will not report them."""
        if self.guard is None:
            return []
        taken, self.guard.blocked = self.guard.blocked, []
        return taken

    @property
    def errors(self) -> list[ServerError]:
        """Errors seen in the server's thread during this test (they fail it at teardown)."""
        return self._running.background.errors[self._errors_from :]

    # --- session report (--harness-report) -----------------------------------------------------

    def start_report(self, directory: Path) -> None:
        """Write the frames the server sees from now on to the test's session tape in
        ``directory``; :meth:`finish_report` makes its report. Nothing while recording."""
        from harness.plugin.reports import SessionReport

        server = self.server
        if server is None:
            return
        self.session_report = SessionReport(directory, self.test)
        self._running.call(setattr, server, "session_tap", self.session_report.write)

    def finish_report(self) -> None:
        """Stop the session tape and write the report (:attr:`report_error` says why not)."""
        report = self.session_report
        server = self.server
        if report is None or server is None:
            return
        self._running.call(setattr, server, "session_tap", None)
        try:
            report.finish()
        except Exception as exc:  # a report that cannot be written must not hide the test's outcome
            self.report_error = f"harness: no session report for {self.test}: {exc}"

    # --- teardown ------------------------------------------------------------------------------

    def report(self) -> str:
        """What went wrong on the server's side during the test, or "" (docs/guides/pytest-plugin.md)."""
        parts = []
        if self.blocked:
            hosts = ", ".join(dict.fromkeys(self.blocked))
            parts.append(
                f"harness: {self.test} reached for {hosts}, not loopback, while the record mode is 'none'"
                " (refused, even if the client caught the error; take expected ones with"
                f" harness_server.clear_blocked()). {self.guard.hint if self.guard else ''}".rstrip()
            )
        if self.errors:
            lines = [f"harness: {len(self.errors)} error(s) in the server during {self.test}:"]
            lines += [f"  {error}" for error in self.errors]
            parts.append("\n".join(lines))
        if not self._violations_allowed:
            found = self.violations
            if found:
                server = self.server
                dropped = 0 if server is None else self._running.call(lambda: server.violations_dropped)
                parts.append(violation_report(found, self.test, dropped))
                if self.session_report is not None:
                    parts.append(
                        f"Report of the session: {self.session_report.html}"
                        f" (its frames: {self.session_report.tape})"
                    )
        if self.report_error:
            parts.append(self.report_error)
        if not self._misses_allowed and self.tape.action is Action.REPLAY:
            missed = self.misses
            if missed:
                parts.append(miss_report(missed, self.test))
        return "\n\n".join(parts)


def violation_report(violations: list[ServedViolation], test: str, dropped: int = 0) -> str:
    """The teardown report: one entry per violation with side, connection, message and rule;
    ``dropped``: how many more were seen but not kept (docs "Input limits")."""
    lines = [f"harness: {len(violations)} contract violation(s) seen by the server during {test}:"]
    if dropped:
        lines[0] += f" (and {dropped} more not kept: --max-violations / --violation-bytes)"
    for number, v in enumerate(violations[:REPORT_LINES], start=1):
        side = (
            f"client {v.conn} sent" if v.source == "client" else f"the server (its tape) sent {v.conn}"
        ).replace("  ", " ")
        what = f"{v.api} {v.family}".strip() or v.api
        lines.append(f"  {number}. {side} {what} at t={v.t:g}s")
        lines.append(f"     {v.pointer or '/'}: {v.rule}: {v.message}")
        if v.excerpt:
            lines.append(f"     message: {v.excerpt}")
    if len(violations) > REPORT_LINES:
        lines.append(f"  ... and {len(violations) - REPORT_LINES} more")
    lines.append(
        "Fix the messages, or opt out: @pytest.mark.harness(allow_violations=True), "
        "harness_server.allow_violations(), or take them with harness_server.clear_violations()."
    )
    return "\n".join(lines)


def miss_report(misses: list[Miss], test: str) -> str:
    """The teardown report of misses: each request, the closest recorded one and what differed,
    and how to record what is missing."""
    lines = [f"harness: {len(misses)} request(s) the tape could not answer during {test}:"]
    for number, miss in enumerate(misses[:REPORT_LINES], start=1):
        lines.append(f"  {number}. {miss.describe()}")
    if len(misses) > REPORT_LINES:
        lines.append(f"  ... and {len(misses) - REPORT_LINES} more")
    lines.append(
        "Record what is missing with --harness-record-mode new_episodes, or opt out:"
        " @pytest.mark.harness(allow_misses=True), harness_server.allow_misses(), or take them"
        " with harness_server.clear_misses()."
    )
    return "\n".join(lines)


async def _reset(server: MockServer, plan: FuzzPlan | None) -> None:
    await server.reset()
    server.set_fuzz(plan)
