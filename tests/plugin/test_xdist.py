"""Under pytest-xdist each worker has its own servers, on its own ports; recording needs one process."""

from __future__ import annotations

import json

import pytest

from tests.plugin.inner import project

TESTS = """
import json
import os
import pathlib

import pytest
import requests


OUT = pathlib.Path(r"{out}")


@pytest.mark.parametrize("n", range(6))
def test_worker_server(harness_server, harness_clock, n):
    assert harness_clock.now() == 0.0
    harness_clock.advance(n)
    assert requests.get(harness_server.urls["rest"] + "/sol-price", timeout=5).status_code == 200
    (OUT / f"seen-{{n}}.json").write_text(json.dumps([os.environ["PYTEST_XDIST_WORKER"], harness_server.urls["rest"]]))


@pytest.mark.harness(tape="new.jsonl", record_mode="once")
def test_recording_is_refused(harness_server):
    pass
"""


def test_each_worker_its_own_server(pytester: pytest.Pytester) -> None:
    base = pytester.mkdir("seen")
    project(pytester, test_parallel=TESTS.format(out=base))
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=6, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*recording a tape needs a single process, but this is xdist worker gw*"
            " Record with -n 0 (or -p no:xdist); replaying runs in parallel.*"
        ]
    )
    seen = [json.loads(p.read_text()) for p in sorted(base.glob("seen-*.json"))]
    ports = {worker: {url for w, url in seen if w == worker} for worker, _ in seen}
    assert len(ports) == 2, "both workers ran tests"
    assert all(len(urls) == 1 for urls in ports.values()), "one server per worker for the session"
    assert len({url for urls in ports.values() for url in urls}) == 2, "on different ports"
    assert not (pytester.path / "new.jsonl").exists()
