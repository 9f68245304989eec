"""``harness serve`` options of the PumpPortal data WebSocket, and the config they make.

One module per API (``add_cli_options``, ``config_from_args``), registered in
:data:`harness.cli.serve.API_MODULES`. The choices are documented in docs/guides/pumpportal.md.
"""

from __future__ import annotations

import argparse

from harness.core.pumpportal.config import BadRequest, PumpPortalConfig, TradeAccess


def add_cli_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("PumpPortal data WebSocket (/api/data)")
    group.add_argument(
        "--pumpportal-trades",
        choices=[t.value for t in TradeAccess],
        default=TradeAccess.KEY.value,
        help="who may subscribe to token and account trades: a connection with an api-key query"
        " parameter (default), every connection (open), or none (closed)",
    )
    group.add_argument(
        "--pumpportal-funded-key",
        action="append",
        default=[],
        metavar="KEY",
        help="only this api-key is funded (repeatable; default: any key is)",
    )
    group.add_argument(
        "--pumpportal-connections-per-ip",
        choices=("one", "any"),
        default="one",
        help="refuse a second concurrent connection from one IP with 1008 (one, the default) or serve it",
    )
    group.add_argument(
        "--pumpportal-bad-request",
        choices=[b.value for b in BadRequest],
        default=BadRequest.ERRORS.value,
        help='a request that cannot be acted on gets {"errors": why} (default), {"message": why}, or nothing',
    )
    group.add_argument(
        "--pumpportal-max-keys",
        type=int,
        default=10_000,
        metavar="N",
        help="keys per request, and mints or wallets per connection (default 10000)",
    )


def config_from_args(args: argparse.Namespace) -> PumpPortalConfig:
    if args.pumpportal_max_keys < 1:
        raise ValueError(f"--pumpportal-max-keys must be >= 1, got {args.pumpportal_max_keys}")
    return PumpPortalConfig(
        trade_access=TradeAccess(args.pumpportal_trades),
        funded_keys=frozenset(args.pumpportal_funded_key),
        one_connection_per_ip=args.pumpportal_connections_per_ip == "one",
        bad_request=BadRequest(args.pumpportal_bad_request),
        max_keys=args.pumpportal_max_keys,
    )
