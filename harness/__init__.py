"""harness: record, replay and validate the Pump.fun REST, PumpData Socket.IO and corto.fun
Data Stream APIs.

The public entry points are imported lazily, so ``import harness`` stays cheap for the CLI and the
pytest plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.__about__ import __version__
from harness.lazy import exports

if TYPE_CHECKING:
    from harness.core.fuzz import FuzzKind, FuzzPlan, ScheduledFault
    from harness.server.app import MockServer
    from harness.validation import validate

__all__ = ["FuzzKind", "FuzzPlan", "MockServer", "ScheduledFault", "__version__", "validate"]

_LAZY = {
    "validate": "harness.validation",
    "MockServer": "harness.server.app",
    "FuzzPlan": "harness.core.fuzz",
    "FuzzKind": "harness.core.fuzz",
    "ScheduledFault": "harness.core.fuzz",
}

__getattr__ = exports(__name__, _LAZY)
