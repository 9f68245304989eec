"""Lazy exports: a package names what it offers without importing it until it is used.

``import harness`` (the CLI) and ``import harness.plugin`` (every pytest run in a project that
installs harness) stay cheap this way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``table[name]`` (a module) when ``name`` is first used."""

    def __getattr__(name: str) -> Any:
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
