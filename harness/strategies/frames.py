"""Hypothesis strategies for tape frames of every kind (for round-trip and redaction properties)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness.core.frames import (
    Direction,
    Frame,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    SioAck,
    SioConnect,
    SioConnectError,
    SioDisconnect,
    SioEvent,
    WsBinary,
    WsClose,
    WsOpen,
    WsText,
)

times = st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda t: round(t, 6))
conns = st.from_regex(r"\A(http|ws|sio)-[0-9]{1,4}\Z")
directions = st.sampled_from(list(Direction))
header_names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z")
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
headers = st.lists(st.tuples(header_names, header_values), max_size=5).map(tuple)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    # A peer's JSON may hold "\ud800": Python decodes it to a lone surrogate, which is no UTF-8.
    | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters(), max_size=4)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
paths = st.from_regex(r"\A/[a-z/]{0,20}(\?[a-z]{1,6}=[A-Za-z0-9]{0,10})?\Z")


def frames() -> st.SearchStrategy[Frame]:
    """Any frame of any kind, with awkward content (binary bodies, unicode, big ints, nulls)."""
    exchange = st.builds(
        HttpExchange,
        t=times,
        conn=conns,
        request=st.builds(
            HttpRequest,
            method=st.sampled_from(["GET", "POST", "HEAD"]),
            url=paths,
            headers=headers,
            body=st.binary(max_size=40),
        ),
        response=st.builds(
            HttpResponse,
            status=st.integers(100, 599),
            headers=headers,
            body=st.binary(max_size=40) | st.text(max_size=40).map(str.encode),
            reason=st.sampled_from(["", "OK", "Not Modified"]),
        ),
        latency=times,
    )
    return st.one_of(
        exchange,
        st.builds(
            WsOpen,
            t=times,
            conn=conns,
            url=paths,
            headers=headers,
            subprotocol=st.none() | st.just("json"),
        ),
        st.builds(WsText, t=times, conn=conns, direction=directions, data=st.text(max_size=60)),
        st.builds(WsBinary, t=times, conn=conns, direction=directions, data=st.binary(max_size=40)),
        st.builds(
            WsClose,
            t=times,
            conn=conns,
            direction=directions,
            code=st.none() | st.integers(1000, 4999),
            reason=st.text(max_size=20),
        ),
        st.builds(
            SioConnect,
            t=times,
            conn=conns,
            namespace=st.just("/"),
            auth=json_values,
            url=st.just("") | paths,
        ),
        st.builds(
            SioEvent,
            t=times,
            conn=conns,
            direction=directions,
            name=st.text(min_size=1, max_size=20),
            args=st.lists(json_values, max_size=3).map(tuple),
            ack_id=st.none() | st.integers(0, 2**31),
        ),
        st.builds(
            SioAck,
            t=times,
            conn=conns,
            direction=directions,
            ack_id=st.integers(0, 2**31),
            args=st.lists(json_values, max_size=3).map(tuple),
        ),
        st.builds(SioConnectError, t=times, conn=conns, message=st.text(max_size=30), data=json_values),
        st.builds(SioDisconnect, t=times, conn=conns, direction=directions, reason=st.text(max_size=20)),
    )
