"""The pytest plugin examples of the README and the docs are test files: they run, as a user's
suite, and pass."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import ROOT
from tests.plugin.inner import INI, project
from tests.test_readme import BLOCKS, is_test_file

SHOWN = [(body.splitlines()[0][2:], body) for lang, body in BLOCKS if lang == "python" and is_test_file(body)]
FILES = dict(SHOWN)


def test_each_example_file_has_its_own_name() -> None:
    """Two different blocks named alike would overwrite each other in the suite that runs them."""
    assert len(FILES) == len(SHOWN)


def test_there_are_examples_of_each_part() -> None:
    assert {
        "test_feed.py",
        "test_corto.py",
        "test_guard.py",
        "test_fuzzing.py",
        "test_getting_started.py",
    } <= set(FILES)


def test_the_readme_examples_pass(pytester: pytest.Pytester) -> None:
    shutil.copytree(ROOT / "fixtures" / "demo", pytester.path / "tapes")
    project(pytester)
    # pytest-asyncio in its default strict mode, as in a user's new project: async examples carry their mark
    pytester.makeini(INI.replace("asyncio_mode = auto\n", ""))
    for name, body in FILES.items():
        (pytester.path / name).write_text(body)
    tests = sum(body.count("\ndef test_") + body.count("\nasync def test_") for body in FILES.values())
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=tests)
