"""The PumpPortal data WebSocket emulation: an aiohttp WebSocket route at ``/api/data``.

Adapter only: every answer, every filter and every close is
:mod:`harness.core.pumpportal.session`'s, and the feed is read from the tape by
:func:`harness.core.pumpportal.recorded.read_feed`. This module moves text between aiohttp and one session
per client, reports what the session finds wrong with a client's message, and delivers the
tape's events to the clients whose filters select them. The outgoing queue and sender task per
client (a client that stops reading cannot stall the others) are the Data Stream emulator's,
which this one extends.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import TYPE_CHECKING, Any, cast

from aiohttp import WSMsgType, web

from harness.core.feed import Feed
from harness.core.frames import C2S, S2C, WsOpen, WsText
from harness.core.pumpportal.families import PATH
from harness.core.pumpportal.recorded import Event, read_feed
from harness.core.pumpportal.session import (
    FUZZ_ERROR,
    ClientViolation,
    Output,
    Session,
    connection_refusal,
)
from harness.server.corto import Client, CortoEmulator

if TYPE_CHECKING:
    from harness.server.app import MockServer

MAX_MESSAGE = 4 * 1024 * 1024
"""The largest client message read (aiohttp closes a larger one with 1009, RFC 6455 7.4.1)."""
FEED_CONN = "pp-feed"
"""The connection the tape's events are validated under (as the service sent them)."""


def session_of(client: Client) -> Session:
    """A client's session: the Data Stream's :class:`Client` carries this emulator's sessions."""
    return cast(Session, client.session)


class PumpPortalEmulator(CortoEmulator):
    name = "pumpportal"

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.settings = server.config.pumpportal
        # --ws-queue and --ws-overflow: the queue of every WebSocket client, as the Data Stream's
        self.config = server.config.corto
        items, self.recorded = read_feed(server.tapes.pumpportal)
        self.feed: Feed[Event] = Feed(items, loop=server.config.loop)  # type: ignore[assignment]
        self.clients = set()
        self.counters = Counter()
        self._next_conn = 0
        self._events = []  # the Data Stream's events (none here), which its reset marks unchecked
        self._checked: set[int] = set()
        """The feed events validated so far (by id): each is checked once per run."""

    # --- Emulator protocol ---------------------------------------------------------------------

    def setup(self, app: web.Application) -> None:
        app.router.add_get(PATH, self.handle)

    def next_wakeup(self) -> float | None:
        return self.feed.next_time()

    def lookahead(self, count: int) -> float | None:
        return self.feed.time_ahead(count)

    async def tick(self, now: float) -> None:
        sent = 0
        validate = self.server.config.validate
        fuzzed = self.server.fuzz.armed(self.name)
        # each listening client with its filter (a bound method: this loop runs per event and client)
        listeners = [
            (c, session_of(c).selects) for c in self.clients if not c.closing and session_of(c).subscribed
        ]
        for due in self.feed.take_due(now):
            event = due.item
            text = event.text
            targets = [(client, text) for client, selects in listeners if selects(event)]
            if validate and targets and id(event) not in self._checked:
                if not self._checked:  # the feed's events are classified as PumpPortal's
                    self.server.check_frame(WsOpen(now, FEED_CONN, PATH), conn=FEED_CONN)
                self._checked.add(id(event))
                self.server.check_frame(WsText(now, FEED_CONN, S2C, text), conn=FEED_CONN)
            sent += await self._deliver(targets, fuzzed)
        if sent:
            self.counters["events_sent"] += sent

    def active(self) -> bool:
        return any(session_of(c).subscribed for c in self.clients)

    async def reset(self) -> None:
        self._checked.clear()  # a fresh run reports what its clients are sent
        await super().reset()

    def state(self) -> dict[str, Any]:
        return {
            "events": len(self.feed),
            "clients": [
                {
                    "conn": c.conn,
                    "remote": c.remote,
                    "funded": s.funded,
                    "new_tokens": s.new_tokens,
                    "migrations": s.migrations,
                    "mints": len(s.mints),
                    "wallets": len(s.wallets),
                    "queued": c.queue.qsize(),
                }
                for c, s in ((c, session_of(c)) for c in self.clients)
            ],
            "counters": dict(self.counters),
        }

    def fuzz_error(self, key: Any) -> str:
        answer = session_of(key).error(FUZZ_ERROR)
        return json.dumps(answer.message if answer else {"errors": FUZZ_ERROR}, separators=(",", ":"))

    # --- connections ---------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, compress=False)
        await ws.prepare(request)
        self.server.touch()
        self._next_conn += 1
        remote = request.remote or ""
        close = connection_refusal(self.settings, remote, (c.remote for c in self.clients if not c.closing))
        if close is not None:
            self.counters["refused_second_connection"] += 1
            await ws.close(code=close.code, message=close.reason.encode())
            return ws
        conn = f"pp-{self._next_conn}"
        # the path only: the api-key in the query is a secret
        self.server.check_frame(WsOpen(self.server.now(), conn, request.path), conn=conn)
        session = Session(self.settings, self.recorded, request.path_qs)
        client = Client(
            ws=ws,
            session=session,  # type: ignore[arg-type]
            conn=conn,
            remote=remote,
            queue=asyncio.Queue(maxsize=self.config.queue_size),
            transport=request.transport,
        )
        self.clients.add(client)
        client.sender = asyncio.create_task(self._sender(client), name=f"pumpportal-sender-{conn}")
        self.server.wake()
        try:
            async for msg in ws:
                now = self.server.now()
                if msg.type == WSMsgType.TEXT:
                    outputs = session.receive_text(msg.data, now)
                    if not any(isinstance(o, ClientViolation) for o in outputs):
                        # what the session accepts is held to the request schemas as well
                        self.server.check_frame(WsText(now, conn, C2S, msg.data), conn=conn)
                elif msg.type == WSMsgType.BINARY:
                    outputs = session.receive_binary(msg.data, now)
                else:
                    break
                self._send(client, outputs)
                self.server.wake()
        finally:
            await self._close(client, None)
        return ws

    def _send(self, client: Client, outputs: list[Output]) -> None:  # type: ignore[override]
        """Send the session's messages and closes; report the violations it found (one each)."""
        sent: list[Any] = []
        for output in outputs:
            if isinstance(output, ClientViolation):
                self.server.client_violation(
                    self.name, output.family, output.pointer, output.rule, output.message, client.conn
                )
            else:
                sent.append(output)
        super()._send(client, sent)


__all__ = ["PumpPortalEmulator", "read_feed"]
