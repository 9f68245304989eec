"""Serving an aiohttp application on a host and port, for every server of the harness.

Owns the one way the harness listens (:func:`listen`: the runner, the socket, the port that was
bound when port 0 asked for any, each connection behind a
:class:`~harness.server.connections.ConnectionGuard`), the ``async with`` of the objects that do
(:class:`Served`),
and the URLs of the layout they all share (:func:`service_urls`: ``harness serve``, the recording
proxy, the ``new_episodes`` router). Knows nothing of what the applications serve.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from aiohttp import web

from harness.core.access import url_host
from harness.core.pumpportal.families import PATH as PUMPPORTAL_PATH
from harness.server.config import DEFAULT_HEAD_TIMEOUT, default_connection_cap
from harness.server.connections import ConnectionGuard, quiet_accept_errors

WS_PATH = "/data-stream"
"""The corto.fun Data Stream's path (contract §3: ``wss://corto.fun/data-stream``)."""
CONTROL_PATH = "/_harness"


def service_urls(host: str, port: int, *, control: bool = False) -> dict[str, str]:
    """The URLs of the four APIs at ``host:port`` (REST and Socket.IO share the base), and of the
    control endpoints when the server has them. A wildcard address is shown as the loopback one a
    client can use (``0.0.0.0`` as ``127.0.0.1``, ``::`` as ``[::1]``)."""
    authority = f"{url_host(host)}:{port}"
    base = f"http://{authority}"
    urls = {"rest": base, "socketio": base, "websocket": f"ws://{authority}{WS_PATH}"}
    urls["pumpportal"] = f"ws://{authority}{PUMPPORTAL_PATH}"
    if control:
        urls["control"] = base + CONTROL_PATH
    return urls


@dataclass(frozen=True, slots=True)
class Listening:
    runner: web.AppRunner
    host: str
    port: int
    """The port bound (the one asked for, or the one the system picked for port 0)."""


class _GuardedSite(web.TCPSite):
    """aiohttp's TCP site, its connections behind a :class:`ConnectionGuard`."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: ConnectionGuard) -> None:
        super().__init__(runner, host, port, reuse_address=True)
        self.guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        loop = asyncio.get_running_loop()
        quiet_accept_errors(loop)
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_server(
            self.guard.factory(server), self._host, self._port, reuse_address=True
        )


async def listen(
    app: web.Application,
    host: str,
    port: int,
    *,
    shutdown_timeout: float,
    guard: ConnectionGuard | None = None,
) -> Listening:
    """``app`` listening on ``host:port`` (0: any free port); ``runner.cleanup()`` stops it,
    giving open requests ``shutdown_timeout`` seconds. Nothing is left running if it fails.
    ``guard``: the connections' timeout and cap (None: the defaults)."""
    if guard is None:
        guard = ConnectionGuard(head_timeout=DEFAULT_HEAD_TIMEOUT, max_connections=default_connection_cap())
    app.middlewares.append(guard.middleware)
    app.on_cleanup.append(guard.cleanup)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = _GuardedSite(runner, host, port, guard)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    sockets = getattr(site._server, "sockets", None) or []
    if sockets:
        host, port = sockets[0].getsockname()[:2]
    return Listening(runner, host, port)


class Served(ABC):
    """``async with X(...) as x`` for a server with ``start() -> Self`` and ``close()``."""

    @abstractmethod
    async def start(self) -> Self: ...

    @abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._exit(clean=exc_type is None)

    async def _exit(self, *, clean: bool) -> None:
        """How the ``async with`` block ends: ``clean`` unless it raised (a server just closes)."""
        await self.close()
