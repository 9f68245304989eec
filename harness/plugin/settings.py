"""What one test asked of the harness: ``HarnessConfig`` and the precedence that resolves it.

Owns the settings a test can give and where they come from, in precedence order: the command line
(``--harness-record-mode``, ``--harness-tapes-dir``, ``--harness-report``, ``--harness-max-age``,
``--harness-expired``, ``--harness-allow-hosts``) over the ``harness`` marker (the closest marker wins
per setting) over the ``harness_config`` fixture over the defaults below; and the tape a test gets
when it names none (its own, ``tapes/<module>/<test>.jsonl``, once recorded; else the demo tapes).
Knows nothing of servers: the result, :class:`Resolved`, is a value the plugin turns into one.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness.core.clock import parse_speed
from harness.core.expiry import ExpiryPolicy, default_policy, parse_max_age, parse_policy
from harness.core.faults import FaultRule, parse_fault
from harness.core.fuzz import FuzzKind, FuzzPlan, parse_kinds
from harness.core.redact import RedactionRules
from harness.recorder.modes import DEFAULT_UPSTREAMS, RecordMode, Upstreams
from harness.server.config import ServerConfig

TapeSpec = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None


class Clock(StrEnum):
    MANUAL = "manual"
    """Nothing moves until the test advances it (``harness_clock.advance``)."""
    REAL = "real"
    """Replay time runs at ``speed`` times real time (``speed="max"``: as fast as clients read)."""


@dataclass(frozen=True, slots=True)
class HarnessConfig:
    """Settings of the harness for a test; return one from your own ``harness_config`` fixture.

    Every field is also a keyword of the ``harness`` marker, and so is every field of
    :class:`~harness.server.config.ServerConfig` (``loop``, ``seed``, ``validate``, ``corto`` ...)
    except ``host`` and ``port`` (each server listens on 127.0.0.1, port 0).
    """

    tape: TapeSpec = None
    """Tape file(s) or directories, relative to ``tapes_dir``. None: the test's own tape,
    ``tapes/<module>/<test>.jsonl``, when it exists or the run records; else the demo tapes."""
    speed: float | str | None = None
    """Replay speed factor or ``"max"``; giving one makes the default clock ``real``."""
    clock: Clock | str | None = None
    """``"manual"`` (the default unless a speed is given) or ``"real"``."""
    faults: Sequence[str | FaultRule] = ()
    """REST fault rules, as ``harness serve --fault`` takes them: ``"/trades/*:status=503,p=0.3"``."""
    fuzz: FuzzPlan | int | None = None
    """A fault schedule for the test (docs/guides/fuzz.md): a :class:`~harness.core.fuzz.FuzzPlan`,
    or a seed, drawn over the test's tapes as ``harness fuzz --seed`` draws it."""
    fuzz_faults: str | Sequence[str | FuzzKind] = "all"
    """Fault kinds a seeded schedule draws (``harness fuzz --faults``)."""
    fuzz_rate: float = 0.05
    """Share of messages and requests a seeded schedule gives a fault (``harness fuzz --rate``)."""
    record_mode: RecordMode | str = RecordMode.NONE
    tapes_dir: str | os.PathLike[str] | None = None
    """Where relative tape paths start. None: the directory of the test's file."""
    allow_violations: bool = False
    """Do not fail the test for contract violations the server saw."""
    allow_misses: bool = False
    """Do not fail the test for requests and subscriptions the tape could not answer."""
    allow_network: bool = False
    """Record mode ``none``: let the test reach any host."""
    allow_hosts: Sequence[str] = ()
    """Record mode ``none``: hosts the test may reach besides loopback."""
    rest_upstream: str = DEFAULT_UPSTREAMS["rest"]
    sio_upstream: str = DEFAULT_UPSTREAMS["sio"]
    ws_upstream: str = DEFAULT_UPSTREAMS["ws"]
    redaction: RedactionRules | None = None
    """Redaction rules of recordings (None: the default rules, docs/reference/redaction.md);
    ``RedactionRules.with_extra(json_keys=[...], keep=["session"])`` adds rules and keeps defaults
    by name, as ``harness record --keep-secret`` does."""
    report_dir: str | os.PathLike[str] | None = None
    """Write an HTML report of the test's session (and the session's tape) into this directory,
    relative to the test's file (``--harness-report DIR`` beats it, relative to where pytest runs).
    None: no report."""
    max_age: float | str | None = None
    """Tapes older than this (seconds, or ``"30d"``, ``"12h"`` ...; from their header's creation
    time) are expired; None: tapes never expire."""
    expired: ExpiryPolicy | str | None = None
    """What an expired tape does: ``warn``, ``fail`` or ``rerecord``. None: ``fail`` when the
    ``CI`` variable is set, else ``warn``."""
    server: ServerConfig = field(default_factory=ServerConfig)
    """Every other server setting (per-API configs, validation, seed, loop)."""


