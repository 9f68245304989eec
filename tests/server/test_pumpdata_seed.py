"""The PumpData subscribe_ohlcv page's own examples, Python and JavaScript, run unchanged but for the URL, the
key and the pool (the page's placeholders), against the PumpData emulation.

The page lost the Python example's indentation: :data:`PYTHON_EXAMPLE` restores it, and a test
checks that it is the page's code line for line. The JavaScript example runs as printed. Each runs
in its own process, as a user would run it, prints candles until the server disconnects it, and
then ends on its own.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from harness.server.app import MockServer
from tests.helpers import ROOT, SEEDS
from tests.server.pumpdata_tape import DEMO
from tests.server.test_pumpdata import Recorder, caught_up, sent, trade_pools

PYTHON_EXAMPLE = """\
import socketio
from datetime import datetime
sio = socketio.Client()
@sio.on("ohlcv")
def on_ohlcv(rows):
    for t, o, h, l, c, v in rows:
        print(datetime.fromtimestamp(t / 1000), f"o={o} h={h} l={l} c={c} v={v}")
sio.connect("https://api.pumpdata.fun", auth={"api_key": "pd_xxxxxxxx…"})
sio.emit("subscribe_ohlcv", {"pool": "4mBL…"})
sio.wait()
# later, to stop (free): sio.emit("unsubscribe_ohlcv", {"pool": "4mBL…"})
"""
PLACEHOLDERS = ("https://api.pumpdata.fun", "pd_xxxxxxxx…", "4mBL…")


def seed_example(first: str, last: str) -> list[str]:
    """The seed page's lines from the one equal to ``first`` to the one starting with ``last``."""
    lines = (SEEDS / "003_e7db900a1bcc193d.txt").read_text().splitlines()
    start = lines.index(first)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(last))
    return lines[start : end + 1]


def filled(code: str, *values: str) -> str:
    for placeholder, value in zip(PLACEHOLDERS, values, strict=True):
        assert placeholder in code
        code = code.replace(placeholder, value)
    return code


def test_the_python_example_is_the_seed_page_s_code() -> None:
    page = seed_example("import socketio", "# later")
    assert [line.lstrip() for line in PYTHON_EXAMPLE.splitlines()] == page


async def run_example(server: MockServer, argv: list[str], cwd: str) -> tuple[list[str], list[list[Any]]]:
    """Run an example in its own process next to a python-socketio client subscribed to the same
    pool; returns what the example printed and the candles the other client got."""
    pool = trade_pools(server)[0]
    async with Recorder(server) as witness:
        await witness.client.call("subscribe_ohlcv", {"pool": pool})
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd
        )
        try:
            for _ in range(2000):  # until the example has subscribed
                if sum(bool(r) for r in server.state()["apis"]["pumpdata"]["clients"].values()) == 2:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the example never subscribed")
            assert proc.stdout is not None
            rows: list[list[Any]] = []
            lines: list[str] = []
            for _ in range(30):  # at the service's pace: the Python client handles events in threads
                await server.advance(1)
                await caught_up(server, witness, extra=-sent(server) // 2)  # the example has as many
                rows = [row for emission in witness.of("ohlcv") for row in emission]
                while len(lines) < len(rows):
                    lines.append((await asyncio.wait_for(proc.stdout.readline(), 20)).decode())
            await server.reset()  # disconnects every client: the example's wait ends
            _, err = await asyncio.wait_for(proc.communicate(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, err.decode()
    return lines, rows


async def test_the_seed_s_python_example_runs_unchanged_but_for_url_key_and_pool() -> None:
    async with MockServer([DEMO], manual=True, port=0) as server:
        code = filled(PYTHON_EXAMPLE, server.urls["socketio"], "pd_test_key", trade_pools(server)[0])
        lines, rows = await run_example(server, [sys.executable, "-u", "-c", code], str(ROOT))
    assert len(rows) > 10
    assert lines == [
        f"{datetime.fromtimestamp(t / 1000)} o={o} h={h} l={lo} c={c} v={v}\n" for t, o, h, lo, c, v in rows
    ]


async def test_the_seed_s_javascript_example_runs_unchanged_but_for_url_key_and_pool() -> None:
    node = shutil.which("node")
    js = ROOT / "tests" / "js"
    assert node and (js / "node_modules" / "socket.io-client").is_dir(), (
        "needs node and: npm ci --prefix tests/js"
    )
    code = "\n".join(seed_example('import { io } from "socket.io-client";', "// later"))
    async with MockServer([DEMO], manual=True, port=0) as server:
        filled_code = filled(code, server.urls["socketio"], "pd_test_key", trade_pools(server)[0])
        lines, rows = await run_example(server, [node, "--input-type=module", "-e", filled_code], str(js))
    assert len(rows) > 10
    # console.log(new Date(t), ...) prints the date in ISO form and numbers as JavaScript does
    assert lines == [
        f"{_iso(t)} o={_js(o)} h={_js(h)} l={_js(lo)} c={_js(c)} v={_js(v)}\n" for t, o, h, lo, c, v in rows
    ]


def _iso(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t_ms % 1000:03d}Z"


def _js(x: float) -> str:
    """``String(x)`` in JavaScript (ECMAScript Number::toString: the shortest digits, as Python's
    repr finds them, written in decimal from 1e-7 to 1e21 and in exponent form outside)."""
    sign, digits_tuple, exponent = Decimal(repr(float(x))).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digits_tuple))
    k, n = len(digits), len(digits) + exponent
    text = (
        digits + "0" * (n - k)
        if k <= n <= 21
        else digits[:n] + "." + digits[n:]
        if 0 < n <= 21
        else "0." + "0" * -n + digits
        if -6 < n <= 0
        else digits[0] + ("." + digits[1:] if k > 1 else "") + f"e{n - 1:+d}"
    )
    return ("-" if sign else "") + text
