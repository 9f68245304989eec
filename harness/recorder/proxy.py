"""The recording proxy: laid out like ``harness serve``, forwarding to the real services.

A client changes its base URL to the proxy's and is recorded: REST paths go to the REST upstream
(:mod:`~harness.recorder.relay_http`), ``/socket.io/`` to the Socket.IO upstream
(:mod:`~harness.recorder.relay_sio`), ``/data-stream`` to the WebSocket upstream
(:mod:`~harness.recorder.relay_ws`), ``/api/data`` to the PumpPortal upstream (a relay of its
own). Every exchange and frame goes through the session (redacted, then written). This module
owns the proxy's lifecycle, its Python API, its counters and its report; it makes no rule of its
own::

    async with RecordingProxy("recordings", rest_upstream="https://frontend-api-v3.pump.fun") as proxy:
        proxy.urls["rest"]        # http://127.0.0.1:PORT, like MockServer.urls
        proxy.tape_path           # recordings/<UTC>-proxy.jsonl
        proxy.counters            # exchanges, connections, upstream failures by kind
        print(proxy.report())
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Self

from aiohttp import web

from harness.core.access import ControlAccess
from harness.core.frames import Recorded
from harness.core.pumpportal.families import PATH as PUMPPORTAL_PATH
from harness.core.redact import RedactionRules, shown
from harness.recorder.failures import FailureKind, FailureLog, UpstreamFailure
from harness.recorder.relay_http import HttpRelay
from harness.recorder.relay_sio import SioRelay
from harness.recorder.relay_ws import WsRelay
from harness.recorder.session import RecordingSession
from harness.recorder.taps import SioRecording, WsRecording
from harness.server.control import guarded
from harness.server.listening import CONTROL_PATH, WS_PATH, Served, listen, service_urls

DEFAULT_TIMEOUT = 30.0


def proxy_recorded(
    rest_upstream: str | None,
    sio_upstream: str | None,
    ws_upstream: str | None,
    label: str = "proxy",
    pumpportal_upstream: str | None = None,
) -> Recorded:
    """What a proxy tape's header says it recorded: the APIs and their upstreams."""
    used = [
        (api, name, url)
        for api, name, url in (
            ("pumpfun", "rest", rest_upstream),
            ("pumpdata", "socketio", sio_upstream),
            ("corto", "websocket", ws_upstream),
            ("pumpportal", "pumpportal", pumpportal_upstream),
        )
        if url
    ]
    return Recorded(
        apis=tuple(api for api, _, _ in used),
        upstreams=tuple((name, url) for _, name, url in used),
        label=label,
        source="proxy",
    )


