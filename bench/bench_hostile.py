"""Hostile clients: while each attack runs, how long well-behaved clients of all three APIs wait
for their answers, whether the server answered throughout, and whether its memory came back.

A real ``harness serve`` (the demo tapes, ``--speed 10 --loop --no-rate-limit``, port 0) runs in
its own process group; three canaries (``bench.canaries``: a Data Stream subscriber, a PumpData
Socket.IO subscriber, a REST poller) time request-to-answer round trips in a process of their own
throughout. The canaries' p99 with no attack is measured first and is every row's baseline. Then
the attacks of ``bench.attacks`` run one at a time, each under a time cap; after each, once its
clients left, the server's CPU, health (``GET /_harness/state``), RSS (``/proc/PID/status``) and
log (tracebacks) are read. A server left stuck (no answer, or a core still busy), or holding more
than 20 MB over its start (full run), is killed and started again, so one attack's damage does
not spill into the next.

Per attack: each canary's p99 (target < 50 ms), requests unanswered (canary requests, the
attacker's own that the server owed an answer, the health check; target 0), RSS after minus
before (target < 20 MB) and tracebacks logged (target 0). What the attacker saw goes to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bench.attacks import FULL, QUICK, Attack, Outcome, Scale, attacks
from bench.bench_sio import demo_trades
from bench.canaries import NAMES, Canaries
from bench.common import ROOT, Result, cpu_seconds, percentile

SERVE = ("--port", "0", "--speed", "10", "--loop", "--no-rate-limit")
P99_TARGET_MS = 50.0
RSS_TARGET_MB = 20.0
BUSY = 0.75
"""Share of a core the server may still use once an attack's clients left before it counts as
stuck (the canaries alone cost it a fraction of that)."""
RAISED = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Exit|Warning|Interrupt)\b")
LOG_READ_CAP = 32 << 20
"""Bytes of server log read after one attack (a log storm is counted, not read whole)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    scale: Scale
    cap: float
    """Seconds one attack may take before it counts as not answered and is cut."""
    probe_timeout: float
    """Seconds a canary waits for one answer."""
    baseline: float
    """Seconds of canary samples with no attack."""
    min_window: float
    """Seconds of canary samples taken per attack at least."""
    settle: float
    """Seconds given the server after an attack's clients left, before it is measured."""
    health_timeout: float
    restart_when_bloated: bool


FULL_PLAN = Plan(FULL, 15.0, 10.0, 3.0, 2.0, 1.0, 5.0, True)
QUICK_PLAN = Plan(QUICK, 1.5, 2.0, 0.6, 0.3, 0.2, 1.0, False)


class Server:
    """``harness serve`` in its own process group, started again on demand; its log accumulates
    in one file."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.log = tmp / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.urls: dict[str, str] = {}
        self.port = 0
        self.starts = 0

    async def start(self, timeout: float = 60.0) -> None:
        ready = self.tmp / f"ready-{self.starts}.json"
        self.starts += 1
        self.proc = self._spawn(ready)
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"harness serve did not start within {timeout:g} s:\n{tail}")
            await asyncio.sleep(0.05)
        self.urls = json.loads(ready.read_text())
        self.port = urlsplit(self.urls["rest"]).port or 0

    def _spawn(self, ready: Path) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "harness", "serve", *SERVE, "--ready-file", str(ready)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_mb(self) -> float:
        """Resident memory in MB (2**20 bytes), NaN once the process is gone."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return float("nan")
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(found.group(1)) / 1024 if found else float("nan")

    async def healthy(self, timeout: float) -> bool:
        """Whether ``GET /_harness/state`` is answered 200 within ``timeout``."""
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
                async with http.get(self.urls["control"] + "/state") as response:
                    await response.read()
                    return response.status == 200
        except (TimeoutError, aiohttp.ClientError):
            return False

    def log_size(self) -> int:
        return self.log.stat().st_size

    def tracebacks_since(self, offset: int) -> tuple[int, list[str]]:
        """Tracebacks the server logged after byte ``offset``, and the distinct lines saying what
        was raised (the first few)."""
        with self.log.open("rb") as log:
            log.seek(offset)
            text = log.read(LOG_READ_CAP).decode(errors="replace")
        count = text.count("Traceback (most recent call last)")
        raised: list[str] = []
        for line in text.splitlines():
            said = RAISED.match(line) or "exception was never retrieved" in line
            if said and line[:160] not in raised:
                raised.append(line[:160])
        return count, raised[:4]


def _raise_open_file_limit() -> int:
    """Up to the hard limit, so a thousand and more sockets can be open (the server, started from
    here, inherits it: the attacks test its handling of connections, not its limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _fitted(plan: Plan, files: int) -> Plan:
    """``plan`` holding no more sockets at once than the open-file limit leaves room for."""
    room = max(10, files - 200)
    scale = dataclasses.replace(
        plan.scale, silent=min(plan.scale.silent, room), slowloris=min(plan.scale.slowloris, room)
    )
    return dataclasses.replace(plan, scale=scale)


def _say(text: str) -> None:
    print(f"  hostile: {text}", file=sys.stderr, flush=True)


async def _attack(attack: Attack, server: Server, cap: float, scale: Scale) -> Outcome:
    try:
        async with asyncio.timeout(cap):
            return await attack.run(server.port, scale)
    except TimeoutError:
        return Outcome(1, [f"server did not answer the attack within {cap:g} s"], cut=True)
    except Exception as exc:  # the server dropped or refused the attacker: an observation
        return Outcome(0, [f"attack ended by {type(exc).__name__}: {str(exc)[:100]}"])


@dataclasses.dataclass(frozen=True, slots=True)
class Aftermath:
    """The server once an attack's clients left, and what the canaries saw meanwhile."""

    healthy: bool
    busy: float
    """Share of a core the server used while settling."""
    rss: float
    canaries: dict[str, dict[str, Any]]
    tracebacks: int
    raised: list[str]


