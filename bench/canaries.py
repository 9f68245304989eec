"""The hostile benchmark's canaries: one well-behaved client per API that keeps timing how long
the server takes to answer it while attacks run (``bench_hostile``).

- Data Stream: a ``websockets`` subscriber (``mode: all``) asks ``current_state`` and waits for
  that answer behind whatever events are in flight;
- PumpData: a python-socketio client subscribed to a pool's ``ohlcv`` and ``trade`` rooms emits
  ``subscribe_ohlcv`` / ``subscribe_trades`` for it again and waits for the ack;
- Pump.fun REST: an aiohttp client polls ``/coins/latest`` with ``If-None-Match``.

They run in a child process of their own, so the attacker's CPU work in the benchmark process
never shows as their latency. Each canary loops: (re)connect when needed, send one request, time
the answer, pause ``PACE``. A sample is (start, end, answered); a request not answered within the
probe timeout, or a connection lost, is an unanswered sample. A frozen server therefore shows as
latency, up to the probe timeout.

The parent drives the process through a pipe, with times on ``time.monotonic()`` (on Linux one
clock for every process): ``("urls", urls)`` points the canaries at a (re)started server,
``("window", t0, t1)`` asks for each canary's samples overlapping that span, ``("ready", t)``
whether every canary has been answered since ``t``, ``("stop",)`` ends the process.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import contextlib
import json
import multiprocessing
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import socketio
import websockets

PACE = 0.02
"""Seconds a canary waits between two answered requests."""
FAILED_PAUSE = 0.1
"""Seconds a canary waits after a failure before it reconnects."""
CLOSE_TIMEOUT = 1.0


@dataclass(slots=True)
class Samples:
    done: list[tuple[float, float, str]] = field(default_factory=list)
    """(start, end, why it went unanswered or "")"""
    inflight: float | None = None
    """Start of the request waiting for its answer now, if any."""

    def window(self, t0: float, t1: float, now: float) -> dict[str, Any]:
        """Latencies (ms) of the requests that were waiting at some moment of [t0, t1] (one still
        waiting counts, timed up to now), how many of them went unanswered and why."""
        picked = [(end - start, why) for start, end, why in self.done if start <= t1 and end >= t0]
        if self.inflight is not None and self.inflight <= t1:
            picked.append((now - self.inflight, ""))  # unanswered once it times out
        why = collections.Counter(why for _, why in picked if why)
        return {"ms": [s * 1000 for s, _ in picked], "unanswered": why.total(), "why": dict(why)}

    def answered_since(self, t: float) -> bool:
        return any(not why and start >= t for start, _, why in reversed(self.done[-20:]))


@dataclass(slots=True)
class Target:
    urls: dict[str, str] = field(default_factory=dict)
    generation: int = 0
    known: asyncio.Event = field(default_factory=asyncio.Event)

    def point(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.generation += 1
        self.known.set()


class Canary(abc.ABC):
    name = ""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.samples = Samples()
        self.connected_to: int | None = None

    @abc.abstractmethod
    async def connect(self, urls: dict[str, str]) -> None:
        """Open the connection (and subscribe) to the server at ``urls``."""

    @abc.abstractmethod
    async def probe(self) -> None:
        """One request and its answer; raise when the answer is wrong."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the connection, if open."""

    async def _close_quietly(self) -> None:
        self.connected_to = None
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.close()

    async def run(self, target: Target) -> None:
        await target.known.wait()
        try:
            while True:
                start = time.monotonic()
                self.samples.inflight = start
                why = ""
                try:
                    async with asyncio.timeout(self.timeout):
                        if self.connected_to != target.generation:
                            await self._close_quietly()
                            await self.connect(target.urls)
                            self.connected_to = target.generation
                        await self.probe()
                except Exception as exc:  # a timeout, a lost connection, a wrong answer: unanswered
                    why = f"{type(exc).__name__}: {exc}"[:80] if str(exc) else type(exc).__name__
                end = time.monotonic()
                self.samples.inflight = None
                self.samples.done.append((start, end, why))
                if why:
                    await self._close_quietly()
                await asyncio.sleep(FAILED_PAUSE if why else PACE)
        finally:
            await self._close_quietly()


class DataStream(Canary):
    name = "Data Stream"

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout)
        self.ws: websockets.ClientConnection | None = None

    async def connect(self, urls: dict[str, str]) -> None:
        self.ws = await websockets.connect(urls["websocket"], max_size=None, close_timeout=CLOSE_TIMEOUT)
        await self._answer("handshake")
        await self.ws.send('{"type":"subscribe","mode":"all"}')
        await self._answer("subscription_ack")

    async def probe(self) -> None:
        assert self.ws is not None
        await self.ws.send('{"type":"current_state"}')
        await self._answer("current_state")

    async def _answer(self, name: str) -> None:
        """Read past replayed events to the service message ``name``."""
        assert self.ws is not None
        while True:
            text = await self.ws.recv()
            if isinstance(text, str) and text.startswith('{"type":"service"'):
                got = json.loads(text).get("name")
                if got == name:
                    return
                raise RuntimeError(f"{got} instead of {name}")

    async def close(self) -> None:
        if self.ws is not None:
            ws, self.ws = self.ws, None
            await ws.close()


