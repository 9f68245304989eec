"""``harness serve [TAPE|DIR ...]``: replay tapes as the four services on one port."""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import sys
from pathlib import Path
from typing import Any

from harness.recorder.modes import DEFAULT_UPSTREAMS, RecordMode

NAME = "serve"
HELP = "replay tapes as the Pump.fun REST, PumpData Socket.IO, corto.fun and PumpPortal WebSocket services"
DESCRIPTION = """\
Serve all four APIs from tapes on one port: REST at /coins/..., /trades/..., /sol-price;
Socket.IO at /socket.io/; the Data Stream WebSocket at /data-stream; PumpPortal's data WebSocket
at /api/data; control endpoints at /_harness/ (state, advance, violations, reset, drop: POST
/_harness/drop cuts client connections as a network failure would; SIGINT and SIGTERM close them
cleanly), for a loopback Host only, POST and DELETE with Content-Type: application/json (and
X-Harness-Token with --control-token). With no tape, the demo tapes in fixtures/demo.

examples:
  harness serve                                   demo tapes on 127.0.0.1:8765, real time
  harness serve recordings/ --speed 10 --loop     ten times faster, forever
  harness serve tape.jsonl --manual --port 0 --ready-file urls.json
  harness serve --fault '/trades/*:status=503,p=0.2' --fault '*:latency=150ms'
  harness serve tapes/feed.jsonl --record-mode once --rest-upstream https://frontend-api-v3.pump.fun

record modes (--record-mode, vcrpy's names): none replays only (the tape must exist); once records
a tape that does not exist, else replays it; new_episodes replays the tape and records what it does
not hold into <tape>.episodes/; all records the tape anew (replacing it when stopped with Ctrl-C).
"""

