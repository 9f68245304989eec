"""Control endpoints under /_harness/, for clients in other languages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from harness.server.app import MockServer

JSON = {"Content-Type": "application/json"}
"""What every state-changing control call sends (docs/reference/control-plane.md)."""


@pytest.fixture
async def server(pumpfun_tape_path: Path) -> AsyncIterator[MockServer]:
    async with MockServer([pumpfun_tape_path], manual=True, port=0, validate=False) as srv:
        yield srv


async def test_advance_state_reset(server: MockServer) -> None:
    control = server.urls["control"]
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{control}/advance", json={"seconds": 12.5}) as r:
            assert r.status == 200 and (await r.json()) == {"now": 12.5}
        async with http.post(f"{control}/advance?seconds=1", headers=JSON) as r:
            assert (await r.json()) == {"now": 13.5}
        async with http.get(f"{server.urls['rest']}/coins/latest") as r:
            assert (await r.json())["name"] == "second"
        async with http.get(f"{control}/state") as r:
            state = await r.json()
        assert state["clock"] == {
            "mode": "manual",
            "speed": "1",
            "started": True,
            "now": 13.5,
            "loop": False,
            "lateness_ms": None,
        }
        assert state["apis"]["pumpfun"]["requests"] == 1
        async with http.post(f"{control}/reset", headers=JSON) as r:
            assert (await r.json()) == {"now": 0.0}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"json": {"seconds": -1}}, "finite number >= 0"),
        ({"json": {"sec": 1}}, "give the seconds"),
        ({"data": b"{nope"}, "body must be JSON"),
        ({"params": {"seconds": "inf"}}, "finite number"),
        ({"params": {"seconds": "nan"}}, "finite number"),
        ({"params": {"seconds": "-2"}}, "finite number >= 0"),
        ({"params": {"seconds": "1_0"}}, "got '1_0'"),
        ({"params": {"seconds": "ten"}}, "got 'ten'"),
        ({"json": {"seconds": True}}, "got true"),
        ({"json": {"seconds": [1]}}, "got [1]"),
        ({"json": {"seconds": 10**400}}, "finite number >= 0"),
        ({"data": b"[" * 100_000}, "body must be JSON"),
        ({"data": b'{"seconds": ' + b"[" * 100_000}, "body must be JSON"),
        ({"json": [1.5]}, "give the seconds"),
    ],
)
async def test_bad_advance_is_400(server: MockServer, kwargs: dict[str, object], message: str) -> None:
    async with (
        aiohttp.ClientSession(headers=JSON) as http,
        http.post(f"{server.urls['control']}/advance", **kwargs) as r,  # type: ignore[arg-type]
    ):
        assert r.status == 400
        assert message in (await r.json())["error"]


async def test_violations_read_and_clear(server: MockServer) -> None:
    from harness.server.context import ServedViolation

    server.report(
        ServedViolation("corto", "trade", "/price", "type", "'x' is not a number", "server", "ws-1")
    )
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.urls['control']}/violations") as r:
            (violation,) = await r.json()
        assert violation["pointer"] == "/price" and violation["rule"] == "type"
        async with http.delete(f"{server.urls['control']}/violations", headers=JSON) as r:
            assert len(await r.json()) == 1
        async with http.get(f"{server.urls['control']}/violations") as r:
            assert await r.json() == []


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/advance", "POST"),
        ("DELETE", "/state", "GET"),
        ("POST", "/violations", "GET, DELETE"),
        ("GET", "/reset", "POST"),
    ],
)
async def test_a_wrong_method_is_405_with_allow(
    server: MockServer, method: str, path: str, allow: str
) -> None:
    async with aiohttp.ClientSession() as http, http.request(method, server.urls["control"] + path) as r:
        assert r.status == 405 and r.headers["Allow"] == allow
        assert method in (await r.json())["error"]
    assert server.now() == 0, "nothing was done"


async def test_an_unknown_control_path_is_404_listing_the_endpoints(server: MockServer) -> None:
    async with aiohttp.ClientSession() as http, http.get(server.urls["control"] + "/clock") as r:
        assert r.status == 404
        error = (await r.json())["error"]
    assert "/_harness/clock" in error and "POST /_harness/advance" in error
    assert "x-ratelimit-limit" not in r.headers, "the control API is not the REST emulation"


async def test_advance_with_a_numeric_string_body(server: MockServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.urls['control']}/advance", json={"seconds": "2.5"}) as r:
            assert (await r.json()) == {"now": 2.5}
        async with http.post(f"{server.urls['control']}/advance?seconds=.5", headers=JSON) as r:
            assert (await r.json()) == {"now": 3.0}
