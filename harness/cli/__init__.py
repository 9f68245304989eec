"""The ``harness`` command line: one module per subcommand, wired in :mod:`harness.cli.main`.

Each subcommand module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args)``
returning an exit code; heavy imports happen inside ``run`` so ``harness --help`` stays fast.
"""
