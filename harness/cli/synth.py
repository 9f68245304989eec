"""``harness synth``: synthetic tapes of all four APIs from one seeded simulated market."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "synth"
HELP = "make realistic synthetic tapes for the four APIs (same seed, same bytes)"
DESCRIPTION = """\
Simulate a memecoin market (launches on bonding curves, trades, graduations, migrations) and write
what each API would have shown a client: DIR/pumpfun.jsonl (REST polls with ETags, 304s and
rate-limit headers), DIR/pumpdata.jsonl (Socket.IO subscriptions, trades, 1-second candles) and
DIR/corto.jsonl (Data Stream handshake, subscribe, events at full detail) and DIR/pumpportal.jsonl
(PumpPortal subscriptions with their acks, creates, trades of the subscribed mints, migrations).

example:
  harness synth --out /tmp/feed --seed 42 --duration 120
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("recordings/synth"), help="directory (default recordings/synth)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of feed (default 180)")
    parser.add_argument(
        "--api",
        action="append",
        choices=("pumpfun", "pumpdata", "corto", "pumpportal"),
        help="only these APIs (repeatable)",
    )
    parser.add_argument("--gzip", action="store_true", help="write .jsonl.gz")


def run(args: argparse.Namespace) -> int:
    from harness.cli.main import UsageError
    from harness.cli.progress import Progress
    from harness.synth import APIS, write

    if not args.duration > 0 or args.duration > 86_400:
        raise UsageError(f"--duration must be between 0 and 86400 seconds, got {args.duration:g}")
    with Progress("simulating the market", total=args.duration, unit="s") as bar:
        bar.update(0, force=True)

        def simulating(t: float) -> None:
            bar.update(max(0.0, t))

        def show(api: str, done: int, total: int) -> None:
            bar.stage(f"writing {api}.jsonl", total, "frames")
            bar.update(done)

        try:
            written = write(
                args.out,
                args.seed,
                args.duration,
                tuple(args.api or APIS),
                gzip=args.gzip,
                progress=show,
                simulating=simulating,
            )
        except OSError as exc:
            raise UsageError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    for path, frames in written:
        print(f"{path}  {frames} frames  {path.stat().st_size:,} bytes")
    return 0
