"""The ``new_episodes`` router: one URL in front of a replaying server and a recording proxy.

Each REST request and each stream connection goes to the replay (a :class:`~harness.MockServer`
serving the tape) or, when it is a new episode (:mod:`harness.core.episodes`), to the recording
proxy that relays it upstream and writes it to the episode tape. The router itself records
nothing and knows no contract rule: it asks the index and moves bytes.

A stream connection starts on the replay and is decided at its first subscription request: it
stays there if the tape holds that request, else it moves to the recording proxy.

* corto (``/data-stream``, :class:`WsBridge`): the client gets the replayed handshake. For a new
  episode the router opens the connection through the recording proxy, lets through as many
  upstream greeting messages as the replay had sent before the client spoke (they are recorded,
  not sent twice), closes the replay connection and relays client and upstream to the end.
* PumpData (``/socket.io/``, :class:`SioBridge`): the recording proxy's own Socket.IO relay
  (:mod:`~harness.recorder.relay_sio`), recording nothing, with the replay as its upstream; a
  client's socket (a namespace connection) moves at its first subscription emit: a new upstream
  client connects to the recording proxy with the client's auth, query and headers, that emit
  and all later ones go there, and the replay's socket is closed once it owes no ack. The client
  keeps its connection, its transport (long-polling or WebSocket) and its ack ids.

A stream episode the recording proxy cannot open (its upstream is down, or refused the connect)
ends the client's connection as a server would: corto with close 1011, PumpData with a server
disconnect. The control endpoints (``/_harness/``) always go to the replay.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web

from harness.core.episodes import EpisodeIndex, subscription_request
from harness.core.frames import C2S, SioEvent, WsText
from harness.recorder.relay_http import HOP_BY_HOP
from harness.recorder.relay_sio import SERVER_DISCONNECT, Emit, Link, Refused, SioRelay, jsonable
from harness.server.listening import WS_PATH

REPLAY_ONLY = ("/_harness/",)
"""Paths that never go upstream: the replay's control endpoints."""

GREETING_TIMEOUT = 10.0
"""Seconds to wait for the upstream's greeting (corto's handshake) when a connection switches."""
SIO_TIMEOUT = 60.0
"""Seconds a PumpData socket's connect may take, to the replay or through the recording proxy."""


def _forwardable(headers: Any) -> list[tuple[str, str]]:
    return [
        (k, v)
        for k, v in headers.items()
        if k.lower() not in HOP_BY_HOP and not k.lower().startswith("sec-websocket")
    ]


def _ws_url(base: str, request: web.Request) -> str:
    return "ws" + base.removeprefix("http") + request.path_qs


class EpisodeRouter:
    """See the module docstring. ``replay`` and ``recorder`` are ``http://host:port`` bases."""

    def __init__(self, index: EpisodeIndex, *, replay: str, recorder: str) -> None:
        self.index = index
        self.replay = replay.rstrip("/")
        self.recorder = recorder.rstrip("/")
        self.counts: Counter[str] = Counter()
        """``replayed`` / ``episodes`` per protocol: ``rest replayed``, ``ws episodes`` ..."""
        self.app = web.Application()
        self.sio = SioBridge(self)
        self.sio.attach(self.app)
        self.app.router.add_route("*", "/{tail:.*}", self.route)
        self._http: aiohttp.ClientSession | None = None
        self.app.cleanup_ctx.append(self._client)
        self.app.on_shutdown.append(lambda _app: self.sio.shutdown())

    async def _client(self, app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=60)
        ) as self._http:
            yield

    async def route(self, request: web.Request) -> web.StreamResponse:
        replay_only = request.path.startswith(REPLAY_ONLY)
        if request.path == WS_PATH and request.headers.get("Upgrade", "").lower() == "websocket":
            return await WsBridge(self, request).run()
        if replay_only or self.index.holds_request(request.method, request.path_qs):
            self.counts["rest replayed"] += 1
            return await self.forward(request, self.replay)
        self.counts["rest episodes"] += 1
        return await self.forward(request, self.recorder)

    async def forward(self, request: web.Request, base: str) -> web.StreamResponse:
        """Send ``request`` to ``base`` and answer with what came back, unchanged."""
        assert self._http is not None
        body = await request.read()
        async with self._http.request(
            request.method,
            base + request.path_qs,
            headers=_forwardable(request.headers),
            data=body or None,
            allow_redirects=False,
        ) as answer:
            payload = await answer.read()
            response = web.Response(status=answer.status, reason=answer.reason, body=payload or None)
            for key, value in answer.raw_headers:
                name = key.decode("latin-1")
                if name.lower() not in HOP_BY_HOP:
                    response.headers.add(name, value.decode("latin-1"))
            return response

    async def connect(self, base: str, request: web.Request) -> aiohttp.ClientWebSocketResponse:
        assert self._http is not None
        return await self._http.ws_connect(
            _ws_url(base, request), headers=_forwardable(request.headers), max_msg_size=0, autoclose=False
        )


