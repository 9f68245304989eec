"""The Pump.fun frontend REST emulation: an aiohttp catch-all over the tape's HTTP timeline.

Adapter only: the timeline, who a client is, query checks, error answers, conditional requests,
rate-limit budgets and faults are core rules (``harness.core.pumpfun.timeline`` and ``rules``,
``harness.core.conditional``, ``ratelimit``, ``faults``); this module turns aiohttp requests into
their inputs, tries the refusals in order (rate limit, fault, auth, query) and writes the outputs
as responses.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from harness.core import ratelimit
from harness.core.clock import ClockMode
from harness.core.conditional import answers_not_modified
from harness.core.faults import FaultPlan, plan
from harness.core.frames import HttpExchange, HttpRequest, HttpResponse
from harness.core.misses import Miss
from harness.core.pumpfun.rules import (
    UNAUTHORIZED,
    ErrorAnswer,
    bad_query,
    bearer,
    check_query,
    client_key,
    injected,
    method_not_allowed,
    not_found,
    too_many_requests,
)
from harness.core.pumpfun.timeline import QueryError, Timeline, synthesised
from harness.core.ratelimit import Budgets, RateLimitConfig
from harness.server.control import PREFIX as CONTROL_PREFIX

if TYPE_CHECKING:
    from harness.server.app import MockServer

NO_FAULT = FaultPlan()

_PLAIN_PATH = re.compile(r"/[A-Za-z0-9._~/-]*")

Headers = list[tuple[str, str]]
"""Response header lines, in order (aiohttp makes its multidict of them once)."""

MAX_CHECKED = 50_000
"""Distinct served bodies remembered as validated (by digest); older ones are forgotten, so a client
paging through ``/trades/all`` with every limit and offset cannot grow memory without bound."""


class RestEmulator:
    name = "pumpfun"

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.config = server.config.pumpfun
        self.timeline = Timeline(server.tapes.http)
        self.rate: RateLimitConfig = self.config.rate_limit or ratelimit.calibrate(
            self.timeline.rate_headers, RateLimitConfig()
        )
        self.budgets = Budgets(self.rate)
        self.rate_headers = (
            self.rate.headers
            if self.rate.headers is not None
            else ratelimit.shows_headers(self.timeline.rate_headers)
        )
        """Whether answers carry ``x-ratelimit-*`` (RateLimitConfig.headers)."""
        self._rng = random.Random(server.config.seed)
        self._checked: OrderedDict[tuple[str, int, int | bytes], None] = OrderedDict()
        self._routes: set[web.AbstractResource] = set()
        self._epoch = server.epoch
        self._loop = server.config.loop
        self._faults = server.config.faults
        self.requests = 0
        self.by_status: dict[int, int] = {}

    # --- Emulator protocol ---------------------------------------------------------------------

    def setup(self, app: web.Application) -> None:
        # The tape's paths as plain routes: aiohttp finds those by a dict lookup, where the
        # catch-all is a regular expression tried after every other route (a tenth of the cost of
        # a REST answer). Paths with other characters, and unrecorded ones, reach the catch-all.
        taken = {resource.canonical for resource in app.router.resources()}
        paths = [
            p
            for p in self.timeline.paths
            if _PLAIN_PATH.fullmatch(p) and p not in taken and not p.startswith(CONTROL_PREFIX)
        ]
        for path in [*paths, "/{tail:(?s:.*)}"]:
            resource = app.router.add_route("*", path, self.handle).resource
            if resource is not None:
                self._routes.add(resource)

    def next_wakeup(self) -> float | None:
        return None  # REST has nothing to push: answers read the clock when asked

    def lookahead(self, count: int) -> float | None:
        return None

    async def tick(self, now: float) -> None:
        return None

    def skip(self, now: float) -> int:
        return 0  # REST answers read the clock: a jump needs nothing here

    def active(self) -> bool:
        return False

    async def drained(self, timeout: float) -> None:
        return None

    async def reset(self) -> None:
        self.budgets.clear()
        self._checked.clear()
        self.requests = 0
        self.by_status.clear()

    def state(self) -> dict[str, Any]:
        return {
            "paths": len(self.timeline.paths),
            "exchanges": self.timeline.exchanges,
            "requests": self.requests,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "rate_limit": {
                "limit": self.rate.limit,
                "window": self.rate.window,
                "reset_unit": self.rate.reset_unit.value,
                "max_clients": self.rate.max_clients,
                "clients": self.budgets.used(),
            },
            "require_auth": self.config.require_auth,
        }

    async def close(self) -> None:
        return None

    # --- requests ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        return await self.server.fuzz.exchange(self.name, request, self._handle, self._error)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        scheduler = self.server.scheduler
        scheduler.touch()
        self.requests += 1
        clock = scheduler.clock
        now = scheduler.now()
        local = self.timeline.local_time(now, self._loop)
        path = request.path
        faults = self._faults
        fault = plan(faults, path, [self._rng.random() for _ in faults]) if faults else NO_FAULT
        if fault.latency:
            self.server.counters["faults.latency"] += 1
            await asyncio.sleep(fault.latency)
        if fault.reset:
            self.server.counters["faults.reset"] += 1
            if request.transport is not None:
                request.transport.abort()
            # aiohttp cannot send this on an aborted connection and drops it without a traceback
            return web.Response(status=500)

        authorization = request.headers.get("Authorization")
        decision = self.budgets.consume(client_key(authorization, request.remote), now)
        # Seconds are told in the client's time: at --speed 4 a 60 s window resets in 15 s.
        real = clock.mode is ClockMode.REAL
        speed = clock.speed if real else 1.0
        epoch_now = time.time() if real else self._epoch + now
        headers = decision.headers(self.rate, epoch_now, speed) if self.rate_headers else []
        if self.rate.enabled and not decision.allowed:
            return self._error(too_many_requests(decision.retry_after_at(speed)), headers)
        if fault.status is not None:
            self.server.counters["faults.status"] += 1
            return self._error(injected(fault.status, "fault injected"), headers)
        if self.config.require_auth and not bearer(authorization):
            return self._error(UNAUTHORIZED, headers)
        has_query = bool(request.query_string)
        if has_query and (problem := check_query(request.query)) is not None:
            return self._bad_query(request, path, problem, headers)

        if synthesised(request.method, path):
            made = self.timeline.trades_all(path, request.query, local)
            if isinstance(made, QueryError):
                return self._bad_query(request, path, made, headers)
            if made is None:
                return self._not_found(request, path, headers)
            headers += made.replayed
            return self._answer(request, path, made.status, made.body, made.etag, headers)
        query = request.query.items() if has_query else ()
        rep = self.timeline.representation(request.method, path, local, query)
        if rep is None:
            allowed = self.timeline.methods(path) or await self._other_routes_methods(request)
            if allowed:
                return self._error(method_not_allowed(request.method, path, allowed), headers)
            return self._not_found(request, path, headers)
        headers += rep.replayed
        return self._answer(request, path, rep.status, rep.body, rep.etag, headers, id(rep))

    def _answer(
        self,
        request: web.Request,
        path: str,
        status: int,
        body: bytes,
        etag: str | None,
        headers: Headers,
        recorded: int | None = None,
    ) -> web.Response:
        """``recorded``: the id of the tape's representation served, if it is one (checked once)."""
        if etag is not None:
            headers.append(("ETag", etag))
        if answers_not_modified(request.method, status, request.headers.getall("If-None-Match", ()), etag):
            return self._respond(304, b"", headers)
        self._check_served(request, path, status, body, recorded)
        return self._respond(status, body, headers)  # aiohttp sends no body to HEAD, but its length

    def _respond(self, status: int, body: bytes, headers: Headers) -> web.Response:
        self.by_status[status] = self.by_status.get(status, 0) + 1
        return web.Response(status=status, body=body or None, headers=headers)

    def _error(self, answer: ErrorAnswer, headers: Headers) -> web.Response:
        headers += answer.response_headers()
        return self._respond(answer.status, answer.body(), headers)

    def _bad_query(
        self, request: web.Request, path: str, problem: QueryError, headers: Headers
    ) -> web.Response:
        self._check_served(request, path, 400, b"")  # the client's query is the violation
        return self._error(bad_query(problem), headers)

    async def _other_routes_methods(self, request: web.Request) -> list[str]:
        """Methods the application's other routes (Socket.IO, the Data Stream, control) take on
        this path: a wrong method there is a 405, not a miss of the tape."""
        allowed: set[str] = set()
        for resource in request.app.router.resources():
            if resource not in self._routes:
                _, methods = await resource.resolve(request)
                allowed |= methods
        return sorted(allowed)

    def _not_found(self, request: web.Request, path: str, headers: Headers) -> web.Response:
        closest = self.timeline.closest_paths(path)
        asked = f"{request.method} {request.path_qs}"
        near = tuple(f"{request.method} {p}" for p in closest)
        self.server.miss(Miss("pumpfun", asked, "404", self.server.now(), near, f"http:{request.remote}"))
        return self._error(not_found(path, closest), headers)

    def _check_served(
        self, request: web.Request, path: str, status: int, body: bytes, recorded: int | None = None
    ) -> None:
        """Validate what is served once per distinct (path, status, body) and each request's query."""
        if not self.server.config.validate:
            return
        key = (
            path,
            status,
            recorded if recorded is not None else hashlib.blake2b(body, digest_size=16).digest(),
        )
        fresh = key not in self._checked
        if not fresh and not request.query_string:
            return  # this body was checked already and there is no query to check
        self._checked[key] = None
        self._checked.move_to_end(key)
        if len(self._checked) > MAX_CHECKED:
            self._checked.popitem(last=False)
        frame = HttpExchange(
            t=self.server.now(),
            conn=f"http:{request.remote}",
            request=HttpRequest(request.method, request.path_qs, ()),
            response=HttpResponse(status, (), body if fresh else b""),
        )
        self.server.check_frame(frame, conn=frame.conn)


__all__ = ["RestEmulator"]
