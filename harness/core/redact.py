"""Redaction: the rules that keep secrets off tapes and consoles, applied before anything is written.

Owns which parts of a frame are secret and what replaces them. Safe by default (README
"Redaction"): JSON keys at any depth and form fields whose name says secret (``password``,
``apiKey``, ``access_token`` ...: case and separators ignored, so ``api-key``, ``API_KEY`` and
``apiKey`` are one name), every header whose name says token, secret, key, auth, session or
cookie, secret query parameters, credentials in URLs (also inside any text, such as an error
message), JWTs anywhere, every value of a Socket.IO ``auth`` payload, and always a Solana keypair
(:mod:`harness.core.keypair`; transaction signatures, mints and wallets are public and kept). Each
default is opted out of by name (:meth:`RedactionRules.with_extra`, ``keep``), never the keypair.

A secret becomes a stable placeholder, ``REDACTED-<16 hex>``: an HMAC-SHA256 of the secret under a
key the caller passes in (the recorder draws a fresh random one per session unless told
otherwise), so the same secret gives the same placeholder within a tape, and replay can still tell
two clients apart, but the placeholder does not reveal the secret. What is printed rather than
stored uses :meth:`Redactor.masking`, whose placeholder is the word ``REDACTED``. Redaction is
idempotent: placeholders are left alone. A redactor counts what it replaced per rule
(:attr:`Redactor.counts`), never the values.

Pure: the HMAC key is an argument; nothing here reads a clock, the environment or a file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from base64 import urlsafe_b64decode
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit

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
from harness.core.keypair import BYTE_ARRAY, array_keypair, replace_base58_keypairs

_SEPARATORS = str.maketrans("", "", "-_. ")


def normalize(name: str) -> str:
    """A name as the rules compare it: lower case, separators (``-_.`` and spaces) removed."""
    return name.lower().translate(_SEPARATORS)


SECRET_NAMES = frozenset(
    normalize(n)
    for n in (
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth_token",
        "session_token",
        "api_key",
        "api_secret",
        "api_token",
        "private_key",
        "secret_key",
        "client_secret",
        "auth",
        "authorization",
        "session",
        "session_id",
        "cookie",
        "credentials",
        "mnemonic",
        "seed_phrase",
    )
)
"""JSON keys and form fields whose value is redacted (normalized names)."""
DEFAULT_QUERY_PARAMS = SECRET_NAMES | {"key", "apikey", "token"}
"""URL query parameters whose value is redacted: the secret names, and ``key``."""
DEFAULT_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-api-key", "proxy-authorization"})
HEADER_WORDS = frozenset({"token", "secret", "key", "auth", "session", "cookie"})
"""A header whose (normalized) name holds one of these is redacted."""
PUBLIC_HEADERS = frozenset({"www-authenticate", "proxy-authenticate"})
"""Challenges (the scheme and realm a server asks for): public, though their name says auth."""
KEYPAIR_RULE = "solana-keypair"
PLACEHOLDER = re.compile(r"REDACTED-[0-9a-f]{16}")
MASK = "REDACTED"
DEPTH_RULE = "json-too-deep"
JSON_DEPTH = 100
"""How deep :meth:`Redactor.json` looks into a value (objects and arrays): a value nested deeper
is replaced whole, under ``json-too-deep``, so a hostile message costs a bounded walk, never hits
Python's recursion limit, and cannot hide a secret below the depth looked at."""
_AUTH_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9._~+/-]*)\s+(?P<credentials>\S.*)$")
# Each pattern starts where a word starts (a lookbehind), so a long run of letters is scanned once,
# not once per position: the cost stays linear in the text whatever a client sends.
_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_USERINFO = re.compile(
    r"(?P<pre>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}:(?:\\?/){2})(?P<user>[^\s/?#@:\"'\\]*)(?::(?P<pw>[^\s/?#@\"'\\]*))?@"
)
_PARAM = re.compile(r"(?P<pre>^|[?&;])(?P<name>[A-Za-z0-9_.%-]{1,64})=(?P<value>[^&#\s\"'<>\\]*)")
_FORM_PAIR = re.compile(r"[^=&\s{}\[\]\"]+(?:=[^&\s]*)?")
"""One ``name=value`` of a form-encoded body (or a bare name)."""


