"""The input-limit options: what one client, and one tape line, may cost (README "Input limits").

``harness serve`` takes them all (:func:`add_cli_options`, :func:`config_from_args`, registered
like an API's options); ``harness validate`` and ``harness inspect`` take the tape-line ones
(:func:`add_tape_options`, :func:`tape_limits`). Wiring only: the limits are enforced where the
input is read.
"""

from __future__ import annotations

import argparse

from harness.core.tape import TapeLimits
from harness.server.config import InputLimits
from harness.store.tapes import LINE_LIMIT

_DEFAULT = InputLimits()
_TAPE = TapeLimits()


def _mib(value: int) -> str:
    return f"{value >> 20} MiB" if value % (1 << 20) == 0 else f"{value:,} bytes"


def _add(group: argparse._ArgumentGroup, options: list[tuple[str, int, str]]) -> None:
    """``(flag, default, help)`` each: a count or a size N, whose default the help ends with."""
    for flag, default, text in options:
        group.add_argument(flag, type=int, default=default, metavar="N", help=text)


def add_tape_options(parser: argparse.ArgumentParser) -> None:
    _add(
        parser.add_argument_group("tape limits"),
        [
            (
                "--tape-line-bytes",
                _TAPE.line_bytes,
                f"longest tape line read (default {_mib(_TAPE.line_bytes)}, at most {_mib(LINE_LIMIT)})",
            ),
            (
                "--tape-line-values",
                _TAPE.line_values,
                f"most JSON values one tape line may hold (default {_TAPE.line_values:,})",
            ),
        ],
    )


def tape_limits(args: argparse.Namespace) -> TapeLimits:
    """Raises ValueError for a limit out of range."""
    if not 1 <= args.tape_line_bytes <= LINE_LIMIT:
        raise ValueError(f"--tape-line-bytes must be 1-{LINE_LIMIT}, got {args.tape_line_bytes}")
    if args.tape_line_values < 1:
        raise ValueError(f"--tape-line-values must be >= 1, got {args.tape_line_values}")
    return TapeLimits(line_bytes=args.tape_line_bytes, line_values=args.tape_line_values)


def add_cli_options(parser: argparse.ArgumentParser) -> None:
    d = _DEFAULT
    _add(
        parser.add_argument_group("input limits"),
        [
            (
                "--max-violations",
                d.max_violations,
                f"violations kept; later ones are counted as dropped (default {d.max_violations:,})",
            ),
            (
                "--violation-bytes",
                d.violation_bytes,
                f"bytes the kept violations may hold (default {_mib(d.violation_bytes)})",
            ),
            (
                "--ws-message-bytes",
                d.ws_message_bytes,
                "largest message a Data Stream client may send; past it the connection is closed 1009"
                f" (default {_mib(d.ws_message_bytes)})",
            ),
            (
                "--queue-bytes",
                d.queue_bytes,
                "bytes queued for a Data Stream or Socket.IO client before --ws-overflow / --sio-overflow"
                f" applies (default {_mib(d.queue_bytes)})",
            ),
        ],
    )
    add_tape_options(parser)


def config_from_args(args: argparse.Namespace) -> InputLimits:
    """Raises ValueError for a limit out of range."""
    for flag, value in (
        ("--max-violations", args.max_violations),
        ("--violation-bytes", args.violation_bytes),
        ("--ws-message-bytes", args.ws_message_bytes),
        ("--queue-bytes", args.queue_bytes),
    ):
        if value < 1:
            raise ValueError(f"{flag} must be >= 1, got {value}")
    return InputLimits(
        max_violations=args.max_violations,
        violation_bytes=args.violation_bytes,
        ws_message_bytes=args.ws_message_bytes,
        queue_bytes=args.queue_bytes,
        tape=tape_limits(args),
    )
