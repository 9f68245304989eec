"""The Pump.fun frontend REST emulation: an aiohttp catch-all over the tape's HTTP timeline.

Adapter only: the timeline, query checks, conditional requests, rate-limit budgets and faults
are core rules (``harness.core.pumpfun.timeline``, ``conditional``, ``ratelimit``, ``faults``);
this module turns aiohttp requests into their inputs and their outputs into responses.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import CIMultiDict

from harness.core import ratelimit
from harness.core.conditional import not_modified
from harness.core.etag import compute_etag
from harness.core.faults import plan
from harness.core.frames import HttpExchange, HttpRequest, HttpResponse
from harness.core.pumpfun.timeline import (
    OWN_HEADERS,
    TRADES_ALL_PREFIX,
    QueryError,
    Timeline,
    encode_json,
    parse_trades_query,
)
from harness.core.ratelimit import Budget, RateLimitConfig

if TYPE_CHECKING:
    from harness.server.app import MockServer

NUMERIC_PARAMS = ("limit", "offset", "minimumSize")
BOOLEAN_PARAMS = ("sync", "includeNsfw", "complete")


class RestEmulator:
    name = "pumpfun"

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.config = server.config.pumpfun
        self.timeline = Timeline(server.tapes.http)
        self.rate: RateLimitConfig = self.config.rate_limit or ratelimit.calibrate(
            self.timeline.rate_headers, RateLimitConfig()
        )
        self._budgets: dict[str, Budget] = {}
        self._rng = random.Random(server.config.seed)
        self._checked: set[tuple[str, int, bytes]] = set()
        self._epoch = server.epoch
        self.requests = 0
        self.by_status: dict[int, int] = {}

    # --- Emulator protocol ---------------------------------------------------------------------

    def setup(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self.handle)

    def next_wakeup(self) -> float | None:
        return None  # REST has nothing to push: answers read the clock when asked

    def lookahead(self, count: int) -> float | None:
        return None

    async def tick(self, now: float) -> None:
        return None

    def active(self) -> bool:
        return False

    async def drained(self, timeout: float) -> None:
        return None

    async def reset(self) -> None:
        self._budgets.clear()
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
                "clients": {key: b.used for key, b in self._budgets.items()},
            },
            "require_auth": self.config.require_auth,
        }

    async def close(self) -> None:
        return None

    # --- requests ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        return await self.server.fuzz.exchange(self.name, request, self._handle, self._error)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.server.touch()
        self.requests += 1
        now = self.server.now()
        path = request.path
        faults = self.server.config.faults
        fault = plan(faults, path, [self._rng.random() for _ in faults])
        if fault.latency:
            await asyncio.sleep(fault.latency)
        if fault.reset:
            self.server.counters["faults.reset"] += 1
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("fault: connection reset")

        budget_key = _client_key(request)
        budget, decision = ratelimit.consume(self._budgets.get(budget_key), self.rate, now)
        self._budgets[budget_key] = budget
        headers = CIMultiDict(decision.headers(self.rate, self._epoch + now))
        if self.rate.enabled and not decision.allowed:
            headers["Retry-After"] = str(decision.retry_after)
            return self._error(429, "ThrottlerException: Too Many Requests", headers)
        if fault.status is not None:
            self.server.counters["faults.status"] += 1
            return self._error(fault.status, f"fault injected: status {fault.status}", headers)
        if self.config.require_auth and not _bearer(request):
            headers["WWW-Authenticate"] = "Bearer"
            return self._error(401, "Unauthorized: send Authorization: Bearer <token>", headers)
        if (problem := _check_query(request)) is not None:
            self._check_served(request, path, 400, b"", headers)  # the client's query is the violation
            return self._error(400, problem.message, headers, parameter=problem.parameter)

        if path.startswith(TRADES_ALL_PREFIX) and request.method in ("GET", "HEAD"):
            return self._trades_all(request, path, headers, now)
        rep = self.timeline.representation(request.method, path, now)
        if rep is None:
            allowed = self.timeline.methods(path)
            if allowed:
                headers["Allow"] = ", ".join(allowed)
                return self._error(405, f"method {request.method} not allowed on {path}", headers)
            return self._not_found(path, headers)
        for name, value in rep.headers:
            if name.lower() not in OWN_HEADERS:
                headers.add(name, value)
        if "Content-Type" not in headers and rep.body[:1] in (b"{", b"["):
            headers["Content-Type"] = "application/json; charset=utf-8"
        etag = rep.etag or (compute_etag(rep.body) if rep.status == 200 else None)
        return self._answer(request, path, rep.status, rep.body, etag, headers)

    def _trades_all(
        self, request: web.Request, path: str, headers: CIMultiDict[str], now: float
    ) -> web.StreamResponse:
        query = parse_trades_query(request.query)
        if isinstance(query, QueryError):
            self._check_served(request, path, 400, b"", headers)
            return self._error(400, query.message, headers, parameter=query.parameter)
        mint = path[len(TRADES_ALL_PREFIX) :]
        if not self.timeline.knows_mint(mint):
            return self._not_found(path, headers)
        body = encode_json(self.timeline.trades(mint, query, now))
        etag = self.timeline.recorded_etag(path, body) or compute_etag(body)
        headers["Content-Type"] = "application/json; charset=utf-8"
        return self._answer(request, path, 200, body, etag, headers)

    def _answer(
        self,
        request: web.Request,
        path: str,
        status: int,
        body: bytes,
        etag: str | None,
        headers: CIMultiDict[str],
    ) -> web.Response:
        if etag is not None:
            headers["ETag"] = etag
        conditional = request.method in ("GET", "HEAD") and status == 200
        if conditional and not_modified(request.headers.get("If-None-Match"), etag):
            return self._respond(304, b"", headers)
        self._check_served(request, path, status, body, headers)
        return self._respond(status, b"" if request.method == "HEAD" else body, headers)

    def _respond(self, status: int, body: bytes, headers: CIMultiDict[str]) -> web.Response:
        self.by_status[status] = self.by_status.get(status, 0) + 1
        return web.Response(status=status, body=body or None, headers=headers)

    def _error(self, status: int, message: str, headers: CIMultiDict[str], **extra: object) -> web.Response:
        # CONTRACTS.md 1.5/6.11: a NestJS-style error body, the likely shape for 4xx [inferred].
        reason = _REASONS.get(status, "Error")
        body = {"statusCode": status, "message": message, "error": reason, **extra}
        headers["Content-Type"] = "application/json; charset=utf-8"
        return self._respond(status, encode_json(body), headers)

    def _not_found(self, path: str, headers: CIMultiDict[str]) -> web.Response:
        closest = self.timeline.closest_paths(path)
        hint = f"; closest recorded: {', '.join(closest)}" if closest else ""
        return self._error(404, f"no recorded path {path}{hint}", headers, closest=closest)

    def _check_served(
        self, request: web.Request, path: str, status: int, body: bytes, headers: CIMultiDict[str]
    ) -> None:
        """Validate what is served once per distinct (path, status, body) and each request's query."""
        if not self.server.config.validate:
            return
        key = (path, status, body)
        fresh = key not in self._checked
        if not fresh and not request.query_string:
            return  # this body was checked already and there is no query to check
        self._checked.add(key)
        frame = HttpExchange(
            t=self.server.now(),
            conn=f"http:{request.remote}",
            request=HttpRequest(request.method, request.path_qs, ()),
            response=HttpResponse(status, (), body if fresh else b""),
        )
        self.server.check_frame(frame, conn=frame.conn)


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _client_key(request: web.Request) -> str:
    """Rate budgets are per bearer token when one is sent, else per remote address."""
    token = _bearer(request)
    if token:
        # never echo a credential (the key shows in /_harness/state)
        return "bearer:" + hashlib.sha256(token.encode()).hexdigest()[:12]
    return f"addr:{request.remote}"


def _check_query(request: web.Request) -> QueryError | None:
    """Malformed values of the documented numeric and boolean query parameters."""
    query = request.query
    present = {name: query[name] for name in NUMERIC_PARAMS if name in query}
    if present:
        parsed = parse_trades_query(present)
        if isinstance(parsed, QueryError):
            return parsed
    for name in BOOLEAN_PARAMS:
        if name in query and query[name] not in ("true", "false", "1", "0", ""):
            return QueryError(name, f"{name} must be true or false, got {query[name]!r}")
    return None


__all__ = ["RestEmulator"]