@dataclass(frozen=True, slots=True)
class RedactionRules:
    """Which secrets to remove. The defaults are what every tape gets; :meth:`with_extra` adds
    rules and keeps (opts out of) defaults by name.

    ``headers`` are exact names (lower case), ``header_words`` words a header's name may hold;
    ``query_params`` and ``json_keys`` are normalized names (:func:`normalize`): ``json_keys``
    also name form fields; ``patterns`` are regular expressions replaced wherever they match in
    any string the frame carries; ``keep`` are names no name rule redacts (a header whose name
    says ``key`` but which is kept by name, say).
    """

    headers: frozenset[str] = DEFAULT_HEADERS
    header_words: frozenset[str] = HEADER_WORDS
    query_params: frozenset[str] = DEFAULT_QUERY_PARAMS
    json_keys: frozenset[str] = SECRET_NAMES
    patterns: tuple[str, ...] = ()
    sio_auth: bool = True
    jwt: bool = True
    url_credentials: bool = True
    keep: frozenset[str] = frozenset()

    @classmethod
    def with_extra(
        cls,
        headers: Iterable[str] = (),
        query_params: Iterable[str] = (),
        json_keys: Iterable[str] = (),
        patterns: Iterable[str] = (),
        keep: Iterable[str] = (),
    ) -> RedactionRules:
        """The default rules plus user-supplied ones, less those kept by name.

        ``keep`` takes a rule as the tape header lists it (``json-key:session``,
        ``header-word:key``, ``query:key``, ``header:cookie``, ``jwt``, ``sio-auth``,
        ``url-credentials``) or a bare name, kept wherever a name rule would match it (JSON key,
        form field, query parameter, header). Raises ValueError for a bad pattern, for a keep
        that no default redacts, and for the Solana keypair rule, which always runs.
        """
        pats = tuple(patterns)
        for pattern in pats:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad redaction pattern {pattern!r}: {exc}") from None
            if compiled.fullmatch("") is not None:
                # It would put a placeholder between every two characters of every string.
                raise ValueError(f"bad redaction pattern {pattern!r}: it matches the empty string")
        rules = cls(
            headers=DEFAULT_HEADERS | {h.lower() for h in headers},
            query_params=DEFAULT_QUERY_PARAMS | {normalize(q) for q in query_params},
            json_keys=SECRET_NAMES | {normalize(k) for k in json_keys},
            patterns=pats,
        )
        for name in keep:
            rules = rules._kept(name)
        return rules

    def _kept(self, name: str) -> RedactionRules:
        kind, sep, value = name.partition(":")
        kind = kind.strip().lower()
        if name.strip().lower() == KEYPAIR_RULE or (sep and kind == KEYPAIR_RULE):
            raise ValueError("a Solana keypair is always redacted: it cannot be kept")
        if kind == "sio-auth":  # the header lists it as sio-auth:*
            return dataclasses.replace(self, sio_auth=False)
        if kind == "jwt" and not sep:
            return dataclasses.replace(self, jwt=False)
        if kind == "url-credentials" and not sep:
            return dataclasses.replace(self, url_credentials=False)
        if sep:
            norm = normalize(value)
            if kind == "header":  # that header, whatever words its name holds
                target = value.strip().lower()
                if target in self.headers or any(word in norm for word in self.header_words):
                    return dataclasses.replace(self, headers=self.headers - {target}, keep=self.keep | {norm})
            elif kind == "header-word":
                if norm in self.header_words:
                    return dataclasses.replace(self, header_words=self.header_words - {norm})
            elif kind == "json-key":
                if norm in self.json_keys:
                    return dataclasses.replace(self, json_keys=self.json_keys - {norm})
            elif kind == "query":
                if norm in self.query_params:
                    return dataclasses.replace(self, query_params=self.query_params - {norm})
            else:
                known = "json-key:, query:, header:, header-word:, sio-auth"
                raise ValueError(f"cannot keep {name!r}: no such rule ({known})")
            raise ValueError(f"cannot keep {name!r}: no rule redacts it")
        norm = normalize(name)
        lower = name.strip().lower()
        matched = (
            norm in self.json_keys
            or norm in self.query_params
            or lower in self.headers
            or any(word in norm for word in self.header_words)
        )
        if not norm or not matched:
            raise ValueError(f"cannot keep {name!r}: no rule redacts that name")
        return dataclasses.replace(
            self,
            json_keys=self.json_keys - {norm},
            query_params=self.query_params - {norm},
            headers=frozenset(h for h in self.headers if normalize(h) != norm),
            keep=self.keep | {norm},
        )

    def describe(self) -> tuple[str, ...]:
        """What ran, for the tape header. Patterns are counted, not quoted (may hold secrets)."""
        out = [f"header:{h}" for h in sorted(self.headers)]
        out += [f"header-word:{w}" for w in sorted(self.header_words)]
        out += [f"query:{q}" for q in sorted(self.query_params)]
        out += [f"json-key:{k}" for k in sorted(self.json_keys)]
        if self.sio_auth:
            out.append("sio-auth:*")
        if self.jwt:
            out.append("jwt")
        if self.url_credentials:
            out.append("url-credentials")
        out.append(KEYPAIR_RULE)
        if self.patterns:
            out.append(f"patterns:{len(self.patterns)}")
        out += [f"keep:{k}" for k in sorted(self.keep)]
        return tuple(out)