class RecordingProxy(Served):
    """A recording proxy on one port. ``target`` is a directory for a new tape, or a session."""

    def __init__(
        self,
        target: Path | str | RecordingSession,
        *,
        rest_upstream: str | None = None,
        sio_upstream: str | None = None,
        ws_upstream: str | None = None,
        pumpportal_upstream: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        label: str = "proxy",
        gzip: bool = False,
        validate: bool = False,
        rules: RedactionRules | None = None,
        key: bytes | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not (rest_upstream or sio_upstream or ws_upstream or pumpportal_upstream):
            raise ValueError("a recording proxy needs at least one upstream (REST, Socket.IO or WebSocket)")
        for name, url, schemes in (
            ("rest_upstream", rest_upstream, ("http://", "https://")),
            ("sio_upstream", sio_upstream, ("http://", "https://")),
            ("ws_upstream", ws_upstream, ("ws://", "wss://")),
            ("pumpportal_upstream", pumpportal_upstream, ("ws://", "wss://")),
        ):
            if url and not url.startswith(schemes):
                raise ValueError(f"{name} must start with {' or '.join(schemes)}, got {url!r}")
        self._own_session = not isinstance(target, RecordingSession)
        self._target = target
        self._session_options = (label, gzip, validate, rules, key)
        self._rules = target.rules if isinstance(target, RecordingSession) else rules
        self.upstreams = {"rest": rest_upstream, "socketio": sio_upstream, "websocket": ws_upstream}
        self.upstreams["pumpportal"] = pumpportal_upstream
        self.host = host
        self.port = port
        self.counters: Counter[str] = Counter()
        """``http.exchanges``, ``ws.connections``, ``sio.connections``, ``sio.connect_errors``,
        ``ws.handshakes_refused`` and ``upstream.<kind>`` (:class:`FailureKind`) per failure."""
        self.failures = FailureLog()
        self._session: RecordingSession | None = target if isinstance(target, RecordingSession) else None
        self.app = web.Application()
        self.http = HttpRelay(self, rest_upstream, timeout)
        self.sio = SioRelay(
            sio_upstream, timeout, tap=lambda namespace: SioRecording(self, namespace), counters=self.counters
        )
        self.ws = WsRelay(ws_upstream, timeout, tap=lambda: WsRecording(self))
        self.pumpportal = WsRelay(pumpportal_upstream, timeout, tap=lambda: WsRecording(self))
        self.sio.attach(self.app)
        self.app.router.add_get(WS_PATH, self.ws.handle)
        self.app.router.add_get(PUMPPORTAL_PATH, self.pumpportal.handle)
        # The control prefix is the harness's, not the service's: answered here, never recorded.
        control = guarded(ControlAccess(host), self._control, changes_state=False)
        self.app.router.add_route("*", CONTROL_PATH, control)
        self.app.router.add_route("*", CONTROL_PATH + "/{tail:.*}", control)
        self.app.router.add_route("*", "/{tail:.*}", self.http.handle)
        self.app.on_startup.append(lambda _app: self.http.open())
        self.app.on_shutdown.append(self._shutdown)
        self.app.on_cleanup.append(lambda _app: self.http.close())
        self._runner: web.AppRunner | None = None

    # --- what a user reads ---------------------------------------------------------------------

    @property
    def session(self) -> RecordingSession:
        if self._session is None:
            raise RuntimeError("the proxy is not started: use 'async with RecordingProxy(...)' or start()")
        return self._session

    @property
    def tape_path(self) -> Path:
        return self.session.path

    @property
    def urls(self) -> dict[str, str]:
        """The proxy's URLs under ``MockServer.urls``'s keys (``rest``, ``socketio``, ``websocket``)."""
        return service_urls(self.host, self.port)

    @property
    def shown_upstreams(self) -> dict[str, str | None]:
        """The upstreams as the proxy shows them (banner, state): credentials and secret query
        parameters replaced by ``REDACTED``."""
        return {key: shown(url, self._rules) if url else url for key, url in self.upstreams.items()}

    def fail(self, protocol: str, conn: str, kind: FailureKind, detail: str) -> None:
        """Note an upstream failure (the relays call this)."""
        self.counters[f"upstream.{kind.value}"] += 1
        # the detail names the client's request (its query may carry an api_key) and the upstream
        self.failures.add(UpstreamFailure(self.session.t(), protocol, conn, kind, shown(detail, self._rules)))

    def progress_note(self) -> str:
        """One line for the progress display: frames per protocol, bytes, failures."""
        note = self.session.progress_note()
        failures = self.failures.summary()
        return f"{note}; {failures}" if failures else note

    def report(self) -> str:
        """What was recorded and what failed upstream, for the end of a recording."""
        session = self.session
        frames = ", ".join(f"{p} {n}" for p, n in sorted(session.frames.items())) or "none"
        lines = [
            f"{session.path}: {sum(session.frames.values())} frames ({frames}), "
            f"{session.bytes_written:,} bytes",
            f"clients: {self.counters['http.exchanges']} REST exchanges, "
            f"{self.counters['ws.connections']} WebSocket and "
            f"{self.counters['sio.connections']} Socket.IO connections",
        ]
        summary = self.failures.summary()
        lines.append(summary or "no upstream failures")
        lines.extend(self.failures.report_lines())
        return "\n".join(lines)

    async def _control(self, request: web.Request) -> web.Response:
        """``GET /_harness/state``: what is being recorded. A recording proxy has no replay clock,
        violations or reset: any other control request is a 404 saying so."""
        if request.method == "GET" and request.path == f"{CONTROL_PATH}/state":
            return web.json_response(
                {
                    "recording": str(self.tape_path),
                    "upstreams": self.shown_upstreams,
                    "frames": dict(self.session.frames),
                    "counters": dict(self.counters),
                    "failures": self.failures.summary(),
                }
            )
        message = "a recording proxy answers only GET /_harness/state (no replay clock to advance or reset)"
        return web.json_response({"error": message}, status=404)

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> Self:
        if self._session is None:
            assert not isinstance(self._target, RecordingSession)
            label, gzip, validate, rules, key = self._session_options
            recorded = proxy_recorded(
                self.upstreams["rest"],
                self.upstreams["socketio"],
                self.upstreams["websocket"],
                label,
                self.upstreams["pumpportal"],
            )
            self._session = RecordingSession(
                Path(self._target), label, recorded, rules=rules, key=key, gzip=gzip, validate=validate
            )
        # A client that does not answer a close (a Socket.IO client told its transport is closed may
        # not) holds its handler: it gets half a second, as do exchanges still waiting upstream.
        try:
            listening = await listen(self.app, self.host, self.port, shutdown_timeout=0.5)
        except BaseException:
            if self._own_session:
                self._session.close()
            raise
        self._runner, self.host, self.port = listening.runner, listening.host, listening.port
        return self

    async def _shutdown(self, _app: web.Application) -> None:
        await self.ws.shutdown()
        await self.pumpportal.shutdown()
        await self.sio.shutdown()

    async def close(self) -> None:
        """Stop: open connections are closed (recorded as the client leaving), the tape finished."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._own_session and self._session is not None:
            self._session.close()
