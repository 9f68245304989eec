"""ETags as Express/NestJS compute them (the ``etag`` npm package), for bodies a tape lacks one for."""

from __future__ import annotations

import base64
import hashlib


def compute_etag(body: bytes) -> str:
    """``W/"<length in hex>-<first 27 chars of base64 sha1>"``, Express's default weak ETag."""
    if not body:
        return 'W/"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"'
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode("ascii")[:27]
    return f'W/"{len(body):x}-{digest}"'
