"""The release: the version, held here only (pyproject.toml reads it for the build, the package
imports it), and the distribution name the package is installed under.

The distribution is ``memecoin-harness`` (``pip install memecoin-harness``; ``harness`` on PyPI is
an unrelated project); the import package and the console script are ``harness``.
"""

__version__ = "0.1.0"
DISTRIBUTION = "memecoin-harness"
