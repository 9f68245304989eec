"""Record modes end to end: a MockServer on port 0 is the "live" upstream, real clients talk to the
deck, and what lands on disk is read back (docs/guides/record.md "Record modes")."""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets

from harness.core.frames import S2C, HttpExchange, TapeHeader, WsOpen, WsText
from harness.recorder.deck import TapeDeck
from harness.recorder.modes import Action, MissingTape, RecordMode, Upstreams
from harness.server.app import MockServer
from harness.server.config import ServerConfig
from harness.store import dump_tape, read_tape
from tests.helpers import ROOT

DEMO = ROOT / "fixtures" / "demo"
CONFIG = ServerConfig(port=0, manual=True)
SECRET = "pd_live_secret_123"


@pytest.fixture
async def upstream() -> AsyncIterator[MockServer]:
    async with MockServer([DEMO], manual=True, port=0) as server:
        yield server


def upstreams_of(server: MockServer) -> Upstreams:
    return Upstreams(rest=server.urls["rest"], sio=server.urls["socketio"], ws=server.urls["websocket"])


def rest_requests(server: MockServer) -> int:
    requests: int = server.state()["apis"]["pumpfun"]["requests"]
    return requests


def ws_clients(server: MockServer) -> int:
    return len(server.state()["apis"]["corto"]["clients"])


async def get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def subscribe(url: str, mode: str) -> list[dict[str, Any]]:
    """Connect, subscribe and return what came before and with the ack."""
    async with websockets.connect(url) as ws:
        seen = [json.loads(await ws.recv())]
        await ws.send(json.dumps({"type": "subscribe", "mode": mode}))
        seen.append(json.loads(await ws.recv()))
        return seen


