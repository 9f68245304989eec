"""Control endpoints under ``/_harness/`` for clients in any language.

``GET /_harness/state``, ``POST /_harness/advance`` (``{"seconds": 1.5}`` or ``?seconds=1.5``),
``GET`` / ``DELETE /_harness/violations``, ``POST /_harness/reset``, ``POST /_harness/drop``
(``{"apis": ["corto"]}``, or no body for all: connections cut as a network failure would).
Answers are JSON; bad input gets 400, a wrong method 405 (with ``Allow``), any other path under
the prefix 404, each with ``{"error": ...}``. Who may call them (``Host``, ``Content-Type``, token:
403, 415, 401) is :mod:`harness.core.access`'s rule, checked here first. Owns only the translation
of HTTP to :class:`MockServer` calls.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from harness.core.access import TOKEN_HEADER, ControlAccess
from harness.server.drop import check_apis
from harness.server.listening import CONTROL_PATH

if TYPE_CHECKING:
    from harness.server.app import MockServer

PREFIX = CONTROL_PATH

# A plain decimal: float() alone also takes "1_0", " 2 ", "infinity" and non-ASCII digits.
_SECONDS = re.compile(r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?")

USAGE = 'give the seconds to advance as a finite number >= 0: ?seconds=1.5 or {"seconds": 1.5}'

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def access_of(server: MockServer) -> ControlAccess:
    config = server.config
    return ControlAccess(config.host, config.control_hosts, config.control_token)


def guarded(access: ControlAccess, handler: Handler, *, changes_state: bool | None = None) -> Handler:
    """``handler``, behind the control plane's rules (:mod:`harness.core.access`)."""

    async def checked(request: web.Request) -> web.StreamResponse:
        content_type = request.content_type if "Content-Type" in request.headers else ""
        refusal = access.check(
            request.method,
            request.headers.get("Host"),
            content_type,
            request.headers.get(TOKEN_HEADER),
            changes_state=changes_state,
        )
        if refusal is not None:
            return _error(refusal.message, refusal.status)
        return await handler(request)

    return checked


def setup_control(app: web.Application, server: MockServer) -> None:
    async def state(request: web.Request) -> web.Response:
        return web.json_response(server.state())

    async def advance(request: web.Request) -> web.Response:
        seconds = await _seconds(request)
        if isinstance(seconds, web.Response):
            return seconds
        now = await server.advance(seconds)
        skipped = server.scheduler.skipped
        return web.json_response({"now": now, "skipped": skipped} if skipped else {"now": now})

    async def violations(request: web.Request) -> web.Response:
        return web.json_response([v.as_dict() for v in server.violations])

    async def clear(request: web.Request) -> web.Response:
        return web.json_response([v.as_dict() for v in server.clear_violations()])

    async def reset(request: web.Request) -> web.Response:
        await server.reset()
        return web.json_response({"now": server.now()})

    async def drop(request: web.Request) -> web.Response:
        apis: object = None
        if request.can_read_body:
            try:
                body = await request.json()
            except (ValueError, UnicodeDecodeError):
                return _error('body must be JSON like {"apis": ["corto", "pumpdata"]} (or none: all)')
            if not isinstance(body, dict):
                return _error('body must be a JSON object like {"apis": ["corto"]}')
            apis = body.get("apis")
        try:
            dropped = server.drop_connections(check_apis(apis), keep=request.transport)
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response({"dropped": dropped})

    handlers: dict[tuple[str, str], Handler] = {
        ("GET", f"{PREFIX}/state"): state,
        ("POST", f"{PREFIX}/advance"): advance,
        ("GET", f"{PREFIX}/violations"): violations,
        ("DELETE", f"{PREFIX}/violations"): clear,
        ("POST", f"{PREFIX}/reset"): reset,
        ("POST", f"{PREFIX}/drop"): drop,
    }
    access = access_of(server)
    endpoints: dict[str, list[str]] = {}
    for (method, path), handler in handlers.items():
        app.router.add_route(method, path, guarded(access, handler))
        endpoints.setdefault(path, []).append(method)

    async def elsewhere(request: web.Request) -> web.Response:
        """A control path with the wrong method (405), or no control endpoint at all (404)."""
        allowed = endpoints.get(request.path.rstrip("/"))
        if allowed is None:
            listing = ", ".join(f"{' '.join(m)} {p}" for p, m in endpoints.items())
            return _error(f"no control endpoint {request.path}; there are: {listing}", 404)
        response = _error(f"{request.method} {request.path} is not allowed; use {' or '.join(allowed)}", 405)
        response.headers["Allow"] = ", ".join(allowed)
        return response

    # Registered before the REST catch-all: the prefix is never a tape path.
    app.router.add_route("*", PREFIX + "{tail:(?s:/.*)?}", guarded(access, elsewhere, changes_state=False))


async def _seconds(request: web.Request) -> float | web.Response:
    """The seconds to advance, from the query or a JSON body, or the 400 saying what is wrong."""
    raw: object = request.query.get("seconds")
    if raw is None and request.can_read_body:
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # not JSON, not UTF-8, nested past the parser's depth
            return _error('body must be JSON like {"seconds": 1.5}')
        raw = body.get("seconds") if isinstance(body, dict) else None
    if isinstance(raw, str):
        if not _SECONDS.fullmatch(raw):
            return _error(f"{USAGE}; got {raw[:40]!r}")
        raw = float(raw)
    # bool is an int to Python, not a number of seconds to a client
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        return _error(USAGE if raw is None else f"{USAGE}; got {json.dumps(raw)[:40]}")
    try:
        seconds = float(raw)
    except OverflowError:  # a JSON integer of hundreds of digits
        seconds = math.inf
    if not math.isfinite(seconds) or seconds < 0:
        return _error(f"seconds must be a finite number >= 0, got {repr(raw)[:40]}")
    return seconds


def _error(message: str, status: int = 400) -> web.Response:
    return web.Response(status=status, text=json.dumps({"error": message}), content_type="application/json")
