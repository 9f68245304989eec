"""``harness fuzz [TAPE|DIR ...]``: serve tapes with seeded faults mixed into the traffic.

Everything ``harness serve`` does, plus a fault schedule (:mod:`harness.core.fuzz`) drawn from a
seed over the tapes' messages, or read from a file; printed at start so a run can be repeated.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

from harness.cli import serve

NAME = "fuzz"
HELP = "serve tapes mixed with seeded faults (malformed, duplicated, dropped messages, closes, 429s ...)"
DESCRIPTION = """\
Serve tapes as 'harness serve' does, with faults mixed into what the server sends: malformed
JSON, duplicated, reordered, delayed and dropped messages, abrupt WebSocket closes with various
codes, Socket.IO disconnects in mid-subscription, injected subscription errors, oversized
frames (corto, PumpData), and 429 storms, 5xx answers, late and cut bodies (Pump.fun REST).

The schedule is drawn from --seed (a fresh one when not given) and printed at start: the same
seed, tapes, --faults and --rate give the same schedule; --save-plan writes it and --plan replays
a saved one exactly. Faults are named by API and message ordinal: corto#3 is the fourth message
the corto stream delivers, pumpfun#3 the fourth REST request. Each fault applied is counted in
/_harness/state ("fuzz" and the fuzz.<api>.<kind> counters). In pytest the same schedules come
from harness_server.fuzz(PLAN_OR_SEED) or @pytest.mark.harness(fuzz=SEED), and under Hypothesis a
failing client test shrinks to the fewest faults that break it (docs/guides/pytest-plugin.md).

fault kinds: malformed, duplicate, reorder, delay, drop, close, disconnect, suberror, oversized,
429, 5xx (or all)

examples:
  harness fuzz                                  demo tapes, a random seed, 5% of messages
  harness fuzz recordings/ --seed 7 --faults duplicate,drop,close --rate 0.2
  harness fuzz tape.jsonl --manual --port 0 --seed 7 --save-plan plan.json
  harness fuzz tape.jsonl --plan plan.json      exactly the saved schedule
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    serve.add_arguments(parser)
    group = parser.add_argument_group("fuzzing")
    group.add_argument(
        "--faults",
        default="all",
        metavar="SPEC",
        help="fault kinds to draw, comma-separated, or 'all' (default)",
    )
    group.add_argument(
        "--rate", type=float, default=0.05, help="share of messages and requests given a fault (default 0.05)"
    )
    group.add_argument("--plan", type=Path, metavar="FILE", help="serve exactly this saved schedule")
    group.add_argument("--save-plan", type=Path, metavar="FILE", help="write the schedule here (JSON)")
    parser.set_defaults(seed=None)
    for action in parser._actions:
        if action.dest in ("record_mode", "rest_upstream", "sio_upstream", "ws_upstream"):
            action.help = argparse.SUPPRESS  # harness fuzz replays only (run refuses a record mode)
        elif action.dest == "seed":
            action.help = "seed of the schedule and every other random choice (default: a fresh one, printed)"


def _plan(args: argparse.Namespace, server: Any) -> Any:
    from harness.cli.main import UsageError
    from harness.core.fuzz import FuzzPlan, parse_kinds
    from harness.server.fuzz import draw_plan

    if args.plan is not None:
        try:
            return FuzzPlan.from_json(args.plan.read_text())
        except OSError as exc:
            raise UsageError(f"--plan {args.plan}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise UsageError(f"--plan {args.plan}: {exc}") from None
    try:
        kinds = parse_kinds(args.faults)
        return draw_plan(server, args.seed, kinds, args.rate)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    import asyncio
    import dataclasses

    if args.record_mode != "none":
        from harness.cli.main import UsageError

        raise UsageError("harness fuzz only replays a tape: record it first (harness serve --record-mode)")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2**32)
    config = dataclasses.replace(serve.config_from_args(args), seed=args.seed)

    def prepare(server: Any) -> Any:
        plan = _plan(args, server)
        server.set_fuzz(plan)
        source = f"from {args.plan}" if args.plan else f"--faults {args.faults} --rate {args.rate:g}"
        print(f"harness fuzz: {plan.describe().splitlines()[0]} ({source})", flush=True)
        for fault in plan.faults:
            print(f"  {fault}", flush=True)
        if args.save_plan is not None:
            args.save_plan.write_text(plan.to_json() + "\n")
            print(f"  schedule written to {args.save_plan}", flush=True)

        def finish(server: Any) -> None:
            applied = server.fuzz.applied
            print(f"harness fuzz: {len(applied)} of {len(plan.faults)} faults applied", file=sys.stderr)

        return finish

    return asyncio.run(serve._serve(args, config, prepare))
