"""Redaction: the rules that keep secrets off tapes, applied to every frame before it is written.

Owns which parts of a frame are secret (headers, URL query parameters, Socket.IO ``auth``
values, user-chosen JSON keys and regular expressions) and what replaces them. A secret becomes a
stable placeholder, ``REDACTED-<16 hex>``: an HMAC-SHA256 of the secret under a key the caller
passes in (the recorder draws a fresh random one per session unless told otherwise), so the same
secret gives the same placeholder within a tape, and replay can still tell two clients apart, but
the placeholder does not reveal the secret. Redaction is idempotent: placeholders are left alone.

Pure: the HMAC key is an argument; nothing here reads a clock, the environment or a file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from harness.core.frames import (
    Frame,
    Headers,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    JsonValue,
    Recorded,
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

DEFAULT_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-api-key", "proxy-authorization"})
DEFAULT_QUERY_PARAMS = frozenset({"api_key", "token", "apikey", "api-key"})
"""``api-key``: PumpPortal's (``wss://pumpportal.fun/api/data?api-key=KEY``, contract §4)."""
PLACEHOLDER = re.compile(r"REDACTED-[0-9a-f]{16}")
_AUTH_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9._~+/-]*)\s+(?P<credentials>\S.*)$")


@dataclass(frozen=True, slots=True)
class RedactionRules:
    """Which secrets to remove. The defaults are what every tape gets; add to them, never less.

    ``headers`` and ``query_params`` are matched case-insensitively; ``json_keys`` exactly, at any
    depth of a JSON body, WebSocket text message or Socket.IO payload; ``patterns`` are regular
    expressions replaced wherever they match in any string the frame carries.
    """

    headers: frozenset[str] = DEFAULT_HEADERS
    query_params: frozenset[str] = DEFAULT_QUERY_PARAMS
    json_keys: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()
    sio_auth: bool = True

    @classmethod
    def with_extra(
        cls,
        headers: Iterable[str] = (),
        query_params: Iterable[str] = (),
        json_keys: Iterable[str] = (),
        patterns: Iterable[str] = (),
    ) -> RedactionRules:
        """The default rules plus user-supplied ones. Raises ValueError for a bad pattern."""
        pats = tuple(patterns)
        for pattern in pats:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad redaction pattern {pattern!r}: {exc}") from None
            if compiled.fullmatch("") is not None:
                # It would put a placeholder between every two characters of every string.
                raise ValueError(f"bad redaction pattern {pattern!r}: it matches the empty string")
        return cls(
            headers=DEFAULT_HEADERS | {h.lower() for h in headers},
            query_params=DEFAULT_QUERY_PARAMS | {q.lower() for q in query_params},
            json_keys=frozenset(json_keys),
            patterns=pats,
        )

    def describe(self) -> tuple[str, ...]:
        """What ran, for the tape header. Patterns are counted, not quoted (may hold secrets)."""
        out = [f"header:{h}" for h in sorted(self.headers)]
        out += [f"query:{q}" for q in sorted(self.query_params)]
        if self.sio_auth:
            out.append("sio-auth:*")
        out += [f"json-key:{k}" for k in sorted(self.json_keys)]
        if self.patterns:
            out.append(f"patterns:{len(self.patterns)}")
        return tuple(out)


