"""The README's pytest plugin examples are test files: they run, as a user's suite, and pass."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import ROOT
from tests.plugin.inner import project
from tests.test_readme import BLOCKS, GUIDE_BLOCKS, is_test_file

FILES = {body.splitlines()[0][2:]: body for lang, body in BLOCKS if lang == "python" and is_test_file(body)}


def test_there_are_examples_of_each_part() -> None:
    assert {"test_feed.py", "test_corto.py", "test_guard.py", "test_fuzzing.py"} <= set(FILES)


def test_the_readme_examples_pass(pytester: pytest.Pytester) -> None:
    shutil.copytree(ROOT / "fixtures" / "demo", pytester.path / "tapes")
    project(pytester)
    for name, body in FILES.items():
        (pytester.path / name).write_text(body)
    tests = sum(body.count("\ndef test_") + body.count("\nasync def test_") for body in FILES.values())
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=tests)


GUIDE_FILES = {
    body.splitlines()[0][2:]: body
    for _, lang, body in GUIDE_BLOCKS
    if lang == "python" and is_test_file(body)
}


def test_the_guides_examples_pass(pytester: pytest.Pytester) -> None:
    assert {"test_async_advance.py", "test_expected_miss.py", "test_expiry.py"} <= set(GUIDE_FILES)
    shutil.copytree(ROOT / "fixtures" / "demo", pytester.path / "tapes")
    # pytest-asyncio in its default strict mode: the async examples carry their mark
    project(pytester)
    pytester.makeini(
        "[pytest]\naddopts = -p no:hypothesispytest\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n"
    )
    for name, body in GUIDE_FILES.items():
        (pytester.path / name).write_text(body)
    tests = sum(body.count("\ndef test_") + body.count("\nasync def test_") for body in GUIDE_FILES.values())
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=tests)
