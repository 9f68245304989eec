"""``harness.strategies.messages``: every family's generated messages validate under that family,
and are realistic: keys that decode to 32 and 64 bytes, units and prices that agree."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core import base58
from harness.core.corto.detail import FULL_KEYS, MID_KEYS, MIN_KEYS
from harness.core.families import FAMILIES, family_of
from harness.strategies import messages
from harness.validation import validate

ALL = [(api, family) for api, names in FAMILIES.items() for family in names]


@pytest.mark.parametrize(("api", "family"), ALL, ids=[f"{a}.{f}" for a, f in ALL])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_family_validates(api: str, family: str, data: st.DataObject) -> None:
    message: Any = data.draw(messages(api, family))
    assert validate(message, api=api, family=family) == []


def _decoded_size(text: str) -> int:
    return len(base58.decode(text))


@settings(max_examples=50, deadline=None)
@given(messages("corto", "trade"))
def test_corto_trades_agree_with_their_curve(trade: dict[str, Any]) -> None:
    # contract §3.6: UI amounts and their *Raw integers; price = virtual SOL / virtual tokens
    assert trade["solAmount"] == trade["solAmountRaw"] / 1e9
    assert trade["tokenAmount"] == trade["tokenAmountRaw"] / 1e6
    assert trade["price"] == pytest.approx(trade["vSolInBondingCurve"] / trade["vTokensInBondingCurve"])
    assert _decoded_size(trade["mint"]) == 32 and _decoded_size(trade["signature"]) == 64
    assert trade["pool"] in ("pump-fun", "letsbonk-fun", "meteora-dbc")  # hyphenated in events
    assert trade["timestamp"] > 10**12  # ms


@settings(max_examples=50, deadline=None)
@given(messages("pumpfun", "trade"), messages("pumpdata", "trade"))
def test_units_per_api(rest: dict[str, Any], sio: dict[str, Any]) -> None:
    # contract §5: pump.fun in lamports and raw units, s; PumpData in UI units, s
    assert isinstance(rest["sol_amount"], int) and isinstance(rest["token_amount"], int)
    assert 10**9 <= rest["timestamp"] < 10**10
    assert isinstance(sio["quote_amount"], float) and 10**9 <= sio["timestamp"] < 10**10
    assert sio["marketcap"] == pytest.approx(sio["price"] * 1e9)
    assert _decoded_size(rest["user"]) == 32 and _decoded_size(sio["wallet"]) == 32


@settings(max_examples=30, deadline=None)
@given(messages("corto", "create.min"), messages("corto", "create.mid"), messages("corto", "create.full"))
def test_create_levels_have_their_exact_key_sets(
    small: dict[str, Any], mid: dict[str, Any], full: dict[str, Any]
) -> None:
    assert set(small) == set(MIN_KEYS)
    assert set(mid) == set(MID_KEYS)
    assert set(full) == set(FULL_KEYS)


@settings(max_examples=50, deadline=None)
@given(messages("corto", "request.subscribe"))
def test_filters_name_pools_dotted(request: dict[str, Any]) -> None:
    assert all("." in pool for pool in request.get("pools", []))
    assert not ("mode" in request and ({"events", "pools"} & request.keys()))


@settings(max_examples=30, deadline=None)
@given(messages("pumpdata", "ohlcv"))
def test_candles_are_consistent(candles: list[list[Any]]) -> None:
    times = [c[0] for c in candles]
    assert times == sorted(set(times)) and all(t % 1000 == 0 for t in times)  # 1 s buckets, ms
    for _, o, h, low, c, v in candles:
        assert low <= min(o, c) <= max(o, c) <= h and v > 0


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["trade_list", "coin_list"]).flatmap(
        lambda f: st.tuples(st.just(f), messages("pumpfun", f))
    )
)
def test_lists_of_coins_and_of_trades_are_told_apart(pair: tuple[str, list[object]]) -> None:
    family, page = pair
    assert family_of(page) == ("pumpfun", family if page else "trade_list"), "an empty list: trade_list"


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown family 'swap' for corto"):
        messages("corto", "swap")
    with pytest.raises(ValueError, match="unknown api 'binance'"):
        messages("binance", "trade")
