"""Entry point of the ``harness`` command: argument parsing, dispatch and exit codes.

Exit codes: 0 success, 1 the command found problems (violations, drift), 2 bad usage or
unreadable input. Errors that a user can fix are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from harness import __version__

COMMANDS: tuple[str, ...] = (
    "harness.cli.serve",
    "harness.cli.fuzz",
    "harness.cli.record",
    "harness.cli.har",
    "harness.cli.validate",
    "harness.cli.inspect",
    "harness.cli.redact",
    "harness.cli.report",
    "harness.cli.diff",
    "harness.cli.synth",
    "harness.cli.contract",
)
"""Subcommand modules in the order ``harness --help`` lists them."""


EPILOG = """\
Run 'harness COMMAND --help' for the options of one command.

From Python and pytest (docs/guides/ in the repository):
  pytest plugin       a test that asks for the harness_server fixture gets every service
                      replayed on loopback; @pytest.mark.harness(...) picks tapes, clock, faults,
                      record mode (pytest --help: the harness options)
  MockServer          harness.MockServer(tapes, manual=True, port=0): harness serve in a test
  validate            harness.validate(message) lists a message's contract violations
  harness.strategies  Hypothesis strategies: messages, near_valid, feeds, fault_plans, frames
"""


class UsageError(Exception):
    """Bad arguments or unreadable input: printed as one line, exit code 2."""


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 entry``, ``2 entries``: ``nouns`` when the plural is not ``noun`` + s."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def _load_commands() -> list[ModuleType]:
    return [importlib.import_module(name) for name in COMMANDS]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description=(
            "Record, replay and validate the Pump.fun REST, PumpData Socket.IO, "
            "corto.fun Data Stream and PumpPortal data WebSocket APIs."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _load_commands():
        cmd = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from harness.store import TapeError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args._run(args)
    except (UsageError, TapeError) as exc:
        print(f"harness {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `harness inspect T --format json | head`: the reader has gone; say nothing more (and
        # keep Python's own flush at exit from failing on the same pipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
