"""Control endpoints under ``/_harness/`` for clients in any language.

``GET /_harness/state``, ``POST /_harness/advance`` (``{"seconds": 1.5}`` or ``?seconds=1.5``),
``GET`` / ``DELETE /_harness/violations``, ``POST /_harness/reset``. Answers are JSON; bad input
gets 400 with ``{"error": ...}``.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from harness.server.app import MockServer

PREFIX = "/_harness"


def setup_control(app: web.Application, server: MockServer) -> None:
    async def state(request: web.Request) -> web.Response:
        return web.json_response(server.state())

    async def advance(request: web.Request) -> web.Response:
        raw: object = request.query.get("seconds")
        if raw is None and request.can_read_body:
            try:
                body = await request.json()
            except (ValueError, UnicodeDecodeError):
                return _error('body must be JSON like {"seconds": 1.5}')
            raw = body.get("seconds") if isinstance(body, dict) else None
        try:
            seconds = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return _error('give the seconds to advance: ?seconds=1.5 or {"seconds": 1.5}')
        if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
            return _error(f"seconds must be a finite number >= 0, got {raw!r}")
        now = await server.advance(seconds)
        return web.json_response({"now": now})

    async def violations(request: web.Request) -> web.Response:
        return web.json_response([v.as_dict() for v in server.violations])

    async def clear(request: web.Request) -> web.Response:
        return web.json_response([v.as_dict() for v in server.clear_violations()])

    async def reset(request: web.Request) -> web.Response:
        await server.reset()
        return web.json_response({"now": server.now()})

    app.router.add_get(f"{PREFIX}/state", state)
    app.router.add_post(f"{PREFIX}/advance", advance)
    app.router.add_get(f"{PREFIX}/violations", violations)
    app.router.add_delete(f"{PREFIX}/violations", clear)
    app.router.add_post(f"{PREFIX}/reset", reset)


def _error(message: str, status: int = 400) -> web.Response:
    return web.Response(status=status, text=json.dumps({"error": message}), content_type="application/json")
