"""``harness report TAPE...``: one self-contained HTML page of what tapes hold."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "report"
HELP = "an HTML report of tapes: rates, connections, REST statuses, candles, violations (opens offline)"
DESCRIPTION = """\
Write one self-contained HTML file showing, per API, messages per second by family over time,
connections and their lifecycles (open, subscriptions, close codes), each REST path's 200 / 304 /
429 responses over time with ETag changes and the rate-limit budget, OHLCV candles (recorded, or
built from trades), the contract violations each linked to its tape line and rule, and the tape's
header, redaction rules and age. Tapes of any size are streamed: rates are counted in time
buckets and tables are capped (the page says so). plotly.js is inlined from the installed plotly
package (pip install 'memecoin-harness[report]'): the page opens offline and fetches nothing.

examples:
  harness report fixtures/demo --out /tmp/demo-report.html
  harness report recordings/20261201T120000Z-feed.jsonl
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tapes", nargs="+", type=Path, metavar="TAPE", help="tape file or directory of tapes")
    parser.add_argument(
        "--out", type=Path, default=Path("report.html"), help="the HTML file to write (default report.html)"
    )
    parser.add_argument("--title", help="the page's title (default: the tapes' names)")


def run(args: argparse.Namespace) -> int:
    from harness.cli.main import UsageError, plural
    from harness.cli.progress import Progress
    from harness.report import MissingPlotly, write_report
    from harness.report import Progress as Callback
    from harness.store import find_tapes
    from harness.store.tapes import TAPE_SUFFIXES

    tapes = find_tapes(args.tapes)
    if not tapes:
        raise UsageError("no tapes found in " + ", ".join(map(str, args.tapes)))
    out_path: Path = args.out
    if out_path.name.endswith(TAPE_SUFFIXES) or out_path.resolve() in {t.resolve() for t in tapes}:
        raise UsageError(f"--out {out_path} would write the HTML report over a tape; give --out NAME.html")
    with Progress("reading", 0) as bar:

        def progress(path: Path) -> Callback:
            def update(done: int, total: int, frames: int) -> None:
                bar.stage(f"reading {path.name}", total)
                bar.update(done, plural(frames, "frame"))

            return update

        try:
            out = write_report(tapes, args.out, title=args.title, progress=progress)
        except MissingPlotly as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"{out}  {out.stat().st_size:,} bytes  ({plural(len(tapes), 'tape')})")
    return 0
