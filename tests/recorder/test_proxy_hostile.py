"""``record proxy --validate`` takes any JSON value where a name is expected: a client's
``{"type": ["x"]}`` is relayed, recorded and reported as drift, and the connection goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import websockets

from harness.recorder.proxy import RecordingProxy
from harness.store import read_tape
from tests.recorder.upstreams import WsService


@pytest.mark.parametrize("bad", ['{"type":["x"]}', '{"type":{}}', '{"type":"service","name":[]}'])
async def test_a_name_of_the_wrong_json_type_is_drift_not_a_crash(tmp_path: Path, bad: str) -> None:
    async with (
        WsService() as service,
        RecordingProxy(tmp_path, ws_upstream=service.url, validate=True) as proxy,
    ):
        async with websockets.connect(proxy.urls["websocket"]) as ws:
            await ws.send(bad)
            await ws.send(json.dumps({"echo": {"still": "here"}}))
            assert json.loads(await ws.recv()) == {"still": "here"}
        drift = [str(v) for v in proxy.session.drift]
        path = proxy.tape_path
    assert service.received[0] == json.loads(bad)
    assert any("corto" in line and "family" in line for line in drift), drift
    assert len(read_tape(path)[1]) >= 4
