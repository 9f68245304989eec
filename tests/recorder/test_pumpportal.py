"""Recording PumpPortal's data WebSocket: ``harness record ws`` (direct capture, in a subprocess)
and the recording proxy's ``/api/data``, from a PumpPortal-like upstream (the harness's own
emulator serving a synthetic tape). The key in the URL never reaches the tape; the tape says it
is PumpPortal's, validates, and replays."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import websockets

from harness.core.frames import S2C, WsOpen, WsText
from harness.recorder.proxy import RecordingProxy
from harness.server.app import MockServer
from harness.store import dump_tape, read_tape
from harness.synth import generate
from harness.validation import validate_tape
from tests.recorder.running import record

SECRET = "pp-secret-key-7f3a"


def synthetic(tmp_path: Path) -> tuple[Path, list[str]]:
    """A synthetic PumpPortal tape and the mints whose trades it carries."""
    header, frames = generate(5, 60.0, ("pumpportal",))["pumpportal"]
    mints = {
        json.loads(f.data)["mint"]
        for f in frames
        if isinstance(f, WsText) and f.direction is S2C and '"traderPublicKey"' in f.data
    }
    return dump_tape(tmp_path / "upstream.jsonl", header, frames), sorted(mints)


async def test_record_ws_captures_a_pumpportal_upstream(tmp_path: Path) -> None:
    tape, mints = synthetic(tmp_path)
    async with MockServer([tape], manual=True, port=0) as upstream:
        recording = asyncio.create_task(
            record(
                "ws",
                f"{upstream.urls['pumpportal']}?api-key={SECRET}",
                "--send",
                '{"method":"subscribeNewToken"}',
                "--send",
                json.dumps({"method": "subscribeTokenTrade", "keys": mints[:2]}),
                "--duration",
                "5",
                "--out",
                str(tmp_path / "rec"),
            )
        )
        # once the recorder's subscriptions are in, the whole feed is delivered at once
        while not any(c["mints"] == 2 for c in upstream.state()["apis"]["pumpportal"]["clients"]):
            assert not recording.done(), recording.result()
            await asyncio.sleep(0.05)
        await upstream.advance(60)
        code, _, err = await recording
    assert code == 0, err
    (recorded,) = (tmp_path / "rec").iterdir()
    assert SECRET not in recorded.read_text()
    header, frames = read_tape(recorded)
    assert header.recorded.apis == ("pumpportal",)
    assert isinstance(frames[0], WsOpen) and "api-key=REDACTED-" in frames[0].url
    events = [json.loads(f.data) for f in frames if isinstance(f, WsText) and f.direction is S2C]
    # creates may come between the two acks: the feed runs from the first subscription
    assert events[0] == {"message": "Successfully subscribed to token creation events."}
    assert {"message": "Successfully subscribed to keys."} in events
    assert {e.get("txType") for e in events} == {None, "create", "buy", "sell"}
    assert {e["mint"] for e in events if e.get("txType") in ("buy", "sell")} <= set(mints[:2])
    assert list(validate_tape(recorded)) == []


async def test_the_recording_proxy_forwards_api_data(tmp_path: Path) -> None:
    tape, mints = synthetic(tmp_path)
    async with (
        MockServer([tape], manual=True, port=0) as upstream,
        RecordingProxy(tmp_path / "rec", pumpportal_upstream=upstream.urls["pumpportal"]) as proxy,
    ):
        assert proxy.urls["pumpportal"].endswith("/api/data")
        async with websockets.connect(f"{proxy.urls['pumpportal']}?api-key={SECRET}") as ws:
            await ws.send(json.dumps({"method": "subscribeTokenTrade", "keys": mints}))
            assert json.loads(await ws.recv()) == {"message": "Successfully subscribed to keys."}
            await upstream.advance(60)
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first["mint"] in mints
    header, frames = read_tape(proxy.tape_path)
    assert header.recorded.apis == ("pumpportal",)
    assert dict(header.recorded.upstreams) == {"pumpportal": upstream.urls["pumpportal"]}
    assert isinstance(frames[0], WsOpen) and frames[0].url.startswith("/api/data?api-key=REDACTED-")
    assert SECRET not in proxy.tape_path.read_text()
    assert list(validate_tape(proxy.tape_path)) == []
