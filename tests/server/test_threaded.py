"""A server in a background thread: sync callers get results and exceptions; errors its libraries
only log are collected."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
import requests

from harness.server.app import MockServer
from harness.server.threaded import BackgroundLoop


def test_a_mock_server_in_a_thread_serves_sync_clients() -> None:
    with BackgroundLoop() as background:
        server = background.run(MockServer(manual=True, port=0).start())
        assert requests.get(server.urls["rest"] + "/sol-price", timeout=5).status_code == 200
        assert background.run(server.advance(2.5)) == 2.5
        background.run(server.close())
    assert not background.errors


def test_exceptions_come_back_to_the_caller_and_logged_errors_are_collected() -> None:
    async def fail() -> None:
        raise KeyError("boom")

    async def log_in_thread() -> None:
        logging.getLogger("aiohttp.server").error("Error handling request", exc_info=ValueError("inside"))

    async def orphan() -> None:
        # what asyncio reports when a task died and nobody awaited it
        asyncio.get_running_loop().call_exception_handler(
            {"message": "Task exception was never retrieved", "exception": RuntimeError("task died")}
        )

    with BackgroundLoop() as background:
        with pytest.raises(KeyError, match="boom"):
            background.run(fail())
        background.run(log_in_thread())
        logging.getLogger("aiohttp.server").error("from the test's thread: not the server's")
        background.run(orphan())
    first, second = background.errors
    assert first.source == "logged by aiohttp.server" and "ValueError: inside" in first.text
    assert second.source == "event loop" and "RuntimeError: task died" in second.text


def test_a_plain_function_runs_in_the_servers_thread() -> None:
    with BackgroundLoop() as background:
        assert background.call(threading.get_ident) == background.thread_id != threading.get_ident()
        assert background.call(divmod, 7, 2) == (3, 1)
        with pytest.raises(ZeroDivisionError):
            background.call(divmod, 1, 0)


def test_a_call_that_does_not_return_times_out_with_a_message() -> None:
    with BackgroundLoop(name="slow-server") as background:
        with pytest.raises(TimeoutError, match=r"slow-server did not answer within 0\.05 s"):
            background.run(asyncio.sleep(5), timeout=0.05)


def test_stop_without_start_closes_the_loop() -> None:
    background = BackgroundLoop()
    background.stop()
    assert background.loop.is_closed()
