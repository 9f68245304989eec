"""Contract validators: JSON Schemas (draft 2020-12) for every documented message family.

``validate(message, api=None, family=None)`` returns the violations of one message;
``validate_tape(path)`` streams a whole tape's (a :class:`Tally` counts what it checked);
``families()`` lists the family names. The schemas
live in ``schemas/<api>/<family>.json``; :mod:`harness.validation.validator` compiles them once.
"""

from harness.resources import SCHEMAS_DIR
from harness.validation.validator import (
    Tally,
    UnknownFamily,
    Validator,
    Violation,
    default_validator,
    families,
    require_known,
    validate,
    validate_tape,
)

__all__ = [
    "SCHEMAS_DIR",
    "Tally",
    "UnknownFamily",
    "Validator",
    "Violation",
    "default_validator",
    "families",
    "require_known",
    "validate",
    "validate_tape",
]
