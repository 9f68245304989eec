"""``python -m bench [--quick] [NAME ...]``: run the benchmarks and print one table.

Each figure is printed next to its baseline measured in the same run and its target. ``--quick``
shrinks every workload so the whole run takes seconds (CI runs it as a smoke test).
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys

from bench.common import Result

MODULES = (
    "bench.bench_tape",
    "bench.bench_validation",
    "bench.bench_rest",
    "bench.bench_corto",
    "bench.bench_pumpportal",
    "bench.bench_sio",
    "bench.bench_timing",
    "bench.bench_proxy",
    "bench.bench_hostile",
    "bench.bench_report",
)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isinf(value) or math.isnan(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small workloads (a smoke test)")
    known = [name.removeprefix("bench.bench_") for name in MODULES]
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"only these ({', '.join(known)})")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r} (known: {', '.join(known)})")
    rows: list[tuple[str, Result]] = []
    for name in MODULES:
        short = name.removeprefix("bench.bench_")
        if args.names and short not in args.names:
            continue
        module = importlib.import_module(name)
        print(f"running {short} ...", file=sys.stderr, flush=True)
        rows.extend((short, r) for r in module.run(args.quick))
    header = ("bench", "measure", "value", "unit", "baseline", "baseline is", "target", "met")
    table = [header] + [
        (
            group,
            r.name,
            _fmt(r.value),
            r.unit,
            _fmt(r.baseline),
            r.baseline_name,
            r.target,
            "-" if r.ok is None else ("yes" if r.ok else "NO"),
        )
        for group, r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
