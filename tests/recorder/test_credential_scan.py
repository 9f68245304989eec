"""The shared scan every recorder test's files pass through finds credentials in any form."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from urllib.parse import quote

from tests.credentials import (
    API_KEY,
    BEARER,
    COOKIE,
    QUERY_KEY,
    QUERY_TOKEN,
    credentials_in,
    written_files,
)


def test_the_scan_finds_a_credential_in_every_form(tmp_path: Path) -> None:
    encoded = base64.b64encode(b"user:" + COOKIE.encode()).decode()
    (tmp_path / "given").mkdir()
    cases = {
        "plain.jsonl": f'{{"a":"Bearer {BEARER}"}}'.encode(),
        "quoted.jsonl": quote(f"?api_key={API_KEY}", safe="").encode(),
        "b64.har": f'{{"text":"{encoded}"}}'.encode(),
        "zipped.jsonl.gz": gzip.compress(QUERY_TOKEN.encode()),
        "given/input.har": QUERY_KEY.encode(),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    assert {p.name: credentials_in(p) for p in written_files(tmp_path)} == {
        "b64.har": [COOKIE],
        "plain.jsonl": [BEARER],
        "quoted.jsonl": [API_KEY],
        "zipped.jsonl.gz": [QUERY_TOKEN],
    }
    for name in cases:
        (tmp_path / name).unlink()
