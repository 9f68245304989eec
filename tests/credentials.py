"""What every test that records shares: the credentials it may use, and a scan of every byte it wrote.

A recording test sends only these credentials (Authorization bearer, Socket.IO ``auth.api_key``,
``api_key``/``token`` query parameters, cookies). After each test, :func:`no_credential_on_disk`
reads every tape (``*.jsonl``, ``*.jsonl.gz``, decompressed too) and every HAR file under the test's
``tmp_path`` (and under the directories the test adds, such as a pytester project) and fails the
test if any of them holds one, plain, percent-encoded or in base64. Input files that carry
credentials on purpose (a browser HAR to import) live in a directory named ``given``, which the
scan skips. It runs for every test under ``tests/recorder/`` (its conftest) and in any test module
that imports the fixture.
"""

from __future__ import annotations

import base64
import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

BEARER = "tok-S3cretBearer-9f2c41"
API_KEY = "pd_S3cretApiKey-77aa10"
QUERY_KEY = "qk-S3cretQueryKey-5e0d"
QUERY_TOKEN = "qt-S3cretQueryToken-c3b2"
COOKIE = "ck-S3cretSession-81f7aa"
CREDENTIALS = (BEARER, API_KEY, QUERY_KEY, QUERY_TOKEN, COOKIE)
GIVEN = "given"


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    forms = [raw, quote(secret, safe="").encode()]
    for shift, start in enumerate((0, 2, 3)):
        # the secret's base64 inside any longer base64 text, at each of the three alignments:
        # the characters made of the secret's bits only
        forms.append(base64.b64encode(b"\0" * shift + raw)[start:-4])
    return forms


FORMS = {secret: _forms(secret) for secret in CREDENTIALS}


def written_files(root: Path) -> Iterator[Path]:
    """Tapes and HAR files under ``root``, outside ``given`` directories."""
    for path in sorted(root.rglob("*")):
        if GIVEN in path.relative_to(root).parts or not path.is_file():
            continue
        if path.name.endswith((".jsonl", ".jsonl.gz", ".har")):
            yield path


def _contents(path: Path) -> Iterator[bytes]:
    data = path.read_bytes()
    yield data
    if data[:2] == b"\x1f\x8b":
        try:
            yield gzip.decompress(data)
        except (EOFError, OSError, zlib.error):  # a tape cut short by a killed recorder
            yield zlib.decompressobj(wbits=31).decompress(data)


def credentials_in(path: Path) -> list[str]:
    """The credentials found in ``path`` (plain, percent-encoded or base64)."""
    found = []
    for data in _contents(path):
        for secret, forms in FORMS.items():
            if secret not in found and any(form in data for form in forms):
                found.append(secret)
    return found


@pytest.fixture(autouse=True)
def no_credential_on_disk(tmp_path: Path) -> Iterator[list[Path]]:
    """Yields the list of what it scans besides ``tmp_path``: a test appends files, or directories
    whose tapes and HAR files are scanned like ``tmp_path``'s."""
    extra: list[Path] = []
    yield extra
    files = [p for root in (tmp_path, *extra) for p in (written_files(root) if root.is_dir() else [root])]
    leaks = {str(path): found for path in files if (found := credentials_in(path))}
    assert not leaks, f"credentials reached the disk: {leaks}"