FIELDS = frozenset(f.name for f in dataclasses.fields(HarnessConfig))
SERVER_FIELDS = frozenset(f.name for f in dataclasses.fields(ServerConfig)) - {
    "host",
    "port",
    "speed",
    "manual",
    "faults",
    "fuzz",
}


@dataclass(frozen=True, slots=True)
class Fuzz:
    """A test's fault schedule: a plan as given, or a seed to draw one from over its tapes."""

    plan: FuzzPlan | None = None
    seed: int | None = None
    kinds: frozenset[FuzzKind] = frozenset(FuzzKind)
    rate: float = 0.05

    def arguments(self) -> str:
        """A seeded schedule as the arguments of ``harness_server.fuzz`` that draw it again."""
        kinds = "all" if self.kinds == frozenset(FuzzKind) else ",".join(sorted(self.kinds))
        return f"{self.seed}, faults={kinds!r}, rate={self.rate:g}"


def fuzz_setting(fuzz: object, faults: object = "all", rate: object = 0.05) -> Fuzz | None:
    """Check what a test gave as ``fuzz``, ``fuzz_faults`` and ``fuzz_rate``; None: no faults.
    Raises ValueError naming the setting."""
    if fuzz is None:
        return None
    if not isinstance(faults, str | Sequence) or not faults:
        raise ValueError(f"fuzz_faults takes 'all' or fault kinds, got {faults!r}")
    try:
        kinds = parse_kinds(faults if isinstance(faults, str) else ",".join(map(str, faults)))
    except ValueError as exc:
        raise ValueError(f"fuzz_faults: {exc}") from None
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ValueError(f"fuzz_rate must be a number in [0, 1], got {rate!r}")
    if isinstance(fuzz, FuzzPlan):
        return Fuzz(plan=fuzz)
    if isinstance(fuzz, int) and not isinstance(fuzz, bool) and fuzz >= 0:
        return Fuzz(seed=fuzz, kinds=kinds, rate=float(rate))
    raise ValueError(f"fuzz takes a FuzzPlan or a seed (an int >= 0), got {fuzz!r}")


@dataclass(frozen=True, slots=True)
class Resolved:
    """The settings of one test, every layer applied."""

    mode: RecordMode
    tapes: tuple[Path, ...]
    server: ServerConfig
    upstreams: Upstreams
    redaction: RedactionRules | None
    allow_violations: bool
    allow_misses: bool
    allow_network: bool
    allow_hosts: tuple[str, ...]
    fuzz: Fuzz | None = None
    """The test's fault schedule (applied per test: tests with different ones share a server)."""
    report_dir: Path | None = None
    """Where the test's session report goes (None: no report)."""
    max_age: float | None = None
    """Seconds after which a tape is expired (None: never)."""
    expired: ExpiryPolicy = ExpiryPolicy.WARN
    own_tape: bool = False
    """The tape is the test's own default one (``tapes/<module>/<test>.jsonl``), named by no setting."""

    @property
    def deck_key(self) -> tuple[Any, ...]:
        """Tests with equal keys share one server."""
        return (self.mode, self.tapes, self.server, self.upstreams, self.redaction)


def marker_settings(markers: Sequence[tuple[tuple[Any, ...], Mapping[str, Any]]]) -> dict[str, Any]:
    """The keywords of ``harness`` markers (closest first, as pytest's ``iter_markers`` gives
    them), merged so the closest wins. Raises ValueError for an unknown keyword."""
    merged: dict[str, Any] = {}
    for args, kwargs in reversed(markers):
        if len(args) > 1:
            raise ValueError(
                f"@pytest.mark.harness takes one positional argument (the tape), got {len(args)}"
            )
        given = dict(kwargs)
        if args:
            if "tape" in given:
                raise ValueError("@pytest.mark.harness got the tape twice (positional and tape=)")
            given["tape"] = args[0]
        unknown = sorted(set(given) - FIELDS - SERVER_FIELDS)
        if unknown:
            raise ValueError(
                f"@pytest.mark.harness does not know {', '.join(unknown)}; it takes "
                f"{', '.join(sorted(FIELDS - {'server'}))} and the ServerConfig fields "
                f"{', '.join(sorted(SERVER_FIELDS))}"
            )
        merged.update(given)
    return merged


def control_token_from_env() -> str | None:
    """The control token a server the plugin starts asks for: ``$HARNESS_CONTROL_TOKEN`` (the
    ``control_token`` setting wins), so that a client under test that drives ``/_harness/`` with
    the token set for it is checked as it would be against ``harness serve``."""
    from harness.core.access import TOKEN_ENV

    return os.environ.get(TOKEN_ENV) or None


def _tapes(spec: TapeSpec, base: Path) -> tuple[Path, ...]:
    if spec is None:
        return ()
    items = [spec] if isinstance(spec, str | os.PathLike) else list(spec)
    return tuple(
        (base / Path(item)).resolve() if not Path(item).is_absolute() else Path(item) for item in items
    )


