"""Local "live" upstreams for the recorder tests, for what a MockServer does not do: a Socket.IO
service with namespaces, server-side ack requests, kicks and dropped transports; a WebSocket
service that closes with a code, refuses upgrades or drops the connection; and a raw TCP server
that dies in the middle of an HTTP answer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import socketio
from aiohttp import WSMsgType, web

from harness.server.listening import listen
from tests.credentials import API_KEY


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    """``app`` listening on 127.0.0.1, any port: its runner and the port."""
    listening = await listen(app, "127.0.0.1", 0, shutdown_timeout=0.5)
    return listening.runner, listening.port


class SioService:
    """A Socket.IO service on ``/`` and ``/admin`` that wants ``auth.api_key == API_KEY``.

    Events: ``echo`` acks with its arguments and emits ``echoed`` with them; ``ask`` emits
    ``question`` asking the client for an ack, then emits ``answer_was`` with the answer;
    ``burst`` emits ``tick`` ``{"i": i}`` n times; ``kick`` disconnects the socket; ``drop``
    aborts the TCP connection.
    """

    def __init__(self) -> None:
        self.server = socketio.AsyncServer(async_mode="aiohttp", namespaces=["/", "/admin"], logger=False)
        self.seen: list[tuple[str, Any]] = []
        self.disconnects: list[str] = []
        self.environ: list[dict[str, Any]] = []
        sio = self.server

        @sio.on("connect", namespace="*")
        async def connect(namespace: str, sid: str, environ: dict[str, Any], auth: Any) -> None:
            self.seen.append(("connect", {"namespace": namespace, "auth": auth}))
            self.environ.append(environ)
            if not isinstance(auth, dict) or auth.get("api_key") != API_KEY:
                raise socketio.exceptions.ConnectionRefusedError("invalid api_key", {"code": 4401})

        @sio.on("disconnect", namespace="*")
        async def disconnect(namespace: str, sid: str, reason: str) -> None:
            self.disconnects.append(reason)

        @sio.on("*", namespace="*")
        async def any_event(event: str, namespace: str, sid: str, *args: Any) -> Any:
            self.seen.append((event, args))
            if event == "echo":
                await sio.emit("echoed", args, to=sid, namespace=namespace)
                return args
            if event == "ask":
                answer = await sio.call("question", {"q": "ready?"}, to=sid, namespace=namespace, timeout=5)
                await sio.emit("answer_was", {"answer": answer}, to=sid, namespace=namespace)
            elif event == "burst":
                for i in range(args[0]["n"]):
                    await sio.emit("tick", {"i": i, "ns": namespace}, to=sid, namespace=namespace)
            elif event == "kick":
                await sio.disconnect(sid, namespace=namespace)
            elif event == "drop":
                request = sio.get_environ(sid, namespace)["aiohttp.request"]
                request.transport.abort()
            return None

        self.app = web.Application()
        sio.attach(self.app)
        self.url = ""

    async def __aenter__(self) -> SioService:
        self._runner, port = await serve(self.app)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.server.shutdown()
        await self._runner.cleanup()


class WsService:
    """A WebSocket service at ``/data-stream``: each text message is a command.

    ``{"echo": X}`` answers X (a binary message is echoed as binary); ``{"burst": n}`` sends n
    messages; ``{"close": code, "reason": r}`` closes; ``{"drop": true}`` aborts the connection.
    ``?refuse=STATUS`` refuses the upgrade with that status.
    """

    def __init__(self) -> None:
        self.received: list[Any] = []
        self.closes: list[tuple[int | None, str]] = []
        self.app = web.Application()
        self.app.router.add_get("/data-stream", self.handle)
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if "refuse" in request.query:
            status = int(request.query["refuse"])
            return web.json_response({"error": "refused", "status": status}, status=status)
        ws = web.WebSocketResponse(protocols=("corto.v1",))
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is WSMsgType.BINARY:
                self.received.append(msg.data)
                await ws.send_bytes(msg.data)
                continue
            if msg.type is not WSMsgType.TEXT:
                break
            command = json.loads(msg.data)
            self.received.append(command)
            if "echo" in command:
                await ws.send_str(json.dumps(command["echo"]))
            elif "burst" in command:
                for i in range(command["burst"]):
                    await ws.send_str(json.dumps({"i": i}))
            elif "close" in command:
                await ws.close(code=command["close"], message=command.get("reason", "").encode())
            elif "drop" in command:
                await ws.send_str('{"last": true}')
                assert request.transport is not None
                request.transport.abort()
                break
        self.closes.append((ws.close_code, ""))
        return ws

    async def __aenter__(self) -> WsService:
        self._runner, port = await serve(self.app)
        self.url = f"ws://127.0.0.1:{port}/data-stream"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


@contextlib.asynccontextmanager
async def dying_http(body_sent: bytes = b'{"partial": ', length: int = 100) -> AsyncIterator[str]:
    """An HTTP server that answers 200 with ``Content-Length: length``, sends ``body_sent`` and
    closes the connection; yields its base URL."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f'ETag: W/"d1"\r\nContent-Length: {length}\r\n\r\n'
        )
        writer.write(head.encode() + body_sent)
        await writer.drain()
        writer.transport.abort()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
