"""``harness serve``'s PumpPortal options make the config the emulator runs with."""

from __future__ import annotations

import pytest

from harness.cli.main import UsageError, build_parser
from harness.cli.serve import config_from_args
from harness.core.pumpportal.config import BadRequest, PumpPortalConfig, TradeAccess


def test_defaults_are_the_documented_ones() -> None:
    config = config_from_args(build_parser().parse_args(["serve"]))
    assert config.pumpportal == PumpPortalConfig()
    assert config.pumpportal.trade_access is TradeAccess.KEY and config.pumpportal.one_connection_per_ip


def test_every_option_reaches_the_config() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            *["--pumpportal-trades", "key", "--pumpportal-funded-key", "a", "--pumpportal-funded-key", "b"],
            *["--pumpportal-connections-per-ip", "any", "--pumpportal-bad-request", "ignore"],
            *["--pumpportal-max-keys", "5"],
        ]
    )
    assert config_from_args(args).pumpportal == PumpPortalConfig(
        trade_access=TradeAccess.KEY,
        funded_keys=frozenset({"a", "b"}),
        one_connection_per_ip=False,
        bad_request=BadRequest.IGNORE,
        max_keys=5,
    )
    with pytest.raises(UsageError, match="--pumpportal-max-keys must be >= 1"):
        config_from_args(build_parser().parse_args(["serve", "--pumpportal-max-keys", "0"]))
