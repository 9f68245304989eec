"""``harness record``: capture live traffic to tapes (secrets redacted before anything is written)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

NAME = "record"
HELP = "capture live traffic to a tape: a recording proxy, REST polling, WebSocket or Socket.IO sessions"
DESCRIPTION = """\
Record to recordings/<UTC YYYYMMDDTHHMMSSZ>-<label>.jsonl (mode 0600). Every frame passes the
redaction rules before it is written: JSON keys and form fields named like a secret (password,
apiKey, access_token ...), headers whose name says token, secret, key, auth, session or cookie,
secret query parameters, URL credentials, JWTs, Socket.IO auth, Solana keypairs; --redact-* add
rules, --keep-secret NAME keeps a default. On a terminal a progress line shows
frames per protocol, bytes and elapsed time. Ctrl-C finishes the tape cleanly; a killed recorder
leaves a readable tape. --validate checks every frame against the schemas and reports drift.

examples:
  harness record proxy --rest-upstream https://frontend-api-v3.pump.fun \\
      --sio-upstream https://api.pumpdata.fun --ws-upstream wss://corto.fun/data-stream
  harness record poll https://frontend-api-v3.pump.fun/coins/latest --interval 5 --etag --duration 60
  harness record ws wss://corto.fun/data-stream --send '{"type":"subscribe","mode":"all"}' --duration 60
  harness record ws 'wss://pumpportal.fun/api/data?api-key=KEY' \\
      --send '{"method":"subscribeNewToken"}' --duration 60
  harness record sio https://api.pumpdata.fun --auth pd_K --emit 'subscribe_trades={"pool":"P"}' --duration 9
HAR files (browser recordings) become tapes with 'harness har import'.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="mode", metavar="MODE", required=True)
    proxy = sub.add_parser(
        "proxy",
        help="a recording proxy laid out like harness serve (REST, /socket.io/, /data-stream, /api/data)",
        description="Point clients at the proxy instead of the real hosts; stop with Ctrl-C.",
    )
    proxy.add_argument("--rest-upstream", metavar="URL", help="e.g. https://frontend-api-v3.pump.fun")
    proxy.add_argument("--sio-upstream", metavar="URL", help="e.g. https://api.pumpdata.fun")
    proxy.add_argument("--ws-upstream", metavar="URL", help="e.g. wss://corto.fun/data-stream")
    proxy.add_argument("--pumpportal-upstream", metavar="URL", help="e.g. wss://pumpportal.fun/api/data")
    proxy.add_argument(
        "--listen", default="127.0.0.1:8766", metavar="HOST:PORT", help="default 127.0.0.1:8766 (port 0: any)"
    )
    proxy.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    proxy.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for an upstream (30)")
    proxy.add_argument("--ready-file", type=Path, help="write the proxy's URLs as JSON once listening")
    _common(proxy)
    poll = sub.add_parser(
        "poll",
        help="poll REST endpoints like the Pump.fun polling guide's ETag poller, recording 200s and 304s",
        description=(
            "GET each URL every --interval seconds for --duration seconds and record every answer "
            "(200s, 304s, 429s and 5xx alike) with its latency and rate-limit headers; with --etag, "
            "If-None-Match once an ETag is held; a 429 waits as its Retry-After says."
        ),
    )
    poll.add_argument("urls", nargs="+", metavar="URL", help="Pump.fun REST URLs, e.g. .../coins/latest")
    poll.add_argument(
        "--interval", type=float, default=5.0, help="seconds between polls of one URL (default 5)"
    )
    poll.add_argument("--duration", type=float, required=True, help="seconds to record")
    poll.add_argument("--etag", action="store_true", help="send If-None-Match once an ETag is held")
    poll.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="request header")
    _common(poll)
    ws = sub.add_parser(
        "ws",
        help="connect to a WebSocket, send subscriptions, record both directions",
        description=(
            "Connect to a WebSocket (the corto.fun Data Stream), send each --send message, and record "
            "every frame both ways and the close for --duration seconds; the tape replays through "
            "harness serve."
        ),
    )
    ws.add_argument("url", metavar="URL", help="ws:// or wss:// URL, e.g. wss://corto.fun/data-stream")
    ws.add_argument(
        "--send", action="append", default=[], metavar="JSON", help="a message to send (repeatable)"
    )
    ws.add_argument("--duration", type=float, required=True, help="seconds to record")
    ws.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="handshake header")
    _common(ws)
    sio = sub.add_parser(
        "sio",
        help="connect to a Socket.IO server, emit subscriptions, record events and acks",
        description=(
            "Connect to a Socket.IO server (PumpData) with auth.api_key, emit each --emit event asking "
            "for an ack, and record the connect, every event both ways, the acks, connect_error and "
            "the disconnect for --duration seconds; the tape replays through harness serve."
        ),
    )
    sio.add_argument("url", metavar="URL", help="http(s):// URL, e.g. https://api.pumpdata.fun")
    sio.add_argument("--auth", metavar="KEY", help="auth.api_key to connect with (redacted on the tape)")
    sio.add_argument(
        "--emit",
        action="append",
        default=[],
        metavar="EVENT=JSON",
        help='an event to emit with an ack, e.g. \'subscribe_trades={"pool":"P"}\' or subscribe_sol_price '
        "(repeatable)",
    )
    sio.add_argument("--duration", type=float, required=True, help="seconds to record")
    _common(sio)


