"""``harness contract export``: the contracts as OpenAPI 3.1 and AsyncAPI 3.0 documents."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.cli.main import plural

NAME = "contract"
HELP = "export the contracts as OpenAPI 3.1 (Pump.fun REST) and AsyncAPI 3.0 (the streaming APIs)"
DESCRIPTION = """\
export: write each API's contract as a standard document, generated from the JSON Schemas harness
validates with (one source of truth): OpenAPI 3.1 for the Pump.fun REST API (paths, parameters,
response schemas, ETag and If-None-Match, 304, x-ratelimit-* headers, 429 with Retry-After, error
bodies), AsyncAPI 3.0 for every streaming API (the corto.fun Data Stream; PumpData's Socket.IO
events, its acks as request/reply and subscription_error). Contract tools load them: Prism and
Microcks mock or test from them, AsyncAPI Studio and the AsyncAPI CLI read and validate them.

examples:
  harness contract export                          every API, into contracts/
  harness contract export --api pumpfun --out .   pumpfun.openapi.json here
  npx @stoplight/prism-cli mock contracts/pumpfun.openapi.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.core.families import FAMILIES

    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = sub.add_parser(
        "export",
        help="write OpenAPI and AsyncAPI documents of the contracts",
        description="Write <api>.openapi.json (REST) or <api>.asyncapi.json (streaming) for each API.",
    )
    export.add_argument(
        "--api",
        action="append",
        choices=list(FAMILIES),
        metavar="API",
        help=f"only this API (repeatable; {', '.join(FAMILIES)}; default: every one)",
    )
    export.add_argument(
        "--out",
        type=Path,
        default=Path("contracts"),
        metavar="DIR",
        help="directory to write to (default: contracts)",
    )


def run(args: argparse.Namespace) -> int:
    from harness.cli.main import UsageError
    from harness.validation.export import documents

    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {out}: {exc.strerror or exc}") from None
    for name, document in documents(args.api):
        path = out / name
        try:
            path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        if "openapi" in document:
            what = f"OpenAPI {document['openapi']}: {plural(len(document['paths']), 'path')}"
        else:
            messages = document["channels"][next(iter(document["channels"]))]["messages"]
            what = (
                f"AsyncAPI {document['asyncapi']}: {plural(len(messages), 'message')}, "
                f"{plural(len(document['operations']), 'operation')}"
            )
        print(f"{path}  {what}, {plural(len(document['components']['schemas']), 'schema')}")
    return 0
