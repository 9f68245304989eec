"""What the plugin's tests share: the settings of an inner pytest run, like a user's project."""

from __future__ import annotations

# Imported here, so inner runs in this process share them (pytester restores sys.modules after each
# run; a client library imported anew per run breaks requests' cookie jar class checks).
import sys

import aiohttp  # noqa: F401
import pytest
import requests  # noqa: F401
import websocket  # noqa: F401
import websockets  # noqa: F401

PYTEST_SUBPROCESS = (
    sys.executable,
    "-m",
    "pytest",
    "-p",
    "no:randomly",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:xdist",
)
"""An inner pytest run in a process of its own (its environment is the caller's), one at a time."""

INI = """
[pytest]
# hypothesis' plugin costs about a second per in-process run; these runs do not use it
addopts = -p no:hypothesispytest
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


def project(pytester: pytest.Pytester, *, hypothesis: bool = False, **files: str) -> pytest.Pytester:
    """A user's project in ``pytester``'s directory: the ini above (with Hypothesis' plugin if
    ``hypothesis``) and the given files."""
    pytester.makeini(INI.replace("addopts = -p no:hypothesispytest", "") if hypothesis else INI)
    if files:
        pytester.makepyfile(**files)
    return pytester