def resolve(
    config: HarnessConfig,
    marker: Mapping[str, Any],
    command_line: Mapping[str, Any],
    *,
    test_dir: Path,
    invocation_dir: Path,
    own_tape: Path | None = None,
    ci: bool = False,
) -> Resolved:
    """Apply the layers (module docstring). ``command_line`` holds only options that were given.
    Raises ValueError for a setting that makes no sense, naming it."""
    if not isinstance(config, HarnessConfig):
        raise ValueError(
            f"the harness_config fixture must return a HarnessConfig, got {type(config).__name__}"
        )
    server_options = {k: v for k, v in marker.items() if k in SERVER_FIELDS}
    settings = dataclasses.replace(config, **{k: v for k, v in marker.items() if k in FIELDS})
    if "record_mode" in command_line:
        settings = dataclasses.replace(settings, record_mode=command_line["record_mode"])
    try:
        mode = RecordMode(settings.record_mode)
    except ValueError:
        names = ", ".join(m.value for m in RecordMode)
        raise ValueError(f"record_mode must be one of {names}, got {settings.record_mode!r}") from None
    if "tapes_dir" in command_line:
        tapes_dir = (invocation_dir / Path(command_line["tapes_dir"])).resolve()
    elif settings.tapes_dir is not None:
        tapes_dir = (test_dir / Path(settings.tapes_dir)).resolve()
    else:
        tapes_dir = test_dir
    if "report_dir" in command_line:
        report_dir: Path | None = (invocation_dir / Path(command_line["report_dir"])).resolve()
    elif settings.report_dir is not None:
        report_dir = (test_dir / Path(settings.report_dir)).resolve()
    else:
        report_dir = None
    speed = 1.0 if settings.speed is None else settings.speed
    if isinstance(speed, str):
        speed = parse_speed(speed)
    elif not isinstance(speed, int | float) or not speed > 0:
        raise ValueError(f"speed must be a positive number or 'max', got {settings.speed!r}")
    try:
        clock = Clock(settings.clock or (Clock.REAL if settings.speed is not None else Clock.MANUAL))
    except ValueError:
        raise ValueError(f"clock must be 'manual' or 'real', got {settings.clock!r}") from None
    if isinstance(settings.faults, str):
        raise ValueError(f"faults takes a list of rules, got the string {settings.faults!r}")
    faults = tuple(f if isinstance(f, FaultRule) else parse_fault(f) for f in settings.faults)
    # the schedule is applied per test, so it is not part of the server's config (a plan in the
    # harness_config fixture's ServerConfig counts as the test's own)
    fuzz = fuzz_setting(
        settings.fuzz if settings.fuzz is not None else settings.server.fuzz,
        settings.fuzz_faults,
        settings.fuzz_rate,
    )
    server_options.setdefault("control_token", settings.server.control_token or control_token_from_env())
    server = dataclasses.replace(
        settings.server,
        **server_options,
        host="127.0.0.1",
        port=0,
        speed=float(speed),
        manual=clock is Clock.MANUAL,
        faults=faults,
        fuzz=None,
    )
    if isinstance(settings.allow_hosts, str):
        raise ValueError(f"allow_hosts takes a list of hosts, got the string {settings.allow_hosts!r}")
    max_age = command_line.get("max_age", settings.max_age)
    given_policy = command_line.get("expired", settings.expired)
    tapes = _tapes(settings.tape, tapes_dir)
    own = False
    if settings.tape is None and own_tape is not None:
        path = tapes_dir / "tapes" / own_tape
        if mode is not RecordMode.NONE or path.exists():
            tapes, own = (path,), True
    return Resolved(
        mode=mode,
        tapes=tapes,
        server=server,
        upstreams=Upstreams(rest=settings.rest_upstream, sio=settings.sio_upstream, ws=settings.ws_upstream),
        redaction=settings.redaction,
        allow_violations=bool(settings.allow_violations),
        allow_misses=bool(settings.allow_misses),
        allow_network=bool(settings.allow_network),
        allow_hosts=(*settings.allow_hosts, *command_line.get("allow_hosts", ())),
        fuzz=fuzz,
        report_dir=report_dir,
        max_age=None if max_age is None else parse_max_age(max_age),
        expired=(
            parse_policy(given_policy)
            if given_policy is not None
            else default_policy(ci=ci, max_age_given=max_age is not None)
        ),
        own_tape=own,
    )


def own_tape_name(module: str, cls: str | None, test: str) -> Path:
    """A test's own tape, relative to ``tapes/``: ``<module>/<Class>.<test>.jsonl``, with each
    character a file name cannot safely hold (a parameter's) as ``_``."""
    name = test if cls is None else f"{cls}.{test}"
    safe = "".join(c if c.isalnum() or c in "._-[]" else "_" for c in name)
    return Path(module) / f"{safe[:200]}.jsonl"
