"""The ``new_episodes`` router: one URL in front of a replaying server and a recording proxy.

Each REST request and each stream connection goes to the replay (a :class:`~harness.MockServer`
serving the tape) or, when it is a new episode (:mod:`harness.core.episodes`), to the recording
proxy that relays it upstream and writes it to the episode tape. The router itself records
nothing and knows no contract rule: it asks the index and moves bytes.

A stream connection is relayed by the recording proxy's own relays (:mod:`~harness.recorder.relay_ws`,
:mod:`~harness.recorder.relay_sio`) with a tap that records nothing and the replay as their
upstream. It is decided at its first subscription request: it stays on the replay if the tape
holds that request, else it moves to the recording proxy, as the client asked (query, headers,
subprotocols, Socket.IO ``auth``).

* corto (``/data-stream``, :class:`WsBridge`): the client got the replayed handshake; the router
  lets through as many upstream greeting messages as the replay had sent before the client spoke
  (the proxy records them, the client does not get them twice), closes the replay connection
  and relays client and upstream to the end.
* PumpData (``/socket.io/``, :class:`SioBridge`): a client's socket (a namespace connection)
  moves at its first subscription emit: that emit and all later ones go to the recording proxy,
  and the replay's socket is closed once it owes no ack. The client keeps its Engine.IO
  connection, its transport (long-polling or WebSocket) and its ack ids.

A stream episode the recording proxy cannot open (its upstream is down, or refused the connect)
ends the client's connection as a server would: corto with close 1011, PumpData with a server
disconnect. The control endpoints (``/_harness/``) always go to the replay.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from websockets.exceptions import ConnectionClosed, InvalidStatus

from harness.core.episodes import EpisodeIndex, subscription_request
from harness.core.frames import C2S, Frame, SioEvent, WsText
from harness.recorder import relay_sio, relay_ws
from harness.recorder.relay_http import answer, forwardable, raw_headers
from harness.recorder.relay_sio import (
    SERVER_DISCONNECT,
    SETTLE_TIMEOUT,
    Emit,
    Refused,
    SioRelay,
    jsonable_args,
)
from harness.recorder.relay_ws import UPSTREAM_FAILED, WsRelay
from harness.server.listening import CONTROL_PATH, WS_PATH

GREETING_TIMEOUT = 10.0
"""Seconds to wait for the upstream's greeting (corto's handshake) when a connection switches."""
STREAM_TIMEOUT = 60.0
"""Seconds a stream connection may take to open, to the replay or through the recording proxy
(which opens its own upstream connection first)."""
SERVER_ERROR = 1011
"""RFC 6455 7.4.1: the server met a condition that prevented it from fulfilling the request."""


class EpisodeRouter:
    """See the module docstring. ``replay`` and ``recorder`` are the URLs of the replaying server
    and of the recording proxy (``MockServer.urls``' keys: ``rest``, ``socketio``, ``websocket``)."""

    def __init__(self, index: EpisodeIndex, *, replay: dict[str, str], recorder: dict[str, str]) -> None:
        self.index = index
        self.replay = replay
        self.recorder = recorder
        self.counts: Counter[str] = Counter()
        """``replayed`` / ``episodes`` per protocol: ``rest replayed``, ``ws episodes`` ..."""
        self.app = web.Application()
        self.sio = SioBridge(self)
        self.ws = WsBridge(self)
        self.sio.attach(self.app)
        self.app.router.add_get(WS_PATH, self._ws)
        self.app.router.add_route("*", "/{tail:.*}", self.route)
        self._http: aiohttp.ClientSession | None = None
        self.app.cleanup_ctx.append(self._client)
        self.app.on_shutdown.append(self._shutdown)

    async def _client(self, app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=60)
        ) as self._http:
            yield

    async def _shutdown(self, _app: web.Application) -> None:
        await self.ws.shutdown()
        await self.sio.shutdown()

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.ws.handle(request)
        return await self.route(request)

    async def route(self, request: web.Request) -> web.StreamResponse:
        """A REST request: to the replay when the tape holds it (or it is for the replay's control
        endpoints: they never go upstream), else to the recording proxy."""
        control = request.path == CONTROL_PATH or request.path.startswith(CONTROL_PATH + "/")
        if control or self.index.holds_request(request.method, request.path_qs):
            self.counts["rest replayed"] += 1
            return await self.forward(request, self.replay["rest"])
        self.counts["rest episodes"] += 1
        return await self.forward(request, self.recorder["rest"])

    def new_episode(self, protocol: str, link: relay_ws.Link | relay_sio.Link, frame: Frame) -> bool:
        """Whether a stream client's message moves its connection to the recording proxy: the
        first subscription request decides (the connection is ``decided`` then), by whether the
        tape holds it; counted as ``<protocol> replayed`` or ``<protocol> episodes``."""
        found = subscription_request(frame)
        if found is None:
            return False
        link.decided = True
        held = self.index.holds_subscription(*found)
        self.counts[f"{protocol} {'replayed' if held else 'episodes'}"] += 1
        return not held

    async def forward(self, request: web.Request, base: str) -> web.StreamResponse:
        """Send ``request`` to ``base`` and answer with what came back, unchanged."""
        assert self._http is not None
        body = await request.read()
        async with self._http.request(
            request.method,
            base + request.path_qs,
            headers=forwardable(raw_headers(request.raw_headers)),
            data=body or None,
            allow_redirects=False,
        ) as upstream:
            payload = await upstream.read()
            return answer(
                request, upstream.status, upstream.reason or "", raw_headers(upstream.raw_headers), payload
            )