async def _aftermath(server: Server, canaries: Canaries, plan: Plan, t0: float, log_offset: int) -> Aftermath:
    await asyncio.sleep(max(0.0, t0 + plan.min_window - time.monotonic()))
    cpu_before = cpu_seconds(server.pid)
    await asyncio.sleep(plan.settle)
    cpu_after = cpu_seconds(server.pid)
    t1 = time.monotonic()
    busy = (cpu_after - cpu_before) / plan.settle if cpu_before is not None and cpu_after is not None else 0.0
    healthy = server.alive() and await server.healthy(plan.health_timeout)
    rss = server.rss_mb()
    window = await canaries.window(t0, t1)
    return Aftermath(healthy, busy, rss, window, *server.tracebacks_since(log_offset))


def _rows(
    name: str, baseline: dict[str, float], rss_before: float, outcome: Outcome, after: Aftermath
) -> list[Result]:
    rows = []
    for canary in NAMES:
        p99 = percentile(after.canaries[canary]["ms"], 99)
        target = f"< {P99_TARGET_MS:g} ms"
        rows.append(
            Result(
                f"{name}: {canary} p99", p99, "ms", baseline[canary], "no attack", target, p99 < P99_TARGET_MS
            )
        )
    unanswered = (
        outcome.unanswered + sum(c["unanswered"] for c in after.canaries.values()) + (not after.healthy)
    )
    grown = after.rss - rss_before
    return [
        *rows,
        Result(f"{name}: requests unanswered", unanswered, "", target="0", ok=unanswered == 0),
        Result(
            f"{name}: RSS after - before",
            grown,
            "MB",
            rss_before,
            "RSS before (MB)",
            f"< {RSS_TARGET_MB:g} MB",
            grown < RSS_TARGET_MB,
        ),
        Result(f"{name}: tracebacks logged", after.tracebacks, "", target="0", ok=after.tracebacks == 0),
    ]


async def _one(
    attack: Attack,
    server: Server,
    canaries: Canaries,
    plan: Plan,
    baseline: dict[str, float],
    start_rss: float,
) -> tuple[list[Result], str]:
    """Run ``attack`` and measure: the rows, and why the server must be restarted ("" if not)."""
    rss_before, log_offset = server.rss_mb(), server.log_size()
    t0 = time.monotonic()
    outcome = await _attack(attack, server, plan.cap, plan.scale)
    took = time.monotonic() - t0
    after = await _aftermath(server, canaries, plan, t0, log_offset)
    state = "dead" if not server.alive() else "answering" if after.healthy else "not answering"
    _say(
        f"{attack.name}: {took:.1f} s; server {state}, CPU {after.busy:.0%},"
        f" RSS {rss_before:.0f} -> {after.rss:.0f} MB; " + "; ".join(outcome.notes)
    )
    for name in NAMES:
        for why, count in after.canaries[name]["why"].items():
            _say(f"    {name} canary unanswered {count}x: {why}")
    for line in after.raised:
        _say(f"    logged: {line}")
    if not after.healthy:
        damage = state
    elif outcome.cut:  # the attacker got no answer: the server may still be working at it
        damage = "the attack was cut"
    elif after.busy > BUSY:
        damage = f"still using {after.busy:.0%} of a core"
    elif plan.restart_when_bloated and not after.rss - start_rss < RSS_TARGET_MB:
        damage = f"{after.rss - start_rss:.0f} MB over its start"
    else:
        damage = ""
    return _rows(attack.name, baseline, rss_before, outcome, after), damage


async def _serve_and_attack(plan: Plan, canaries: Canaries, tmp: Path) -> list[Result]:
    server = Server(tmp)
    try:
        await server.start()
        canaries.point(server.urls)
        if not await canaries.ready(time.monotonic(), 60):
            raise RuntimeError("the canaries got no answer from the server within 60 s")
        start_rss = server.rss_mb()
        t0 = time.monotonic()
        await asyncio.sleep(plan.baseline)
        quiet = await canaries.window(t0, time.monotonic())
        baseline = {name: percentile(quiet[name]["ms"], 99) for name in NAMES}
        results = [
            Result(
                f"no attack: {name} p99",
                baseline[name],
                "ms",
                target=f"< {P99_TARGET_MS:g} ms",
                ok=baseline[name] < P99_TARGET_MS,
            )
            for name in NAMES
        ]
        results.append(Result("no attack: server RSS", start_rss, "MB"))
        chosen = attacks(plan.scale)
        for index, attack in enumerate(chosen):
            rows, damage = await _one(attack, server, canaries, plan, baseline, start_rss)
            results.extend(rows)
            if damage and index < len(chosen) - 1:
                _say(f"restarting the server ({damage})")
                server.stop()
                since = time.monotonic()
                await server.start()
                canaries.point(server.urls)
                if not await canaries.ready(since, 60):
                    raise RuntimeError("the canaries got no answer from the restarted server within 60 s")
                start_rss = server.rss_mb()
        return results
    finally:
        server.stop()


def run(quick: bool) -> list[Result]:
    plan = _fitted(QUICK_PLAN if quick else FULL_PLAN, _raise_open_file_limit())
    pool = str(demo_trades()[0]["pool"])
    sys.stdout.flush()
    sys.stderr.flush()
    canaries = Canaries(plan.probe_timeout, pool)  # forked before this process starts its loop
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return asyncio.run(_serve_and_attack(plan, canaries, Path(tmp)))
    finally:
        canaries.stop()
