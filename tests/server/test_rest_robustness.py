"""Nothing a client sends over HTTP breaks the server: malformed requests, odd methods, hostile
paths, queries and headers get a 4xx (JSON where the emulation answers), never a server error,
and the next client is served as before.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.ratelimit import RateLimitConfig
from harness.server.app import MockServer
from harness.server.config import PumpfunConfig
from tests.server import pumpfun_tape
from tests.server.pumpfun_tape import MINT

OK = b"Host: x\r\nConnection: close\r\n"


def _exchange(url: str, data: bytes) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _handler_errors(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    """Errors logged for a request the server failed on (not a malformed request it refused)."""
    from aiohttp.http_exceptions import HttpProcessingError

    return [
        r
        for r in records
        if r.levelno >= logging.ERROR and not (r.exc_info and isinstance(r.exc_info[1], HttpProcessingError))
    ]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"FOO /coins/latest HTTP/1.1\r\n" + OK + b"\r\n", b"400"),
        (b"TRACE /coins/latest HTTP/1.1\r\n" + OK + b"\r\n", b"405"),
        (b"GET /coins/latest HTTP/1.1\r\n" + OK + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n", b"400"),
        (
            b"GET /coins/latest HTTP/1.1\r\n"
            + OK
            + b"".join(b"X-%d: a\r\n" % i for i in range(500))
            + b"\r\n",
            b"400",
        ),
        (b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n" + OK + b"\r\n", b"400"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64, b"400"),
        (b"GET /coins/latest HTTP/9.9\r\n" + OK + b"\r\n", b"400"),
        (b"GET /coins/%ed%a0%80 HTTP/1.1\r\n" + OK + b"\r\n", b"404"),
        (b"GET /%00/..%2f..%2fetc%2fpasswd HTTP/1.1\r\n" + OK + b"\r\n", b"404"),
        (b"GET /trades/all/" + MINT.encode() + b"?limit=%ed%a0%80 HTTP/1.1\r\n" + OK + b"\r\n", b"400"),
        (
            b"GET /trades/all/" + MINT.encode() + b"?offset=" + b"9" * 5000 + b" HTTP/1.1\r\n" + OK + b"\r\n",
            b"400",
        ),
        (b"GET /coins/latest HTTP/1.1\r\n" + OK + b"Authorization: Bearer \xff\xfe\r\n\r\n", b"200"),
        (b"GET /coins/latest HTTP/1.1\r\n" + OK + b'If-None-Match: "\xff", W/"c1\r\n\r\n', b"200"),
        (b"GET /coins/latest HTTP/1.1\r\n" + OK + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", b"400"),
        (b"POST /coins/latest HTTP/1.1\r\n" + OK + b"Content-Length: 5\r\n\r\nhello", b"405"),
    ],
)
async def test_hostile_requests_get_a_4xx_and_the_server_goes_on(
    pumpfun_tape_path: Path, caplog: pytest.LogCaptureFixture, raw: bytes, status: bytes
) -> None:
    async with MockServer([pumpfun_tape_path], manual=True, port=0) as server:
        answer = await asyncio.to_thread(_exchange, server.urls["rest"], raw)
        assert answer.split(b" ", 2)[1] == status, answer[:300]
        after = await asyncio.to_thread(requests.get, server.urls["rest"] + "/coins/latest", timeout=5)
        assert after.status_code == 200
    assert _handler_errors(caplog.records) == []


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for every example, on its own loop in a thread; yields its REST URL."""
    tape = pumpfun_tape.write(tmp_path_factory.mktemp("robust") / "p.jsonl")
    no_limit = PumpfunConfig(rate_limit=RateLimitConfig(enabled=False))
    server = MockServer([tape], manual=True, port=0, pumpfun=no_limit)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield server.urls["rest"]
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


segments = st.one_of(
    st.sampled_from(
        ["coins", "trades", "all", "latest", MINT, "sol-price", "..", "", "_harness", "socket.io"]
    ),
    st.text(max_size=30),
)
values = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**120).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=20),
)
header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60).map(
    str.strip
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    path=st.lists(segments, min_size=1, max_size=5),
    query=st.lists(
        st.tuples(st.sampled_from(["limit", "offset", "minimumSize", "sync", "x"]), values), max_size=4
    ),
    if_none_match=header_values,
    authorization=header_values,
)
def test_any_path_query_and_header_gets_an_answer_never_a_server_error(
    served: str,
    method: str,
    path: list[str],
    query: list[tuple[str, str]],
    if_none_match: str,
    authorization: str,
) -> None:
    url = served + "/" + "/".join(quote(segment, safe="") for segment in path)
    headers = {"If-None-Match": if_none_match, "Authorization": f"Bearer {authorization}".strip()}
    response = requests.request(method, url, params=query, headers=headers, timeout=5)
    assert response.status_code in (200, 304, 400, 404, 405), response.text
    if response.status_code >= 400 and method != "HEAD":
        response.json()  # a JSON error body (the REST emulation's, the control API's or engine.io's)
