"""A corto.fun Data Stream subscriber that keeps its subscription through anything the stream does.

``StreamSubscriber(url, subscription).run()`` connects, sends its subscribe message after the
handshake and hands every new event to ``on_event`` exactly once. It survives what a long-lived
WebSocket meets: closes with any code, dropped connections and stale ones (nothing received for
``stale_after`` seconds), which it answers by reconnecting with the reference client's backoff
(1 s doubling, at most 30 s) and subscribing again; frames that are not JSON (skipped and
counted); the same event twice, whether the stream repeats it or a reconnect does (events are
known by signature, type and mint); and ``error`` answers: one to its subscribe ends ``run()``
with :class:`SubscriptionRefused` (the message is wrong, sending it again would not help), a
later one makes it ask for ``current_state`` and subscribe again if its filter is really gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import websockets

from marketfeed.background import Background

CORTO = "wss://corto.fun/data-stream"
TRADES = {"type": "subscribe", "mode": "trades"}
REMEMBERED = 100_000
"""Events remembered to recognise a repeat (the oldest are forgotten first)."""


class SubscriptionRefused(Exception):
    """The service answered our subscribe with an ``error``: asking again would not help."""


def backoff(attempt: int) -> float:
    """Seconds before reconnect ``attempt``: the reference client's ``min(1000 * 2^n, 30000)`` ms."""
    return min(2.0**attempt, 30.0)


class StreamSubscriber(Background):
    """One subscription to the Data Stream, kept alive (see the module docstring)."""

    def __init__(
        self,
        url: str = CORTO,
        subscription: dict[str, Any] = TRADES,
        *,
        on_event: Callable[[dict[str, Any]], object] = lambda event: None,
        retry_delay: Callable[[int], float] = backoff,
        stale_after: float = 45.0,
    ) -> None:
        self.url = url
        self.subscription = subscription
        self.on_event = on_event
        self.retry_delay = retry_delay
        self.stale_after = stale_after
        self.subscribed = asyncio.Event()
        """Set while the server has acknowledged our subscription on the current connection."""
        self.seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self.errors: list[Any] = []
        self.skipped = 0
        """Frames that were not JSON objects."""
        self.connections = 0
        self._ws: Any = None
        self._states: deque[asyncio.Future[dict[str, Any]] | None] = deque()

    async def run(self) -> None:
        """Stay subscribed until cancelled."""
        attempt = 0
        while True:
            try:
                async with websockets.connect(self.url) as ws:
                    self._ws = ws
                    self.connections += 1
                    await self._session(ws)
            except (OSError, TimeoutError, websockets.ConnectionClosed, websockets.InvalidHandshake):
                pass
            finally:
                self._disconnected()
            attempt = 0 if self.subscribed.is_set() else attempt + 1
            self.subscribed.clear()
            await asyncio.sleep(self.retry_delay(attempt))

    async def current_state(self, timeout: float = 10.0) -> dict[str, Any]:
        """The server's ``current_state`` of our connection (its effective filter). Everything the
        server sent before it has reached ``on_event`` when this returns."""
        async with asyncio.timeout(timeout):
            while True:
                await self.subscribed.wait()
                answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
                self._states.append(answer)
                with contextlib.suppress(websockets.ConnectionClosed, ConnectionError):
                    await self._ws.send(json.dumps({"type": "current_state"}))
                    return await answer

    async def _session(self, ws: Any) -> None:
        await ws.send(json.dumps(self.subscription))
        while True:
            raw = await asyncio.wait_for(ws.recv(), self.stale_after)
            try:
                message = json.loads(raw)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                self.skipped += 1
            elif message.get("type") == "service":
                await self._service(ws, message)
            elif "txType" in message:
                self._event(message)

    async def _service(self, ws: Any, message: dict[str, Any]) -> None:
        name = message.get("name")
        if name == "subscription_ack" and message.get("action") == "subscribe":
            self.subscribed.set()
        elif name == "error":
            error = message.get("error")
            self.errors.append(error)
            if not self.subscribed.is_set():
                raise SubscriptionRefused(f"{self.url} refused {json.dumps(self.subscription)}: {error}")
            self._states.append(None)  # our own question: is the subscription still there?
            await ws.send(json.dumps({"type": "current_state"}))
        elif name == "current_state" and self._states:
            state = message.get("state")
            state = state if isinstance(state, dict) else {}
            asker = self._states.popleft()
            if asker is None:
                if state.get("effectiveFilter", {}).get("mode") in ("none", None):
                    await ws.send(json.dumps(self.subscription))
            elif not asker.done():
                asker.set_result(state)

    def _event(self, event: dict[str, Any]) -> None:
        key = (str(event.get("signature")), str(event.get("txType")), str(event.get("mint")))
        if key in self.seen:
            return
        self.seen[key] = None
        if len(self.seen) > REMEMBERED:
            self.seen.popitem(last=False)
        self.on_event(event)

    def _disconnected(self) -> None:
        self._ws = None
        while self._states:
            asker = self._states.popleft()
            if asker is not None and not asker.done():
                asker.set_exception(ConnectionError("the connection closed before current_state came"))
