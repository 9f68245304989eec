"""The recording proxy: laid out like ``harness serve``, forwarding to the real services.

A client changes its base URL to the proxy's and is recorded: REST requests are forwarded to the
REST upstream (method, path, query, headers, body) and answered with the upstream's answer
unchanged (status, headers with ETag and rate limits, body, 304s); ``/data-stream`` WebSocket
connections are relayed to the WebSocket upstream, both directions, text and binary, with close
codes and reasons. Every exchange and frame goes through the session (redacted, then written).
Upstream failures reach the client as what they were (502 for a refused or broken connection, the
upstream's own status otherwise) and the proxy keeps serving others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web

from harness.core.frames import (
    C2S,
    S2C,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    WsBinary,
    WsClose,
    WsOpen,
    WsText,
)
from harness.recorder.session import RecordingSession

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
WS_PATH = "/data-stream"


class RecordingProxy:
    def __init__(
        self,
        session: RecordingSession,
        *,
        rest_upstream: str | None = None,
        ws_upstream: str | None = None,
    ) -> None:
        self.session = session
        self.rest_upstream = rest_upstream.rstrip("/") if rest_upstream else None
        self.ws_upstream = ws_upstream
        self.failures: Counter[str] = Counter()
        self.app = web.Application()
        if ws_upstream:
            self.app.router.add_get(WS_PATH, self.relay_ws)
        if rest_upstream:
            self.app.router.add_route("*", "/{tail:.*}", self.forward)
        self._http: aiohttp.ClientSession | None = None
        self.app.on_startup.append(self._open)
        self.app.on_cleanup.append(self._close)

    async def _open(self, app: web.Application) -> None:
        self._http = aiohttp.ClientSession(auto_decompress=False, timeout=aiohttp.ClientTimeout(total=60))

    async def _close(self, app: web.Application) -> None:
        if self._http is not None:
            await self._http.close()

    # --- REST ----------------------------------------------------------------------------------

    async def forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None and self.rest_upstream is not None
        body = await request.read()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        target = self.rest_upstream + request.path_qs
        conn = self.session.conn("http")
        started = self.session.t()
        recorded_request = HttpRequest(request.method, request.path_qs, tuple(headers), body)
        try:
            async with self._http.request(
                request.method, target, headers=headers, data=body or None, allow_redirects=False
            ) as upstream:
                answer = await upstream.read()
                raw = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in upstream.raw_headers)
                status, reason = upstream.status, upstream.reason or ""
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self.failures[type(exc).__name__] += 1
            message = f"upstream {self.rest_upstream} failed: {exc}".encode()
            self.session.write(
                HttpExchange(
                    started,
                    conn,
                    recorded_request,
                    HttpResponse(502, (), message, "Bad Gateway"),
                    self.session.t() - started,
                )
            )
            return web.Response(status=502, body=message, content_type="text/plain")
        self.session.write(
            HttpExchange(
                started,
                conn,
                recorded_request,
                HttpResponse(status, raw, answer, reason),
                self.session.t() - started,
            )
        )
        response = web.Response(status=status, reason=reason or None, body=answer or None)
        for name, value in raw:
            if name.lower() not in HOP_BY_HOP:
                response.headers.add(name, value)
        return response

    # --- WebSocket -----------------------------------------------------------------------------

    async def relay_ws(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None and self.ws_upstream is not None
        conn = self.session.conn("ws")
        query = ("?" + request.query_string) if request.query_string else ""
        target = self.ws_upstream + query
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in HOP_BY_HOP and not k.lower().startswith("sec-websocket")
        ]
        self.session.write(WsOpen(self.session.t(), conn, request.path_qs, tuple(headers)))
        client = web.WebSocketResponse(max_msg_size=0, compress=False)
        try:
            upstream = await self._http.ws_connect(target, headers=headers, max_msg_size=0, autoclose=False)
        except (aiohttp.ClientError, OSError) as exc:
            self.failures[type(exc).__name__] += 1
            await client.prepare(request)
            self.session.write(WsClose(self.session.t(), conn, S2C, 1011, f"upstream failed: {exc}"[:120]))
            await client.close(code=1011, message=b"upstream connection failed")
            return client
        await client.prepare(request)

        async def pump(source: Any, sink: Any, direction: Any) -> None:
            code, reason = None, ""
            while True:
                msg = await source.receive()
                if msg.type == WSMsgType.TEXT:
                    self.session.write(WsText(self.session.t(), conn, direction, msg.data))
                    await sink.send_str(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self.session.write(WsBinary(self.session.t(), conn, direction, msg.data))
                    await sink.send_bytes(msg.data)
                elif msg.type == WSMsgType.CLOSE:
                    code, reason = msg.data, msg.extra or ""
                    break
                elif msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    code = source.close_code
                    break
            self.session.write(WsClose(self.session.t(), conn, direction, code, reason))
            if not sink.closed:
                await sink.close(code=code or 1000, message=reason.encode())

        tasks = [
            asyncio.create_task(pump(client, upstream, C2S)),
            asyncio.create_task(pump(upstream, client, S2C)),
        ]
        _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await asyncio.wait_for(task, 2.0)
        for closing in (upstream, client):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await closing.close()
        return client
