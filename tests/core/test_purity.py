"""The core is pure: no event loop, no sockets, no network libraries, no files, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "harness" / "core"
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
    "subprocess",
    "os",
    "pathlib",
    "io",
    "shutil",
    "tempfile",
    "gzip",
    "urllib.request",
    "http.client",
    "selectors",
    "ssl",
}
FORBIDDEN_CALLS = {"open", "print", "input"}
FORBIDDEN_ATTRS = {"now", "utcnow", "today", "monotonic", "perf_counter"}


def _modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_core_has_modules() -> None:
    assert len(_modules()) >= 5


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_core_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            names = []
        for name in names:
            if name in FORBIDDEN_MODULES or name.split(".")[0] in FORBIDDEN_MODULES:
                problems.append(f"line {node.lineno}: imports {name}")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                problems.append(f"line {node.lineno}: calls {func.id}()")
            receiver = getattr(func, "value", None)
            own_method = isinstance(receiver, ast.Name) and receiver.id in ("self", "cls")
            if isinstance(func, ast.Attribute) and func.attr in FORBIDDEN_ATTRS and not own_method:
                problems.append(f"line {node.lineno}: calls .{func.attr}() (time is an argument)")
    assert not problems, f"{path.name} is not pure:\n" + "\n".join(problems)


def test_purity_check_catches_offenders(tmp_path: Path) -> None:
    bad = "import asyncio\nfrom websockets import connect\nopen('x')\nimport datetime\ndatetime.datetime.now()\n"
    tree = ast.parse(bad)
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert len(imports) == 3
    assert {getattr(c.func, "id", getattr(c.func, "attr", None)) for c in calls} == {"open", "now"}
