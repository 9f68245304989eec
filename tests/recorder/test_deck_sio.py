"""Record modes for PumpData (Socket.IO): a MockServer on port 0 is the "live" upstream, real
python-socketio and socket.io-client sockets talk to the deck over every Engine.IO transport, and
what lands on disk is read back (docs/guides/record.md "Record modes")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from harness.core.frames import SioAck, SioConnect, SioEvent
from harness.core.pumpdata.config import PumpdataConfig
from harness.recorder.deck import TapeDeck
from harness.recorder.modes import Action, Upstreams
from harness.server.app import MockServer
from harness.server.config import ServerConfig
from harness.store import read_tape
from tests.credentials import API_KEY
from tests.helpers import until
from tests.recorder.test_deck import CONFIG, DEMO, upstreams_of
from tests.recorder.upstreams import free_port
from tests.server.test_pumpdata import trade_pools

TRANSPORTS = [["websocket"], ["polling", "websocket"]]
"""Long-polling alone is the JavaScript client's test: python-socketio's polling client waits out a
ping interval (25 s) to disconnect, from any server."""


@pytest.fixture
async def upstream() -> AsyncIterator[MockServer]:
    async with MockServer([DEMO], manual=True, port=0) as server:
        yield server


def live_rooms(server: MockServer) -> list[list[str]]:
    """The rooms of each PumpData client of ``server`` (a socket per client)."""
    return sorted(server.state()["apis"]["pumpdata"]["clients"].values())


class Client:
    """A python-socketio client that keeps the events and the disconnect reason it gets."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.disconnects: list[str] = []
        self.sio.on("*", lambda name, *args: self.events.append((name, args[0] if args else None)))
        self.sio.on("disconnect", self.disconnects.append)

    async def connect(self, url: str, transports: list[str], auth: Any = None) -> Client:
        auth = {"api_key": API_KEY} if auth is None else auth
        await self.sio.connect(url, auth=auth, transports=transports, wait_timeout=5)
        return self

    def got(self, name: str) -> list[Any]:
        return [payload for event, payload in self.events if event == name]

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


def events_sent(server: MockServer) -> int:
    sent: int = server.state()["apis"]["pumpdata"]["counters"].get("events_sent", 0)
    return sent


async def advance(clock: MockServer, client: Client) -> None:
    """Let ``clock`` run a minute; return once ``client`` has every event it sent meanwhile."""
    before, seen = events_sent(clock), len(client.events)
    await clock.advance(60)
    sent = events_sent(clock) - before
    assert sent > 0
    await until(lambda: len(client.events) - seen == sent)


async def trades_of(client: Client, clock: MockServer, pool: str) -> list[Any]:
    """Subscribe to ``pool``'s trades, let ``clock`` run a minute, and return the trades seen."""
    ack = await client.sio.call("subscribe_trades", {"pool": pool}, timeout=5)
    assert ack == {"ok": True, "pool": pool, "room": f"trades:{pool}"}
    await advance(clock, client)
    return client.got("trade")


