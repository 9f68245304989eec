"""The network guard: in record mode ``none`` a test may only reach loopback.

Owns the patching of :func:`socket.getaddrinfo` (a name lookup is already traffic, and it names
the host) and of :meth:`socket.socket.connect` / ``connect_ex`` (an address), for the duration of
one test. Loopback (``127.0.0.0/8``, ``::1``, ``localhost``), Unix sockets, numeric addresses
being looked up to bind a listening socket, and the hosts a test allows pass; anything else
raises :class:`NetworkBlocked` naming the host, and is remembered, so a client that swallows the
error still fails the test at teardown. Clients built on other socket layers (uvloop, c-ares)
are not seen.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class NetworkBlocked(RuntimeError):
    """A test reached for a host that is not loopback while the network is closed to it.

    A RuntimeError, not an OSError, so that HTTP clients do not retry it as a connection failure.
    """


def _address(host: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return None
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if isinstance(host, str) and host.lower().rstrip(".") in LOOPBACK_NAMES:
        return True
    ip = _address(host)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


class NetworkGuard:
    """Installed for one test (see the module docstring); ``hint`` ends every refusal."""

    _lock = threading.Lock()
    _active: NetworkGuard | None = None

    def __init__(
        self,
        test: str,
        *,
        allow_hosts: Iterable[str] = (),
        hint: str = "",
        reason: str = "while the record mode is 'none' (replay only, no network)",
    ) -> None:
        self.test = test
        self.reason = reason
        self.allowed = {h.lower().rstrip(".") for h in allow_hosts}
        self.hint = hint
        self.blocked: list[str] = []
        """Every refused ``host:port``, in order (the first one is the report's)."""
        self._saved: tuple[Any, Any, Any] | None = None

    # --- decisions -----------------------------------------------------------------------------

    def _allows(self, host: object) -> bool:
        if host is None or host == "" or is_loopback(host):
            return True
        text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        return text.lower().rstrip(".") in self.allowed

    def _refuse(self, host: object, port: object) -> NetworkBlocked:
        text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        where = f"{text}:{port}" if port not in (None, 0, "") else text
        self.blocked.append(where)
        return NetworkBlocked(
            f"harness: {self.test} reached for {where}, which is not loopback, {self.reason}."
            f" {self.hint}".rstrip()
        )

    # --- patches -------------------------------------------------------------------------------

    def _wrap_getaddrinfo(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            # a numeric address needs no lookup (binding a server to 0.0.0.0 looks it up too);
            # connect() judges it
            if not self._allows(host) and _address(host) is None:
                raise self._refuse(host, port)
            results = original(host, port, *args, **kwargs)
            if host is not None and str(host).lower().rstrip(".") in self.allowed:
                # connect() will be given the addresses an allowed name resolved to
                self.allowed.update(str(info[4][0]).lower() for info in results)
            return results

        return getaddrinfo

    def _wrap_connect(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def connect(sock: socket.socket, address: Any, *args: Any, **kwargs: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
                host, port = address[0], address[1]
                if not self._allows(host):
                    raise self._refuse(host, port)
            return original(sock, address, *args, **kwargs)

        return connect

    def install(self) -> None:
        with NetworkGuard._lock:
            if NetworkGuard._active is not None:
                raise RuntimeError("harness: a network guard is already installed")
            NetworkGuard._active = self
            self._saved = (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex)
            socket.getaddrinfo = self._wrap_getaddrinfo(self._saved[0])
            socket.socket.connect = self._wrap_connect(self._saved[1])  # type: ignore[method-assign]
            socket.socket.connect_ex = self._wrap_connect(self._saved[2])  # type: ignore[method-assign]

    def uninstall(self) -> None:
        with NetworkGuard._lock:
            if self._saved is None:
                return
            socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex = self._saved  # type: ignore[method-assign]
            self._saved = None
            NetworkGuard._active = None

    def __enter__(self) -> NetworkGuard:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()
