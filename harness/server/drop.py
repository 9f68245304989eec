"""Cutting client connections as a network failure would (README "Control endpoints").

Owns which API each open connection of the server serves and :meth:`ConnectionTable.drop`, which
aborts their transports: no WebSocket close frame, no Socket.IO disconnect packet, no HTTP
response; the client sees its connection reset, as when a network path dies or the process is
killed, and its reconnect logic runs. (A SIGINT or SIGTERM shutdown of ``harness serve`` is the
other way: clean closes.) A connection is told by the path of the requests it carried: the Data
Stream (``corto``), ``/socket.io/`` (``pumpdata``), anything else but the control endpoints
(``pumpfun``). No contract rule lives here.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from collections.abc import Iterable

from aiohttp import web

from harness.server.listening import CONTROL_PATH, WS_PATH

SIO_PATH = "/socket.io/"

APIS = ("pumpfun", "pumpdata", "corto")


def api_of(path: str) -> str:
    """The API a request path belongs to (``control`` for the control endpoints)."""
    if path.startswith(CONTROL_PATH):
        return "control"
    if path.rstrip("/") == WS_PATH.rstrip("/"):
        return "corto"
    if path.startswith(SIO_PATH.rstrip("/")):
        return "pumpdata"
    return "pumpfun"


def check_apis(apis: object) -> tuple[str, ...]:
    """The APIs a drop names (None or empty: all). Raises ValueError naming what it takes."""
    if apis is None:
        return APIS
    if isinstance(apis, str) or not isinstance(apis, Iterable):
        raise ValueError(f"apis takes a list of {', '.join(APIS)}, got {apis!r}")
    given = tuple(apis)
    unknown = [a for a in given if a not in APIS]
    if unknown or not all(isinstance(a, str) for a in given):
        raise ValueError(f"apis takes a list of {', '.join(APIS)}, got {list(given)!r}")
    return given or APIS


class ConnectionTable:
    """The API of each connection that has carried a request (weakly: a closed one goes)."""

    def __init__(self) -> None:
        self._api: weakref.WeakKeyDictionary[asyncio.BaseTransport, str] = weakref.WeakKeyDictionary()

    def setup(self, app: web.Application) -> None:
        async def note(request: web.Request, response: web.StreamResponse) -> None:
            transport = request.transport
            if transport is not None:
                self._api[transport] = api_of(request.path)

        app.on_response_prepare.append(note)

    def drop(
        self, runner: web.AppRunner | None, apis: Iterable[str], keep: asyncio.BaseTransport | None = None
    ) -> dict[str, int]:
        """Abort every open connection serving one of ``apis`` (a connection that carried no
        request yet counts as every API's), except ``keep``; how many per API."""
        wanted = set(apis)
        dropped: Counter[str] = Counter()
        server = runner.server if runner is not None else None
        for handler in list(server.connections if server is not None else ()):
            transport = handler.transport
            if transport is None or transport is keep or transport.is_closing():
                continue
            api = self._api.get(transport)
            if api == "control" or (api is not None and api not in wanted):
                continue
            transport.abort()
            dropped[api or "unknown"] += 1
        return dict(sorted(dropped.items()))
