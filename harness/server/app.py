"""``MockServer``: one aiohttp application on one port serving every API from tapes.

Owns the server's lifecycle (listen, serve, shut down), the composition of the emulators around
one :class:`~harness.server.scheduler.Scheduler`, the collection of contract violations, and the
Python API that tests and the pytest plugin use::

    async with MockServer(["fixtures/demo"], manual=True) as server:
        server.urls["rest"]            # http://127.0.0.1:PORT
        await server.advance(5)        # replay time moves 5 s, everything due is delivered
        server.violations              # what broke the contract, from either side
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from harness.core.frames import C2S, Frame, HttpExchange, WsOpen
from harness.core.fuzz import FuzzPlan
from harness.core.misses import Miss
from harness.core.pumpportal.families import is_pumpportal_url
from harness.core.redact import shown
from harness.core.tape import TapeLimits
from harness.resources import DEMO_TAPES
from harness.server.config import ClockStart, ServerConfig
from harness.server.connections import ConnectionGuard
from harness.server.context import Emulator, LoadedTapes, ServedViolation, excerpt
from harness.server.drop import ConnectionTable, check_apis
from harness.server.fuzz import Fuzzer
from harness.server.listening import Served, listen, service_urls
from harness.server.memory import Trimmer
from harness.server.scheduler import Scheduler
from harness.store import TapeReader, find_tapes

log = logging.getLogger("harness.server")

MAX_MISSES = 10_000
"""Misses kept per server (later ones are counted, not kept), so memory stays bounded."""
OFF_LOOP_BYTES = 64 * 1024
"""A client message this large is validated in a worker thread (:meth:`MockServer.check_frame_async`)."""

SHUTDOWN_GRACE = 0.5
"""Seconds a handler still running at shutdown (a long-lived socket an emulator did not close)
gets to finish before it is cancelled; aiohttp's default would keep a stopping server up a minute."""


def load_tapes(paths: Sequence[Path | str], limits: TapeLimits | None = None) -> LoadedTapes:
    """Read tapes (files or directories) and split their frames by protocol, in time order.
    What the readers tolerated (a torn last line, NaN read as null) is logged as a warning and
    kept in ``problems``."""
    loaded = LoadedTapes()
    buckets: dict[str, list[Frame]] = {"http": loaded.http, "ws": loaded.ws, "sio": loaded.sio}
    files = find_tapes([Path(p) for p in paths])
    portal: set[str] = set()  # connections to PumpPortal's /api/data: its emulator's frames
    for index, path in enumerate(files, start=1):
        with TapeReader(path, limits) as reader:
            loaded.headers.append((str(path), reader.header))
            for frame in reader:
                # Every tape starts at t=0; connection ids are made unique across tapes.
                if len(files) > 1:
                    frame = dataclasses.replace(frame, conn=f"{index}:{frame.conn}")
                if isinstance(frame, WsOpen) and is_pumpportal_url(frame.url):
                    portal.add(frame.conn)
                bucket = loaded.pumpportal if frame.conn in portal else buckets[frame.protocol.value]
                bucket.append(frame)
            for problem in reader.problems:
                loaded.problems.append(f"{path}:{problem.line}: {problem.message}")
                log.warning("%s:%s: %s", path, problem.line, problem.message)
    for frames in [*buckets.values(), loaded.pumpportal]:
        frames.sort(key=lambda f: f.t)
    return loaded


def _from_client(frame: Frame, prefix: str) -> bool:
    if isinstance(frame, HttpExchange):
        return prefix.startswith("/request")
    return frame.direction is C2S


