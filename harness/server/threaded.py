"""A server in a background thread with its own event loop, driven from synchronous code.

Owns the thread, its loop and the errors seen in it. Synchronous code (a sync test, the pytest
plugin's fixtures) hands coroutines to :meth:`BackgroundLoop.run` and gets their result or their
exception; tests on any other event loop can talk to the server over its sockets without sharing
a loop with it. Errors the server's libraries only log (an exception in an aiohttp or python-socketio
handler, a task that died) are collected in :attr:`BackgroundLoop.errors`, so a caller can raise
them where they belong (the plugin fails the test during which they happened).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

T = TypeVar("T")

CALL_TIMEOUT = 120.0
"""Seconds a call into the server thread may take before the caller gets an error (a server
that stopped answering must not hang a test run)."""


@dataclass(frozen=True, slots=True)
class ServerError:
    """An error seen in the server thread: what reported it, and the text with its traceback."""

    source: str
    text: str

    def __str__(self) -> str:
        return f"{self.source}: {self.text}"


class _Collector(logging.Handler):
    """Keeps ERROR records logged from one thread (libraries log handler exceptions, then go on)."""

    def __init__(self, owner: BackgroundLoop) -> None:
        super().__init__(logging.ERROR)
        self.owner = owner

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.owner.thread_id:
            return
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        self.owner.errors.append(ServerError(f"logged by {record.name}", text))


class BackgroundLoop:
    """An event loop running in a daemon thread; see the module docstring.

    >>> with BackgroundLoop() as background:                    # doctest: +SKIP
    ...     server = background.run(MockServer(port=0).start())
    ...     background.run(server.advance(5))
    """

    def __init__(self, name: str = "harness-server") -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self.errors: list[ServerError] = []
        self.thread_id: int | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._ready = threading.Event()
        self._collector = _Collector(self)

    def _main(self) -> None:
        self.thread_id = threading.get_ident()
        asyncio.set_event_loop(self.loop)
        self.loop.set_exception_handler(self._on_error)
        self._ready.set()
        try:
            self.loop.run_forever()
        finally:
            self._drain()

    def _drain(self) -> None:
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def _on_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        text = str(context.get("message", "error"))
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            text += "\n" + "".join(traceback.format_exception(exc)).rstrip()
        self.errors.append(ServerError("event loop", text))

    def start(self) -> Self:
        logging.getLogger().addHandler(self._collector)
        self._thread.start()
        self._ready.wait()
        return self

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = CALL_TIMEOUT) -> T:
        """Run ``coro`` on the server's loop; its result, or its exception raised here."""
        if threading.get_ident() == self.thread_id:
            coro.close()
            raise RuntimeError(f"{self.name}: a call from the server's own thread would deadlock")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise TimeoutError(f"{self.name} did not answer within {timeout:g} s") from None

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` run on the server's loop (what it serves is not thread-safe): its result,
        or its exception raised here."""

        async def call() -> T:
            return fn(*args)

        return self.run(call())

    def stop(self) -> None:
        """Stop the loop (its remaining tasks are cancelled) and wait for the thread."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
        elif not self.loop.is_closed():
            self.loop.close()  # never started
        logging.getLogger().removeHandler(self._collector)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