async def _record(tmp_path: Path, upstream: MockServer, pool: str) -> tuple[Path, list[Any]]:
    tape = tmp_path / "feed.jsonl"
    async with TapeDeck([tape], "once", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        assert deck.action is Action.RECORD
        client = await Client().connect(deck.urls["socketio"], ["websocket"])
        trades = await trades_of(client, upstream, pool)
        await client.close()
    return tape, trades


async def test_once_records_pumpdata_and_the_next_run_replays_it(
    tmp_path: Path, upstream: MockServer
) -> None:
    pool = trade_pools(upstream)[0]
    tape, live = await _record(tmp_path, upstream, pool)
    assert live and all(t["pool"] == pool for t in live)
    header, frames = read_tape(tape)
    assert "pumpdata" in header.recorded.apis
    assert dict(header.recorded.upstreams)["socketio"] == upstream.urls["socketio"]
    connect = next(f for f in frames if isinstance(f, SioConnect))
    assert connect.auth["api_key"].startswith("REDACTED-"), "the key went upstream, never to disk"
    assert sum(isinstance(f, SioEvent) and f.name == "trade" for f in frames) == len(live)

    await upstream.close()  # the replay needs no upstream
    async with TapeDeck([tape], "none", config=CONFIG) as deck:
        assert deck.server is not None
        client = await Client().connect(deck.urls["socketio"], ["polling", "websocket"])
        assert await trades_of(client, deck.server, pool) == live
        await client.close()


async def test_all_records_pumpdata_anew(tmp_path: Path, upstream: MockServer) -> None:
    first, second = trade_pools(upstream)[:2]
    tape, _ = await _record(tmp_path, upstream, first)
    async with TapeDeck([tape], "all", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        client = await Client().connect(deck.urls["socketio"], ["polling", "websocket"])
        await trades_of(client, upstream, second)
        await client.close()
    _, frames = read_tape(tape)
    pools = {f.args[0]["pool"] for f in frames if isinstance(f, SioEvent) and f.name == "subscribe_trades"}
    assert pools == {second}


@pytest.mark.parametrize("transports", TRANSPORTS, ids="+".join)
async def test_new_episodes_moves_a_socket_at_its_first_new_subscription(
    tmp_path: Path, upstream: MockServer, transports: list[str]
) -> None:
    held, new = trade_pools(upstream)[:2]
    tape, recorded = await _record(tmp_path, upstream, held)
    before = tape.read_bytes()
    async with TapeDeck([tape], "new_episodes", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        assert deck.server is not None and deck.router is not None
        replayed = await Client().connect(deck.urls["socketio"], transports)
        assert await trades_of(replayed, deck.server, held) == recorded
        assert live_rooms(upstream) == [], "a subscription the tape holds never goes upstream"

        moved = await Client().connect(deck.urls["socketio"], transports)
        # not a subscription: answered by the replay (which knows only the tape's pools), ack id 1
        assert (await moved.sio.call("unsubscribe_trades", {"pool": new}, timeout=5))["error"] == "not_found"
        assert live_rooms(upstream) == []
        # the proxy's own client asks with ack id 1 again: the answer comes back under the client's 2
        assert await moved.sio.call("subscribe_trades", {"pool": new}, timeout=5) == {
            "ok": True,
            "pool": new,
            "room": f"trades:{new}",
        }
        assert live_rooms(upstream) == [[f"trades:{new}"]]
        await advance(upstream, moved)
        assert {t["pool"] for t in moved.got("trade")} == {new}
        assert await moved.sio.call("ohlcv_history", {"pool": "NoSuchPool111"}, timeout=5) == {
            "error": "not_found",
            "message": "pool NoSuchPool111 has neither live data nor candle history",
        }
        await moved.close()
        await replayed.close()
        await until(lambda: live_rooms(upstream) == [])
        assert deck.router.counts["sio replayed"] == 1 and deck.router.counts["sio episodes"] == 1
    assert tape.read_bytes() == before, "the tape itself is never rewritten"
    (episode,) = (tmp_path / "feed.episodes").iterdir()
    _, frames = read_tape(episode)
    emits = [
        (f.name, f.args, f.ack_id) for f in frames if isinstance(f, SioEvent) and f.direction.value == "c2s"
    ]
    assert emits == [
        ("subscribe_trades", ({"pool": new},), 1),
        ("ohlcv_history", ({"pool": "NoSuchPool111"},), 2),
    ], "the episode starts at the emit that moved it"
    assert [f.ack_id for f in frames if isinstance(f, SioAck)] == [1, 2]
    assert sum(isinstance(f, SioEvent) and f.name == "trade" for f in frames) == len(moved.got("trade"))

    # the next run replays the episode with the tape: its subscription is held now
    await upstream.close()
    async with TapeDeck([tape], "new_episodes", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        assert deck.server is not None and deck.router is not None
        client = await Client().connect(deck.urls["socketio"], transports)
        assert {t["pool"] for t in await trades_of(client, deck.server, new)} == {new}
        await client.close()
        assert deck.router.counts == {"sio replayed": 1}
    assert len(list((tmp_path / "feed.episodes").iterdir())) == 1, "nothing new, no episode"


@pytest.mark.parametrize(
    ("upstream_kind", "auth"),
    [("down", {"api_key": API_KEY}), ("refusing", {})],
)
async def test_a_pumpdata_episode_the_proxy_cannot_open_is_a_server_disconnect(
    tmp_path: Path, upstream: MockServer, upstream_kind: str, auth: dict[str, str]
) -> None:
    pool = trade_pools(upstream)[0]
    tape, _ = await _record(tmp_path, upstream, pool)
    strict = MockServer(
        [DEMO], config=ServerConfig(manual=True, port=0, pumpdata=PumpdataConfig(require_api_key=True))
    )
    async with strict:
        sio = f"http://127.0.0.1:{free_port()}" if upstream_kind == "down" else strict.urls["socketio"]
        upstreams = Upstreams(rest=upstream.urls["rest"], sio=sio, ws=upstream.urls["websocket"])
        async with TapeDeck([tape], "new_episodes", config=CONFIG, upstreams=upstreams) as deck:
            assert deck.router is not None and deck.proxy is not None
            client = await Client().connect(deck.urls["socketio"], ["polling", "websocket"], auth=auth)
            await client.sio.emit("subscribe_ohlcv", {"pool": pool}, callback=lambda *a: None)
            await until(lambda: client.disconnects)
            assert client.disconnects == ["server disconnect"], "as PumpData ends a socket it will not serve"
            assert deck.router.counts["sio episodes refused"] == 1
            # the deck goes on: a subscription the tape holds is still replayed
            other = await Client().connect(deck.urls["socketio"], ["websocket"], auth=auth)
            assert (await other.sio.call("subscribe_trades", {"pool": pool}, timeout=5))["ok"] is True
            await other.close()
            report = deck.proxy.report()
    if upstream_kind == "down":
        assert "1 upstream failure (refused 1)" in report
    else:
        assert "no upstream failures" in report


@pytest.mark.parametrize("transports", ["polling", "polling,websocket", "websocket"])
async def test_a_javascript_client_moves_to_the_live_service_with_its_acks(
    tmp_path: Path, upstream: MockServer, transports: str
) -> None:
    """socket.io-client from npm (the PumpData subscribe_ohlcv page's JavaScript tab) through new_episodes, on
    each transport: every ack it asked for reaches its callback, and the error it did not ask an ack
    for comes as ``subscription_error``, from the live service."""
    from tests.server.test_pumpdata_js import JsClient

    held, new = trade_pools(upstream)[:2]
    tape, _ = await _record(tmp_path, upstream, held)
    async with TapeDeck([tape], "new_episodes", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        assert deck.router is not None
        js = await JsClient.start(deck.urls["socketio"], new, transports)
        first = await js.line()
        assert live_rooms(upstream) == [[f"ohlcv:{new}", f"trades:{new}"]]
        sent = lambda: upstream.state()["apis"]["pumpdata"]["counters"].get("events_sent", 0)  # noqa: E731
        before = sent()  # (to the client that recorded the tape)
        await upstream.advance(60)
        await js.saw(sent() - before)  # every event the live service sent it
        done = await js.done()
        assert deck.router.counts["sio episodes"] == 1
    assert first["ack"] == {"ok": True, "pool": new, "room": f"ohlcv:{new}"}
    assert first["ack2"] == {"ok": True, "pool": new, "room": f"trades:{new}"}
    assert first["bad"]["error"] == "not_found"
    assert done["trade"] > 0
    assert done["subscription_error"] == [{"error": "invalid_request", "message": "mint or pool is required"}]
    (episode,) = (tmp_path / "feed.episodes").iterdir()
    _, frames = read_tape(episode)
    connect = next(f for f in frames if isinstance(f, SioConnect))
    assert connect.auth["api_key"].startswith("REDACTED-")
