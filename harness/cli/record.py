"""``harness record``: capture live traffic to tapes (secrets redacted before anything is written)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

NAME = "record"
HELP = "capture live traffic to a tape: a recording proxy, REST polling, WebSocket or Socket.IO sessions"
DESCRIPTION = """\
Record to recordings/<UTC YYYYMMDDTHHMMSSZ>-<label>.jsonl. Every frame passes the redaction rules
before it is written (Authorization, Cookie, Set-Cookie, X-Api-Key headers; api_key, token, apikey
query parameters; plus --redact-* of your own). Ctrl-C finishes the tape cleanly; a killed
recorder leaves a readable tape.

examples:
  harness record poll https://frontend-api-v3.pump.fun/coins/latest --interval 5 --etag --duration 60
  harness record poll http://127.0.0.1:8765/sol-price --interval 1 --duration 10 --label local
  harness record ws wss://corto.fun/data-stream --send '{"type":"subscribe","mode":"all"}' --duration 60
  harness record sio https://api.pumpdata.fun --auth pd_K --emit 'subscribe_trades={"pool":"P"}' --duration 9
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="mode", metavar="MODE", required=True)
    poll = sub.add_parser(
        "poll", help="poll REST endpoints like seed 000's ETag poller, recording 200s and 304s"
    )
    poll.add_argument("urls", nargs="+", metavar="URL")
    poll.add_argument(
        "--interval", type=float, default=5.0, help="seconds between polls of one URL (default 5)"
    )
    poll.add_argument("--duration", type=float, required=True, help="seconds to record")
    poll.add_argument("--etag", action="store_true", help="send If-None-Match once an ETag is held")
    poll.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="request header")
    _common(poll)
    ws = sub.add_parser("ws", help="connect to a WebSocket, send subscriptions, record both directions")
    ws.add_argument("url", metavar="URL")
    ws.add_argument(
        "--send", action="append", default=[], metavar="JSON", help="a message to send (repeatable)"
    )
    ws.add_argument("--duration", type=float, required=True, help="seconds to record")
    ws.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="handshake header")
    _common(ws)
    sio = sub.add_parser(
        "sio", help="connect to a Socket.IO server, emit subscriptions, record events and acks"
    )
    sio.add_argument("url", metavar="URL")
    sio.add_argument("--auth", metavar="KEY", help="auth.api_key to connect with (redacted on the tape)")
    sio.add_argument(
        "--emit",
        action="append",
        default=[],
        metavar="EVENT=JSON",
        help="an event to emit with an ack (repeatable)",
    )
    sio.add_argument("--duration", type=float, required=True, help="seconds to record")
    _common(sio)
    proxy = sub.add_parser("proxy", help="a recording proxy laid out like harness serve (REST, /data-stream)")
    proxy.add_argument("--rest-upstream", metavar="URL", help="e.g. https://frontend-api-v3.pump.fun")
    proxy.add_argument("--ws-upstream", metavar="URL", help="e.g. wss://corto.fun/data-stream")
    proxy.add_argument(
        "--listen", default="127.0.0.1:8766", metavar="HOST:PORT", help="default 127.0.0.1:8766"
    )
    proxy.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    proxy.add_argument("--ready-file", type=Path, help="write the proxy's URLs as JSON once listening")
    _common(proxy)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("recordings"), help="directory (default recordings/)"
    )
    parser.add_argument("--label", default="", help="name part of the tape file (default: the mode)")
    parser.add_argument("--gzip", action="store_true", help="write .jsonl.gz")
    parser.add_argument(
        "--redact-header", action="append", default=[], metavar="NAME", help="also redact this header"
    )
    parser.add_argument(
        "--redact-json-key", action="append", default=[], metavar="KEY", help="also redact this JSON key"
    )
    parser.add_argument(
        "--redact-pattern", action="append", default=[], metavar="REGEX", help="also redact matches"
    )
    parser.add_argument("--redact-key", help="HMAC key for placeholders (default: random per session)")
    parser.add_argument(
        "--validate", action="store_true", help="check frames against the schemas; report drift"
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from harness.cli.main import UsageError
    from harness.core.redact import RedactionRules

    if args.mode == "proxy" and args.duration is None:
        args.duration = 10.0**9  # until Ctrl-C
    if not args.duration > 0 or not getattr(args, "interval", 1) > 0:
        raise UsageError("--duration and --interval must be positive")
    headers = []
    for raw in getattr(args, "header", []):
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header takes 'NAME: VALUE', got {raw!r}")
        headers.append((name.strip(), value.strip()))
    if args.mode == "proxy":
        if not (args.rest_upstream or args.ws_upstream):
            raise UsageError("give --rest-upstream and/or --ws-upstream")
        _host, sep, port = args.listen.rpartition(":")
        if not sep or not port.isdigit():
            raise UsageError(f"--listen takes HOST:PORT, got {args.listen!r}")
    elif args.mode == "sio":
        if not args.url.startswith(("http://", "https://")):
            raise UsageError(f"not an http(s) URL: {args.url!r}")
        args.emits = []
        for raw in args.emit:
            event, sep, payload = raw.partition("=")
            try:
                args.emits.append((event, json.loads(payload) if payload else None))
            except ValueError as exc:
                raise UsageError(f"--emit takes EVENT=JSON, got {raw!r}: {exc}") from None
            if not event:
                raise UsageError(f"--emit takes EVENT=JSON, got {raw!r}")
    elif args.mode == "ws":
        if not args.url.startswith(("ws://", "wss://")):
            raise UsageError(f"not a ws(s) URL: {args.url!r}")
        for text in args.send:
            try:
                json.loads(text)
            except ValueError as exc:
                raise UsageError(f"--send takes JSON, got {text!r}: {exc}") from None
    else:
        for url in args.urls:
            if not url.startswith(("http://", "https://")):
                raise UsageError(f"not an http(s) URL: {url!r}")
    try:
        rules = RedactionRules.with_extra(
            headers=args.redact_header, json_keys=args.redact_json_key, patterns=args.redact_pattern
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return asyncio.run(_record(args, rules, headers))


async def _record(args: argparse.Namespace, rules: Any, headers: list[tuple[str, str]]) -> int:
    import asyncio
    import signal

    from harness.cli.main import UsageError
    from harness.cli.progress import Progress
    from harness.core.frames import Recorded
    from harness.recorder.capture import poll, stream_sio, stream_ws
    from harness.recorder.session import RecordingSession

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    urls = (
        args.urls
        if args.mode == "poll"
        else [u for u in (args.rest_upstream, args.ws_upstream) if u]
        if args.mode == "proxy"
        else [args.url]
    )
    recorded = Recorded(
        apis=tuple(
            api
            for api, used in (
                ("pumpfun", args.mode == "poll" or getattr(args, "rest_upstream", None)),
                ("corto", args.mode == "ws" or getattr(args, "ws_upstream", None)),
                ("pumpdata", args.mode == "sio"),
            )
            if used
        ),
        upstreams=tuple((f"url{i}", url) for i, url in enumerate(urls, 1)),
        label=args.label or args.mode,
        source=args.mode,
    )
    key = args.redact_key.encode() if args.redact_key else None
    label = args.label or args.mode
    with RecordingSession(
        args.out, label, recorded, rules=rules, key=key, gzip=args.gzip, validate=args.validate
    ) as session:
        with Progress("recording", unit="s") as bar:

            async def show() -> None:
                while not stop.is_set():
                    bar.update(session.t(), session.progress_note())
                    await asyncio.sleep(0.2)

            ticker = asyncio.create_task(show())
            try:
                if args.mode == "poll":
                    outcomes = await poll(
                        session,
                        args.urls,
                        interval=args.interval,
                        duration=args.duration,
                        etag=args.etag,
                        headers=headers,
                        stop=stop,
                    )
                elif args.mode == "proxy":
                    outcomes = await _proxy(args, session, stop)
                elif args.mode == "ws":
                    outcomes = await stream_ws(
                        session, args.url, send=args.send, duration=args.duration, headers=headers, stop=stop
                    )
                else:
                    auth = {"api_key": args.auth} if args.auth else None
                    outcomes = await stream_sio(
                        session, args.url, auth=auth, emits=args.emits, duration=args.duration, stop=stop
                    )
            except ConnectionRefusedError as exc:
                raise UsageError(f"{urls[0]} refused the connection: {exc}") from None
            except OSError as exc:
                raise UsageError(f"cannot reach {urls[0]}: {exc}") from None
            finally:
                stop.set()
                await ticker
    summary = ", ".join(f"{k} x{v}" for k, v in sorted(outcomes.items())) or "nothing"
    print(f"{session.path}  {sum(session.frames.values())} frames  ({summary})")
    report = session.drift_report()
    if report:
        print(report)
        return 1
    return 0


async def _proxy(args: argparse.Namespace, session: Any, stop: Any) -> Any:
    import asyncio
    import json as _json
    from collections import Counter

    from aiohttp import web

    from harness.recorder.proxy import RecordingProxy

    proxy = RecordingProxy(session, rest_upstream=args.rest_upstream, ws_upstream=args.ws_upstream)
    host, _, port = args.listen.rpartition(":")
    runner = web.AppRunner(proxy.app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, int(port))
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    urls = {"rest": f"http://{host}:{bound}", "websocket": f"ws://{host}:{bound}/data-stream"}
    print(f"recording proxy on {urls['rest']} (REST) and {urls['websocket']}, to {session.path}", flush=True)
    if args.ready_file:
        args.ready_file.write_text(_json.dumps(urls))
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.duration)
    except TimeoutError:
        pass
    finally:
        await runner.cleanup()
    return Counter({f"upstream failures ({k})": v for k, v in proxy.failures.items()}) + Counter(
        session.frames
    )
