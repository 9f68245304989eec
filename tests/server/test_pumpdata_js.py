"""The PumpData emulation with a real JavaScript client: socket.io-client from npm, run by node.

Needs ``node`` and ``npm ci --prefix tests/js`` (``.ci/run`` does it).
"""

from __future__ import annotations

import asyncio
import json
import shutil

from harness.core.pumpdata.config import PumpdataConfig
from harness.server.app import MockServer
from tests.helpers import ROOT
from tests.server.test_pumpdata import DEMO, trade_pools

JS = ROOT / "tests" / "js"


def _require_node() -> str:
    node = shutil.which("node")
    assert node, "node is not installed: the JavaScript client test needs Node.js"
    assert (JS / "node_modules" / "socket.io-client").is_dir(), "run: npm ci --prefix tests/js"
    return node


async def test_socket_io_client_from_npm() -> None:
    node = _require_node()
    async with MockServer([DEMO], manual=True, port=0) as server:
        pool = trade_pools(server)[0]
        proc = await asyncio.create_subprocess_exec(
            node,
            str(JS / "pumpdata_client.js"),
            server.urls["socketio"],
            pool,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=JS,
        )
        assert proc.stdout is not None and proc.stdin is not None
        first = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
        assert first["subscribed"] is True
        assert first["ack"] == {"ok": True, "pool": pool, "room": f"ohlcv:{pool}"}
        assert first["bad"] == {
            "error": "not_found",
            "message": "pool NoSuchPool111 has neither live data nor candle history",
        }
        await server.advance(60)
        for _ in range(50):
            await asyncio.sleep(0.01)
        proc.stdin.write(b"done\n")
        await proc.stdin.drain()
        last = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
        await asyncio.wait_for(proc.wait(), 20)
    done = last["done"]
    assert done["trade"] > 0 and done["ohlcv"] > 0 and done["rows"] >= done["ohlcv"]
    assert done["subscription_error"] == [{"error": "invalid_request", "message": "mint or pool is required"}]
    assert proc.returncode == 0


async def test_socket_io_client_from_npm_is_told_why_its_connect_is_refused() -> None:
    node = _require_node()
    config = PumpdataConfig(require_api_key=True)
    async with MockServer([DEMO], manual=True, port=0, pumpdata=config) as server:
        seen = []
        for auth in ({}, {"api_key": ""}, {"api_key": "pd_js"}):
            proc = await asyncio.create_subprocess_exec(
                node,
                str(JS / "pumpdata_refused.js"),
                server.urls["socketio"],
                json.dumps(auth),
                stdout=asyncio.subprocess.PIPE,
                cwd=JS,
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 20)
            seen.append(json.loads(out))
    assert seen == [
        {"connect_error": 'api_key is required: connect with auth {"api_key": "pd_..."}'},
        {"connect_error": 'api_key must be a non-empty string: connect with auth {"api_key": "pd_..."}'},
        {"connected": True},
    ]
