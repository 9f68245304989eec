"""``TapeDeck``: a tape played or recorded in a record mode, behind one set of URLs.

Owns what runs for each :class:`~harness.recorder.modes.Action` and what happens to the files when
it stops: replay is a :class:`~harness.MockServer`; record is the recording proxy writing a
scratch tape that becomes the tape when the recording finishes cleanly (replacing an older tape,
it tells the contract drift between the two, as ``harness diff`` does); new episodes are a
MockServer and a recording proxy behind the :class:`~harness.recorder.episodes.EpisodeRouter`.
``harness serve --record-mode`` and the pytest plugin both use it::

    async with TapeDeck([Path("tapes/feed.jsonl")], RecordMode.ONCE, config=ServerConfig(port=0)) as deck:
        deck.urls["rest"]           # replaying, or recording through the proxy
    # finished: a new recording is now tapes/feed.jsonl
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Self

from aiohttp import web

from harness.core.episodes import EpisodeIndex
from harness.core.redact import RedactionRules, shown
from harness.recorder.episodes import EpisodeRouter
from harness.recorder.modes import (
    Action,
    RecordMode,
    Upstreams,
    check_recordable,
    episodes_dir,
    plan,
    tape_files,
)
from harness.recorder.proxy import RecordingProxy, proxy_recorded
from harness.recorder.session import RecordingSession
from harness.server.app import MockServer
from harness.server.config import ServerConfig
from harness.server.connections import ConnectionGuard
from harness.server.listening import Served, listen, service_urls
from harness.store.tapes import TAPE_SUFFIXES

DRIFT_LINES = 30
"""Changes listed when a recording replaces a tape (``harness diff`` shows them all)."""
ROUTER_SHUTDOWN = 0.5
"""Seconds the ``new_episodes`` router gives its open connections when it stops (as the proxy)."""


class TapeDeck(Served):
    """See the module docstring. ``tapes`` empty or None: the demo tapes (replay only)."""

    def __init__(
        self,
        tapes: Sequence[Path | str] | None,
        mode: RecordMode | str = RecordMode.NONE,
        *,
        config: ServerConfig | None = None,
        upstreams: Upstreams | None = None,
        redaction: RedactionRules | None = None,
    ) -> None:
        self.mode = RecordMode(mode)
        self.tapes = [Path(t) for t in tapes or ()]
        self.config = config or ServerConfig()
        self.upstreams = upstreams or Upstreams()
        self.redaction = redaction
        if not self.tapes:
            if self.mode is not RecordMode.NONE:
                raise ValueError(f"record mode {self.mode} needs a tape path to record into")
            self.action = Action.REPLAY
        else:
            self.action = plan(self.mode, all(t.exists() for t in self.tapes))
        self.target = check_recordable(self.tapes) if self.action is not Action.REPLAY else None
        self.files: list[Path] = []
        """The tape files replayed (a tape and its episodes)."""
        self.server: MockServer | None = None
        self.session: RecordingSession | None = None
        self.router: EpisodeRouter | None = None
        self.urls: dict[str, str] = {}
        self.recorded: Path | None = None
        """After :meth:`finish`: the tape (or episode tape) this run wrote, if it wrote one."""
        self.kept: Path | None = None
        """After an unclean finish: the partial recording, left where it was written."""
        self.frames = 0
        """After :meth:`finish`: how many frames this run recorded."""
        self.drift = ""
        """After :meth:`finish` of a recording that replaced a tape: the contract drift from the
        old tape to the new one (``harness diff``'s text), or why it could not be told."""
        self.proxy: RecordingProxy | None = None
        self._router: web.AppRunner | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> Self:
        try:
            if self.action is Action.RECORD:
                await self._start_recording()
            else:
                await self._start_replay()
        except BaseException:
            await self.finish(clean=False)
            raise
        return self

    async def _start_replay(self) -> None:
        self.files = tape_files(self.tapes) if self.tapes else []
        if self.action is Action.REPLAY:
            self.server = MockServer(self.files or None, config=self.config)
            await self.server.start()
            self.urls = self.server.urls
            return
        assert self.target is not None
        # the router forwards control calls with their Host: the replay answers the router's names
        hosts = (*self.config.control_hosts, self.config.host)
        replay = replace(self.config, host="127.0.0.1", port=0, control_hosts=hosts)
        self.server = MockServer(self.files, config=replay)
        await self.server.start()
        loaded = self.server.tapes
        index = EpisodeIndex.of(loaded.http, loaded.ws, loaded.sio)
        proxy = await self._start_proxy(episodes_dir(self.target), "episode", "127.0.0.1", 0)
        self.router = EpisodeRouter(index, replay=self.server.urls, recorder=proxy.urls)
        guard = ConnectionGuard(
            head_timeout=self.config.head_timeout, max_connections=self.config.connection_cap
        )
        listening = await listen(
            self.router.app, self.config.host, self.config.port, shutdown_timeout=ROUTER_SHUTDOWN, guard=guard
        )
        self._router = listening.runner
        self.urls = service_urls(listening.host, listening.port, control=True)

    async def _start_recording(self) -> None:
        assert self.target is not None
        scratch = self.target.with_name(f".{self.target.name}.recording")
        label = self.target.name.removesuffix(".gz").removesuffix(".jsonl")
        proxy = await self._start_proxy(scratch, label, self.config.host, self.config.port)
        self.urls = proxy.urls

    async def _start_proxy(self, out_dir: Path, label: str, host: str, port: int) -> RecordingProxy:
        """The recording proxy to the three upstreams, writing a new tape in ``out_dir``."""
        up = self.upstreams
        recorded = replace(proxy_recorded(up.rest, up.sio, up.ws, label), source=f"record-mode {self.mode}")
        assert self.target is not None
        self.session = RecordingSession(
            out_dir, label, recorded, rules=self.redaction, gzip=self.target.name.endswith(".gz")
        )
        self.proxy = RecordingProxy(
            self.session, rest_upstream=up.rest, sio_upstream=up.sio, ws_upstream=up.ws, host=host, port=port
        )
        return await self.proxy.start()

    async def finish(self, *, clean: bool = True) -> None:
        """Stop serving and settle the files: a clean recording becomes the tape (module docstring);
        an unclean one is left where it was written (:attr:`kept`). Idempotent."""
        router, self._router = self._router, None
        if router is not None:
            await router.cleanup()
        proxy, self.proxy = self.proxy, None
        if proxy is not None:
            await proxy.close()
        if self.server is not None:
            await self.server.close()
        session, self.session = self.session, None
        if session is None:
            return
        session.close()
        self.frames = sum(session.frames.values())
        if not session.frames and self.action is Action.EPISODES:
            session.path.unlink(missing_ok=True)  # nothing new: no empty episode tape
            with contextlib.suppress(OSError):
                session.path.parent.rmdir()
            return
        if self.action is Action.EPISODES or not clean:
            self.recorded = session.path if self.action is Action.EPISODES else None
            self.kept = None if self.action is Action.EPISODES else session.path
            return
        assert self.target is not None
        if self.target.exists():
            self.drift = _drift(self.target, session.path)
        os.replace(session.path, self.target)
        self.recorded = self.target
        with contextlib.suppress(OSError):
            session.path.parent.rmdir()
        old = episodes_dir(self.target)
        if old.is_dir():
            # the tape was recorded anew: its old episodes would mix old traffic into the replay
            for episode in old.iterdir():
                if episode.name.endswith(TAPE_SUFFIXES):
                    episode.unlink()
            with contextlib.suppress(OSError):
                old.rmdir()

    async def close(self) -> None:
        await self.finish(clean=True)

    async def _exit(self, *, clean: bool) -> None:
        await self.finish(clean=clean)  # a block that raised: the recording did not finish

    # --- reporting -----------------------------------------------------------------------------

    def describe(self) -> str:
        """One line: what this deck does (for ``harness serve`` and the pytest summary)."""
        if self.action is Action.REPLAY:
            files = ", ".join(str(p) for p in self.files) if self.files else "the demo tapes"
            return f"replaying {files}"
        up = self.upstreams
        upstreams = f"{shown(up.rest)}, {shown(up.sio)} and {shown(up.ws)}"
        if self.action is Action.RECORD:
            return f"recording {self.target} from {upstreams}"
        return (
            f"replaying {self.target}, new episodes from {upstreams}"
            f" recorded to {episodes_dir(self.target) if self.target else ''}/"
        )

    def outcome(self) -> str:
        """One line after :meth:`finish`: which tape was written, or kept."""
        if self.kept is not None:
            return (
                f"the recording did not finish cleanly: {self.target} left as it was,"
                f" the partial recording kept at {self.kept}"
            )
        if self.recorded is None:
            return "" if self.action is Action.REPLAY else f"nothing recorded for {self.target}"
        what = "new episodes recorded to" if self.action is Action.EPISODES else "recorded"
        line = f"{what} {self.recorded} ({self.frames} frames)"
        return f"{line}\n{self.drift}" if self.drift else line


def _drift(old: Path, new: Path) -> str:
    """The contract drift from the tape a recording replaces to the recording, as text."""
    from harness.core.drift import compare, describe
    from harness.store import TapeError
    from harness.validation.drift import tape_profile

    try:
        before, after = tape_profile(old), tape_profile(new)
    except (TapeError, OSError) as exc:
        return f"contract drift against the replaced tape not told: {exc}"
    changes = compare(before, after)
    return describe(
        changes, before, after, f"from the replaced {old.name} to the new recording", limit=DRIFT_LINES
    )