class SocketIO(Canary):
    name = "Socket.IO"

    def __init__(self, timeout: float, pool: str) -> None:
        super().__init__(timeout)
        self.pool = pool
        self.client: socketio.AsyncClient | None = None
        self.http: aiohttp.ClientSession | None = None
        self.calls = 0

    async def connect(self, urls: dict[str, str]) -> None:
        # its own HTTP session, closed here even when a disconnect from a stuck server times out
        self.http = aiohttp.ClientSession()
        self.client = socketio.AsyncClient(reconnection=False, http_session=self.http)
        for event in ("ohlcv", "trade", "subscription_error"):
            self.client.on(event, _ignore)
        await self.client.connect(
            urls["socketio"],
            transports=["websocket"],
            auth={"api_key": "pd_bench"},
            wait_timeout=self.timeout,
        )
        for event in ("subscribe_ohlcv", "subscribe_trades"):
            await self._call(event)

    async def probe(self) -> None:
        self.calls += 1
        await self._call("subscribe_ohlcv" if self.calls % 2 else "subscribe_trades")

    async def _call(self, event: str) -> None:
        assert self.client is not None
        ack = await self.client.call(event, {"pool": self.pool}, timeout=self.timeout)
        if not (isinstance(ack, dict) and ack.get("ok")):
            raise RuntimeError(f"{event} answered {ack!r:.200}")

    async def close(self) -> None:
        client, http, self.client, self.http = self.client, self.http, None, None
        try:
            if client is not None:
                await client.disconnect()
        finally:
            if http is not None:
                await http.close()


def _ignore(*args: object) -> None:
    pass


class Rest(Canary):
    name = "REST"

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout)
        self.session: aiohttp.ClientSession | None = None
        self.url = ""
        self.etag: str | None = None

    async def connect(self, urls: dict[str, str]) -> None:
        self.session = aiohttp.ClientSession()
        self.url = urls["rest"] + "/coins/latest"
        self.etag = None

    async def probe(self) -> None:
        assert self.session is not None
        headers = {"If-None-Match": self.etag} if self.etag else {}
        async with self.session.get(self.url, headers=headers) as response:
            await response.read()
            if response.status not in (200, 304):
                raise RuntimeError(f"GET /coins/latest answered {response.status}")
            self.etag = response.headers.get("ETag", self.etag)

    async def close(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            await session.close()


async def _serve(conn: Connection, timeout: float, pool: str) -> None:
    target = Target()
    canaries: list[Canary] = [DataStream(timeout), SocketIO(timeout, pool), Rest(timeout)]
    stop = asyncio.Event()

    def on_message() -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the benchmark went away
            stop.set()
            return
        kind = message[0]
        if kind == "urls":
            target.point(message[1])
        elif kind == "window":
            now = time.monotonic()
            conn.send({c.name: c.samples.window(message[1], message[2], now) for c in canaries})
        elif kind == "ready":
            conn.send(all(c.samples.answered_since(message[1]) for c in canaries))
        else:
            stop.set()

    loop = asyncio.get_running_loop()
    loop.add_reader(conn.fileno(), on_message)
    tasks = [asyncio.create_task(c.run(target)) for c in canaries]
    await stop.wait()
    loop.remove_reader(conn.fileno())
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=5)


def _main(conn: Connection, timeout: float, pool: str) -> None:
    asyncio.run(_serve(conn, timeout, pool))


class Canaries:
    """The canary process, seen from the benchmark. Start it before the benchmark's event loop
    (it is forked)."""

    def __init__(self, timeout: float, pool: str) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_main, args=(child, timeout, pool), daemon=True)
        self._process.start()
        child.close()

    def point(self, urls: dict[str, str]) -> None:
        self._conn.send(("urls", urls))

    async def _ask(self, *message: object) -> Any:
        self._conn.send(message)
        if not await asyncio.to_thread(self._conn.poll, 10.0):
            raise RuntimeError("the canary process did not answer within 10 s")
        return self._conn.recv()

    async def window(self, t0: float, t1: float) -> dict[str, dict[str, Any]]:
        """Per canary over [t0, t1]: ``ms`` (latencies), ``unanswered`` and ``why`` (a count per
        reason)."""
        answer: dict[str, dict[str, Any]] = await self._ask("window", t0, t1)
        return answer

    async def ready(self, since: float, timeout: float) -> bool:
        """Wait until every canary was answered by a request started after ``since``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self._ask("ready", since):
                return True
            await asyncio.sleep(0.05)
        return False

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(("stop",))
        self._process.join(8)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(2)
        self._conn.close()


NAMES = (DataStream.name, SocketIO.name, Rest.name)
