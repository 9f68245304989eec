"""Packaging: a wheel built from this tree installs a working ``harness``, schemas and demo tapes
included, with its console script, ``py.typed`` and the pytest plugin's entry point."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from tests.helpers import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built with the project's build backend and unpacked as an installer would."""
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(dist)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = dist.glob("memecoin_harness-*.whl")
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def _run(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Python with the unpacked wheel first on the path, run outside the source tree."""
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_wheel_holds_the_package_its_data_and_its_entry_points(installed: Path) -> None:
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "harness").rglob("*.py")}
    packed = {p.relative_to(installed).as_posix() for p in (installed / "harness").rglob("*.py")}
    assert sources <= packed
    assert (installed / "harness" / "py.typed").is_file()
    schemas = {p.relative_to(ROOT / "schemas") for p in (ROOT / "schemas").rglob("*.json")}
    assert {p.relative_to(installed / "harness/_data/schemas") for p in installed.rglob("*.json")} == schemas
    demo = installed / "harness" / "_data" / "fixtures" / "demo"
    assert sorted(p.name for p in demo.iterdir()) == [
        "corto.jsonl",
        "pumpdata.jsonl",
        "pumpfun.jsonl",
        "pumpportal.jsonl",
    ]
    (dist_info,) = installed.glob("memecoin_harness-*.dist-info")
    entry_points = configparser.ConfigParser()
    entry_points.read(dist_info / "entry_points.txt")
    assert entry_points["console_scripts"]["harness"] == "harness.cli.main:entry"
    assert entry_points["pytest11"]["harness"] == "harness.plugin"
    assert not (installed / "tests").exists() and not (installed / "bench").exists()
    assert (dist_info / "licenses" / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()


def test_the_distribution_is_memecoin_harness_and_its_version_is_the_package_s(installed: Path) -> None:
    """``harness`` on PyPI is another project: the distribution is ``memecoin-harness``, the
    import package and the command stay ``harness``, and the version lives in harness/__about__.py."""
    from harness import __about__, __version__

    (dist_info,) = installed.glob("memecoin_harness-*.dist-info")
    fields = dict(
        line.split(": ", 1) for line in (dist_info / "METADATA").read_text().splitlines() if ": " in line
    )
    assert fields["Name"] == __about__.DISTRIBUTION == "memecoin-harness"
    assert fields["Version"] == __version__ == __about__.__version__
    assert fields["License-Expression"] == "MIT"
    assert metadata.version(__about__.DISTRIBUTION) == __version__  # this checkout's install


def test_an_installed_harness_finds_its_schemas_and_demo_tapes(installed: Path, tmp_path: Path) -> None:
    out = _run(
        installed,
        "-c",
        "import harness, harness.resources as r; print(harness.__file__, r.SCHEMAS_DIR, r.DEMO_TAPES)",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    module, schemas, demo = out.stdout.split()
    assert all(Path(p).is_relative_to(installed) for p in (module, schemas, demo))
    out = _run(installed, "-m", "harness", "validate", demo, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "all valid" in out.stdout
    serve = (
        "import asyncio\nfrom harness import MockServer\n"
        "async def main():\n"
        "    async with MockServer(manual=True, port=0) as server:\n"
        "        print(len(server.tape_paths), server.tape_paths[0])\n"
        "asyncio.run(main())\n"
    )
    out = _run(installed, "-c", serve, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", demo]
