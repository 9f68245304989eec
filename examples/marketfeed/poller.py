"""Polling the Pump.fun frontend API with ETags, within its rate limits.

``Poller.get(path)`` answers the current body of a path (``/coins/latest``, ``/trades/latest``,
``/coins/{mint}`` ...). It sends the ETag it last saw as ``If-None-Match`` (kept verbatim: the API's
are weak, ``W/"..."``), so an unchanged resource costs a ``304`` and returns the body it already
has. It waits out a ``429`` as the answer says (``Retry-After``, else ``x-ratelimit-reset``), and
retries server errors, dropped connections and bodies that are not JSON (a cut answer) with
exponential backoff, keeping its last good body and ETag meanwhile.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import requests

PUMPFUN = "https://frontend-api-v3.pump.fun"
RETRYABLE = frozenset({500, 502, 503, 504, 520, 522, 524, 530})
"""Server-side statuses worth retrying (530: Cloudflare in front of the API)."""


class PollError(Exception):
    """No good answer for a path within ``give_up_after`` seconds of trying."""


def backoff(attempt: int) -> float:
    """Seconds before retry ``attempt`` (0, 1, ...): 0.5 s doubling, at most 30 s."""
    return min(0.5 * 2.0**attempt, 30.0)


class Poller:
    """ETag-aware GETs against ``base_url`` (see the module docstring).

    ``sleep`` is how the poller waits (``time.sleep``; a test passes its replay clock), and
    ``now`` what it reads the time from (to turn an HTTP date in ``Retry-After`` into seconds).
    """

    def __init__(
        self,
        base_url: str = PUMPFUN,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], object] = time.sleep,
        now: Callable[[], float] = time.time,
        timeout: float = 10.0,
        give_up_after: float = 300.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.sleep = sleep
        self.now = now
        self.timeout = timeout
        self.give_up_after = give_up_after
        self.etags: dict[str, str] = {}
        self.bodies: dict[str, Any] = {}
        self.waited = 0.0
        """Seconds spent waiting (rate limits and backoff) so far."""

    def get(self, path: str) -> Any:
        """The current body of ``path``: fetched when it changed, the one we have on a ``304``.
        Raises :class:`PollError` after ``give_up_after`` seconds of waiting in vain, and
        ``requests.HTTPError`` for a client error (a 4xx other than 429)."""
        waited = 0.0
        attempt = 0
        while True:
            delay = self._try(path, attempt)
            if delay is None:
                return self.bodies[path]
            if waited + delay > self.give_up_after:
                raise PollError(f"{self.base_url}{path}: no good answer after {waited:g} s of retries")
            self.sleep(delay)
            waited += delay
            self.waited += delay
            attempt += 1

    def _try(self, path: str, attempt: int) -> float | None:
        """One request: None when ``self.bodies[path]`` is current, else seconds to wait."""
        headers = {"Accept": "application/json"}
        if path in self.etags:
            headers["If-None-Match"] = self.etags[path]
        try:
            response = self.session.get(self.base_url + path, headers=headers, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout):
            return backoff(attempt)
        if response.status_code == 304 and path in self.bodies:
            return None
        if response.status_code == 429:
            return self._retry_after(response, attempt)
        if response.status_code in RETRYABLE:
            return backoff(attempt)
        response.raise_for_status()
        try:
            body = response.json()
        except ValueError:
            return backoff(attempt)  # cut short or not JSON: keep what we have and ask again
        self.bodies[path] = body
        etag = response.headers.get("ETag")
        if etag:
            self.etags[path] = etag
        else:
            self.etags.pop(path, None)
        return None

    def _retry_after(self, response: requests.Response, attempt: int) -> float:
        """How long a 429 asks us to wait: ``Retry-After`` (seconds or an HTTP date), else
        ``x-ratelimit-reset`` (seconds, or a unix time when it is that large), else backoff."""
        value = response.headers.get("Retry-After", "").strip()
        if value.isdigit():
            return float(value)
        if value:
            try:
                return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - self.now())
            except (TypeError, ValueError):
                pass
        reset = response.headers.get("x-ratelimit-reset", "").strip()
        if reset.isdigit():
            seconds = float(reset)
            return max(0.0, seconds - self.now()) if seconds > 1e9 else seconds
        return backoff(attempt)
