"""Hypothesis strategies for fault schedules (:class:`~harness.core.fuzz.FuzzPlan`).

Drawn plans go to ``MockServer.set_fuzz(plan)`` (or ``MockServer(..., fuzz=plan)``) so a client
test runs once per plan; when it fails, Hypothesis shrinks the plan towards fewer faults, earlier
messages and simpler kinds and values (a drop before a duplicate before a close; the smallest
delay, the first close code), so the report names the one fault that breaks the client.
"""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import strategies as st

from harness.core.fuzz import (
    API_KINDS,
    CLOSE_CODES,
    OVERSIZED_BYTES,
    SERVER_ERRORS,
    FuzzKind,
    FuzzPlan,
    ScheduledFault,
)

SIMPLEST_FIRST: tuple[FuzzKind, ...] = (
    FuzzKind.DROP,
    FuzzKind.DUPLICATE,
    FuzzKind.DELAY,
    FuzzKind.REORDER,
    FuzzKind.MALFORMED,
    FuzzKind.SUBSCRIPTION_ERROR,
    FuzzKind.OVERSIZED,
    FuzzKind.HTTP_5XX,
    FuzzKind.STORM_429,
    FuzzKind.CLOSE,
    FuzzKind.DISCONNECT,
)
"""The order kinds shrink in: what loses or repeats one message first, what ends a connection last."""


def _values(kind: FuzzKind) -> st.SearchStrategy[float]:
    if kind is FuzzKind.DELAY:
        return st.integers(1, 50).map(lambda tenths: tenths / 10)  # 0.1 to 5 replay seconds
    if kind is FuzzKind.CLOSE:
        return st.sampled_from(CLOSE_CODES).map(float)
    if kind is FuzzKind.HTTP_5XX:
        return st.sampled_from(SERVER_ERRORS).map(float)
    if kind is FuzzKind.STORM_429:
        return st.integers(1, 6).map(float)
    if kind is FuzzKind.OVERSIZED:
        return st.just(float(OVERSIZED_BYTES))
    return st.just(0.0)


def faults(api: str, kinds: Iterable[FuzzKind], messages: int) -> st.SearchStrategy[ScheduledFault]:
    """One fault for ``api``, on one of its first ``messages`` messages (or requests)."""
    usable = [k for k in SIMPLEST_FIRST if k in frozenset(kinds) & API_KINDS[api]]
    if not usable:
        raise ValueError(f"none of the kinds asked for fits {api} (it takes {sorted(API_KINDS[api])})")
    return st.builds(
        lambda index, pair: ScheduledFault(api, index, pair[0], pair[1]),
        st.integers(0, messages - 1),
        st.sampled_from(usable).flatmap(lambda kind: st.tuples(st.just(kind), _values(kind))),
    )


def fault_plans(
    apis: str | Iterable[str] = ("corto", "pumpdata", "pumpfun"),
    *,
    kinds: Iterable[FuzzKind | str] | None = None,
    messages: int = 50,
    max_faults: int = 5,
    min_faults: int = 0,
) -> st.SearchStrategy[FuzzPlan]:
    """Fault schedules for ``apis`` (one name or several): up to ``max_faults`` faults of
    ``kinds`` (default: every kind that fits each API, ``harness.core.fuzz.API_KINDS``), each on
    one of an API's first ``messages`` stream messages or requests. The plan's ``seed`` is 0 (it
    was drawn by Hypothesis, not from a seed).

    >>> from harness.strategies import fault_plans
    >>> plan = fault_plans("corto", messages=10).example()
    >>> all(f.api == "corto" and f.index < 10 for f in plan.faults)
    True
    """
    names = [apis] if isinstance(apis, str) else list(apis)
    wanted = list(FuzzKind) if kinds is None else [FuzzKind(kind) for kind in kinds]
    unknown = [name for name in names if name not in API_KINDS]
    if unknown or not names:
        raise ValueError(f"unknown api {unknown[0] if unknown else ''!r} (known: {', '.join(API_KINDS)})")
    if messages < 1 or max_faults < min_faults or min_faults < 0:
        raise ValueError("need messages >= 1 and 0 <= min_faults <= max_faults")
    usable = [name for name in names if frozenset(wanted) & API_KINDS[name]]
    if not usable:
        raise ValueError(f"none of the kinds asked for fits {', '.join(names)}")
    one = st.sampled_from(usable).flatmap(lambda api: faults(api, wanted, messages))
    return st.lists(
        one, min_size=min_faults, max_size=max_faults, unique_by=lambda f: (f.api, f.index, f.kind)
    ).map(lambda found: FuzzPlan(0, tuple(sorted(found))))