class Redactor:
    """Applies :class:`RedactionRules` to frames, URLs and header lists."""

    def __init__(self, rules: RedactionRules, key: bytes) -> None:
        if not key:
            raise ValueError("a redaction key must not be empty")
        self.rules = rules
        self._key = key
        self._patterns = [re.compile(p) for p in rules.patterns]

    # --- values --------------------------------------------------------------------------------

    def placeholder(self, secret: str) -> str:
        """The stable placeholder for ``secret`` (itself, if it already is one)."""
        if PLACEHOLDER.fullmatch(secret):
            return secret
        digest = hmac.new(self._key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"REDACTED-{digest[:16]}"

    def text(self, value: str) -> str:
        """Apply the user's patterns to a free-form string, leaving placeholders intact."""
        if not self._patterns:
            return value
        parts = PLACEHOLDER.split(value)
        keep = PLACEHOLDER.findall(value)
        out: list[str] = []
        for i, part in enumerate(parts):
            for pattern in self._patterns:
                part = pattern.sub(lambda m: self.placeholder(m.group(0)), part)
            out.append(part)
            if i < len(keep):
                out.append(keep[i])
        return "".join(out)

    def url(self, url: str) -> str:
        """Replace the values of secret query parameters (and userinfo passwords) in ``url``."""
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, host = netloc.rpartition("@")
            user, sep, password = userinfo.partition(":")
            if sep:
                netloc = f"{user}:{self.placeholder(password)}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(k.lower() in self.rules.query_params for k, _ in pairs):
                query = "&".join(
                    f"{quote(k, safe='')}="
                    + quote(self.placeholder(v) if k.lower() in self.rules.query_params else v, safe="")
                    for k, v in pairs
                )
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def headers(self, headers: Headers) -> Headers:
        return tuple((name, self._header_value(name, value)) for name, value in headers)

    def _header_value(self, name: str, value: str) -> str:
        lname = name.lower()
        if lname not in self.rules.headers:
            return self.text(value)
        if lname in ("cookie", "set-cookie"):
            return self._cookie(value, set_cookie=lname == "set-cookie")
        if lname in ("authorization", "proxy-authorization"):
            # Keep the scheme ("Bearer"), so replay still sees which kind of credential came.
            match = _AUTH_SCHEME.match(value)
            if match:
                return f"{match['scheme']} {self.placeholder(match['credentials'])}"
        return self.placeholder(value)

    def _cookie(self, value: str, *, set_cookie: bool) -> str:
        pieces = value.split(";")
        out = []
        for index, piece in enumerate(pieces):
            # In Set-Cookie only the first pair is the cookie; the rest are attributes.
            if set_cookie and index > 0:
                out.append(self.text(piece))
                continue
            name, eq, val = piece.partition("=")
            if eq:
                out.append(f"{name}={self.placeholder(val.strip())}")
            elif piece.strip():  # a bare value, no name: all of it is the secret
                out.append(piece[: len(piece) - len(piece.lstrip())] + self.placeholder(piece.strip()))
            else:
                out.append(piece)
        return ";".join(out)

    def json(self, value: JsonValue, *, secret: bool = False) -> JsonValue:
        """Redact a decoded JSON value: every scalar under a secret key, and patterns in strings."""
        if isinstance(value, dict):
            return {k: self.json(v, secret=secret or k in self.rules.json_keys) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.json(v, secret=secret) for v in value]
        if secret and value is not None and not isinstance(value, bool):
            return self.placeholder(str(value))
        if isinstance(value, str):
            return self.text(value)
        return value

    def json_text(self, text: str) -> str:
        """Redact JSON keys and patterns in a text that may be JSON.

        The text is kept byte for byte unless a secret JSON key is present in it, so replay stays
        faithful to the recorded number formats.
        """
        if self.rules.json_keys and any(f'"{k}"' in text for k in self.rules.json_keys):
            try:
                decoded = json.loads(text)
            except ValueError:
                return self.text(text)
            redacted = self.json(decoded)
            if redacted != decoded:
                return self.text(json.dumps(redacted, ensure_ascii=False, separators=(",", ":")))
        return self.text(text)

    def body(self, body: bytes) -> bytes:
        """An HTTP body or WebSocket binary message: JSON keys and patterns when it is UTF-8 text;
        otherwise the patterns, matched byte for character (Latin-1), so a secret inside binary
        data goes too."""
        try:
            return self.json_text(body.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            pass
        if not self._patterns:
            return body
        data = self.text(body.decode("latin-1")).encode("latin-1")
        try:  # what is left may be UTF-8 now: redact it as such, so a second pass changes nothing
            return self.json_text(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return data

    # --- frames --------------------------------------------------------------------------------

    def frame(self, frame: Frame) -> Frame:
        """``frame`` with every secret replaced. Idempotent: ``frame(frame(x)) == frame(x)``."""
        match frame:
            case HttpExchange():
                return dataclasses.replace(
                    frame,
                    request=HttpRequest(
                        method=frame.request.method,
                        url=self.url(frame.request.url),
                        headers=self.headers(frame.request.headers),
                        body=self.body(frame.request.body),
                    ),
                    response=HttpResponse(
                        status=frame.response.status,
                        reason=frame.response.reason,
                        headers=self.headers(frame.response.headers),
                        body=self.body(frame.response.body),
                    ),
                )
            case WsOpen():
                return dataclasses.replace(
                    frame, url=self.url(frame.url), headers=self.headers(frame.headers)
                )
            case WsText():
                return dataclasses.replace(frame, data=self.json_text(frame.data))
            case WsBinary():
                return dataclasses.replace(frame, data=self.body(frame.data))
            case WsClose():
                return dataclasses.replace(frame, reason=self.text(frame.reason))
            case SioConnect():
                return dataclasses.replace(
                    frame,
                    auth=self.json(frame.auth, secret=self.rules.sio_auth),
                    url=self.url(frame.url),
                )
            case SioEvent() | SioAck():
                return dataclasses.replace(frame, args=tuple(self.json(list(frame.args))))
            case SioConnectError():
                return dataclasses.replace(
                    frame, message=self.text(frame.message), data=self.json(frame.data)
                )
            case SioDisconnect():
                return dataclasses.replace(frame, reason=self.text(frame.reason))

    def recorded(self, recorded: Recorded) -> Recorded:
        """What the tape header says was recorded, with the secrets in it removed."""
        return dataclasses.replace(
            recorded,
            upstreams=tuple((name, self.url(url)) for name, url in recorded.upstreams),
            label=self.text(recorded.label),
            extra=tuple((key, self.json(value)) for key, value in recorded.extra),
        )