def _common(parser: argparse.ArgumentParser) -> None:
    add_tape_arguments(parser, "the mode")
    parser.add_argument(
        "--validate", action="store_true", help="check frames against the schemas; report drift (exit 1)"
    )


def add_tape_arguments(parser: argparse.ArgumentParser, default_label: str) -> None:
    """Where a new tape goes and how it is redacted (``harness record``, ``harness har import``)."""
    parser.add_argument(
        "--out", type=Path, default=Path("recordings"), help="directory (default recordings/)"
    )
    parser.add_argument("--label", default="", help=f"name part of the tape file (default: {default_label})")
    parser.add_argument("--gzip", action="store_true", help="write .jsonl.gz")
    add_redaction_arguments(parser)


def add_redaction_arguments(parser: argparse.ArgumentParser) -> None:
    """The redaction options (``harness record``, ``harness har import``, ``harness redact``)."""
    parser.add_argument(
        "--redact-header", action="append", default=[], metavar="NAME", help="also redact this header"
    )
    parser.add_argument(
        "--redact-json-key",
        action="append",
        default=[],
        metavar="KEY",
        help="also redact this JSON key (and form field)",
    )
    parser.add_argument(
        "--redact-query", action="append", default=[], metavar="NAME", help="also redact this query parameter"
    )
    parser.add_argument(
        "--redact-pattern", action="append", default=[], metavar="REGEX", help="also redact matches"
    )
    parser.add_argument(
        "--keep-secret",
        action="append",
        default=[],
        metavar="NAME",
        help="do not redact this default: a name (JSON key, form field, query parameter, header) or a "
        "rule as the tape header lists it (jwt, sio-auth, url-credentials, header-word:key ...)",
    )
    parser.add_argument("--redact-key", help="HMAC key for placeholders (default: random per session)")


