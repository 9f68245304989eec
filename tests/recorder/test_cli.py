"""``harness record`` as a user runs it, in real subprocesses: live progress on a terminal (frames
per protocol, bytes, elapsed), Ctrl-C finishing the tape cleanly, a killed recorder leaving a
readable tape, ``--validate`` reporting drift at the end, and the proxy's end report."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import signal
from pathlib import Path

import requests
import socketio
import websockets

from harness.core.frames import HttpExchange, SioDisconnect, SioEvent, WsClose, WsText
from harness.server.app import MockServer
from harness.store import TapeReader, dump_tape
from tests.credentials import API_KEY, BEARER
from tests.helpers import ROOT, header
from tests.recorder.running import drain, start, start_proxy

DEMO = ROOT / "fixtures" / "demo"


class Terminal:
    """A pseudo-terminal for a child's stderr, read as the child writes."""

    def __init__(self) -> None:
        self.controller, self.terminal = pty.openpty()
        self.shown = b""

    def read(self) -> bytes:
        os.set_blocking(self.controller, False)
        try:
            while chunk := os.read(self.controller, 65536):
                self.shown += chunk
        except (BlockingIOError, OSError):
            pass
        return self.shown

    def close(self) -> None:
        self.read()
        os.close(self.controller)


async def test_proxy_progress_on_a_terminal_and_ctrl_c_finishes_the_tape(tmp_path: Path) -> None:
    out, term = tmp_path / "rec", Terminal()
    async with MockServer([DEMO], speed=20, port=0) as upstream:
        proc, urls = await start_proxy(
            tmp_path,
            "--rest-upstream",
            upstream.urls["rest"],
            "--sio-upstream",
            upstream.urls["socketio"],
            "--ws-upstream",
            upstream.urls["websocket"],
            stderr=term.terminal,
        )
        try:
            sio = socketio.AsyncClient(reconnection=False)
            await sio.connect(urls["socketio"], auth={"api_key": API_KEY}, transports=["websocket"])
            await sio.call("subscribe_sol_price")
            async with websockets.connect(urls["websocket"]) as ws:
                await ws.send('{"type":"subscribe","mode":"all"}')
                reader = asyncio.create_task(drain(ws))
                answer = await asyncio.to_thread(
                    requests.get, urls["rest"] + "/sol-price", headers={"Authorization": f"Bearer {BEARER}"}
                )
                assert answer.status_code == 200
                for _ in range(100):  # the progress line redraws five times a second
                    if b"http 1" in term.read() and b"ws " in term.shown and b"sio " in term.shown:
                        break
                    await asyncio.sleep(0.05)
                proc.send_signal(signal.SIGINT)  # Ctrl-C with clients still connected
                stdout, _ = await asyncio.wait_for(proc.communicate(), 30)
                assert len(await reader) > 0 and ws.close_code == 1001, "the proxy said it was going away"
            assert not sio.connected, "the proxy disconnected its Socket.IO client as it stopped"
        finally:
            if proc.returncode is None:
                proc.kill()
            term.close()
    assert proc.returncode == 0
    shown = term.shown.decode()
    assert "recording" in shown and " frames" in shown and "bytes" in shown
    assert "http 1" in shown and "sio " in shown and "ws " in shown
    assert "s  " in shown, "elapsed seconds"
    report = stdout.decode()
    assert "harness record proxy: recording to" in report and upstream.urls["rest"] in report
    assert "frames (http 1, sio " in report and "1 REST exchanges, 1 WebSocket and 1 Socket.IO" in report
    assert "no upstream failures" in report
    (tape,) = out.iterdir()
    assert str(tape) in report
    with TapeReader(tape) as reader:
        frames = list(reader)
        assert reader.problems == [], "Ctrl-C leaves no torn line"
    assert any(isinstance(f, HttpExchange) for f in frames)
    ws_close = [f for f in frames if isinstance(f, WsClose)]
    assert [(c.direction.value, c.code, c.reason) for c in ws_close] == [("c2s", 1001, "recording stopped")]
    sio_end = [f for f in frames if isinstance(f, SioDisconnect)]
    assert [(d.direction.value, d.reason) for d in sio_end] == [("c2s", "client disconnect")]


