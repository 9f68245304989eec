"""Fuzzing in pytest: a test's fault schedule, and the harness fixtures under Hypothesis' ``@given``.

Owns :class:`FuzzRun` (what ``harness_server.fuzz(plan)`` returns and a failing test's report
shows: the plan, what was applied, how to reproduce it) and the per-example life of the harness
fixtures in a Hypothesis test. Hypothesis runs every example of a test inside one set of
function-scoped fixtures, so a fixture cannot give each example a fresh server; the plugin does it
through the hook Hypothesis offers for that, ``test.hypothesis.inner_test``: each example starts
from a reset server (clock at 0, feeds rewound, clients disconnected, the test's own fault
schedule), ends with the checks the fixture makes at teardown (contract violations, server
errors, refused hosts) so that a failure of those shrinks like any other, and notes its schedule
for Hypothesis' report. Because the fixtures are then fresh per example, the plugin tells
Hypothesis so: it suppresses the ``function_scoped_fixture`` health check for them, and only
when no other function-scoped fixture is in the test's signature (Hypothesis still checks the
user's own). No contract rule and no fault semantics live here (:mod:`harness.core.fuzz`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest

from harness.core.fuzz import FuzzPlan, ScheduledFault

if TYPE_CHECKING:
    from harness.plugin.decks import HarnessServer

HARNESS_FIXTURES = frozenset({"harness_server", "harness_clock", "harness_tape", "harness_config"})
"""Fixtures that are fresh for every Hypothesis example (``harness_config`` is a frozen value)."""

REPORT_LINES = 20
"""Faults listed in a report, scheduled and applied (the rest are counted)."""


class HarnessFailure(AssertionError):
    """What the server saw go wrong during one example of a Hypothesis test (contract
    violations, server errors, refused hosts): the example fails, so Hypothesis shrinks it."""


@dataclass(frozen=True, slots=True, eq=False)
class FuzzRun:
    """A fault schedule applied to the test's server (``harness_server.fuzz(plan)``).

    Also a context manager: leaving the ``with`` block puts the test's own schedule back (the
    marker's ``fuzz``, or none).
    """

    plan: FuzzPlan
    view: HarnessServer = field(repr=False)
    drawn: str = ""
    """How a seeded plan was drawn, as the arguments of ``harness_server.fuzz`` ("" if given)."""

    @property
    def applied(self) -> list[tuple[float, ScheduledFault]]:
        """Each fault applied so far, with the replay time it was applied at."""
        return self.view.fuzz_applied()

    def describe(self) -> str:
        """The schedule, what was applied of it, and how to run it again (a failing report's text)."""
        faults = self.plan.faults
        lines = [f"harness fuzz: {self.plan.describe().splitlines()[0]}"]
        lines += _listed([str(fault) for fault in faults])
        applied = self.applied
        lines.append(f"applied: {len(applied)} of {len(faults)}")
        lines += _listed([f"t={t:g}s {fault}" for t, fault in applied])
        lines.append(f"reproduce: harness_server.fuzz({self.drawn or repr(self.plan)})")
        return "\n".join(lines)

    def __enter__(self) -> FuzzRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.view.restore_fuzz()


def _listed(items: list[str]) -> list[str]:
    lines = [f"  {item}" for item in items[:REPORT_LINES]]
    if len(items) > REPORT_LINES:
        lines.append(f"  ... and {len(items) - REPORT_LINES} more")
    return lines


# --- Hypothesis ----------------------------------------------------------------------------------


def is_given(item: pytest.Item) -> bool:
    """Whether ``item`` is a test decorated with Hypothesis' ``@given``."""
    function = getattr(item, "obj", None)
    return bool(getattr(function, "is_hypothesis_test", False)) and hasattr(function, "hypothesis")


def install(item: pytest.Item, view: HarnessServer) -> Callable[[], None]:
    """Make the harness fixtures fresh per example of ``item`` if it is a Hypothesis test (module
    docstring); returns what undoes it at teardown. Raises ValueError if the test also takes a
    function-scoped fixture of its own (which Hypothesis would not reset either)."""
    if not is_given(item):
        return lambda: None
    function: Any = item.obj  # type: ignore[attr-defined]
    restore_settings = _trust_harness_fixtures(item, getattr(function, "__func__", function))
    handle = function.hypothesis
    inner = handle.inner_test
    handle.inner_test = per_example(view, inner)

    def undo() -> None:
        handle.inner_test = inner
        restore_settings()

    return undo


def per_example(view: HarnessServer, inner: Callable[..., Any]) -> Callable[..., Any]:
    """``inner`` (the body of a Hypothesis test, sync or async) run as one example on ``view``."""
    if inspect.iscoroutinefunction(inner):

        @functools.wraps(inner)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            view.begin_example()
            try:
                result = await inner(*args, **kwargs)
            finally:
                _note(view)
            view.end_example()
            return result

        return run_async

    @functools.wraps(inner)
    def run(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        view.begin_example()
        try:
            result = inner(*args, **kwargs)
        finally:
            _note(view)
        view.end_example()
        return result

    return run


def _note(view: HarnessServer) -> None:
    from hypothesis import note

    run = view.fuzzing
    if run is not None:
        note(run.describe())  # Hypothesis prints the notes of the minimal failing example


def _trust_harness_fixtures(item: pytest.Item, function: Any) -> Callable[[], None]:
    """Suppress Hypothesis' ``function_scoped_fixture`` health check for ``function`` if the
    harness fixtures are the only function-scoped fixtures it takes; returns the undo."""
    from hypothesis import HealthCheck, settings

    current = getattr(function, "_hypothesis_internal_use_settings", None)
    if not isinstance(current, settings):
        return lambda: None
    # the same attributes Hypothesis' own pytest plugin reads (and writes, to relax its
    # differing_executors check for parametrized tests)
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    others = [
        name
        for name in inspect.signature(function).parameters
        if name not in HARNESS_FIXTURES
        and definitions.get(name)
        and definitions[name][-1].scope == "function"
    ]
    if HealthCheck.function_scoped_fixture in current.suppress_health_check:
        return lambda: None
    if others:
        # Hypothesis would name the first function-scoped fixture it meets, often harness_server
        names = ", ".join(repr(name) for name in others)
        raise ValueError(
            f"{item.nodeid} takes the function-scoped fixture(s) {names} under @given: Hypothesis runs"
            " every example inside one instance of them (the harness fixtures start fresh for each"
            " example; those do not). Give them a wider scope, set up the per-example part inside the"
            " test, or, if they are safe to share between examples,"
            " @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])."
        )
    function._hypothesis_internal_use_settings = settings(
        current,
        suppress_health_check=[*current.suppress_health_check, HealthCheck.function_scoped_fixture],
    )

    def restore() -> None:
        function._hypothesis_internal_use_settings = current

    return restore
