"""pytester runs the plugin's tests (tests/plugin/): inner pytest runs in a temporary directory.

Hypothesis profiles: on a CI machine (the ``CI`` environment variable, which CI services set) the
examples are derandomized, so a run is the same run every time and a red build is a real one; on
a developer's machine each run draws new examples and keeps failures in ``.hypothesis/``.
``HYPOTHESIS_PROFILE=ci|dev`` picks one by name.
"""

import os

from hypothesis import settings

pytest_plugins = ["pytester"]

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
_on_ci = os.environ.get("CI", "").lower() not in ("", "0", "false")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if _on_ci else "dev"))
