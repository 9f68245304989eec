"""A user's new project, outside the repository: harness as installed (this interpreter's, as
``pip install`` leaves it), pytest-asyncio in its default strict mode, and a suite that uses what
a user reaches for first: an async client task with ``advance`` and no sleeps, per-test tapes
recorded and replayed, a miss that explains itself, and an expired tape under each policy."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers import ROOT, threaded_upstream
from tests.plugin.inner import PYTEST_SUBPROCESS

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

TESTS = """
import asyncio
import json
import os

import pytest
import requests
import websockets

from harness.plugin import HarnessConfig


@pytest.fixture
def harness_config():
    return HarnessConfig(rest_upstream=os.environ["UPSTREAM"])


async def read_creates(url, got):
    async with websockets.connect(url) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "subscribe", "mode": "mints", "create": {"detail": "min"}}))
        async for text in ws:
            got.append(json.loads(text))


@pytest.mark.asyncio
async def test_a_client_task_and_advance(harness_server, harness_clock):
    got = []
    task = asyncio.create_task(read_creates(harness_server.urls["websocket"], got))
    await harness_clock.advance(60)
    assert [m.get("name") for m in got[:1]] == ["subscription_ack"]
    assert any(m.get("txType") == "create" for m in got)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)  # the client closes its connection


def test_price(harness_server, harness_tape):
    assert requests.get(harness_server.urls["rest"] + "/sol-price", timeout=5).status_code == 200


def test_a_miss(harness_server):
    requests.get(harness_server.urls["rest"] + "/sol-prices", timeout=5)


@pytest.mark.harness(tape="old.jsonl", max_age="30d")
def test_old_tape_warns(harness_server):
    assert requests.get(harness_server.urls["rest"] + "/sol-price", timeout=5).status_code == 200


@pytest.mark.harness(tape="old.jsonl", max_age="30d", expired="fail")
def test_old_tape_fails(harness_server):
    pass


@pytest.mark.harness(tape="old2.jsonl", max_age="30d", expired="rerecord")
def test_old_tape_rerecorded(harness_server, harness_tape):
    assert requests.get(harness_server.urls["rest"] + "/sol-price", timeout=5).status_code == 200
"""


def _pytest(project: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PYTEST_SUBPROCESS, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_new_project_outside_the_repository(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    assert ROOT not in project.parents
    (project / "pytest.ini").write_text(INI)
    (project / "test_feed.py").write_text(TESTS)
    demo = (ROOT / "fixtures" / "demo" / "pumpfun.jsonl").read_bytes()  # created 2026-01-01
    (project / "old.jsonl").write_bytes(demo)
    (project / "old2.jsonl").write_bytes(demo)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTHONPATH")}
    with threaded_upstream() as upstream:
        env["UPSTREAM"] = upstream.urls["rest"]
        record = _pytest(project, "--harness-record-mode", "once", "-k", "price or rerecorded", env=env)
    assert record.returncode == 0, record.stdout
    assert (project / "tapes" / "test_feed" / "test_price.jsonl").exists()
    assert (project / "old2.jsonl").read_bytes() != demo, "the expired tape was recorded anew"

    env["UPSTREAM"] = "http://127.0.0.1:9"  # nothing listens: replaying must not need it
    run = _pytest(project, "-rA", env=env)
    out = run.stdout
    assert "asyncio: mode=Mode.STRICT" in out
    assert "PASSED test_feed.py::test_a_client_task_and_advance" in out
    assert "PASSED test_feed.py::test_price" in out  # replayed from its own tape
    assert "ERROR test_feed.py::test_a_miss" in out
    assert "GET /sol-prices at t=0s: answered 404" in out and "--harness-record-mode new_episodes" in out
    assert "PASSED test_feed.py::test_old_tape_warns" in out
    assert "TapeExpired: harness: old.jsonl" in out.replace(str(project) + "/", "")
    assert "ERROR test_feed.py::test_old_tape_fails" in out and "expired tape(s)" in out
    assert "PASSED test_feed.py::test_old_tape_rerecorded" in out and "old2.jsonl: recorded" not in out