def redaction_rules(args: argparse.Namespace) -> Any:
    """The default redaction rules plus the user's ``--redact-*``; bad usage raises UsageError."""
    from harness.cli.main import UsageError
    from harness.core.redact import RedactionRules

    try:
        return RedactionRules.with_extra(
            headers=args.redact_header,
            query_params=args.redact_query,
            json_keys=args.redact_json_key,
            patterns=args.redact_pattern,
            keep=args.keep_secret,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    import asyncio

    from harness.cli.main import UsageError

    if args.mode == "proxy" and args.duration is None:
        args.duration = 10.0**9  # until Ctrl-C
    if not args.duration > 0 or not getattr(args, "interval", 1) > 0 or not getattr(args, "timeout", 1) > 0:
        raise UsageError("--duration, --interval and --timeout must be positive")
    headers = []
    for raw in getattr(args, "header", []):
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header takes 'NAME: VALUE', got {raw!r}")
        headers.append((name.strip(), value.strip()))
    if args.mode == "proxy":
        _check_proxy(args)
    elif args.mode == "sio":
        _check_url(args.url, "http://", "https://")
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
        _check_url(args.url, "ws://", "wss://")
        for text in args.send:
            try:
                json.loads(text)
            except ValueError as exc:
                raise UsageError(f"--send takes JSON, got {text!r}: {exc}") from None
    else:
        for url in args.urls:
            _check_url(url, "http://", "https://")
    return asyncio.run(_record(args, redaction_rules(args), headers))


def _check_url(url: str, *schemes: str) -> None:
    from harness.cli.main import UsageError

    if not url.startswith(schemes):
        kind = "a ws(s)" if schemes[0].startswith("ws") else "an http(s)"
        raise UsageError(f"not {kind} URL: {url!r}")


def _check_proxy(args: argparse.Namespace) -> None:
    from harness.cli.main import UsageError

    if not (args.rest_upstream or args.sio_upstream or args.ws_upstream or args.pumpportal_upstream):
        raise UsageError(
            "give at least one of --rest-upstream, --sio-upstream, --ws-upstream, --pumpportal-upstream"
        )
    for url in (args.rest_upstream, args.sio_upstream):
        if url:
            _check_url(url, "http://", "https://")
    for url in (args.ws_upstream, args.pumpportal_upstream):
        if url:
            _check_url(url, "ws://", "wss://")
    host, sep, port = args.listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--listen takes HOST:PORT (port 0-65535), got {args.listen!r}")
    args.host, args.port = host.strip("[]"), int(port)


def _recorded(args: argparse.Namespace) -> Any:
    from harness.core.frames import Recorded
    from harness.core.pumpportal.families import is_pumpportal_url
    from harness.recorder.proxy import proxy_recorded

    label = args.label or args.mode
    if args.mode == "proxy":
        return proxy_recorded(
            args.rest_upstream, args.sio_upstream, args.ws_upstream, label, args.pumpportal_upstream
        )
    urls = args.urls if args.mode == "poll" else [args.url]
    api = {"poll": "pumpfun", "ws": "corto", "sio": "pumpdata"}[args.mode]
    if args.mode == "ws" and is_pumpportal_url(args.url):
        api = "pumpportal"
    return Recorded(
        apis=(api,),
        upstreams=tuple((f"url{i}", url) for i, url in enumerate(urls, 1)),
        label=label,
        source=args.mode,
    )


async def _record(args: argparse.Namespace, rules: Any, headers: list[tuple[str, str]]) -> int:
    import asyncio
    import signal

    from harness.cli.progress import Progress
    from harness.core.redact import shown
    from harness.recorder.session import RecordingSession

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    key = args.redact_key.encode() if args.redact_key else None
    with RecordingSession(
        args.out,
        args.label or args.mode,
        _recorded(args),
        rules=rules,
        key=key,
        gzip=args.gzip,
        validate=args.validate,
    ) as session:
        if args.mode == "proxy":
            report = await _proxy(args, session, stop)
        else:
            with Progress("recording", total=args.duration, unit="s", elapsed=False) as bar:
                ticker = asyncio.create_task(_tick(bar, stop, lambda: session.t(), session.progress_note))
                try:
                    outcomes = await _capture(args, session, headers, stop)
                except ConnectionRefusedError as exc:
                    url = shown(_recorded(args).upstreams[0][1], rules)
                    raise _capture_failed(session, f"{url} refused the connection: {exc}") from None
                except OSError as exc:
                    url = shown(_recorded(args).upstreams[0][1], rules)
                    raise _capture_failed(session, f"cannot reach {url}: {exc}") from None
                finally:
                    stop.set()
                    await ticker
            summary = ", ".join(f"{k} x{v}" for k, v in sorted(outcomes.items())) or "nothing"
            if args.mode == "poll" and outcomes and not session.frames:
                urls = " or ".join(shown(url, rules) for url in args.urls)
                raise _capture_failed(session, f"no answer from {urls} ({summary})")
            report = f"{session.path}  {sum(session.frames.values())} frames  ({summary})"
    print(report)
    drift = session.drift_report()
    if drift:
        print(drift)
        return 1
    return 0


def _capture_failed(session: Any, message: str) -> Exception:
    """The error of a failed capture, after deciding its tape's fate: kept when the upstream said
    something (a connect_error is worth replaying), else deleted rather than left holding nothing."""
    from harness.cli.main import UsageError

    if session.heard:
        return UsageError(f"{message}; what it answered is in {session.path}")
    session.discard()
    return UsageError(f"{message}; no tape written")


async def _tick(bar: Any, stop: Any, done: Any, note: Any) -> None:
    import asyncio

    while not stop.is_set():
        bar.update(done(), note())
        await asyncio.sleep(0.2)


async def _capture(args: argparse.Namespace, session: Any, headers: list[tuple[str, str]], stop: Any) -> Any:
    from harness.recorder.capture import poll, stream_sio, stream_ws

    if args.mode == "poll":
        return await poll(
            session,
            args.urls,
            interval=args.interval,
            duration=args.duration,
            etag=args.etag,
            headers=headers,
            stop=stop,
        )
    if args.mode == "ws":
        return await stream_ws(
            session, args.url, send=args.send, duration=args.duration, headers=headers, stop=stop
        )
    auth = {"api_key": args.auth} if args.auth else None
    return await stream_sio(session, args.url, auth=auth, emits=args.emits, duration=args.duration, stop=stop)


async def _proxy(args: argparse.Namespace, session: Any, stop: Any) -> str:
    import asyncio
    import contextlib

    from harness.cli.progress import Progress
    from harness.recorder.proxy import RecordingProxy
    from harness.server.app import write_ready_file

    proxy = RecordingProxy(
        session,
        rest_upstream=args.rest_upstream,
        sio_upstream=args.sio_upstream,
        ws_upstream=args.ws_upstream,
        pumpportal_upstream=args.pumpportal_upstream,
        host=args.host,
        port=args.port,
        timeout=args.timeout,
    )
    try:
        await proxy.start()
    except OSError as exc:
        raise _capture_failed(session, f"cannot listen on {args.listen}: {exc.strerror or exc}") from None
    try:
        urls = proxy.urls
        lines = [f"harness record proxy: recording to {session.path}"]
        for key, name in (
            ("rest", "Pump.fun REST"),
            ("socketio", "PumpData Socket.IO"),
            ("websocket", "corto.fun WebSocket"),
            ("pumpportal", "PumpPortal data WS"),
        ):
            upstream = proxy.upstreams[key]
            if upstream:
                lines.append(f"  {name:<20}{urls[key]}  ->  {proxy.shown_upstreams[key]}")
        print("\n".join(lines), flush=True)
        if args.ready_file:
            write_ready_file(args.ready_file, {**urls, "tape": str(session.path)})
        with Progress("recording", unit="frames") as bar:
            ticker = asyncio.create_task(
                _tick(bar, stop, lambda: sum(session.frames.values()), proxy.progress_note)
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=args.duration)
            stop.set()
            await ticker
    finally:
        await proxy.close()
    return proxy.report()
