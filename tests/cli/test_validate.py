"""``harness validate``: exit codes 0/1/2, text and JSON output, --list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.core.frames import C2S, HttpExchange, HttpRequest, HttpResponse, WsText
from harness.store import dump_tape
from tests.helpers import ROOT, header, run_cli, run_cli_on_terminal


def _table(stdout: str) -> dict[str, tuple[int, int]]:
    """The per-family counts under the summary line: family -> (messages, violations)."""
    lines = stdout.splitlines()
    start = lines.index("  messages  violations  family") + 1
    rows = [line.split(maxsplit=2) for line in lines[start:]]
    return {family: (int(messages), int(violations)) for messages, violations, family in rows}


def test_demo_tapes_are_valid_and_counted_per_family() -> None:
    out = run_cli("validate", str(ROOT / "fixtures" / "demo"))
    assert out.returncode == 0, out.stdout + out.stderr
    summary = re.match(r"all valid \((\d{4,}) messages in 4 files\)\n", out.stdout)
    assert summary is not None, out.stdout
    table = _table(out.stdout)
    assert sum(m for m, _ in table.values()) == int(summary[1])
    assert {"corto trade", "corto create.full", "pumpdata ohlcv", "pumpfun trade_list"} <= set(table)
    assert all(v == 0 for _, v in table.values())


def test_violations_exit_1_naming_file_line_family_pointer_rule(tmp_path: Path) -> None:
    frames = [
        WsText(
            t=0,
            conn="ws-1",
            direction=C2S,
            data='{"type":"subscribe","mode":"all","create":{"detail":"wide"}}',
        )
    ]
    tape = dump_tape(tmp_path / "t.jsonl", header(), frames)
    out = run_cli("validate", str(tape))
    assert out.returncode == 1
    first = out.stdout.splitlines()[0]
    assert first.startswith(f"{tape}:2: corto request.subscribe /create/detail: enum:")
    assert "1 violation in 1 message in 1 file" in out.stdout
    assert _table(out.stdout) == {"corto request.subscribe": (1, 1)}


def test_json_files_one_message_or_a_list(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"solPrice": "244"}))
    out = run_cli("validate", str(one), "--format", "json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["violations"][0]["pointer"] == "/solPrice" and report["counts"] == {"pumpfun sol_price": 1}
    many = tmp_path / "many.json"
    many.write_text(json.dumps([{"type": "ping"}, {"type": "pong"}, {"type": "subscribe", "mode": "x"}]))
    out = run_cli("validate", str(many), "--api", "corto")
    assert out.returncode == 1 and "/2/mode: enum" in out.stdout
    candles = tmp_path / "ohlcv.json"
    candles.write_text("[[1779812627000, 0.000000033, 0.000000034, 0.000000033, 0.000000034, 5.12]]")
    assert run_cli("validate", str(candles)).returncode == 0, "a list that is itself a message"
    assert run_cli("validate", str(one), "--family", "sol_price", "--api", "pumpdata").returncode == 1


def test_bad_input_and_usage_exit_2(tmp_path: Path) -> None:
    garbage = tmp_path / "g.json"
    garbage.write_text("{nope")
    out = run_cli("validate", str(garbage))
    assert out.returncode == 2 and "not a tape and not JSON" in out.stderr
    out = run_cli("validate")
    assert out.returncode == 2 and "a JSON or JSON Lines file" in out.stderr, "what a PATH may be"
    out = run_cli("validate", str(garbage), "--family", "nope")
    assert out.returncode == 2 and "unknown family 'nope'" in out.stderr
    assert run_cli("validate", str(tmp_path / "missing.jsonl")).returncode == 2


def test_list_prints_every_family() -> None:
    out = run_cli("validate", "--list")
    assert out.returncode == 0
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines())
    assert "create.min" in lines["corto"].split() and "ohlcv_history_ack" in lines["pumpdata"].split()
    assert {"trade_list", "coin_list"} <= set(lines["pumpfun"].split())


def test_lists_with_and_without_family(tmp_path: Path) -> None:
    def check(content: object, *args: str) -> dict[str, object]:
        path = tmp_path / "m.json"
        path.write_text(json.dumps(content))
        out = run_cli("validate", str(path), "--format", "json", *args)
        assert out.returncode in (0, 1), out.stderr
        report: dict[str, object] = json.loads(out.stdout)
        return report

    pings = [{"type": "ping"}, {"type": "ping"}, {"type": "pong"}]
    assert check(pings)["checked"] == {"corto request.ping": 2, "corto pong": 1}, "not a pumpfun trade list"
    report = check(pings, "--family", "request.ping")
    assert report["checked"] == {"corto request.ping": 3}
    assert [v["pointer"] for v in report["violations"]] == ["/2/type"]  # type: ignore[attr-defined]
    candles = [[1779812627000, 1, 1, 1, 1, 0]]
    assert check(candles, "--family", "ohlcv")["checked"] == {"pumpdata ohlcv": 1}
    assert check([candles, candles], "--family", "ohlcv")["checked"] == {"pumpdata ohlcv": 2}
    assert check([], "--family", "trade_list")["checked"] == {"pumpfun trade_list": 1}
    assert check([], "--family", "coin_list")["checked"] == {"pumpfun coin_list": 1}


def test_a_coins_page_is_a_coin_list_on_a_tape_and_in_a_json_file(tmp_path: Path) -> None:
    """Contract §1.2: GET /coins answers an array of Coin; a broken item is named by its index."""
    coin = {"mint": "CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump", "name": "Cat", "symbol": "CAT"}
    page = [coin, coin, coin, {**coin, "mint": "0OIl"}]
    body = json.dumps(page).encode()
    exchange = HttpExchange(0, "http-1", HttpRequest("GET", "/coins?limit=4"), HttpResponse(200, (), body))
    tape = dump_tape(tmp_path / "coins.jsonl", header(), [exchange])
    out = run_cli("validate", str(tape))
    assert out.returncode == 1
    assert out.stdout.startswith(f"{tape}:2: pumpfun coin_list /response/body/3/mint: pattern:")
    assert _table(out.stdout) == {"pumpfun coin_list": (1, 1), "pumpfun query.coins": (1, 0)}
    (tmp_path / "page.json").write_text(json.dumps(page))
    out = run_cli("validate", str(tmp_path / "page.json"), "--format", "json")
    report = json.loads(out.stdout)
    assert report["checked"] == {"pumpfun coin_list": 1}, "the page is one message"
    assert [(v["family"], v["pointer"], v["rule"]) for v in report["violations"]] == [
        ("coin_list", "/3/mint", "pattern")
    ]


def test_a_directory_holds_tapes_and_json_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"solPrice": 1}')
    (tmp_path / "b.json").write_text('{"type": "subscribe", "mode": "x"}')
    (tmp_path / "notes.txt").write_text("ignored")
    dump_tape(
        tmp_path / "c.jsonl", header(), [WsText(t=0, conn="ws-1", direction=C2S, data='{"type":"ping"}')]
    )
    out = run_cli("validate", str(tmp_path))
    assert out.returncode == 1
    assert f"{tmp_path / 'b.json'}:1: corto request.subscribe /mode: enum:" in out.stdout
    assert "1 violation in 3 messages in 3 files" in out.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    out = run_cli("validate", str(empty))
    assert out.returncode == 2 and "holds no tapes" in out.stderr


def test_nothing_of_the_family_is_said(tmp_path: Path) -> None:
    out = run_cli("validate", str(ROOT / "fixtures" / "demo" / "corto.jsonl"), "--family", "burn")
    assert out.returncode == 0 and out.stdout == "no messages of family burn to check in 1 file\n"


def test_creates_of_a_tape_are_checked_at_the_level_given() -> None:
    """--family create (any level) or create.min/mid/full picks every create of a tape, whatever
    level its connection asked for, and holds it to the level given."""
    corto = str(ROOT / "fixtures" / "demo" / "corto.jsonl")
    out = run_cli("validate", corto, "--family", "create")
    assert out.returncode == 0 and _table(out.stdout) == {"corto create": (8, 0)}
    out = run_cli("validate", corto, "--family", "create.min", "--format", "json")
    report = json.loads(out.stdout)
    assert out.returncode == 1 and report["checked"] == {"corto create.min": 8}
    assert {v["rule"] for v in report["violations"]} == {"additionalProperties"}
    assert {v["pointer"] for v in report["violations"]} >= {"/price", "/decimals"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"solPrice": NaN}', "NaN is not a JSON number"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_unreadable_json_is_one_line_exit_2(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    out = run_cli("validate", str(path))
    assert out.returncode == 2 and message in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_max_and_bad_max(tmp_path: Path) -> None:
    many = tmp_path / "many.json"
    many.write_text(json.dumps([{"type": "subscribe", "mode": "x"}] * 3))
    out = run_cli("validate", str(many), "--max", "1")
    assert out.returncode == 1 and out.stdout.count("/mode: enum") == 1 and "... 2 more" in out.stdout
    out = run_cli("validate", str(many), "--max", "-1")
    assert out.returncode == 2 and "--max must be 0 or more" in out.stderr


def test_a_torn_last_line_is_a_warning(tmp_path: Path) -> None:
    tape = dump_tape(
        tmp_path / "t.jsonl", header(), [WsText(t=0, conn="ws-1", direction=C2S, data='{"type":"ping"}')]
    )
    with tape.open("a") as f:
        f.write('{"t": 1, "conn": "ws-1", "pro')
    out = run_cli("validate", str(tape))
    assert out.returncode == 0 and "all valid (1 message in 1 file)" in out.stdout
    assert f"warning: {tape}:3: torn last line" in out.stderr and out.stderr.count("skipped") == 1


def test_progress_bar_on_a_terminal() -> None:
    """Run on a terminal (a pseudo-terminal for stderr), validate draws its progress there."""
    proc, drawn = run_cli_on_terminal("validate", str(ROOT / "fixtures" / "demo" / "corto.jsonl"))
    assert proc.returncode == 0
    assert b"validating corto.jsonl [" in drawn and b"%" in drawn
    assert "validating" not in proc.stdout, "progress goes to the terminal, not into the report"


def test_a_json_file_too_big_to_decode_is_refused_not_read_forever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """/dev/zero (or a giant file that is no tape) is refused once past the JSON file limit
    (128 MiB; 1 KiB here), as one line and exit 2, instead of exhausting memory."""
    from harness.cli import validate as command
    from harness.cli.main import main

    monkeypatch.setattr(command, "MAX_JSON_BYTES", 1024)
    big = tmp_path / "big.json"
    big.write_text(json.dumps([{"type": "ping"}] * 100))
    for path in (big, Path("/dev/zero")):
        assert main(["validate", str(path)]) == 2
        err = capsys.readouterr().err
        assert err == (
            f"harness validate: error: {path}: not a tape, and over 1,024 bytes: too big for a JSON message file"
            " (a tape of any size is read a line at a time)\n"
        )
    small = tmp_path / "small.json"
    small.write_text('{"type": "ping"}')
    assert main(["validate", str(small)]) == 0


def test_out_of_memory_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import validate as command
    from harness.cli.main import main

    def exhausted(path: Path) -> object:
        raise MemoryError

    monkeypatch.setattr(command, "_load", exhausted)
    path = tmp_path / "m.json"
    path.write_text("{}")
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"harness validate: error: {path}: out of memory: a line or message too big to hold\n"
    )


def test_list_as_json() -> None:
    out = run_cli("validate", "--list", "--format", "json")
    from harness.core.families import FAMILIES

    assert out.returncode == 0 and json.loads(out.stdout) == {api: list(f) for api, f in FAMILIES.items()}


def test_unknown_family_names_say_what_was_meant(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"type": "ping"}')
    out = run_cli("validate", str(path), "--family", "create_pool")
    assert out.returncode == 2
    assert out.stderr == (
        "harness validate: error: unknown family 'create_pool' (did you mean 'createPool'?"
        " see harness validate --list)\n"
    )
    out = run_cli("validate", str(path), "--api", "corto", "--family", "coin")
    assert out.returncode == 2 and "unknown family 'coin' for corto (it is a pumpfun family;" in out.stderr


def test_violations_print_as_found_above_the_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    """Text output streams: each violation is printed when found, the bar blanked first."""
    import argparse
    import io

    from harness.cli.progress import Progress
    from harness.cli.validate import _Report
    from harness.validation import Violation

    terminal = io.StringIO()
    report = _Report(argparse.Namespace(format="text", max=1, family=None))
    with Progress("validating t.jsonl", 100, stream=terminal, enabled=True) as bar:
        report.bar = bar
        bar.update(50, force=True)
        report.add(Violation("corto", "trade", "/slot", "type", "'1' is not of type 'integer'", "t", 7))
        assert terminal.getvalue().endswith("\r"), "the bar is blanked before the line is printed"
        assert capsys.readouterr().out == "t:7: corto trade /slot: type: '1' is not of type 'integer'\n"
        report.add(Violation("corto", "trade", "/mint", "required", "'mint' is a required property"))
        assert capsys.readouterr().out == "", "past --max, only counted"
    assert report.total == 2 and report.counts == {"corto trade": 2}


def test_json_lines_files_a_message_a_line_with_their_line_numbers(tmp_path: Path) -> None:
    lines = [
        '{"type":"ping"}',
        "",  # blank lines are skipped
        '{"type":"subscribe","mode":"bogus"}',
        "not json",
        '[{"type":"ping"},{"type":"subscribe","mode":"x"}]',  # a line holding a list of messages
    ]
    for name in ("dump.jsonl", "dump.ndjson", "dump.json"):  # .json: found to be JSON Lines by content
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        out = run_cli("validate", str(path), "--api", "corto")
        assert out.returncode == 1, out.stderr
        assert [line.split(" ", 1)[0] for line in out.stdout.splitlines()[:3]] == [
            f"{path}:3:",
            f"{path}:4:",
            f"{path}:5:",
        ]
        assert f"{path}:3: corto request.subscribe /mode: enum:" in out.stdout
        assert (
            f"{path}:4: corto /: json: not JSON (Expecting value: line 1 column 1 (char 0)): 'not json'"
            in out.stdout
        )
        assert f"{path}:5: corto request.subscribe /1/mode: enum:" in out.stdout
        assert "3 violations in 5 messages in 1 file" in out.stdout
    out = run_cli("validate", str(tmp_path))  # a directory: its JSON Lines files too
    assert "in 15 messages in 3 files" in out.stdout


def test_json_lines_as_editors_and_other_systems_write_them(tmp_path: Path) -> None:
    """A UTF-8 byte order mark (Windows tools write one), CRLF line ends, and strings holding
    characters Python counts as line breaks (U+2028, U+0085: JSON allows them raw) are still a
    message a line, named by the line an editor shows."""
    coin = '{"mint":"CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump","name":"a\u2028b\x85c","symbol":"CAT"}'
    lines = [coin, coin, '{"solPrice":"244.2"}']
    text = "\ufeff" + "\r\n".join(lines) + "\r\n"
    for name in ("dump.jsonl", "dump.json"):
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        out = run_cli("validate", str(path), "--api", "pumpfun")
        assert out.returncode == 1, out.stderr
        assert out.stdout.startswith(f"{path}:3: pumpfun sol_price /solPrice: type:"), out.stdout
        assert "1 violation in 3 messages in 1 file" in out.stdout
    one = tmp_path / "one.json"
    one.write_bytes("\ufeff".encode() + json.dumps({"type": "ping"}, indent=2).encode())
    out = run_cli("validate", str(one), "--api", "corto")
    assert out.returncode == 0 and "all valid (1 message in 1 file)" in out.stdout, out.stderr


def test_a_pretty_printed_json_file_is_not_taken_for_json_lines(tmp_path: Path) -> None:
    """A document spanning lines is one message (a list, its items); two of them one after the
    other are no JSON and no JSON Lines (their first line is no message): exit 2."""
    messages = [{"type": "ping"}, {"type": "subscribe", "mode": "bogus"}]
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(messages, indent=2) + "\n")
    out = run_cli("validate", str(pretty), "--api", "corto")
    assert out.returncode == 1 and out.stdout.startswith(
        f"{pretty}:1: corto request.subscribe /1/mode: enum:"
    )
    assert "1 violation in 2 messages in 1 file" in out.stdout
    two = tmp_path / "two.json"
    two.write_text("\n".join(json.dumps(m, indent=2) for m in messages) + "\n")
    out = run_cli("validate", str(two), "--api", "corto")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith(
        f"harness validate: error: {two}: not a tape and not JSON (Extra data: line 4 "
    )


def test_a_big_json_lines_file_streams_with_progress_and_a_line_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli.main import main
    from harness.store import tapes

    dump = tmp_path / "feed.jsonl"
    dump.write_text('{"type":"ping"}\n' * 5000)
    proc, drawn = run_cli_on_terminal("validate", str(dump))
    assert proc.returncode == 0 and "all valid (5000 messages in 1 file)" in proc.stdout
    assert b"validating feed.jsonl [" in drawn
    monkeypatch.setattr(tapes, "LINE_LIMIT", 64)
    dump.write_text('{"type":"ping"}\n' + '{"type":"ping","pad":"' + "x" * 100 + '"}\n')
    assert main(["validate", str(dump)]) == 2
    assert capsys.readouterr().err == f"harness validate: error: {dump}:2: a line over 64 bytes\n"


def test_a_json_file_of_json_lines_streams_too_whatever_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .json file whose content is JSON Lines is read a line at a time like a *.jsonl: the limit
    of a JSON file, decoded whole, is not its limit (README: "streamed, any size")."""
    from harness.cli import validate
    from harness.cli.main import main

    monkeypatch.setattr(validate, "MAX_JSON_BYTES", 64)
    dump = tmp_path / "feed.json"
    dump.write_text('{"type":"ping"}\n' * 100 + '{"type":"subscribe","mode":"x"}\n')
    assert main(["validate", str(dump), "--api", "corto"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{dump}:101: corto request.subscribe /mode: enum:")
    assert "1 violation in 101 messages in 1 file" in out
    one = tmp_path / "one.json"
    one.write_text(json.dumps([{"type": "ping"}] * 10, indent=2))
    assert main(["validate", str(one)]) == 2, "a document is still decoded whole, and so limited"
    assert "too big for a JSON message file" in capsys.readouterr().err


def test_gzipped_json_lines_are_read_like_plain_ones_and_a_cut_one_is_a_warning(tmp_path: Path) -> None:
    import gzip

    lines = b'{"type":"ping"}\n{"type":"subscribe","mode":"bogus"}\n'
    for name in ("feed.jsonl.gz", "feed.json.gz", "feed.log"):  # gzip is told by content, not name
        dump = tmp_path / name
        dump.write_bytes(gzip.compress(lines))
        out = run_cli("validate", str(dump))
        assert out.returncode == 1, out.stderr
        assert out.stdout.startswith(f"{dump}:2: corto request.subscribe /mode: enum:")
    dump = tmp_path / "feed.jsonl.gz"
    big = gzip.compress(b"".join(b'{"type":"ping"}' + b" " * (i % 97) + b"\n" for i in range(20_000)))
    dump.write_bytes(big[: len(big) // 2])  # a logger killed, or a download cut short
    out = run_cli("validate", str(dump))
    # what came before the cut is checked; the cut is a warning, as a tape's is
    assert out.returncode == 0 and "all valid (" in out.stdout, out.stdout + out.stderr
    assert re.fullmatch(
        rf"harness validate: warning: {re.escape(str(dump))}:\d+: compressed stream ends early .*; rest skipped\n",
        out.stderr,
    ), out.stderr
    dump.write_bytes(big[:10] + b"\x00" * 64 + big[74:])  # corrupt compressed data
    out = run_cli("validate", str(dump))
    assert out.returncode == 2 and "corrupt compressed data" in out.stderr and out.stderr.count("\n") == 1
    tape = tmp_path / "tape.jsonl.gz"  # a gzipped tape is still a tape
    tape.write_bytes(gzip.compress((ROOT / "fixtures" / "demo" / "corto.jsonl").read_bytes()))
    assert run_cli("validate", str(tape)).returncode == 0