_ENDINGS = (
    *(f'{end}"' for end in ("word", "wd", "phrase", "secret", "token", "key", "auth", "ization")),
    *(f'{end}"' for end in ("cookie", "credentials", "mnemonic")),
    "session",
)
"""What a key naming a default secret ends with, lower case, before its closing quote (a
session id: holds ``session``)."""
_JSON_KEY = re.compile(r'"([^"\\]{1,64})"\s*:')
"""An object key in raw JSON text (what :meth:`Redactor.json_text` looks at before decoding)."""


class Redactor:
    """Applies :class:`RedactionRules` to frames, URLs, header lists and free text."""

    def __init__(self, rules: RedactionRules, key: bytes | None) -> None:
        """``key``: the HMAC key of placeholders (None: :meth:`masking`)."""
        if key is not None and not key:
            raise ValueError("a redaction key must not be empty")
        self.rules = rules
        self._key = key
        self._patterns = [re.compile(p) for p in rules.patterns]
        self._secret_keys: dict[str, bool] = {}
        self._secret_headers: dict[str, bool] = {}
        self._public_keys: set[str] = set()
        self._secret_params: dict[str, str] = {}
        self._endings = _ENDINGS if rules.json_keys <= SECRET_NAMES else None
        self.counts: Counter[str] = Counter()
        """What was replaced, per rule (``json-key:password``, ``jwt`` ...), never the values."""

    @classmethod
    def masking(cls, rules: RedactionRules | None = None) -> Redactor:
        """A redactor for what is printed: every secret becomes ``REDACTED``."""
        return cls(rules or RedactionRules(), None)

    # --- values --------------------------------------------------------------------------------

    def placeholder(self, secret: str, rule: str = "") -> str:
        """The stable placeholder for ``secret`` (itself, if it already is one); counted under
        ``rule``."""
        if PLACEHOLDER.fullmatch(secret) or secret == MASK:
            return secret
        if rule:
            self.counts[rule] += 1
        if self._key is None:
            return MASK
        digest = hmac.new(self._key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"REDACTED-{digest[:16]}"

    def text(self, value: str) -> str:
        """A free-form string with its secrets replaced: JWTs, credentials and secret query
        parameters in URLs, Solana keypairs (alone or among other words), and the user's patterns
        (placeholders intact)."""
        if not value:
            return value
        rules = self.rules
        if rules.jwt and "eyJ" in value:
            value = _JWT.sub(self._jwt, value)
        if rules.url_credentials and "@" in value:
            value = _USERINFO.sub(self._userinfo, value)
        if "=" in value and rules.query_params:
            value = _PARAM.sub(self._param, value)
        if len(value) >= 64:
            value = replace_base58_keypairs(value, self._keypair)
            if "[" in value:
                value = BYTE_ARRAY.sub(self._byte_array, value)
        if not self._patterns:
            return value
        parts = PLACEHOLDER.split(value)
        keep = PLACEHOLDER.findall(value)
        out: list[str] = []
        for i, part in enumerate(parts):
            for pattern in self._patterns:
                part = pattern.sub(lambda m: self.placeholder(m.group(0), "patterns"), part)
            out.append(part)
            if i < len(keep):
                out.append(keep[i])
        return "".join(out)

    def _jwt(self, match: re.Match[str]) -> str:
        token = match.group(0)
        head = token.split(".", 1)[0]
        try:
            header = json.loads(urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        except ValueError:
            return token
        if not isinstance(header, dict) or "alg" not in header:
            return token
        return self.placeholder(token, "jwt")

    def _userinfo(self, match: re.Match[str]) -> str:
        user, password = match["user"], match["pw"]
        if password is not None:
            shown = self.placeholder(password, "url-credentials") if password else ""
            return f"{match['pre']}{user}:{shown}@"
        if not user:
            return match.group(0)
        return f"{match['pre']}{self.placeholder(user, 'url-credentials')}@"

    def _param(self, match: re.Match[str]) -> str:
        name, value = match["name"], match["value"]
        norm = self._secret_params.get(name)
        if norm is None:
            norm = normalize(unquote_plus(name))
            norm = norm if norm in self.rules.query_params else ""
            if len(self._secret_params) < 4096:
                self._secret_params[name] = norm
        # punctuation that ends a sentence ends the value ("...?api_key=K: refused")
        stripped = value.rstrip(":.,;)")
        if not stripped or not norm:
            return match.group(0)
        hidden = self.placeholder(unquote_plus(stripped), f"query:{norm}")
        return f"{match['pre']}{name}={hidden}{value[len(stripped) :]}"

    def _keypair(self, data: bytes) -> str:
        return self.placeholder(data.hex(), KEYPAIR_RULE)

    @staticmethod
    def _array_keypair(match: re.Match[str]) -> bytes | None:
        return array_keypair([int(v) for v in match.group(0).strip("[] \t\r\n").split(",")])

    def _byte_array(self, match: re.Match[str]) -> str:
        data = self._array_keypair(match)
        return match.group(0) if data is None else self.placeholder(data.hex(), KEYPAIR_RULE)

    def _has_keypair_array(self, text: str) -> bool:
        """Whether raw text holds a keypair as an array of 64 numbers (129 characters at least)."""
        return len(text) >= 129 and "[" in text and any(map(self._array_keypair, BYTE_ARRAY.finditer(text)))

    def url(self, url: str) -> str:
        """``url`` with the values of secret query parameters and its credentials replaced."""
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc and self.rules.url_credentials:
            userinfo, _, host = netloc.rpartition("@")
            user, sep, password = userinfo.partition(":")
            if sep:
                netloc = f"{user}:{self.placeholder(password, 'url-credentials')}@{host}"
            elif user:
                netloc = f"{self.placeholder(user, 'url-credentials')}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            secret = self.rules.query_params
            # the values decoded: a secret written percent-encoded ("key%3A<keypair>") is found too
            hidden = [
                (k, self.placeholder(v, f"query:{normalize(k)}") if normalize(k) in secret else self.text(v))
                for k, v in pairs
            ]
            if hidden != pairs:
                query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in hidden)
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def headers(self, headers: Headers) -> Headers:
        return tuple((name, self._header_value(name, value)) for name, value in headers)

    def _header_secret(self, lname: str) -> bool:
        secret = self._secret_headers.get(lname)
        if secret is None:
            norm = normalize(lname)
            rules = self.rules
            secret = lname in rules.headers or (
                lname not in PUBLIC_HEADERS
                and norm not in rules.keep
                and any(word in norm for word in rules.header_words)
            )
            if len(self._secret_headers) < 4096:
                self._secret_headers[lname] = secret
        return secret

    def _header_value(self, name: str, value: str) -> str:
        lname = name.lower()
        if not self._header_secret(lname):
            return self.text(value)
        rule = f"header:{lname}"
        if "cookie" in lname:
            return self._cookie(value, rule, set_cookie=lname == "set-cookie")
        if "authorization" in lname:
            # Keep the scheme ("Bearer"), so replay still sees which kind of credential came.
            match = _AUTH_SCHEME.match(value)
            if match:
                return f"{match['scheme']} {self.placeholder(match['credentials'], rule)}"
        return self.placeholder(value, rule)

    def _cookie(self, value: str, rule: str, *, set_cookie: bool) -> str:
        pieces = value.split(";")
        out = []
        for index, piece in enumerate(pieces):
            # In Set-Cookie only the first pair is the cookie; the rest are attributes.
            if set_cookie and index > 0:
                out.append(self.text(piece))
                continue
            name, eq, val = piece.partition("=")
            if eq:
                out.append(f"{name}={self.placeholder(val.strip(), rule)}")
            elif piece.strip():  # a bare value, no name: all of it is the secret
                out.append(piece[: len(piece) - len(piece.lstrip())] + self.placeholder(piece.strip(), rule))
            else:
                out.append(piece)
        return ";".join(out)

    def _secret_key(self, key: str) -> str:
        """The rule that makes ``key`` secret (``json-key:<name>``), or empty."""
        secret = self._secret_keys.get(key)
        if secret is None:
            secret = normalize(key) in self.rules.json_keys
            if len(self._secret_keys) < 4096:
                self._secret_keys[key] = secret
        return f"json-key:{normalize(key)}" if secret else ""

    def _has_secret_key(self, text: str) -> bool:
        """Whether raw JSON text has an object key that names a secret. Cheap for the usual
        message: a key can only name a default secret if the text holds one of the words such a
        name ends with followed by a quote; the keys met before are known by a set difference."""
        if self._endings is not None:
            low = text.lower()
            if not any(end in low for end in self._endings):
                return False
        unknown = set(_JSON_KEY.findall(text)) - self._public_keys
        if not unknown:
            return False
        if any(self._secret_key(k) for k in unknown):
            return True
        if len(self._public_keys) < 4096:
            self._public_keys |= unknown
        return False

    def json(self, value: JsonValue, *, secret: str = "", depth: int = 0) -> JsonValue:
        """Redact a decoded JSON value: every scalar under a secret key (``secret``: the rule that
        made it so), keypairs, the text rules in strings, and what is nested deeper than
        :data:`JSON_DEPTH`."""
        if isinstance(value, dict | list | tuple) and depth >= JSON_DEPTH:
            return self.placeholder(f"a value nested deeper than {JSON_DEPTH}", DEPTH_RULE)
        if isinstance(value, dict):
            return {
                k: self.json(
                    v, secret=secret or (self._secret_key(k) if isinstance(k, str) else ""), depth=depth + 1
                )
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            if len(value) == 64 and not secret:
                data = array_keypair(list(value))
                if data is not None:
                    return self.placeholder(data.hex(), KEYPAIR_RULE)
            return [self.json(v, secret=secret, depth=depth + 1) for v in value]
        if secret and value is not None and not isinstance(value, bool):
            return self.placeholder(str(value), secret)
        if isinstance(value, str):
            return self.text(value)
        return value

    def json_text(self, text: str) -> str:
        """Redact secret JSON keys and the text rules in a text that may be JSON.

        The text is kept byte for byte unless a secret JSON key is present in it, so replay stays
        faithful to the recorded number formats. A keypair written as an array is replaced in the
        decoded message too (a JSON string in its place, or a placeholder inside the string that
        held it), so the message stays JSON.
        """
        if (self.rules.json_keys and self._has_secret_key(text)) or self._has_keypair_array(text):
            try:
                decoded = json.loads(text)
            except RecursionError:  # deeper than the parser goes: it cannot be searched, so it goes
                return self.placeholder(text, DEPTH_RULE)
            except ValueError:
                return self.text(text)
            redacted = self.json(decoded)
            if redacted != decoded:
                return json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))
        return self.text(text)

    def form(self, text: str) -> str | None:
        """A form-encoded text (``a=1&password=x``) with its secret fields replaced (the JSON key
        and query parameter names), or None when ``text`` is not form-encoded."""
        if "=" not in text or text[:1] in '{["' or "=" not in text.partition("&")[0]:
            return None
        if not all(_FORM_PAIR.fullmatch(piece) for piece in text.split("&")):
            return None
        names = self.rules.json_keys | self.rules.query_params
        out = []
        for piece in text.split("&"):
            name, eq, value = piece.partition("=")
            norm = normalize(unquote_plus(name))
            if eq and value and norm in names:
                hidden = self.placeholder(unquote_plus(value), f"form-field:{norm}")
                piece = f"{name}={quote(hidden, safe='')}"
            out.append(piece)
        return self.text("&".join(out))

    def body(self, body: bytes) -> bytes:
        """An HTTP body or WebSocket binary message: form fields, JSON keys and the text rules
        when it is UTF-8 text; otherwise the patterns, matched byte for character (Latin-1), so a
        secret inside binary data goes too."""
        if not body:
            return body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            form = self.form(text)
            return (form if form is not None else self.json_text(text)).encode("utf-8")
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
                    auth=self.json(frame.auth, secret="sio-auth" if self.rules.sio_auth else ""),
                    url=self.url(frame.url),
                )
            case SioEvent() | SioAck():
                return dataclasses.replace(frame, args=tuple(self.json(arg) for arg in frame.args))
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


def shown(text: str, rules: RedactionRules | None = None) -> str:
    """``text`` (a URL, an error message, a request line) as the harness prints it: every secret
    the rules find replaced by ``REDACTED``."""
    redactor = Redactor.masking(rules)
    return redactor.url(text) if "://" in text and " " not in text.strip() else redactor.text(text)
