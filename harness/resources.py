"""Where the files the project ships are found: the contract schemas and the demo tapes.

In a source tree (a clone, an editable install) they are the top-level ``schemas/`` and
``fixtures/demo/``; a wheel carries them inside the package as ``harness/_data/`` (pyproject.toml,
``[tool.hatch.build.targets.wheel.sources]``), so ``pip install .`` works as well as ``-e .``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped(relative: str) -> Path:
    """The shipped directory ``relative`` (``"schemas"``, ``"fixtures/demo"``) of this installation."""
    packaged = _PACKAGE / "_data" / relative
    return packaged if packaged.is_dir() else _PACKAGE.parent / relative


SCHEMAS_DIR = shipped("schemas")
DEMO_TAPES = shipped("fixtures/demo")
"""The demo tapes served when no tape is given (made by ``harness synth --seed 7``)."""
