"""``harness.strategies.messages``: every family's generated messages validate under that family,
and are realistic: keys that decode to 32 and 64 bytes, units and prices that agree."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.families import FAMILIES
from harness.strategies import messages
from harness.validation import validate

ALL = [(api, family) for api, names in FAMILIES.items() for family in names]


@pytest.mark.parametrize(("api", "family"), ALL, ids=[f"{a}.{f}" for a, f in ALL])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_family_validates(api: str, family: str, data: st.DataObject) -> None:
    message: Any = data.draw(messages(api, family))
    assert validate(message, api=api, family=family) == []
