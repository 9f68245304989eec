"""``harness redact`` and the secrets warning of ``harness inspect``, as a user runs them: tapes that
an older harness (or a hand) wrote with secrets in them, plain and gzip."""

from __future__ import annotations

import gzip
import json
import stat
from pathlib import Path

import pytest

from harness.core.frames import (
    C2S,
    S2C,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    Recorded,
    TapeHeader,
    WsText,
)
from harness.store import TapeWriter, read_tape
from tests.helpers import run_cli, run_cli_on_terminal

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWRhY3QtdGVzdCJ9.c2lnLXJlZGFjdC10ZXN0"
PASSWORD, API_KEY, QUERY = "pw-Old-Tape-1", "ak-Old-Tape-2", "qt-Old-Tape-3"
UPSTREAM_PASSWORD = "up-Old-Tape-4"
SIGNATURE = "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW"
VALUES = (JWT, PASSWORD, API_KEY, QUERY, UPSTREAM_PASSWORD)


def old_tape(path: Path) -> Path:
    """A tape holding secrets that the rules of its day let through."""
    header = TapeHeader(
        created="2026-01-01T00:00:00Z",
        harness_version="0.0.9",
        recorded=Recorded(upstreams=(("rest", f"http://me:{UPSTREAM_PASSWORD}@127.0.0.1:9"),)),
        redaction=("header:authorization",),
    )
    with TapeWriter(path, header) as writer:
        for i in range(1200):  # enough for progress and streaming to matter
            writer.write(
                WsText(
                    t=i / 100, conn="ws-1", direction=S2C, data=json.dumps({"signature": SIGNATURE, "i": i})
                )
            )
        writer.write(
            WsText(
                t=31,
                conn="ws-1",
                direction=C2S,
                data=json.dumps({"apiKey": API_KEY, "user": {"password": PASSWORD}}),
            )
        )
        writer.write(
            HttpExchange(
                t=32,
                conn="http-1",
                request=HttpRequest(
                    "GET", f"/coins/latest?access_token={QUERY}", (("X-Session-Token", JWT),)
                ),
                response=HttpResponse(200, (), b"[]"),
            )
        )
    return path


