"""Contract validators: JSON Schemas (draft 2020-12) for every documented message family.

``validate(message, api=None, family=None)`` returns the violations of one message;
``validate_tape(path)`` streams a whole tape's; ``families()`` lists the family names. The schemas
live in ``schemas/<api>/<family>.json``; :mod:`harness.validation.validator` compiles them once.
"""

from harness.resources import SCHEMAS_DIR
from harness.validation.validator import (
    UnknownFamily,
    Validator,
    Violation,
    default_validator,
    families,
    validate,
    validate_tape,
)

__all__ = [
    "SCHEMAS_DIR",
    "UnknownFamily",
    "Validator",
    "Violation",
    "default_validator",
    "families",
    "validate",
    "validate_tape",
]
