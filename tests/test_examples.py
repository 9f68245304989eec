"""examples/: the sample clients' fuzz tests pass because the clients are robust, not because the
tests are weak. Each test here runs examples/tests/test_fuzz.py against a deliberately broken
variant of one client (a mutant, patched in by the inner run's conftest) and expects it caught,
with the report naming one minimal fault."""

from __future__ import annotations

import re

import pytest

from tests.helpers import ROOT
from tests.plugin.inner import project

EXAMPLES = ROOT / "examples"

MUTANTS = {
    "the poller retries a 429 at once": (
        "monkeypatch.setattr(marketfeed.poller.Poller, '_retry_after', lambda self, response, attempt: 0.0)",
        "poller",
        "asked again before Retry-After",
        r"plan=FuzzPlan\.parse\('pumpfun#0:429=1'\)",
    ),
    "the subscriber books what it has seen": (
        "monkeypatch.setattr(marketfeed.stream.StreamSubscriber, '_event', lambda self, e: self.on_event(e))",
        "subscriber",
        "a trade booked twice",
        r"plan=FuzzPlan\.parse\('corto#0:duplicate'\)",
    ),
    "the candle book overwrites a second with whatever comes last": (
        "monkeypatch.setattr(marketfeed.candles.CandleBook, 'upsert', lambda b, c: b.candles.update({c.t: c}))",
        "last_state",
        "upserted by t",
        r"plan=FuzzPlan\.parse\('pumpdata#\d+:[a-z]+(=[\d.]+)?'\)",  # one fault
    ),
}


def test_each_example_test_file_is_short() -> None:
    files = sorted((EXAMPLES / "tests").glob("test_*.py"))
    assert [f.name for f in files] == ["test_contract.py", "test_fuzz.py", "test_plugin.py"]
    assert all(len(f.read_text().splitlines()) < 100 for f in files)


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_a_broken_client_fails_its_fuzz_test(pytester: pytest.Pytester, mutant: str) -> None:
    patch, test, failure, plan = MUTANTS[mutant]
    project(
        pytester,
        hypothesis=True,
        conftest=(
            "import marketfeed.candles, marketfeed.poller, marketfeed.stream\n"
            "import pytest\n\n\n"
            "@pytest.fixture(autouse=True)\n"
            f"def mutant(monkeypatch):\n    {patch}\n"
        ),
    )
    # another name: the outer run may have imported examples/tests/test_fuzz.py as test_fuzz
    (pytester.path / "test_mutant.py").write_text((EXAMPLES / "tests" / "test_fuzz.py").read_text())
    result = pytester.runpytest("-k", test, "--hypothesis-seed=0")
    result.assert_outcomes(failed=1, deselected=3)
    output = result.stdout.str()
    assert failure in output
    assert re.search(plan, output), output


def test_a_copy_of_examples_runs_with_the_configuration_its_readme_gives(pytester: pytest.Pytester) -> None:
    readme = (EXAMPLES / "README.md").read_text()
    (toml,) = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    pytester.makefile(".toml", pyproject=toml)
    for part in ("marketfeed", "tests"):
        pytester.mkdir(part)
        for source in (EXAMPLES / part).glob("*.py"):
            (pytester.path / part / source.name).write_text(source.read_text())
    files = ("tests/test_contract.py", "tests/test_plugin.py")
    # pytest-asyncio in its default strict mode, as a new project has it: the async tests are marked
    result = pytester.runpytest_subprocess(*files, "-p", "no:cacheprovider")
    tests = sum(len(re.findall(r"^(?:async )?def test_", (EXAMPLES / f).read_text(), re.M)) for f in files)
    result.assert_outcomes(passed=tests)