@pytest.mark.parametrize("name", ["old.jsonl", "old.jsonl.gz"])
def test_redact_rewrites_plain_and_gzip_tapes_in_place(tmp_path: Path, name: str) -> None:
    tape = old_tape(tmp_path / name)
    before = read_tape(tape)[1]
    out = run_cli("redact", str(tape))
    assert out.returncode == 0, out.stderr
    for value in VALUES:
        assert value not in out.stdout + out.stderr
    assert out.stdout.startswith(f"{tape}: 5 values redacted in 2 frames (")
    for rule in (
        "json-key:apikey 1",
        "json-key:password 1",
        "header:x-session-token 1",
        "query:accesstoken 1",
    ):
        assert rule in out.stdout
    data = tape.read_bytes()
    assert (data[:2] == b"\x1f\x8b") is name.endswith(".gz"), "a gzip tape stays gzip"
    text = gzip.decompress(data) if name.endswith(".gz") else data
    for value in VALUES:
        assert value.encode() not in text
    assert SIGNATURE.encode() in text, "signatures are public"
    header, frames = read_tape(tape)
    assert header.redaction[0] == "header:authorization" and "jwt" in header.redaction
    assert "solana-keypair" in header.redaction and any(
        r.startswith("harness redact") for r in header.redaction
    )
    assert "REDACTED-" in header.recorded.upstreams[0][1]
    assert len(frames) == len(before) and frames[:1200] == before[:1200]
    assert stat.S_IMODE(tape.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [name], "no temporary file left"
    again = run_cli("redact", str(tape))
    assert again.returncode == 0 and again.stdout.strip() == f"{tape}: nothing to redact (1202 frames)"
    assert tape.read_bytes() == data, "a tape with nothing to redact is left untouched"


def test_check_exits_1_and_writes_nothing_then_0_once_redacted(tmp_path: Path) -> None:
    tape = old_tape(tmp_path / "t.jsonl")
    data = tape.read_bytes()
    check = run_cli("redact", "--check", str(tape))
    assert check.returncode == 1
    assert "5 values would be redacted in 2 frames" in check.stdout
    assert tape.read_bytes() == data
    assert run_cli("redact", "--dry-run", str(tmp_path)).returncode == 1
    assert run_cli("redact", str(tape)).returncode == 0
    assert run_cli("redact", "--check", str(tape)).returncode == 0


def test_a_rewrite_that_fails_leaves_the_original_whole(tmp_path: Path) -> None:
    tape = old_tape(tmp_path / "t.jsonl")
    lines = tape.read_bytes().splitlines(keepends=True)
    lines.insert(1000, b'{"t": 1, "this is": "no frame"}\n')
    tape.write_bytes(b"".join(lines))
    data = tape.read_bytes()
    out = run_cli("redact", str(tape))
    assert out.returncode == 2
    assert out.stderr.startswith(f"harness redact: error: {tape}:1001:")
    assert tape.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl"]


def test_keep_secret_and_bad_keeps(tmp_path: Path) -> None:
    tape = old_tape(tmp_path / "t.jsonl")
    keep = ("--keep-secret", "password", "--keep-secret", "x-session-token", "--keep-secret", "jwt")
    out = run_cli("redact", *keep, str(tape))
    assert out.returncode == 0, out.stderr
    text = tape.read_text()
    assert PASSWORD in text and JWT in text and API_KEY not in text
    assert "keep:password" in text.splitlines()[0]
    bad = run_cli("redact", "--keep-secret", "solana-keypair", str(tape))
    assert bad.returncode == 2 and "always redacted" in bad.stderr


def test_inspect_warns_of_secrets_without_printing_them(tmp_path: Path) -> None:
    tape = old_tape(tmp_path / "t.jsonl")
    out = run_cli("inspect", str(tape))
    assert out.returncode == 0, out.stderr
    assert "warning: 5 values look like secrets (" in out.stdout
    assert f"'harness redact {tape}' replaces them" in out.stdout
    for value in VALUES:
        assert value not in out.stdout + out.stderr
    report = json.loads(run_cli("inspect", "--format", "json", str(tape)).stdout)
    assert report["secrets"]["json-key:apikey"] == 1 and report["secrets"]["url-credentials"] == 1
    assert "REDACTED" in report["upstreams"]["rest"]
    run_cli("redact", str(tape))
    assert "warning" not in run_cli("inspect", str(tape)).stdout


def test_progress_on_a_terminal_nothing_in_a_pipe(tmp_path: Path) -> None:
    tape = old_tape(tmp_path / "t.jsonl")
    done, terminal = run_cli_on_terminal("redact", str(tape))
    assert done.returncode == 0
    assert b"redacting t.jsonl [" in terminal and b"found" in terminal
    assert done.stdout.startswith(f"{tape}: 5 values redacted")
    assert "\r" not in run_cli("redact", "--check", str(tape)).stderr


def test_a_tape_with_nothing_to_redact_gets_the_rules_in_its_header_once(tmp_path: Path) -> None:
    header = TapeHeader(created="2026-01-01T00:00:00Z", harness_version="0.0.9", recorded=Recorded())
    tape = tmp_path / "clean.jsonl"
    with TapeWriter(tape, header) as writer:
        writer.write(WsText(t=0, conn="ws-1", direction=S2C, data=json.dumps({"signature": SIGNATURE})))
    first = run_cli("redact", str(tape))
    assert first.stdout.strip() == f"{tape}: nothing to redact (1 frame); header updated"
    assert "solana-keypair" in read_tape(tape)[0].redaction
    data = tape.read_bytes()
    assert run_cli("redact", str(tape)).stdout.strip() == f"{tape}: nothing to redact (1 frame)"
    assert tape.read_bytes() == data


@pytest.mark.parametrize(
    ("field", "shown"),
    [
        ('"headers":[["Authorization","Bearer {secret}",1]]', "header 0 is not a [name, value] pair"),
        ('"headers":[],"method":{{"apiKey":"{secret}"}}', "'method' must be a string, got dict"),
    ],
)
def test_a_malformed_line_is_refused_without_printing_what_it_holds(
    tmp_path: Path, field: str, shown: str
) -> None:
    """The error that names a broken frame says what is wrong with it, never the values in it: the
    tool that cleans tapes must not print the secret of the line it cannot read."""
    secret = "sk-Malformed-Line-" + "x" * 200
    request = '{"body":"",' + field.format(secret=secret) + ("" if "method" in field else ',"method":"GET"')
    tape = tmp_path / "broken.jsonl"
    header = (
        '{"format":"harness-tape","version":1,"created":"2026-01-01T00:00:00Z","harness":"0","recorded":{}}'
    )
    frame = (
        '{"t":0,"conn":"http-1","dir":"c2s","kind":"exchange","latency":0.1,"proto":"http","request":'
        + request
        + ',"url":"/x"},"response":{"body":"","headers":[],"status":200}}'
    )
    tape.write_text(f"{header}\n{frame}\n" + frame.replace('"t":0', '"t":1') + "\n")
    for command in ("redact", "inspect", "report"):
        out = run_cli(
            command, str(tape), *(["--out", str(tmp_path / "r.html")] if command == "report" else [])
        )
        assert out.returncode != 0, command
        assert shown in out.stderr, (command, out.stderr)
        assert "Malformed-Line" not in out.stdout + out.stderr, command
        assert "Traceback" not in out.stderr
