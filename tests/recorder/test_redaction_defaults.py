"""Secrets never reach a tape or a console under the default rules: each kind of secret, sent by real
clients (requests, websockets, python-socketio) through the recording proxy to real upstreams on
127.0.0.1, is looked for in the tape's bytes, the proxy's state and report, and the CLI's output."""

from __future__ import annotations

import asyncio
import json
import signal
import stat
from pathlib import Path

import requests
import socketio
import websockets
from aiohttp import web

from harness.core import base58
from harness.recorder.proxy import RecordingProxy
from harness.store import read_tape
from tests.credentials import API_KEY
from tests.recorder.running import start_proxy
from tests.recorder.upstreams import SioService, WsService, free_port, serve

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyZWNvcmRlci10ZXN0In0.c2lnbmF0dXJlLXJlY29yZGVyLXRlc3Q"
SECRETS = {
    "json_api_key": "jk-Sec-7a61",
    "json_password": "pw-Sec-99c1",
    "json_nested_token": "nt-Sec-0b3e",
    "form_password": "fp-Sec-51d2",
    "form_secret": "fs-Sec-c0de",
    "session_header": JWT,
    "refresh_header": "rh-Sec-2f2f",
    "access_token_query": "aq-Sec-3e4d",
    "response_access_token": "ra-Sec-8d8d",
    "ws_password": "wp-Sec-1212",
    "sio_api_key": "sk-Sec-3434",
    "sio_ack_secret": "sa-Sec-5656",
}
SEED = bytes(range(100, 132))
SIGNATURE = "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW"
MINT = "Haz1tCWsEAnQEeGHfrm9JCcEnS9gPi6B2XHprSPGpump"


def keypair() -> bytes:
    from nacl.bindings import crypto_sign_seed_keypair

    return bytes(crypto_sign_seed_keypair(SEED)[1])


async def rest_upstream() -> tuple[web.AppRunner, str]:
    """A REST service that answers every request with a login-like answer: a refresh token in a
    header, an access token in the body, and the public trade data it was asked about."""

    async def login(request: web.Request) -> web.Response:
        await request.read()
        body = {"access_token": SECRETS["response_access_token"], "signature": SIGNATURE, "mint": MINT}
        response = web.json_response(body)
        response.headers["X-Refresh-Token"] = SECRETS["refresh_header"]
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", login)
    runner, port = await serve(app)
    return runner, f"http://127.0.0.1:{port}"


def assert_clean(data: bytes | str, *secrets: str) -> None:
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    for secret in secrets or SECRETS.values():
        assert secret not in text, f"{secret!r} leaked"


