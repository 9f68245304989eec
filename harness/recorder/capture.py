"""Direct capture: record an API without a client of your own.

``stream_ws`` records a WebSocket (corto.fun Data Stream) after sending the given subscriptions.
``poll`` polls REST endpoints like the Pump.fun polling guide's ETag poller: every ``interval`` seconds, with
``If-None-Match`` once it holds an ETag (``etag=True``), recording every exchange (200s, 304s,
errors) with its latency, and backing off as ``Retry-After`` says on a 429. Adapter code: the
session redacts and writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import aiohttp

from harness.core.frames import (
    C2S,
    S2C,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    SioAck,
    SioConnect,
    SioConnectError,
    SioDisconnect,
    SioEvent,
    WsBinary,
    WsClose,
    WsOpen,
    WsText,
)
from harness.recorder.failures import classify
from harness.recorder.session import RecordingSession


async def poll(
    session: RecordingSession,
    urls: Sequence[str],
    *,
    interval: float,
    duration: float,
    etag: bool = True,
    headers: Sequence[tuple[str, str]] = (),
    stop: asyncio.Event | None = None,
) -> Counter[str]:
    """Poll ``urls`` until ``duration`` seconds pass or ``stop`` is set; returns counts by outcome
    (``200``, ``304``, ``429`` ..., or the kind of a failed request: ``refused``, ``timeout``,
    ``unreachable`` ... as :func:`harness.recorder.failures.classify` names it)."""
    stop = stop or asyncio.Event()
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + duration
    timeout = aiohttp.ClientTimeout(total=max(5.0, interval * 2))
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=True) as http:
        await asyncio.gather(
            *(
                _poll_one(session, http, url, interval, deadline, etag, headers, stop, outcomes)
                for url in urls
            )
        )
    return outcomes


async def _poll_one(
    session: RecordingSession,
    http: aiohttp.ClientSession,
    url: str,
    interval: float,
    deadline: float,
    etag: bool,
    headers: Sequence[tuple[str, str]],
    stop: asyncio.Event,
    outcomes: Counter[str],
) -> None:
    conn = session.conn("http")
    held: str | None = None
    while not stop.is_set() and time.monotonic() < deadline:
        sent = list(headers)
        if etag and held is not None:
            sent.append(("If-None-Match", held))
        started = session.t()
        wait = interval
        try:
            async with http.get(url, headers=sent, allow_redirects=False) as response:
                body = await response.read()
                latency = session.t() - started
                session.write(
                    HttpExchange(
                        t=started,
                        conn=conn,
                        request=HttpRequest("GET", url, tuple(sent)),
                        response=HttpResponse(
                            response.status, _headers(response), body, response.reason or ""
                        ),
                        latency=latency,
                    )
                )
                outcomes[str(response.status)] += 1
                if response.status == 200 and response.headers.get("ETag"):
                    held = response.headers["ETag"]
                if response.status == 429:
                    # the Pump.fun polling guide: back off; the server says how long
                    with contextlib.suppress(ValueError):
                        wait = max(interval, float(response.headers.get("Retry-After", interval)))
        except (aiohttp.ClientError, TimeoutError) as exc:
            outcomes[str(classify(exc))] += 1
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=min(wait, remaining))


def _headers(response: aiohttp.ClientResponse) -> tuple[tuple[str, str], ...]:
    """The response headers in wire order, names as sent, duplicates kept."""
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in response.raw_headers)


async def stream_ws(
    session: RecordingSession,
    url: str,
    *,
    send: Sequence[str],
    duration: float,
    headers: Sequence[tuple[str, str]] = (),
    stop: asyncio.Event | None = None,
) -> Counter[str]:
    """Connect to a WebSocket, send ``send`` (one text message each), and record every frame in
    both directions, and the close, until ``duration`` passes or ``stop`` is set."""
    import websockets

    stop = stop or asyncio.Event()
    counts: Counter[str] = Counter()
    conn = session.conn("ws")
    session.write(WsOpen(session.t(), conn, url, tuple(headers)))
    try:
        connected = await websockets.connect(url, additional_headers=list(headers), max_size=None)
    except websockets.InvalidStatus as exc:
        # the server answered the upgrade with an HTTP status: on the tape as the recording
        # proxy keeps one (harness.recorder.taps), and refused
        refusal = f"HTTP {exc.response.status_code} {exc.response.reason_phrase}"
        session.write(WsClose(session.t(), conn, S2C, None, f"handshake refused: {refusal}"))
        raise ConnectionRefusedError(refusal) from None
    except websockets.InvalidHandshake as exc:  # an answer that is no WebSocket handshake
        raise ConnectionError(f"no WebSocket handshake: {exc}") from None
    async with connected as ws:
        for text in send:
            await ws.send(text)
            session.write(WsText(session.t(), conn, C2S, text))
            counts["sent"] += 1
        deadline = time.monotonic() + duration
        try:
            while not stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
                stopping = asyncio.ensure_future(stop.wait())
                receiving = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait(
                    {stopping, receiving}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                stopping.cancel()
                if receiving not in done:
                    receiving.cancel()
                    with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                        await receiving
                    break
                message = receiving.result()
                if isinstance(message, str):
                    session.write(WsText(session.t(), conn, S2C, message))
                else:
                    session.write(WsBinary(session.t(), conn, S2C, bytes(message)))
                counts["received"] += 1
        except websockets.ConnectionClosed as closed:
            frame = closed.rcvd
            session.write(
                WsClose(session.t(), conn, S2C, frame.code if frame else None, frame.reason if frame else "")
            )
            counts["closed_by_server"] += 1
            return counts
        await ws.close(1000, "recording done")
        session.write(WsClose(session.t(), conn, C2S, 1000, "recording done"))
    return counts


async def stream_sio(
    session: RecordingSession,
    url: str,
    *,
    auth: dict[str, Any] | None,
    emits: Sequence[tuple[str, Any]],
    duration: float,
    stop: asyncio.Event | None = None,
) -> Counter[str]:
    """Connect to a Socket.IO server with ``auth``, emit ``emits`` (each asking for an ack), and
    record the connect, every event both ways, the acks bound to their emits, ``connect_error``
    and the disconnect reason, until ``duration`` passes or ``stop`` is set."""
    import socketio

    stop = stop or asyncio.Event()
    counts: Counter[str] = Counter()
    conn = session.conn("sio")
    # Our own HTTP session, closed here: python-socketio leaves its own open when a connect fails.
    # Ctrl-C is ours too.
    http = aiohttp.ClientSession()
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http)
    refused: list[Any] = []

    async def on_any(event: str, *args: Any) -> None:
        session.write(SioEvent(session.t(), conn, S2C, event, tuple(args)))
        counts["received"] += 1

    async def on_connect_error(data: Any = None) -> None:
        message = data.get("message", "") if isinstance(data, dict) else str(data or "")
        # python-socketio reports a transport that never connected as a connect_error too; only a
        # CONNECT_ERROR packet, which arrives over a connected Engine.IO session, is the server's
        if client.eio.state == "connected":
            session.write(SioConnectError(session.t(), conn, message, data))
        refused.append(message)

    async def on_disconnect(reason: Any = None) -> None:
        session.write(SioDisconnect(session.t(), conn, S2C, str(reason or "")))
        counts["disconnected"] += 1
        stop.set()

    try:
        client.on("*", on_any)
        client.on("connect_error", on_connect_error)
        client.on("disconnect", on_disconnect)
        session.write(SioConnect(session.t(), conn, "/", auth, url))
        try:
            await client.connect(url, auth=auth, transports=["websocket"])
        except socketio.exceptions.ConnectionError as exc:
            raise ConnectionRefusedError(refused[0] if refused else str(exc)) from None
        for ack_id, (event, payload) in enumerate(emits):
            args: tuple[Any, ...] = () if payload is None else (payload,)
            session.write(SioEvent(session.t(), conn, C2S, event, args, ack_id))

            def acked(*answer: Any, _id: int = ack_id) -> None:
                session.write(SioAck(session.t(), conn, S2C, _id, tuple(answer)))
                counts["acks"] += 1

            await client.emit(event, payload, callback=acked)
            counts["sent"] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=duration)
        if client.connected:
            await client.disconnect()
            session.write(SioDisconnect(session.t(), conn, C2S, "client disconnect"))
        return counts
    finally:
        await http.close()