async def test_once_records_a_missing_tape_then_replays_it_without_the_upstream(
    tmp_path: Path, upstream: MockServer
) -> None:
    tape = tmp_path / "tapes" / "feed.jsonl"
    async with TapeDeck([tape], "once", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        assert deck.action is Action.RECORD and not tape.exists()
        status, body = await get(deck.urls["rest"] + f"/sol-price?api_key={SECRET}")
        live = await subscribe(deck.urls["websocket"], "all")
    assert status == 200 and body == {"solPrice": 180.0}
    assert rest_requests(upstream) == 1
    assert deck.outcome() == f"recorded {tape} (7 frames)"
    assert sorted(p.name for p in tape.parent.iterdir()) == ["feed.jsonl"], "no scratch left behind"
    assert SECRET not in tape.read_text()
    assert stat.S_IMODE(tape.stat().st_mode) == 0o600, "created 0600, kept by the rename"
    _, frames = read_tape(tape)
    assert [type(f).__name__ for f in frames[:3]] == ["HttpExchange", "WsOpen", "WsText"]

    await upstream.close()  # replay must not need it
    for mode in ("once", "none"):
        async with TapeDeck([tape], mode, config=CONFIG) as deck:
            assert deck.action is Action.REPLAY
            assert await get(deck.urls["rest"] + "/sol-price") == (200, {"solPrice": 180.0})
            replayed = await subscribe(deck.urls["websocket"], "all")
            assert (
                [m["name"] for m in replayed]
                == [m["name"] for m in live]
                == ["handshake", "subscription_ack"]
            )


async def test_none_needs_the_tape_and_names_it(tmp_path: Path) -> None:
    with pytest.raises(MissingTape, match=str(tmp_path / "nope.jsonl")):
        async with TapeDeck([tmp_path / "nope.jsonl"], "none", config=CONFIG):
            pass
    with pytest.raises(ValueError, match="record mode once needs a tape path"):
        TapeDeck(None, "once")


async def _record_rest_and_corto(tmp_path: Path, upstream: MockServer) -> Path:
    tape = tmp_path / "feed.jsonl"
    async with TapeDeck([tape], "once", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        await get(deck.urls["rest"] + "/coins/latest")
        await subscribe(deck.urls["websocket"], "all")
    return tape


async def test_new_episodes_relays_and_records_only_what_the_tape_does_not_hold(
    tmp_path: Path, upstream: MockServer
) -> None:
    tape = await _record_rest_and_corto(tmp_path, upstream)
    recorded = tape.read_bytes()
    before = rest_requests(upstream)
    async with TapeDeck([tape], "new_episodes", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        assert deck.action is Action.EPISODES
        assert (await get(deck.urls["rest"] + "/coins/latest"))[0] == 200  # held: replayed
        assert rest_requests(upstream) == before
        assert await get(deck.urls["rest"] + "/sol-price") == (200, {"solPrice": 180.0})  # new: upstream
        assert rest_requests(upstream) == before + 1
        assert (await get(deck.urls["control"] + "/state"))[0] == 200  # control: always the replay
        async with aiohttp.ClientSession() as http, http.get(deck.urls["control"]) as bare:
            assert bare.status == 404 and "no control endpoint" in (await bare.json())["error"]
        held = await subscribe(deck.urls["websocket"], "all")
        new = await subscribe(deck.urls["websocket"], "mints")
        assert deck.router is not None
        assert deck.router.counts == {
            "rest replayed": 3,
            "rest episodes": 1,
            "ws replayed": 1,
            "ws episodes": 1,
        }
    # one handshake each (the upstream's greeting is recorded, not sent twice), then the ack
    assert [m["name"] for m in held] == [m["name"] for m in new] == ["handshake", "subscription_ack"]
    assert new[1]["state"]["effectiveFilter"]["mode"] == "mints"
    assert tape.read_bytes() == recorded, "the tape itself is never rewritten"
    (episode,) = (tmp_path / "feed.episodes").iterdir()
    assert deck.outcome() == f"new episodes recorded to {episode} (7 frames)"
    assert stat.S_IMODE(episode.stat().st_mode) == 0o600
    _, frames = read_tape(episode)
    assert [f.request.url for f in frames if isinstance(f, HttpExchange)] == ["/sol-price"]
    texts = [json.loads(f.data) for f in frames if isinstance(f, WsText)]
    assert [t.get("name", t.get("type")) for t in texts] == ["handshake", "subscribe", "subscription_ack"]
    assert sum(isinstance(f, WsOpen) for f in frames) == 1, "the replayed connection is not recorded"

    # next run: the episode is replayed with the tape, without the upstream
    await upstream.close()
    async with TapeDeck([tape], "none", config=CONFIG) as deck:
        assert deck.files == [tape, episode]
        assert await get(deck.urls["rest"] + "/sol-price") == (200, {"solPrice": 180.0})


async def test_new_episodes_answers_as_the_replay_and_the_live_service_do(
    tmp_path: Path, upstream: MockServer
) -> None:
    """The router passes answers on unchanged: a HEAD keeps its Content-Length (the body it stands
    for), headers keep their names and repeats, an ETag still gets its 304."""
    tape = await _record_rest_and_corto(tmp_path, upstream)
    async with (
        TapeDeck([tape], "new_episodes", config=CONFIG, upstreams=upstreams_of(upstream)) as deck,
        aiohttp.ClientSession() as http,
    ):
        for path in ("/coins/latest", "/sol-price"):  # replayed, then a new episode
            async with http.get(deck.urls["rest"] + path) as got:
                body, etag = await got.read(), got.headers["ETag"]
            async with http.head(deck.urls["rest"] + path) as head:
                assert head.status == 200 and head.headers["Content-Length"] == str(len(body)), path
            async with http.get(deck.urls["rest"] + path, headers={"If-None-Match": etag}) as again:
                assert again.status == 304 and await again.read() == b"", path
        assert deck.router is not None
        # the tape holds GET /coins/latest only: a HEAD of it is a new episode too
        assert deck.router.counts == {"rest replayed": 2, "rest episodes": 4}


async def test_new_episodes_with_nothing_new_leaves_no_episode_tape(
    tmp_path: Path, upstream: MockServer
) -> None:
    tape = await _record_rest_and_corto(tmp_path, upstream)
    async with TapeDeck([tape], "new_episodes", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        await get(deck.urls["rest"] + "/coins/latest")
    assert not (tmp_path / "feed.episodes").exists()
    assert deck.outcome() == f"nothing recorded for {tape}"


async def test_a_stream_episode_whose_upstream_is_down_closes_as_the_proxy_says(
    tmp_path: Path, upstream: MockServer
) -> None:
    tape = await _record_rest_and_corto(tmp_path, upstream)
    dead = Upstreams(rest="http://127.0.0.1:9", ws="ws://127.0.0.1:9/data-stream")
    async with TapeDeck([tape], "new_episodes", config=CONFIG, upstreams=dead) as deck:
        assert (await get(deck.urls["rest"] + "/coins/latest"))[0] == 200
        async with aiohttp.ClientSession() as http, http.get(deck.urls["rest"] + "/sol-price") as r:
            assert r.status == 502
        async with websockets.connect(deck.urls["websocket"]) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "subscribe", "mode": "trades"}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        assert ws_clients(upstream) == 0


async def test_all_replaces_the_tape_and_its_episodes_only_when_finished_cleanly(
    tmp_path: Path, upstream: MockServer
) -> None:
    tape = await _record_rest_and_corto(tmp_path, upstream)
    async with TapeDeck([tape], "new_episodes", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        await get(deck.urls["rest"] + "/sol-price")
    assert (tmp_path / "feed.episodes").is_dir()
    old = tape.read_bytes()

    deck = TapeDeck([tape], RecordMode.ALL, config=CONFIG, upstreams=upstreams_of(upstream))
    await deck.start()
    await get(deck.urls["rest"] + "/trades/latest")
    await deck.finish(clean=False)  # interrupted: the old tape stays
    assert tape.read_bytes() == old and deck.kept is not None and deck.kept.exists()
    assert "did not finish cleanly" in deck.outcome() and str(deck.kept) in deck.outcome()

    async with TapeDeck([tape], "all", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        await get(deck.urls["rest"] + "/trades/latest")
    _, frames = read_tape(tape)
    assert [f.request.url for f in frames if isinstance(f, HttpExchange)] == ["/trades/latest"]
    assert not (tmp_path / "feed.episodes").exists(), "episodes of the old recording are gone"


async def test_replay_of_several_tapes_and_the_demo(tmp_path: Path) -> None:
    async with TapeDeck(None, config=CONFIG) as deck:
        assert deck.describe() == "replaying the demo tapes"
        assert (await get(deck.urls["rest"] + "/sol-price"))[0] == 200
    with pytest.raises(ValueError, match="exactly one tape path"):
        TapeDeck([DEMO / "corto.jsonl", DEMO / "pumpfun.jsonl"], "all")


async def test_a_recording_that_replaces_a_tape_tells_the_drift_against_it(
    tmp_path: Path, upstream: MockServer
) -> None:
    # the old tape's handshake carries a key the live service no longer sends, and lacks a pool
    live = (await subscribe(upstream.urls["websocket"], "all"))[0]
    old = json.loads(json.dumps(live))
    old["state"]["retiredKey"] = 1
    old["state"]["availablePools"] = [p for p in old["state"]["availablePools"] if p != "pump.fun"]
    tape = tmp_path / "feed.jsonl"
    header = TapeHeader(created="2026-01-01T00:00:00Z", harness_version="0.1.0")
    dump_tape(tape, header, [WsOpen(0.0, "ws-1", "/data-stream"), WsText(0.1, "ws-1", S2C, json.dumps(old))])

    async with TapeDeck([tape], "all", config=CONFIG, upstreams=upstreams_of(upstream)) as deck:
        await subscribe(deck.urls["websocket"], "all")
    assert "key removed       state.retiredKey: in 100% of OLD, in no NEW message" in deck.drift
    assert "new value         state.availablePools[]: pump.fun" in deck.drift
    assert deck.outcome().startswith(f"recorded {tape} (")
    assert "contract drift from the replaced feed.jsonl to the new recording:" in deck.outcome()
