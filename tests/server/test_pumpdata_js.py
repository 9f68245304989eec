"""The PumpData emulation with a real JavaScript client: socket.io-client from npm, run by node.

Needs ``node`` and ``npm ci --prefix tests/js`` (``.ci/run`` does it).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from typing import Any

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


class JsClient:
    """``pumpdata_client.js`` (the PumpData subscribe_ohlcv page's JavaScript tab) run by node against
    ``url``: it subscribes to ``pool`` with acks, then prints what it saw when told it is done."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, url: str, pool: str, transports: str = "websocket") -> JsClient:
        proc = await asyncio.create_subprocess_exec(
            _require_node(),
            str(JS / "pumpdata_client.js"),
            url,
            pool,
            transports,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=JS,
        )
        return cls(proc)

    async def line(self) -> Any:
        assert self.proc.stdout is not None
        return json.loads(await asyncio.wait_for(self.proc.stdout.readline(), 20))

    async def seen(self) -> Any:
        """What it saw so far (counts of events, the ``subscription_error`` payloads)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"seen\n")
        await self.proc.stdin.drain()
        return (await self.line())["seen"]

    async def saw(self, events: int, timeout: float = 10.0) -> None:
        """Wait until it has ``events`` ``trade`` and ``ohlcv`` events (they cross a process)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (seen := await self.seen())["trade"] + seen["ohlcv"] < events:
            assert loop.time() < deadline, f"the JavaScript client saw {seen}, not {events} events"
            await asyncio.sleep(0.01)

    async def done(self) -> Any:
        """What it saw (counts of events, the ``subscription_error`` payloads); it then exits."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"done\n")
        await self.proc.stdin.drain()
        last = await self.line()
        await asyncio.wait_for(self.proc.wait(), 20)
        assert self.proc.returncode == 0
        return last["done"]


async def test_socket_io_client_from_npm() -> None:
    async with MockServer([DEMO], manual=True, port=0) as server:
        pool = trade_pools(server)[0]
        js = await JsClient.start(server.urls["socketio"], pool)
        first = await js.line()
        assert first["subscribed"] is True
        assert first["ack"] == {"ok": True, "pool": pool, "room": f"ohlcv:{pool}"}
        assert first["bad"] == {
            "error": "not_found",
            "message": "pool NoSuchPool111 has neither live data nor candle history",
        }
        await server.advance(60)
        sent = server.state()["apis"]["pumpdata"]["counters"]["events_sent"]
        await js.saw(sent)
        done = await js.done()
    assert done["trade"] > 0 and done["ohlcv"] > 0 and done["trade"] + done["ohlcv"] == sent
    assert done["rows"] >= done["ohlcv"]
    assert done["subscription_error"] == [{"error": "invalid_request", "message": "mint or pool is required"}]


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