async def test_a_killed_proxy_leaves_a_readable_gzip_tape(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    async with MockServer([DEMO], speed=50, port=0) as upstream:
        proc, urls = await start_proxy(tmp_path, "--ws-upstream", upstream.urls["websocket"], "--gzip")
        async with websockets.connect(urls["websocket"]) as ws:
            await ws.send('{"type":"subscribe","mode":"all"}')
            received = [await ws.recv() for _ in range(60)]
            proc.kill()  # SIGKILL in the middle of the stream
            await proc.wait()
    (tape,) = out.iterdir()
    assert tape.name.endswith(".jsonl.gz")
    with TapeReader(tape) as reader:
        frames = list(reader)
        assert len(reader.problems) <= 1, "at most the last line is torn"
    texts = [f.data for f in frames if isinstance(f, WsText) and f.direction.value == "s2c"]
    assert texts[:60] == received, "everything the client got before the kill is on the tape"


async def test_direct_capture_progress_and_ctrl_c(tmp_path: Path) -> None:
    term = Terminal()
    async with MockServer([DEMO], speed=20, port=0) as upstream:
        proc = await start(
            "sio",
            upstream.urls["socketio"],
            "--auth",
            API_KEY,
            "--emit",
            "subscribe_sol_price",
            "--duration",
            "60",
            "--out",
            str(tmp_path / "sio"),
            stderr=term.terminal,
        )
        try:
            for _ in range(300):
                if max(map(int, re.findall(rb"sio (\d+)", term.read())), default=0) >= 3:
                    break
                await asyncio.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            stdout, _ = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
            term.close()
    assert proc.returncode == 0
    shown = term.shown.decode()
    assert "recording [" in shown and "% " in shown and "sio " in shown and "bytes" in shown
    (tape,) = (tmp_path / "sio").iterdir()
    assert str(tape) in stdout.decode()
    with TapeReader(tape) as reader:
        frames = list(reader)
        assert reader.problems == []
    assert isinstance(frames[-1], SioDisconnect) and frames[-1].reason == "client disconnect"
    assert any(isinstance(f, SioEvent) and f.name == "sol_price" for f in frames)


async def test_a_killed_ws_capture_leaves_a_readable_tape(tmp_path: Path) -> None:
    async with MockServer([DEMO], speed=50, port=0) as upstream:
        proc = await start(
            "ws",
            upstream.urls["websocket"],
            "--send",
            '{"type":"subscribe","mode":"all"}',
            "--duration",
            "60",
            "--out",
            str(tmp_path / "ws"),
        )
        for _ in range(500):
            tapes = list((tmp_path / "ws").glob("*.jsonl"))
            if tapes and tapes[0].stat().st_size > 20_000:
                break
            await asyncio.sleep(0.02)
        proc.kill()
        await proc.wait()
    (tape,) = (tmp_path / "ws").iterdir()
    with TapeReader(tape) as reader:
        frames = list(reader)
        assert len(reader.problems) <= 1
    assert sum(isinstance(f, WsText) for f in frames) > 10


def drifted_tapes(tmp_path: Path) -> list[Path]:
    """A sol price as a string, a corto trade without its signature, a PumpData sol_price whose
    price is a string: what a provider changing its format looks like."""
    rest = [HttpExchange(0, "h", *_exchange('{"solPrice": "244.2"}'))]
    corto = [
        WsText(0.0, "w", _s2c(), json.dumps({"type": "service", "name": "handshake", "state": {}})),
        WsText(0.5, "w", _s2c(), json.dumps({"txType": "buy", "schemaVersion": "buy_sell_event_v1"})),
    ]
    pumpdata = [SioEvent(0.5, "s", _s2c(), "sol_price", ({"price": "high", "time": 1},))]
    return [
        dump_tape(tmp_path / name, header(), frames)
        for name, frames in (("rest.jsonl", rest), ("corto.jsonl", corto), ("pumpdata.jsonl", pumpdata))
    ]


def _exchange(body: str) -> tuple[object, object]:
    from harness.core.frames import HttpRequest, HttpResponse

    return HttpRequest("GET", "/sol-price"), HttpResponse(200, (), body.encode())


def _s2c():  # type: ignore[no-untyped-def]
    from harness.core.frames import S2C

    return S2C


async def test_validate_reports_drift_for_the_proxy_and_every_capture(tmp_path: Path) -> None:
    rest, corto, pumpdata = drifted_tapes(tmp_path / "upstream")
    # one upstream per API: at --speed max a clock moves while its subscribers listen
    async with (
        MockServer([rest], speed="max", port=0, validate=False) as pumpfun_upstream,
        MockServer([corto], speed="max", port=0, validate=False) as corto_upstream,
        MockServer([pumpdata], speed="max", port=0, validate=False) as pumpdata_upstream,
    ):
        proc, urls = await start_proxy(
            tmp_path, "--rest-upstream", pumpfun_upstream.urls["rest"], "--validate"
        )
        await asyncio.to_thread(requests.get, urls["rest"] + "/sol-price", timeout=5)
        proc.send_signal(signal.SIGINT)
        proxy_out, _ = await asyncio.wait_for(proc.communicate(), 30)
        ws = await start(
            "ws", corto_upstream.urls["websocket"], "--send", '{"type":"subscribe","mode":"all"}',
            "--duration", "1", "--validate", "--out", str(tmp_path / "ws"),
        )  # fmt: skip
        sio = await start(
            "sio", pumpdata_upstream.urls["socketio"], "--auth", API_KEY, "--emit", "subscribe_sol_price",
            "--duration", "1", "--validate", "--out", str(tmp_path / "sio"),
        )  # fmt: skip
        (ws_out, _), (sio_out, _) = await asyncio.gather(ws.communicate(), sio.communicate())
    assert (proc.returncode, ws.returncode, sio.returncode) == (1, 1, 1), "drift found: exit code 1"
    assert "contract drift: 1 violations" in proxy_out.decode()
    assert "pumpfun sol_price /response/body/solPrice type" in proxy_out.decode()
    assert "contract drift:" in ws_out.decode() and "corto trade" in ws_out.decode()
    assert (
        "contract drift:" in sio_out.decode() and "pumpdata sol_price /args/0/price type" in sio_out.decode()
    )