class MockServer(Served):
    """Every service replayed from tapes on one port. See the module docstring."""

    def __init__(
        self,
        tapes: Sequence[Path | str] | None = None,
        config: ServerConfig | None = None,
        **options: Any,
    ) -> None:
        base = config or ServerConfig()
        if "speed" in options and isinstance(options["speed"], str):
            from harness.core.clock import parse_speed

            options["speed"] = parse_speed(options["speed"])
        self.config = dataclasses.replace(base, **options) if options else base
        self.tape_paths = list(tapes) if tapes else [DEMO_TAPES]
        self.tapes = load_tapes(self.tape_paths, self.config.limits.tape)
        self.scheduler = Scheduler(self.config.clock(), max_steps=self.config.max_advance_steps)
        self.counters: Counter[str] = Counter()
        self._violations: list[ServedViolation] = []
        self._held = 0
        """Bytes the kept violations hold (:meth:`ServedViolation.size`), at most ``violation_bytes``."""
        self._misses: list[Miss] = []
        self._runner: web.AppRunner | None = None
        self._validator: Any = None
        self._tracker: Any = None
        self.session_tap: Callable[[Frame], None] | None = None
        """Called (in the server's thread) with every frame of the clients' sessions the server
        sees, as it sees them (the pytest plugin writes them to a test's session tape)."""
        self.app = web.Application()
        self.guard = ConnectionGuard(
            head_timeout=self.config.head_timeout, max_connections=self.config.connection_cap
        )
        self.fuzz = Fuzzer(self, self.config.fuzz)
        self.trimmer = Trimmer(self.counters)
        self.emulators: list[Emulator] = self._make_emulators()
        self.scheduler.emulators = [*self.emulators, self.fuzz]
        from harness.server.control import setup_control

        setup_control(self.app, self)
        self.connections = ConnectionTable()
        self.connections.setup(self.app)
        # The REST emulator's catch-all route goes last, after the fixed paths.
        for emulator in sorted(self.emulators, key=lambda e: e.name == "pumpfun"):
            emulator.setup(self.app)
        self.host = self.config.host
        self.port = self.config.port

    def _make_emulators(self) -> list[Emulator]:
        from harness.server.corto import CortoEmulator
        from harness.server.pumpdata import PumpdataEmulator
        from harness.server.pumpportal import PumpPortalEmulator
        from harness.server.rest import RestEmulator

        return [RestEmulator(self), CortoEmulator(self), PumpdataEmulator(self), PumpPortalEmulator(self)]

    @web.middleware
    # --- ServerContext -------------------------------------------------------------------------

    def now(self) -> float:
        return self.scheduler.now()

    def touch(self) -> None:
        self.scheduler.touch()

    def wake(self) -> None:
        self.scheduler.wake()

    def client_left(self, received: int) -> None:
        """A client that sent ``received`` bytes is gone: memory it cost goes back to the system."""
        self.trimmer.client_left(received)

    def report(self, violation: ServedViolation) -> None:
        self.counters["violations"] += 1
        # a schema's message may quote what the client sent: shown as the redaction rules allow
        violation = dataclasses.replace(violation, message=shown(violation.message))
        size = violation.size()
        limits = self.config.limits
        if len(self._violations) < limits.max_violations and self._held + size <= limits.violation_bytes:
            self._violations.append(violation)
            self._held += size
        else:
            self.counters["violations_dropped"] += 1

    def miss(self, miss: Miss) -> None:
        """Keep a request or subscription the tapes could not answer (the plugin's teardown
        report names them)."""
        self.counters["misses"] += 1
        if len(self._misses) < MAX_MISSES:
            self._misses.append(miss)

    @property
    def misses(self) -> list[Miss]:
        return list(self._misses)

    def clear_misses(self) -> list[Miss]:
        seen, self._misses = self._misses, []
        return seen

    def client_violation(
        self, api: str, family: str, pointer: str, rule: str, message: str, conn: str
    ) -> None:
        """Keep a violation of what client ``conn`` sent that no schema can see (a binary frame, a
        packet that does not decode), when the server validates."""
        if self.config.validate:
            self.report(
                ServedViolation(api, family, pointer, rule, message, "client", conn, self._now_or_zero())
            )

    def saw(self, frame: Frame) -> None:
        if self.session_tap is not None:
            self.session_tap(frame)

    def check_frame(self, frame: Frame, *, conn: str = "") -> list[ServedViolation]:
        """Validate every message ``frame`` carries (classified as a tape's frames are);
        violations are kept and returned. ``conn`` names the client for the report."""
        self.saw(frame)
        if not self.config.validate:
            return []
        found = self._violations_in(frame, conn, self._now_or_zero())
        for violation in found:
            self.report(violation)
        return found

    async def check_frame_async(
        self, frame: Frame, *, conn: str = "", size: int = 0
    ) -> list[ServedViolation]:
        """:meth:`check_frame` for a client's frame of ``size`` bytes: in a worker thread when it
        is :data:`OFF_LOOP_BYTES` or more, so the other clients are served while a large message
        is decoded and explained (the thread lets the event loop run every few milliseconds)."""
        if not self.config.validate:
            return []
        if size < OFF_LOOP_BYTES:
            return self.check_frame(frame, conn=conn)
        found = await asyncio.to_thread(self._violations_in, frame, conn, self._now_or_zero())
        for violation in found:
            self.report(violation)
        return found

    def _violations_in(self, frame: Frame, conn: str, t: float) -> list[ServedViolation]:
        """What :meth:`check_frame` finds, not yet kept (safe in a worker thread: the validator is
        thread-safe, the family tracker's state is per connection)."""
        validator, tracker = self._checkers()
        found = []
        for api, family, message, prefix in tracker.classify(frame):
            source = "client" if _from_client(frame, prefix) else "server"
            violations = validator.classified(message, api, family)
            quoted = excerpt(message) if violations else ""  # once per message, however many
            for v in violations:
                found.append(
                    ServedViolation(
                        api=v.api,
                        family=v.family,
                        pointer=prefix + v.pointer,
                        rule=v.rule,
                        message=v.message,
                        source=source,
                        conn=conn or frame.conn,
                        t=t,
                        excerpt=quoted,
                    )
                )
        return found

    def _checkers(self) -> tuple[Any, Any]:
        if self._validator is None:
            from harness.core.families import FamilyTracker
            from harness.validation import default_validator

            self._validator = default_validator()
            self._tracker = FamilyTracker()
        return self._validator, self._tracker

    def _now_or_zero(self) -> float:
        try:
            return self.now()
        except RuntimeError:
            return 0.0

    # --- public API ----------------------------------------------------------------------------

    @property
    def epoch(self) -> float:
        """Unix time that replay time 0 stands for: the first tape's creation time (0 if none)."""
        for _, header in self.tapes.headers:
            try:
                return datetime.fromisoformat(header.created.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
        return 0.0

    @property
    def violations(self) -> list[ServedViolation]:
        return list(self._violations)

    @property
    def violations_dropped(self) -> int:
        """Violations seen but not kept: past ``--max-violations`` or ``--violation-bytes``."""
        return self.counters["violations_dropped"]

    def clear_violations(self) -> list[ServedViolation]:
        seen, self._violations, self._held = self._violations, [], 0
        return seen

    def set_fuzz(self, plan: FuzzPlan | None) -> None:
        """Apply fault schedule ``plan`` from now on (None: no faults); each API's message and
        request ordinals count again from 0. What was applied: ``server.fuzz.applied``."""
        self.fuzz.set_plan(plan)

    def drop_connections(
        self, apis: Iterable[str] | None = None, *, keep: asyncio.BaseTransport | None = None
    ) -> dict[str, int]:
        """Cut the open connections of ``apis`` (None: all three) as a network failure would:
        their transports aborted, no close frame, disconnect packet or response (README "Control
        endpoints"). Returns how many per API. Raises ValueError for an unknown API."""
        dropped = self.connections.drop(self._runner, check_apis(apis), keep)
        self.counters["connections_dropped"] += sum(dropped.values())
        return dropped

    async def advance(self, seconds: float) -> float:
        """Move replay time forward; everything due on the way is delivered, up to
        ``max_advance_steps`` wake-ups, past which the replay jumps to the new time (what it
        skipped: ``server.scheduler.skipped``). Returns the new time."""
        if not 0 <= seconds < math.inf:
            raise ValueError(f"the replay clock only moves forward by a finite time (asked for {seconds} s)")
        now = await self.scheduler.advance(seconds)
        if self.scheduler.skipped:
            self.counters["advance_skipped_items"] += self.scheduler.skipped
            log.warning(
                "harness: advance of %g s walked %d wake-ups (--max-advance-steps) and jumped to %g s,"
                " skipping %d feed items",
                seconds,
                self.scheduler.max_steps,
                now,
                self.scheduler.skipped,
            )
        return now

    async def reset(self) -> None:
        """Back to a fresh state: clock at 0, feeds rewound, subscriptions, budgets and
        violations cleared (what the pytest plugin does between tests)."""
        await self.scheduler.reset()
        self._violations.clear()
        self._misses.clear()
        self._held = 0
        self.counters.clear()

    @property
    def urls(self) -> dict[str, str]:
        return service_urls(self.host, self.port, control=True)

    def state(self) -> dict[str, Any]:
        clock = self.scheduler.clock
        return {
            "clock": {
                "mode": clock.mode.value,
                "speed": self.config.speed_text,
                "started": clock.started,
                "now": self._now_or_zero(),
                "loop": self.config.loop,
                "lateness_ms": self._lateness(),
            },
            "tapes": self.tapes.paths,
            "tape_problems": self.tapes.problems[:100],
            "apis": {e.name: e.state() for e in self.emulators},
            "counters": dict(self.counters),
            "fuzz": self.fuzz.state(),
            "violations": len(self._violations),
            "connections": self.guard.state(),
            "violations_dropped": self.violations_dropped,
            "violation_bytes": self._held,
        }

    def _lateness(self) -> dict[str, float] | None:
        """Real-time mode: how late (host ms) recent wake-ups were acted on."""
        samples = sorted(self.scheduler.lateness)
        if not samples:
            return None

        def at(share: float) -> float:
            return round(samples[min(len(samples) - 1, int(share * len(samples)))] * 1000, 3)

        return {"p50": at(0.5), "p99": at(0.99), "max": round(samples[-1] * 1000, 3), "samples": len(samples)}

    async def start(self) -> Self:
        listening = await listen(
            self.app, self.config.host, self.config.port, shutdown_timeout=SHUTDOWN_GRACE, guard=self.guard
        )
        self._runner, self.host, self.port = listening.runner, listening.host, listening.port
        self.scheduler.start()
        if self.config.start is ClockStart.LISTEN:
            self.scheduler.start_now()
        return self

    async def close(self) -> None:
        self.trimmer.close()
        await self.scheduler.stop()
        for emulator in self.scheduler.emulators:
            await emulator.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def write_ready_file(self, path: Path) -> None:
        """The URLs as JSON, written atomically once the server listens."""
        write_ready_file(path, self.urls)


def write_ready_file(path: Path, urls: dict[str, str]) -> None:
    """``urls`` as JSON in ``path``, written atomically (``--ready-file``)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(urls, indent=2) + "\n")
    tmp.replace(path)