async def test_every_default_secret_kind_is_redacted_on_the_tape(tmp_path: Path) -> None:
    runner, rest = await rest_upstream()
    kp = keypair()
    try:
        async with (
            WsService() as ws_up,
            SioService() as sio_up,
            RecordingProxy(
                tmp_path / "rec", rest_upstream=rest, ws_upstream=ws_up.url, sio_upstream=sio_up.url
            ) as proxy,
        ):
            base = proxy.urls["rest"]
            body = {
                "apiKey": SECRETS["json_api_key"],
                "user": {
                    "PASSWORD": SECRETS["json_password"],
                    "sessions": [{"token": SECRETS["json_nested_token"]}],
                },
                "signature": SIGNATURE,
            }
            json_answer = await asyncio.to_thread(
                requests.post,
                f"{base}/login?access_token={SECRETS['access_token_query']}&limit=2",
                json=body,
                headers={"X-Session-Token": SECRETS["session_header"]},
                timeout=10,
            )
            form = f"grant_type=password&password={SECRETS['form_password']}&client_secret={SECRETS['form_secret']}"
            form_answer = await asyncio.to_thread(
                requests.post,
                f"{base}/oauth/token",
                data=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=10,
            )
            async with websockets.connect(proxy.urls["websocket"]) as ws:
                message = {"password": SECRETS["ws_password"], "keypair": list(kp), "mint": MINT}
                await ws.send(json.dumps({"echo": message}))
                echoed = json.loads(await ws.recv())
                await ws.send(json.dumps({"echo": {"exported": base58.encode(kp), "signature": SIGNATURE}}))
                await ws.recv()
            client = socketio.AsyncClient()
            await client.connect(proxy.urls["socketio"], auth={"api_key": API_KEY})
            ack = await client.call(
                "echo",
                {"api-key": SECRETS["sio_api_key"], "Client_Secret": SECRETS["sio_ack_secret"]},
                timeout=10,
            )
            await client.disconnect()
            path = proxy.tape_path
    finally:
        await runner.cleanup()
    # the clients and upstreams got everything as sent: redaction is for the tape only
    assert (
        json_answer.status_code == 200 and json_answer.headers["X-Refresh-Token"] == SECRETS["refresh_header"]
    )
    assert form_answer.json()["access_token"] == SECRETS["response_access_token"]
    assert echoed["password"] == SECRETS["ws_password"] and echoed["keypair"] == list(kp)
    assert ack["api-key"] == SECRETS["sio_api_key"]
    data = path.read_bytes()
    assert_clean(
        data, *SECRETS.values(), API_KEY, base58.encode(kp), json.dumps(list(kp)), ", ".join(map(str, kp))
    )
    # public data is kept as it was
    assert SIGNATURE.encode() in data and MINT.encode() in data and b"limit=2" in data
    header, frames = read_tape(path)
    assert "solana-keypair" in header.redaction and "header-word:token" in header.redaction
    assert len(frames) > 8
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_upstream_credentials_and_a_clients_api_key_never_shown(tmp_path: Path) -> None:
    """``--rest-upstream http://user:PW@host/?api_key=K``: PW and K stay off the banner, the proxy's
    state, the tape (the 502 body) and the failure report; so does the client's own ?api_key=."""
    password, key, client_key = "Upw-Sec-4711", "Uk-Sec-0815", "ck-Sec-abcd"
    upstream = f"http://user:{password}@127.0.0.1:{free_port()}/?api_key={key}"
    proc, urls = await start_proxy(tmp_path, "--rest-upstream", upstream)
    try:
        state = await asyncio.to_thread(requests.get, urls["rest"] + "/_harness/state", timeout=10)
        answer = await asyncio.to_thread(
            requests.get, f"{urls['rest']}/coins/latest?api_key={client_key}", timeout=10
        )
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert answer.status_code == 502
    assert_clean(answer.text, password, key)
    shown = state.json()["upstreams"]["rest"]
    assert shown.startswith("http://user:REDACTED@127.0.0.1:") and shown.endswith("/?api_key=REDACTED")
    assert_clean(json.dumps(state.json()), password, key)
    assert "refused" in out.decode() and "REDACTED" in out.decode()
    assert_clean(out + err, password, key, client_key)
    (tape,) = (tmp_path / "rec").iterdir()
    assert_clean(tape.read_bytes(), password, key, client_key)
    assert stat.S_IMODE(tape.stat().st_mode) == 0o600


async def test_keep_secret_opts_out_of_a_default_by_name(tmp_path: Path) -> None:
    runner, rest = await rest_upstream()
    try:
        proc, urls = await start_proxy(tmp_path, "--rest-upstream", rest, "--keep-secret", "session")
        try:
            await asyncio.to_thread(
                requests.post, urls["rest"] + "/x", json={"session": "kept-1", "token": "gone-1"}, timeout=10
            )
        finally:
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.communicate(), 30)
    finally:
        await runner.cleanup()
    (tape,) = (tmp_path / "rec").iterdir()
    data = tape.read_bytes()
    assert b"kept-1" in data and b"gone-1" not in data
    assert b"keep:session" in data.splitlines()[0]
