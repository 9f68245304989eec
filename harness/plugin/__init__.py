"""The pytest plugin, registered through the ``pytest11`` entry point as ``harness``.

Loaded by pytest in every project that installs harness. It adds nothing yet: the fixtures
(``harness_server``, ``harness_clock``, ``harness_tape``, ``harness_config``), the ``harness``
marker and the ``--harness-*`` options come with the plugin issue. Until then, tests use
:class:`harness.MockServer` directly (README "From Python").
"""
