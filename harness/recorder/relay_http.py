"""The recording proxy's REST relay: forward a request, answer with the upstream's answer, record.

The request goes upstream as the client sent it (method, path, query, headers except hop-by-hop
ones, body); the answer comes back unchanged (status, reason, headers with ETag and rate limits,
body bytes as sent, so a compressed body stays compressed, 304s, redirects not followed). The tape
gets the exchange with its latency and the body decoded (gzip and deflate; the headers as sent).

Upstream failures, as the client sees them and as the tape records them (docs/guides/record.md "Recording"):
no connection (refused, TLS, DNS) is a ``502 Bad Gateway``, no answer in time a
``504 Gateway Timeout``, both with a plain-text body that says what happened and an
``X-Harness-Upstream-Error`` header naming the kind; a 5xx is passed through as it came; an
upstream that drops the connection before or during its answer gets the client's connection
dropped at the same point (the status, headers and body bytes that arrived are sent first), and
the tape records what arrived (a 502 when nothing did) marked with ``X-Harness-Upstream-Error``.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from harness.core.frames import Headers, HttpExchange, HttpRequest, HttpResponse, header_value
from harness.core.redact import shown
from harness.recorder.failures import FailureKind, classify, describe

if TYPE_CHECKING:
    from harness.recorder.proxy import RecordingProxy

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
"""Headers that describe one hop (RFC 9110 7.6.1), not the message: never forwarded as is."""
ERROR_HEADER = "X-Harness-Upstream-Error"


def raw_headers(raw: tuple[tuple[bytes, bytes], ...]) -> Headers:
    """Headers in wire order, names as sent, duplicates kept."""
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)


def forwardable(headers: Headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


def upgrade_headers(request: web.Request) -> Headers:
    """The client's headers that a stream relay opens its upstream connection with: hop-by-hop
    ones and the WebSocket handshake's (the relay's own client makes those) aside."""
    return tuple(
        (k, v)
        for k, v in raw_headers(request.raw_headers)
        if k.lower() not in HOP_BY_HOP and not k.lower().startswith("sec-websocket")
    )


def answer(request: web.Request, status: int, reason: str, headers: Headers, body: bytes) -> web.Response:
    """What the client gets of an upstream's answer: status, reason, headers as they came (the
    hop-by-hop ones aside), body bytes as sent (a compressed one stays compressed)."""
    response = web.Response(status=status, reason=reason or None, body=body)
    copy_headers(response, headers, keep_length=request.method == "HEAD" or not body)
    return response


def copy_headers(response: web.StreamResponse, headers: Headers, *, keep_length: bool) -> None:
    """``headers`` onto ``response``, hop-by-hop ones aside; ``keep_length``: the upstream's
    Content-Length too (a HEAD's, an empty body's, a dropped answer's: aiohttp would say 0)."""
    for name, value in headers:
        lname = name.lower()
        if lname not in HOP_BY_HOP or (keep_length and lname == "content-length"):
            response.headers.add(name, value)


def decoded(body: bytes, headers: Headers) -> bytes:
    """The body as the tape keeps it: gzip or deflate undone (anything else is kept as sent)."""
    encoding = (header_value(headers, "Content-Encoding") or "").strip().lower()
    if not body or encoding not in ("gzip", "x-gzip", "deflate"):
        return body
    try:
        # wbits 47: a gzip or a zlib stream, told apart by its header
        return zlib.decompress(body, 47)
    except zlib.error:
        try:
            return zlib.decompress(body, -15)  # raw deflate, as some servers send "deflate"
        except zlib.error:
            return body


class HttpRelay:
    """Forwards every REST request of one proxy. ``http`` is created when the proxy starts."""

    def __init__(self, proxy: RecordingProxy, upstream: str | None, timeout: float) -> None:
        self.proxy = proxy
        self.upstream = upstream.rstrip("/") if upstream else None
        self.timeout = timeout
        self.http: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self.http = aiohttp.ClientSession(
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        session = self.proxy.session
        conn = session.conn("http")
        started = session.t()
        body = await request.read()
        headers = raw_headers(request.raw_headers)
        recorded_request = HttpRequest(request.method, request.path_qs, headers, body)
        self.proxy.counters["http.exchanges"] += 1
        if self.upstream is None or self.http is None:
            return self._made(request, conn, started, recorded_request, 502, "no REST upstream", None)
        status, reason = 0, ""
        answer_headers: Headers = ()
        parts: list[bytes] = []
        try:
            async with self.http.request(
                request.method,
                self.upstream + request.path_qs,
                headers=forwardable(headers),
                data=body if body else None,
                allow_redirects=False,
            ) as upstream:
                status, reason = upstream.status, upstream.reason or ""
                answer_headers = raw_headers(upstream.raw_headers)
                async for chunk in upstream.content.iter_any():
                    parts.append(chunk)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            kind = classify(exc, connected=status != 0)
            if kind is FailureKind.DROPPED:
                return await self._dropped(
                    request, conn, started, recorded_request, exc, status, reason, answer_headers, parts
                )
            code = 504 if kind is FailureKind.TIMEOUT else 502
            return self._made(request, conn, started, recorded_request, code, describe(exc), kind)
        body = b"".join(parts)
        session.write(
            HttpExchange(
                started,
                conn,
                recorded_request,
                HttpResponse(status, answer_headers, decoded(body, answer_headers), reason),
                session.t() - started,
            )
        )
        if status >= 500:
            self.proxy.fail("http", conn, FailureKind.SERVER_ERROR, f"{status} {reason} {request.path_qs}")
        return answer(request, status, reason, answer_headers, body)

    def _made(
        self,
        request: web.Request,
        conn: str,
        started: float,
        recorded_request: HttpRequest,
        status: int,
        detail: str,
        kind: FailureKind | None,
    ) -> web.Response:
        """A 502 or 504 of the proxy's own, recorded as sent."""
        session = self.proxy.session
        what = {502: "Bad Gateway", 504: "Gateway Timeout"}[status]
        name = kind.value if kind else "none"
        upstream = self.upstream or "(none)"
        text = shown(f"harness recording proxy: upstream {upstream}: {name}: {detail}") + "\n"
        headers = (("Content-Type", "text/plain; charset=utf-8"), (ERROR_HEADER, name))
        session.write(
            HttpExchange(
                started,
                conn,
                recorded_request,
                HttpResponse(status, headers, text.encode(), what),
                session.t() - started,
            )
        )
        if kind is not None:
            self.proxy.fail("http", conn, kind, f"{request.method} {request.path_qs}: {detail}")
        response = web.Response(status=status, reason=what, text=text)
        response.headers[ERROR_HEADER] = name
        return response

    async def _dropped(
        self,
        request: web.Request,
        conn: str,
        started: float,
        recorded_request: HttpRequest,
        exc: BaseException,
        status: int,
        reason: str,
        answer_headers: Headers,
        parts: list[bytes],
    ) -> web.StreamResponse:
        """The upstream dropped the connection: so does the proxy, after what had arrived."""
        session = self.proxy.session
        partial = b"".join(parts)
        got = f"after {len(partial)} body bytes" if status else "before answering"
        detail = f"dropped the connection {got} ({describe(exc)})"
        mark = ((ERROR_HEADER, f"dropped {got}"),)
        recorded = (
            HttpResponse(status, answer_headers + mark, decoded(partial, answer_headers), reason)
            if status
            else HttpResponse(502, mark, b"", "Bad Gateway")
        )
        session.write(HttpExchange(started, conn, recorded_request, recorded, session.t() - started))
        self.proxy.fail("http", conn, FailureKind.DROPPED, f"{request.method} {request.path_qs}: {detail}")
        if status:
            response = web.StreamResponse(status=status, reason=reason or None)
            copy_headers(response, answer_headers, keep_length=True)
            if header_value(answer_headers, "Content-Length") is None:
                response.enable_chunked_encoding()
            await response.prepare(request)
            if partial:
                await response.write(partial)
        _abort(request)
        raise ConnectionResetError(f"upstream {detail}")


def _abort(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()
