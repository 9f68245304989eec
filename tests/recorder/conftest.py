"""Every recorder test's files pass the credential scan (:mod:`tests.credentials`)."""

from tests.credentials import no_credential_on_disk

__all__ = ["no_credential_on_disk"]
