"""The core is pure: no event loop, no sockets, no network libraries, no files, no clock.

Two checks (docs/architecture.md "Layers"): a static one reads the source of every core module (its imports,
and the calls that would open a file or read a clock), and a dynamic one imports the whole core in
a fresh interpreter and looks at what came along, so a forbidden module reached through another
module is caught too. Both are also run against offending code, so a check that stopped catching
anything fails.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "harness" / "core"
FORBIDDEN_MODULES = {
    "asyncio",
    "aiohttp",
    "socketio",
    "engineio",
    "websockets",
    "socket",
    "requests",
    "time",
    "threading",
    "multiprocessing",
    "concurrent",
    "subprocess",
    "os",
    "pathlib",
    "io",
    "shutil",
    "tempfile",
    "gzip",
    "mmap",
    "urllib.request",
    "http.client",
    "selectors",
    "ssl",
    "importlib",
    "builtins",
}
FORBIDDEN_CALLS = {"open", "print", "input", "__import__", "exec", "eval", "breakpoint"}
FILE_METHODS = {"open", "read_text", "write_text", "read_bytes", "write_bytes", "touch", "unlink", "mkdir"}
CLOCK_METHODS = {"now", "utcnow", "today", "monotonic", "perf_counter", "time"}


def impurities(source: str, package: str = "harness.core") -> list[str]:
    """What in ``source`` breaks the core's rules, one line each (empty: pure)."""
    problems = []
    top = package.split(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            names = []
        for name in names:
            if name in FORBIDDEN_MODULES or name.split(".")[0] in FORBIDDEN_MODULES:
                problems.append(f"line {node.lineno}: imports {name}")
            elif name.split(".")[0] == top and not (name == package or name.startswith(package + ".")):
                problems.append(f"line {node.lineno}: imports {name} (the core imports only the core)")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                problems.append(f"line {node.lineno}: calls {func.id}()")
            if isinstance(func, ast.Attribute):
                receiver = func.value
                own_method = isinstance(receiver, ast.Name) and receiver.id in ("self", "cls")
                if func.attr in FILE_METHODS:
                    problems.append(f"line {node.lineno}: calls .{func.attr}() (files are the store's job)")
                elif func.attr in CLOCK_METHODS and not own_method:
                    problems.append(f"line {node.lineno}: calls .{func.attr}() (time is an argument)")
    return problems


_IMPORT_ALL = r"""
import importlib, json, pkgutil, sys, types
root, package = sys.argv[1], sys.argv[2]
top = package.split(".")[0]
# A bare stand-in for the top-level package: its real __init__ (package metadata) is not the core.
stub = types.ModuleType(top)
stub.__path__ = [root + "/" + top]
sys.modules[top] = stub
before = set(sys.modules)
for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
    importlib.import_module(info.name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def loaded_modules(root: Path, package: str) -> list[str]:
    """Every module that importing all of ``package`` (under ``root``) loads, in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-I", "-c", _IMPORT_ALL, str(root), package],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    modules: list[str] = json.loads(out.stdout)
    return modules


def forbidden_loaded(root: Path, package: str) -> list[str]:
    top = package.split(".")[0]
    return [
        name
        for name in loaded_modules(root, package)
        if name in FORBIDDEN_MODULES
        or name.split(".")[0] in FORBIDDEN_MODULES
        or (name.split(".")[0] == top and not (name == package or name.startswith(package + ".")))
    ]


def _modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_core_has_modules() -> None:
    assert len(_modules()) >= 5


def test_every_profile_is_checked() -> None:
    """Each API's profile package (its session and rules) is among the modules checked."""
    profiles = {path.parent.name for path in _modules() if path.name == "session.py"}
    assert {"corto", "pumpportal"} <= profiles


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_is_pure(path: Path) -> None:
    problems = impurities(path.read_text())
    assert not problems, f"{path.name} is not pure:\n" + "\n".join(problems)


def test_importing_the_whole_core_loads_nothing_forbidden() -> None:
    assert forbidden_loaded(ROOT, "harness.core") == []
    assert "harness.core.tape" in loaded_modules(ROOT, "harness.core")


@pytest.mark.parametrize(
    "source",
    [
        "import asyncio",
        "import aiohttp.web",
        "from socketio import AsyncServer",
        "import engineio",
        "from websockets.asyncio.client import connect",
        "import socket",
        "open('tape.jsonl')",
        "def load(path):\n    with open(path) as f:\n        return f.read()",
        "def load(path):\n    return path.read_text()",
        "def save(path, data):\n    path.write_bytes(data)",
        "import gzip",
        "from pathlib import Path",
        "from datetime import datetime\nstamp = datetime.now()",
        "import time",
        "def wait(loop):\n    return loop.time()",
        "from harness.server.app import MockServer",
        "import harness.store",
        "mod = __import__('asyncio')",
        "import importlib\nmod = importlib.import_module('asyncio')",
    ],
)
def test_static_check_catches(source: str) -> None:
    assert impurities(source), f"not caught:\n{source}"


def test_static_check_passes_pure_code() -> None:
    source = (
        "import json\nfrom harness.core.frames import Frame\nfrom harness.core import tape\n"
        "class C:\n    def now(self, host_now):\n        return host_now\n"
        "    def later(self, host_now):\n        return self.now(host_now) + 1\n"
    )
    assert impurities(source) == []


def test_dynamic_check_catches_a_forbidden_import_through_another_module(tmp_path: Path) -> None:
    # fake/core/rules.py looks pure; the helper it imports is not, and the static check of the core
    # alone cannot see that.
    core = tmp_path / "fake" / "core"
    core.mkdir(parents=True)
    (core / "__init__.py").write_text("")
    (core / "rules.py").write_text("from fake.core import helper\n")
    (core / "helper.py").write_text("import json\nimport asyncio\n")
    (tmp_path / "fake" / "util.py").write_text("import socket\n")
    (core / "more.py").write_text("import fake.util\n")
    found = forbidden_loaded(tmp_path, "fake.core")
    assert "asyncio" in found and "socket" in found and "fake.util" in found
    assert impurities((core / "rules.py").read_text(), "fake.core") == []