async def _pump(source: Any, sink: Any, count: Callable[[], None] | None = None) -> None:
    """Copy messages from ``source`` to ``sink`` until ``source`` closes; pass its close on."""
    code: int | None = None
    reason = ""
    while True:
        msg = await source.receive()
        if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            if count is not None:
                count()
            await (sink.send_str(msg.data) if msg.type == WSMsgType.TEXT else sink.send_bytes(msg.data))
        elif msg.type == WSMsgType.CLOSE:
            code, reason = msg.data, msg.extra or ""
            break
        elif msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            code = source.close_code
            break
    if not sink.closed:
        await sink.close(code=code or 1000, message=reason.encode())


async def _finish(tasks: list[asyncio.Task[None]], sockets: list[Any]) -> None:
    """Let the pumps pass the close on (briefly), then make sure everything is closed."""
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, TimeoutError):
            await asyncio.wait_for(task, 2.0)
    for ws in sockets:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.close()


class WsBridge:
    """One corto connection: on the replay until its first subscription request decides."""

    def __init__(self, router: EpisodeRouter, request: web.Request) -> None:
        self.router = router
        self.request = request
        self.client = web.WebSocketResponse(max_msg_size=0, compress=False)
        self.source: aiohttp.ClientWebSocketResponse | None = None
        self.down: asyncio.Task[None] | None = None
        self.sent_down = 0
        """Messages the replay sent the client so far."""
        self.greeting: int | None = None
        """How many of them came before the client's first message."""
        self.decided = False

    async def run(self) -> web.StreamResponse:
        replay = await self.router.connect(self.router.replay, self.request)
        await self.client.prepare(self.request)
        self._start_down(replay)
        try:
            await self._up()
        finally:
            await _finish([self.down] if self.down else [], [self.source, self.client])
        return self.client

    def _count(self) -> None:
        self.sent_down += 1

    def _start_down(self, source: aiohttp.ClientWebSocketResponse) -> None:
        self.source = source
        self.down = asyncio.create_task(_pump(source, self.client, self._count))

    async def _up(self) -> None:
        while True:
            msg = await self.client.receive()
            if self.greeting is None:
                self.greeting = self.sent_down
            if msg.type == WSMsgType.TEXT and not self.decided and not await self._decide(msg.data):
                return
            assert self.source is not None
            if msg.type == WSMsgType.TEXT:
                await self.source.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await self.source.send_bytes(msg.data)
            else:
                code = msg.data if msg.type == WSMsgType.CLOSE else self.client.close_code
                reason = (msg.extra or "") if msg.type == WSMsgType.CLOSE else ""
                if not self.source.closed:
                    await self.source.close(code=code or 1000, message=reason.encode())
                return

    async def _decide(self, text: str) -> bool:
        """Whether the connection goes on (on the replay, or moved to the recording proxy)."""
        found = subscription_request(WsText(0.0, "", C2S, text))
        if found is None:
            return True  # a ping or current_state: the replay answers it
        self.decided = True
        if self.router.index.holds_subscription(*found):
            self.router.counts["ws replayed"] += 1
            return True
        self.router.counts["ws episodes"] += 1
        return await self._switch()

    async def _switch(self) -> bool:
        """Move the connection to the recording proxy (module docstring); False when the proxy
        refused it (its upstream is down), after closing the client as a server error would."""
        try:
            live = await self.router.connect(self.router.recorder, self.request)
        except aiohttp.WSServerHandshakeError as exc:
            # The client is already upgraded on the replay: the proxy's refusal (a 502 when the
            # upstream cannot be reached) reaches it as a close 1011.
            self.router.counts["ws episodes refused"] += 1
            await self.client.close(code=1011, message=f"upstream refused ({exc.status})".encode())
            return False
        for _ in range(self.greeting or 0):
            # the client already has the replayed greeting: the upstream's is recorded only
            with contextlib.suppress(TimeoutError):
                msg = await live.receive(timeout=GREETING_TIMEOUT)
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
        assert self.down is not None and self.source is not None
        self.down.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await self.down
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.source.close()
        self._start_down(live)
        return True


class SioBridge(SioRelay):
    """PumpData sockets: on the replay until their first subscription emit decides (module docstring)."""

    def __init__(self, router: EpisodeRouter) -> None:
        super().__init__(router.replay, SIO_TIMEOUT, name="harness new_episodes router")
        self.router = router

    async def routed(self, link: Link, emit: Emit) -> bool:
        if link.decided:
            return True
        args = tuple(jsonable(a) for a in emit.args)
        found = subscription_request(SioEvent(0.0, "", C2S, emit.name, args, emit.ack_id, link.namespace))
        if found is None:
            return True  # an unsubscribe or an event of its own: the replay answers it
        link.decided = True
        counts = self.router.counts
        if self.router.index.holds_subscription(*found):
            counts["sio replayed"] += 1
            return True
        counts["sio episodes"] += 1
        try:
            live = await self.open(link, self.router.recorder)
        except Refused:
            # The client is already connected (to the replay): the proxy's refusal (its upstream
            # cannot be reached, or refused the connect) ends its socket as PumpData ends one it
            # will not serve (CONTRACTS.md 2.1, billing: a server disconnect).
            counts["sio episodes refused"] += 1
            link.end(SERVER_DISCONNECT)
            return False
        replay = link.adopt(live)
        if replay is not None:
            await replay.settled(GREETING_TIMEOUT)  # acks the replay still owes reach the client
            with contextlib.suppress(Exception):
                await replay.disconnect()
        return True
