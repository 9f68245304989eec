"""What the recording proxy writes of each stream connection: its relays' taps.

The relays (:mod:`~harness.recorder.relay_ws`, :mod:`~harness.recorder.relay_sio`) tell a tap
what happens on each connection; these taps write it to the session as tape frames (redacted by
the session before any byte is written), count connections and refusals on the proxy, and note
upstream failures in its report. They decide nothing about what a client is told.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.core.frames import (
    S2C,
    Direction,
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
from harness.recorder.failures import FailureKind
from harness.recorder.relay_sio import SioTap, jsonable, jsonable_args
from harness.recorder.relay_ws import WsTap

if TYPE_CHECKING:
    from harness.recorder.proxy import RecordingProxy


class WsRecording(WsTap):
    """The recording proxy's tap: every frame to the session (redacted there), counted."""

    def __init__(self, proxy: RecordingProxy) -> None:
        self.proxy = proxy
        self.session = proxy.session
        self.conn = self.session.conn("ws")

    def open(self, path_qs: str, headers: tuple[tuple[str, str], ...]) -> None:
        self.session.write(WsOpen(self.session.t(), self.conn, path_qs, headers))
        self.proxy.counters["ws.connections"] += 1

    def answered(self, status: int, reason: str, path_qs: str) -> None:
        self.close(S2C, None, f"handshake refused: HTTP {status} {reason}")
        self.proxy.counters["ws.handshakes_refused"] += 1
        if status >= 500:
            self.proxy.fail("ws", self.conn, FailureKind.SERVER_ERROR, f"{path_qs}: HTTP {status}")

    def unreachable(self, kind: FailureKind | None, detail: str, path_qs: str) -> None:
        self.close(S2C, None, f"upstream {kind.value if kind else 'none'}: {detail}")
        if kind is not None:
            self.proxy.fail("ws", self.conn, kind, f"{path_qs}: {detail}")

    def dropped(self, detail: str) -> None:
        self.close(S2C, None, detail)
        self.proxy.fail("ws", self.conn, FailureKind.DROPPED, detail)

    def message(self, direction: Direction, data: str | bytes) -> None:
        s = self.session
        s.write(
            WsText(s.t(), self.conn, direction, data)
            if isinstance(data, str)
            else WsBinary(s.t(), self.conn, direction, data)
        )

    def close(self, direction: Direction, code: int | None, reason: str) -> None:
        self.session.write(WsClose(self.session.t(), self.conn, direction, code, reason))


class SioRecording(SioTap):
    """The recording proxy's tap: every frame to the session (redacted there), counted."""

    def __init__(self, proxy: RecordingProxy, namespace: str) -> None:
        self.proxy = proxy
        self.session = proxy.session
        self.conn = self.session.conn("sio")
        self.namespace = namespace

    def connect(self, auth: Any, url: str) -> None:
        s = self.session
        s.write(SioConnect(s.t(), self.conn, self.namespace, jsonable(auth), url))
        self.proxy.counters["sio.connections"] += 1

    def connect_error(self, message: str, payload: Any) -> None:
        s = self.session
        data = None if payload is None else jsonable(payload)
        s.write(SioConnectError(s.t(), self.conn, message, data, self.namespace))
        if payload is not None:
            self.proxy.counters["sio.connect_errors"] += 1

    def failed(self, kind: FailureKind, detail: str) -> None:
        self.proxy.fail("sio", self.conn, kind, detail)

    def event(self, direction: Direction, name: str, args: tuple[Any, ...], ack_id: int | None) -> None:
        s = self.session
        s.write(SioEvent(s.t(), self.conn, direction, name, jsonable_args(args), ack_id, self.namespace))

    def ack(self, direction: Direction, ack_id: int, args: tuple[Any, ...]) -> None:
        s = self.session
        s.write(SioAck(s.t(), self.conn, direction, ack_id, jsonable_args(args), self.namespace))

    def disconnect(self, direction: Direction, reason: str) -> None:
        s = self.session
        s.write(SioDisconnect(s.t(), self.conn, direction, reason, self.namespace))