API_MODULES = {
    "harness.server.corto": "corto",
    "harness.server.pumpdata": "pumpdata",
    "harness.cli.pumpportal_options": "pumpportal",
    "harness.cli.limits": "limits",
}
"""Modules that add their own options (``add_cli_options``, ``config_from_args``): the emulators'
and the input limits', and the :class:`~harness.server.config.ServerConfig` field their config
goes to."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tapes", nargs="*", type=Path, metavar="TAPE|DIR", help="tapes to replay")
    group = parser.add_argument_group("server")
    group.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    group.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    group.add_argument("--ready-file", type=Path, help="write the URLs as JSON here once listening")
    group.add_argument("--seed", type=int, default=0, help="seed of every random choice (faults)")
    group.add_argument("--no-validate", action="store_true", help="do not check messages against the schemas")
    clock = parser.add_argument_group("replay clock")
    clock.add_argument(
        "--speed", default="1", help="replay speed factor, or 'max' (as fast as clients read); default 1"
    )
    clock.add_argument(
        "--manual",
        action="store_true",
        help="manual clock: nothing moves until POST /_harness/advance",
    )
    clock.add_argument("--loop", action="store_true", help="restart the feed at its end")
    clock.add_argument(
        "--start",
        choices=("first-client", "listen"),
        default="first-client",
        help="when the clock starts: at the first client (default) or at once",
    )
    record = parser.add_argument_group("record modes")
    record.add_argument(
        "--record-mode",
        choices=[m.value for m in RecordMode],
        default=RecordMode.NONE.value,
        help="none (default): replay only; once: record a missing tape; new_episodes: replay and"
        " record what the tape does not hold; all: record anew",
    )
    for api, flag, name in (
        ("rest", "--rest-upstream", "Pump.fun REST"),
        ("sio", "--sio-upstream", "PumpData Socket.IO"),
        ("ws", "--ws-upstream", "corto.fun WebSocket"),
    ):
        record.add_argument(
            flag,
            default=DEFAULT_UPSTREAMS[api],
            metavar="URL",
            help=f"{name} service recorded from (default {DEFAULT_UPSTREAMS[api]})",
        )
    rest = parser.add_argument_group("Pump.fun REST")
    rest.add_argument("--require-auth", action="store_true", help="answer 401 without Authorization: Bearer")
    rest.add_argument(
        "--rate-limit",
        metavar="N/SECONDS",
        help="requests per window per client, e.g. 120/60 (default: from the tape, else 120/60)",
    )
    rest.add_argument(
        "--rate-reset",
        choices=("delta", "epoch"),
        help="x-ratelimit-reset as seconds until reset (default) or unix epoch seconds",
    )
    rest.add_argument("--no-rate-limit", action="store_true", help="never answer 429")
    rest.add_argument(
        "--rate-headers",
        choices=("auto", "on", "off"),
        default="auto",
        help="send x-ratelimit-* headers: auto (default) as the tape shows (none when no recorded"
        " response has them), on, or off",
    )
    rest.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="PATTERN:ACTION[,p=P]",
        help="seeded fault on matching paths: latency=250ms, status=503, reset (repeatable)",
    )
    for module in _api_modules():
        module.add_cli_options(parser)
    _add_control_plane_options(parser)


# --- control plane, timeouts and connection caps (docs/reference/control-plane.md) -------------


def _add_control_plane_options(parser: argparse.ArgumentParser) -> None:
    from harness.core.access import TOKEN_ENV, TOKEN_HEADER

    group = parser.add_argument_group("control plane, timeouts and connection caps")
    group.add_argument(
        "--control-token",
        metavar="TOKEN",
        help=f"POST and DELETE /_harness/* need it in {TOKEN_HEADER} (default: ${TOKEN_ENV}, else none)",
    )
    group.add_argument(
        "--control-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name /_harness/* answers besides loopback ones and --host (repeatable)",
    )
    group.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin Socket.IO allows besides loopback ones, '*' for any (repeatable)",
    )
    for flag, kind, default, metavar, text in _limits():
        shown = "" if default is None else f" (default {default:,g})"
        group.add_argument(flag, type=kind, default=default, metavar=metavar, help=text + shown)


def _limits() -> list[tuple[str, type, float | None, str, str]]:
    """The timeouts and caps: option, type, default, metavar, help (each is the
    :class:`~harness.server.config.ServerConfig` field of the option's name)."""
    from harness.server import config as d

    return [
        (
            "--head-timeout",
            float,
            d.DEFAULT_HEAD_TIMEOUT,
            "SECONDS",
            "time a connection has to send a complete request head, from when it opens or its"
            " previous response ends",
        ),
        (
            "--max-connections",
            int,
            None,
            "N",
            f"open connections; past it a 503 (default {d.DEFAULT_MAX_CONNECTIONS:,}, or the open-file"
            f" limit less {d.FD_RESERVE} if lower)",
        ),
        ("--max-sio-sessions", int, d.DEFAULT_MAX_SIO_SESSIONS, "N", "Engine.IO sessions; past it a 503"),
        ("--sio-ping-interval", float, d.DEFAULT_SIO_PING_INTERVAL, "SECONDS", "Engine.IO ping interval"),
        (
            "--sio-ping-timeout",
            float,
            d.DEFAULT_SIO_PING_TIMEOUT,
            "SECONDS",
            "an Engine.IO session that answers no ping (or never polls) this long after one expires",
        ),
        (
            "--max-advance-steps",
            int,
            d.DEFAULT_MAX_ADVANCE_STEPS,
            "N",
            "wake-ups one advance walks through; past it the replay jumps to the target time",
        ),
    ]


def _control_plane_config(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~harness.server.config.ServerConfig` fields of the options above."""
    import os

    from harness.cli.main import UsageError
    from harness.core.access import TOKEN_ENV

    fields: dict[str, Any] = {
        "control_token": args.control_token or os.environ.get(TOKEN_ENV) or None,
        "control_hosts": tuple(args.control_host),
        "cors_origins": tuple(args.cors_origin),
    }
    for flag, kind, _, _, _ in _limits():
        name = flag[2:].replace("-", "_")
        value = getattr(args, name)
        if value is not None and not (0 < value < math.inf if kind is float else value >= 1):
            wanted = "a number of seconds > 0" if kind is float else "a whole number >= 1"
            raise UsageError(f"{flag} must be {wanted}, got {value:g}")
        fields[name] = value
    return fields


def beyond_loopback_warning(command: str, host: str) -> str | None:
    """The warning ``harness serve`` prints when it listens where other machines can connect."""
    from harness.core.access import TOKEN_ENV, beyond_loopback

    if not beyond_loopback(host):
        return None
    return (
        f"harness {command}: warning: listening on {host}, beyond this machine: anyone who can reach"
        " the port can use the replayed APIs. The control endpoints still answer only Host"
        f" localhost or {host} (add names with --control-host); set --control-token (or"
        f" ${TOKEN_ENV}) so that only your tests can advance or reset the replay."
    )


def _api_modules() -> list[Any]:
    return [importlib.import_module(name) for name in API_MODULES]


def config_from_args(args: argparse.Namespace) -> Any:
    import dataclasses

    from harness.cli.main import UsageError
    from harness.core.clock import parse_speed
    from harness.core.faults import parse_fault
    from harness.core.ratelimit import RateLimitConfig, ResetUnit
    from harness.server.config import ClockStart, PumpfunConfig, ServerConfig

    try:
        speed = parse_speed(args.speed)
        faults = tuple(parse_fault(spec) for spec in args.fault)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0-65535, got {args.port}")
    rate: RateLimitConfig | None = None
    if args.rate_limit or args.rate_reset or args.no_rate_limit or args.rate_headers != "auto":
        rate = RateLimitConfig(headers=None if args.rate_headers == "auto" else args.rate_headers == "on")
        if args.rate_limit:
            limit, _, window = args.rate_limit.partition("/")
            try:
                rate = dataclasses.replace(rate, limit=int(limit), window=float(window or 60))
            except ValueError:
                raise UsageError(
                    f"--rate-limit takes N/SECONDS like 120/60, got {args.rate_limit!r}"
                ) from None
            if rate.limit < 1 or not rate.window > 0 or math.isinf(rate.window):
                raise UsageError(f"--rate-limit needs N >= 1 and SECONDS > 0, got {args.rate_limit!r}")
        if args.rate_reset:
            rate = dataclasses.replace(rate, reset_unit=ResetUnit(args.rate_reset))
        if args.no_rate_limit:
            rate = dataclasses.replace(rate, enabled=False)
    config = ServerConfig(
        host=args.host,
        port=args.port,
        speed=speed,
        manual=args.manual,
        loop=args.loop,
        start=ClockStart(args.start),
        validate=not args.no_validate,
        seed=args.seed,
        faults=faults,
        pumpfun=PumpfunConfig(rate_limit=rate, require_auth=args.require_auth),
        **_control_plane_config(args),
    )
    for module in _api_modules():
        try:
            api_config = module.config_from_args(args)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        config = dataclasses.replace(config, **{API_MODULES[module.__name__]: api_config})
    return config


class _BadRequestsInOneLine(logging.Filter):
    """aiohttp logs a client's malformed HTTP (an oversized header, a method it does not parse)
    with a traceback, as if the server had failed; the server answered 400 and goes on: one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            remote = record.getMessage().rpartition(" ")[2]
            from harness.core.redact import shown

            # the message may quote the request line, and so the client's ?api_key=
            message = shown(" ".join(str(exc.message).split()))
            record.msg = "harness serve: bad request from %s answered %s: %s"
            record.args = (remote, exc.code, message)
            record.exc_info = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def run(args: argparse.Namespace) -> int:
    import asyncio

    config = config_from_args(args)
    return asyncio.run(_serve(args, config))


async def _serve(args: argparse.Namespace, config: Any, prepare: Any = None) -> int:
    """Serve until SIGINT or SIGTERM. ``prepare(server)`` runs on the replaying server once it
    listens, before its URLs are printed, and what it returns (if anything) is called with the
    server after it shut down."""
    import asyncio
    import signal

    from harness.cli.main import UsageError
    from harness.recorder.deck import TapeDeck
    from harness.recorder.modes import Upstreams
    from harness.server.app import write_ready_file

    logging.getLogger("aiohttp.server").addFilter(_BadRequestsInOneLine())
    upstreams = Upstreams(rest=args.rest_upstream, sio=args.sio_upstream, ws=args.ws_upstream)
    try:
        deck = TapeDeck(args.tapes, args.record_mode, config=config, upstreams=upstreams)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        await deck.start()
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
            " (pick another with --port, or --port 0 for a free one)"
        ) from None
    warning = beyond_loopback_warning(args.command, config.host)
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    urls = deck.urls
    finish = None
    if deck.server is not None:
        try:
            finish = prepare(deck.server) if prepare is not None else None
        except BaseException:
            await deck.finish(clean=False)
            raise
        tapes = deck.server.tapes
        clock = "manual" if config.manual else f"speed {config.speed_text}"
        print(
            f"harness {args.command}: {len(tapes.paths)} tape(s), {len(tapes.http)} http"
            f" / {len(tapes.ws) + len(tapes.pumpportal)} ws / {len(tapes.sio)} sio frames, clock {clock}"
            f"{', loop' if config.loop else ''}",
            flush=True,
        )
    if deck.mode is not RecordMode.NONE:
        print(f"harness {args.command}: record mode {deck.mode}: {deck.describe()}", flush=True)
    print(f"  Pump.fun REST       {urls['rest']}", flush=True)
    print(f"  PumpData Socket.IO  {urls['socketio']}  (path /socket.io/)", flush=True)
    print(f"  corto.fun WebSocket {urls['websocket']}", flush=True)
    print(f"  PumpPortal data WS  {urls['pumpportal']}", flush=True)
    if "control" in urls:
        print(f"  control             {urls['control']}/state", flush=True)
    if args.ready_file:
        write_ready_file(args.ready_file, urls)
    try:
        await stop.wait()
    finally:
        print(f"harness {args.command}: shutting down", file=sys.stderr, flush=True)
        await deck.finish(clean=True)
        outcome = deck.outcome()
        if outcome:
            print(f"harness {args.command}: {outcome}", file=sys.stderr, flush=True)
        if finish is not None and deck.server is not None:
            finish(deck.server)
    return 0
