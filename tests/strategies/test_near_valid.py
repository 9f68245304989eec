"""``harness.strategies.near_valid``: for every family, ``harness.validate`` reports exactly the
pointer and rule the generated message is labelled with."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.strategies import NearValid, near_valid
from harness.validation import validate
from tests.strategies.test_messages import ALL


@pytest.mark.parametrize(("api", "family"), ALL, ids=[f"{a}.{f}" for a, f in ALL])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_exactly_the_labelled_rule_is_broken(api: str, family: str, data: st.DataObject) -> None:
    case: NearValid = data.draw(near_valid(api, family))
    found = [(v.pointer, v.rule) for v in validate(case.message, api=api, family=family)]
    assert found == [(case.pointer, case.rule)], case.broken


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid("pumpfun", "coin_list"))
def test_a_broken_coin_of_a_page_is_found_without_a_family(case: NearValid) -> None:
    """``harness validate`` of a JSON file holding a /coins page: the page is told a coin list
    from its items, a broken one among them included, and the break is named by its index."""
    assume(case.pointer.count("/") >= 2)  # inside an item (a page or an item of another type is no page)
    found = [(v.api, v.family, v.pointer, v.rule) for v in validate(case.message)]
    assert found == [("pumpfun", "coin_list", case.pointer, case.rule)], case.broken