class WsBridge(WsRelay):
    """corto connections: on the replay until their first subscription request decides (module
    docstring)."""

    def __init__(self, router: EpisodeRouter) -> None:
        super().__init__(router.replay["websocket"], STREAM_TIMEOUT, name="harness new_episodes router")
        self.router = router

    async def routed(self, link: relay_ws.Link, text: str) -> bool:
        # a ping or current_state, a subscription the tape holds: the replay answers it
        if link.decided or not self.router.new_episode("ws", link, WsText(0.0, "", C2S, text)):
            return True
        counts = self.router.counts
        try:
            live = await self.connect(link.request, self.router.recorder["websocket"])
        except UPSTREAM_FAILED as exc:
            # The client is already upgraded on the replay: the proxy's refusal (a 502 when the
            # upstream cannot be reached) reaches it as a close 1011.
            counts["ws episodes refused"] += 1
            status = exc.response.status_code if isinstance(exc, InvalidStatus) else "no answer"
            with contextlib.suppress(ConnectionError, RuntimeError):
                await link.client.close(code=SERVER_ERROR, message=f"upstream refused ({status})".encode())
            with contextlib.suppress(ConnectionClosed, OSError):
                await link.upstream.close()
            return False
        for _ in range(link.greeting or 0):
            # the client already has the replayed greeting: the upstream's is recorded only
            try:
                await asyncio.wait_for(live.recv(), GREETING_TIMEOUT)
            except (TimeoutError, ConnectionClosed):
                break
        await link.switch(live)
        return True


class SioBridge(SioRelay):
    """PumpData sockets: on the replay until their first subscription emit decides (module
    docstring)."""

    def __init__(self, router: EpisodeRouter) -> None:
        super().__init__(router.replay["socketio"], STREAM_TIMEOUT, name="harness new_episodes router")
        self.router = router

    async def routed(self, link: relay_sio.Link, emit: Emit) -> bool:
        if link.decided:
            return True
        frame = SioEvent(0.0, "", C2S, emit.name, jsonable_args(emit.args), emit.ack_id, link.namespace)
        if not self.router.new_episode("sio", link, frame):
            return True  # an unsubscribe, an event of its own, a subscription the tape holds
        counts = self.router.counts
        try:
            live = await self.open(link, self.router.recorder["socketio"])
        except Refused:
            # The client is already connected (to the replay): the proxy's refusal (its upstream
            # cannot be reached, or refused the connect) ends its socket as PumpData ends one it
            # will not serve (contract §2.1, billing: a server disconnect).
            counts["sio episodes refused"] += 1
            link.end(SERVER_DISCONNECT)
            return False
        replay = link.adopt(live)
        if replay is not None:
            await replay.settled(SETTLE_TIMEOUT)  # acks the replay still owes reach the client
            with contextlib.suppress(Exception):
                await replay.disconnect()
        return True
