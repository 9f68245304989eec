"""Who may use the control plane: the pure rules behind ``/_harness/*`` and Socket.IO's CORS.

Owns the decision for one control request from what it carries (method, ``Host``,
``Content-Type``, token) and the server's settings, which hosts and origins are loopback, and the
address a client can use to reach a server that listens on a wildcard address. The adapter
(:mod:`harness.server.control`) turns a :class:`Refusal` into its HTTP answer. No I/O.

The rules (docs/reference/control-plane.md):

* the control endpoints answer only a ``Host`` that is a loopback name (``localhost``, ``127.x``,
  ``[::1]``), the address the server listens on, or a name added with ``--control-host``: a web
  page that rebinds its own DNS name to 127.0.0.1 still sends its own name, and is refused (403);
* a call that changes state (``POST``, ``DELETE``) needs ``Content-Type: application/json``, which
  a web page cannot send to another origin without the browser asking first (415);
* and, when a token is set, the token in ``X-Harness-Token`` (401).
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field

TOKEN_HEADER = "X-Harness-Token"
TOKEN_ENV = "HARNESS_CONTROL_TOKEN"
"""Environment variable ``harness serve`` and the pytest plugin read the control token from."""
JSON = "application/json"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}
"""Wildcard listening addresses and the loopback address a client on this machine uses instead."""


def host_name(value: str) -> str:
    """The name of a ``Host`` header or URL authority, without port or brackets, lower case:
    ``[::1]:8765`` -> ``::1``, ``LocalHost.:80`` -> ``localhost``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value[1:]
    name, sep, port = value.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        value = name
    return value.rstrip(".")


def is_loopback(name: str) -> bool:
    """``localhost`` or a loopback address (``127.0.0.0/8``, ``::1``)."""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def beyond_loopback(host: str) -> bool:
    """Whether listening on ``host`` lets other machines connect."""
    return not is_loopback(host_name(host))


def usable_host(host: str) -> str:
    """The address a client on this machine can reach a server listening on ``host`` at:
    ``0.0.0.0`` -> ``127.0.0.1``, ``::`` -> ``::1``, any other unchanged."""
    return WILDCARDS.get(host, host)


def url_host(host: str) -> str:
    """``host`` as a URL's authority takes it: an IPv6 address in brackets."""
    host = usable_host(host)
    return f"[{host}]" if ":" in host else host


def origin_allowed(origin: str | None, extra: tuple[str, ...] = ()) -> bool:
    """Whether a browser page of ``origin`` may use Socket.IO: a loopback origin
    (``http://localhost:3000``), one of ``extra``, or any when ``extra`` holds ``"*"``."""
    if origin is None:
        return False  # no page: no CORS headers to give
    if "*" in extra or origin in extra:
        return True
    scheme, sep, rest = origin.partition("://")
    return bool(sep) and scheme in ("http", "https") and is_loopback(host_name(rest))


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a control request is not served, and its HTTP status."""

    status: int
    message: str


@dataclass(frozen=True, slots=True)
class ControlAccess:
    """The control plane's settings: what a request must carry to be served."""

    listen_host: str = "127.0.0.1"
    extra_hosts: tuple[str, ...] = ()
    """Names besides loopback ones and ``listen_host`` (``--control-host``)."""
    token: str | None = field(default=None, repr=False)

    def host_allowed(self, name: str) -> bool:
        if is_loopback(name):
            return True
        allowed = {host_name(h) for h in self.extra_hosts}
        if self.listen_host not in WILDCARDS:
            allowed.add(host_name(self.listen_host))
        return name in allowed

    def check(
        self,
        method: str,
        host: str | None,
        content_type: str,
        token: str | None,
        *,
        changes_state: bool | None = None,
    ) -> Refusal | None:
        """None when the request may be served, else the :class:`Refusal` (module docstring).
        ``changes_state``: whether the call changes anything (default: unless ``method`` is safe)."""
        name = host_name(host) if host else ""
        if not name or not self.host_allowed(name):
            shown = repr(host[:80]) if host else "none"
            return Refusal(
                403,
                f"the control endpoints answer only Host localhost, 127.0.0.1, [::1] or the address"
                f" the server listens on (got {shown}); add a name with --control-host NAME",
            )
        if not (method not in SAFE_METHODS if changes_state is None else changes_state):
            return None
        if content_type != JSON:
            return Refusal(
                415,
                f"{method} to the control endpoints needs Content-Type: {JSON}"
                f" (got {content_type[:80] or 'none'!r}), so that no web page can forge it",
            )
        if self.token is not None and not hmac.compare_digest(
            (token or "").encode("utf-8", "replace"), self.token.encode("utf-8", "replace")
        ):
            what = "a wrong" if token else "no"
            return Refusal(
                401,
                f"{method} to the control endpoints needs the server's control token in"
                f" {TOKEN_HEADER} (got {what} token)",
            )
        return None
