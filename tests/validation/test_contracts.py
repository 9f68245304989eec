"""Every example the contract reference documents, and the seed and repository-copy pages show, validates
under its family, as a lone message and inside a tape (found by path, event name or type)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from harness.core.families import family_of
from harness.core.frames import (
    C2S,
    S2C,
    Frame,
    HttpExchange,
    HttpRequest,
    HttpResponse,
    SioAck,
    SioEvent,
    WsText,
)
from harness.store import dump_tape
from harness.validation import Tally, validate, validate_tape
from tests.helpers import SEEDS, header

MINT = "CxLHsqvjfisgPAGwcZJsTn6nzZXJLxmVYM7v9pump"  # the Pump.fun polling guide
WSOL = "So11111111111111111111111111111111111111112"
POOL = "F2MFtsSeEdNFS5wsKSEbRdx5vrR6vZ5DvvtSiWoSzL5Z"
USER = "6nqTtnfb26VdupoMfK8GUCRMcfvqrXGUKwvrS6hJ4Sv6"
SIGNATURE = "5GL8LJGm6gcRFRRCd6ss5eyHLV1yipJnovh6zQWUASJTdUJVE2ZKRmJ2KpDxRwTdPmCUeZGzCmd11WwjeqfbHv8V"
# the PumpData subscribe_ohlcv page
CANDLE = [1779812627000, 0.000000033, 0.000000034, 0.000000033, 0.000000034, 5.12]

# contract §1.3: the union of the captured coin samples, with the values the table quotes.
COIN = {
    "mint": MINT,
    "name": "Example",
    "symbol": "⎊",
    "description": None,
    "image_uri": "https://ipfs.io/ipfs/QmExample",
    "metadata_uri": "http://203.0.113.7:8080/metadata/1.json",
    "twitter": None,
    "telegram": "",
    "website": "",
    "bonding_curve": POOL,
    "associated_bonding_curve": USER,
    "creator": USER,
    "created_timestamp": 1762115100123,
    "raydium_pool": None,
    "pump_swap_pool": None,
    "complete": False,
    "virtual_sol_reserves": 115005359711,
    "virtual_token_reserves": 279900000000000,
    "real_sol_reserves": 85005359711,
    "real_token_reserves": 0,
    "total_supply": 1000000000000000,
    "hidden": None,
    "show_name": True,
    "last_trade_timestamp": 1762115164000,
    "king_of_the_hill_timestamp": None,
    "market_cap": 410.88,
    "usd_market_cap": 100335.9,
    "ath_market_cap": None,
    "ath_market_cap_timestamp": None,
    "reply_count": 3,
    "last_reply": None,
    "nsfw": False,
    "is_banned": False,
    "is_currently_live": False,
    "initialized": True,
    "hide_banner": False,
    "market_id": None,
    "inverted": None,
    "username": None,
    "profile_image": None,
    "video_uri": None,
    "banner_uri": None,
    "updated_at": 1762115164,
    "livestream_ban_expiry": 0,
    "livestream_downrank_score": 0,
    "downrank_score": 0,
    "num_participants": 0,
    "thumbnail_updated_at": 0,
    "program": "pump",
    "platform": None,
    "token_program": None,
    "mayhem_state": None,
    "thumbnail": "https://ipfs.io/ipfs/QmThumb",
    "rec_id": "r-1",
}
COIN_TRUNCATED = {k: COIN[k] for k in list(COIN)[:10]}  # the /coins/latest scrape: 10 keys shown
LATEST_TRADE = {  # contract §1.4, /trades/latest (real, 2025-09): no tx_index
    "signature": SIGNATURE,
    "mint": MINT,
    "sol_amount": 159998377,
    "token_amount": 5569785018801,
    "is_buy": True,
    "user": USER,
    "timestamp": 1762115164,
    "symbol": "⎊",
    "image_uri": "https://ipfs.io/ipfs/QmExample",
    "slot": 409019833,
}
TRADE_ITEM = {  # contract §1.4, /trades/all/{mint} items per the client models
    **{k: LATEST_TRADE[k] for k in ("signature", "mint", "sol_amount", "token_amount", "is_buy", "user")},
    "timestamp": 1762115164,
    "tx_index": 3,
    "username": None,
    "profile_image": None,
    "slot": 409019833,
}
TRADE_ITEM_BARE = {k: v for k, v in TRADE_ITEM.items() if k not in ("username", "profile_image", "slot")}

PUMPFUN: list[tuple[str, str, Any]] = [
    ("1.3", "coin", COIN),
    ("1.2", "coin", COIN_TRUNCATED),
    ("1.3", "coin", {**COIN, "twitter": "", "description": "", "mint": POOL, "program": None}),
    ("1.4", "trade", LATEST_TRADE),
    ("1.4", "trade", TRADE_ITEM),
    ("1.4", "trade", TRADE_ITEM_BARE),
    ("1.2", "trade_list", [TRADE_ITEM, TRADE_ITEM_BARE]),
    ("1.2", "trade_list", []),
    ("1.3", "coin_list", [COIN, COIN_TRUNCATED, {**COIN, "twitter": "", "pump_swap_pool": None}]),
    ("1.2", "coin_list", []),
    ("1.2", "sol_price", {"solPrice": 244.2}),
    (
        "1.5",
        "error",
        {
            "code": "22P02",
            "details": None,
            "hint": None,
            "message": 'invalid input syntax for type uuid: "test"',
        },
    ),
    ("1.5", "error", {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}),
    ("1.5", "error", {"statusCode": 404, "message": "Cannot GET /coins/x/y", "error": "Not Found"}),
    ("1.5", "error", {"statusCode": 400, "message": ["limit must be a number"], "error": "Bad Request"}),
    ("1.2", "query.none", {}),
    ("1.2", "query.coin", {"sync": "true"}),
    ("1.2", "query.trades_all", {"limit": "10", "offset": "0", "minimumSize": "0"}),
    ("1.2", "query.trades_count", {"minimumSize": "1000000"}),
    (
        "1.2",
        "query.coins",
        {
            "limit": "50",
            "offset": "0",
            "sort": "market_cap",
            "searchTerm": "cat",
            "order": "DESC",
            "includeNsfw": "false",
            "creator": USER,
            "complete": "true",
            "meta": "x",
        },
    ),
]

NEW_TOKEN = {
    "protocol": "PUMPFUN",
    "mint": MINT,
    "pool": POOL,
    "decimals": 6,
    "quote": WSOL,
    "supply": 1000000000,
    "timestamp": 1779812627,
}
PUMPDATA: list[tuple[str, str, Any]] = [
    ("2.2", "subscribe", {"mint": MINT}),
    ("2.2", "subscribe", {"pool": POOL}),
    ("2.2", "unsubscribe", {"pool": POOL}),
    ("2.2", "subscribe_ohlcv", {"pool": "4mBL…"}),  # the PumpData subscribe_ohlcv page, verbatim
    ("2.2", "unsubscribe_ohlcv", {"pool": "4mBL…"}),
    ("2.2", "ohlcv_history", {"mint": MINT, "limit": 500}),
    ("2.2", "ohlcv_history", {"pool": POOL}),
    ("2.2", "subscribe_trades", {"mint": MINT}),
    ("2.2", "unsubscribe_trades", {"pool": POOL}),
    (
        "2.2",
        "subscribe_new_tokens",
        {"protocols": ["PUMPFUN", "PUMPSWAP", "METEORA", "RAYDIUM", "ORCA", "BONK"]},
    ),
    ("2.2", "unsubscribe_new_tokens", {"protocols": ["BONK"]}),
    ("2.2", "subscribe_migrations", {"protocols": ["PUMPFUN"]}),
    ("2.2", "subscribe_sol_price", None),
    ("2.2", "unsubscribe_sol_price", None),
    ("2.2", "ack", {"ok": True, "pool": POOL, "room": f"token:{POOL}"}),
    ("2.2", "ack", {"ok": True}),
    ("2.2", "ack", {"ok": True, "snapshot": None}),
    ("2.2", "ack", {"ok": True, "snapshot": {"price": 180.5, "time": 1779812627}}),
    # the PumpData subscribe_ohlcv page
    ("2.3", "ack_error", {"error": "not_found", "message": "pool not found"}),
    ("2.3", "ack_error", {"error": "invalid_request", "message": "mint or pool is required"}),
    ("2.3", "ack_error", {"error": "unavailable", "message": "try again"}),
    ("2.3", "ack_error", {"error": "limit_exceeded", "message": "too many subscriptions"}),
    ("2.2", "ohlcv", [CANDLE]),
    ("2.4", "ohlcv", [CANDLE, [1779812628000, 0.000000034, 0.000000035, 0.000000034, 0.000000035, 0]]),
    ("2.2", "ohlcv_history_ack", {"ok": True, "pool": POOL, "data": [CANDLE]}),
    (
        "2.2",
        "token_update",
        {
            "pool": POOL,
            "price": 3.3e-8,
            "mcap": 33,
            "quote": WSOL,
            "priceUSD": 0,
            "mcapUSD": 0,
            "time": 1779812627,
        },
    ),
    (
        "2.2",
        "trade",
        {
            "protocol": "PUMPSWAP",
            "pool": POOL,
            "mint": MINT,
            "signature": SIGNATURE,
            "is_buy": True,
            "token_amount": 151515151.5,
            "quote_amount": 5.0,
            "price": 3.3e-8,
            "marketcap": 33.0,
            "wallet": USER,
            "timestamp": 1779812627,
        },
    ),
    ("2.2", "new_token", NEW_TOKEN),
    (
        "2.2",
        "new_token",
        {**NEW_TOKEN, "name": "Example", "symbol": "EX", "creator": USER, "uri": "https://x.y/1"},
    ),
    (
        "2.2",
        "migration",
        {
            "protocol": "PUMPFUN",
            "mint": MINT,
            "old_pool": POOL,
            "new_pool": USER,
            "tx": SIGNATURE,
            "time": 1779812627,
        },
    ),
    ("2.2", "sol_price", {"price": 180.5, "time": 1779812627}),
    ("2.1", "billing_error", {"error": "insufficient_balance", "message": "top up"}),
]

CORTO: list[tuple[str, str, Any]] = [
    ("3.1", "request.ping", {"type": "ping"}),
    ("3.1", "pong", {"type": "pong"}),
    *[
        ("3.2", "request.subscribe", {"type": "subscribe", "mode": mode, "create": {"detail": detail}})
        for mode in ("all", "mints", "trades", "migrations", "pools")
        for detail in ("min", "mid", "full")
    ],
    ("3.2", "request.subscribe", {"type": "subscribe", "events": ["trade", "migration"]}),
    ("3.2", "request.subscribe", {"type": "subscribe", "pools": ["pump.fun", "meteora.damm-v2"]}),
    ("3.2", "request.subscribe", {"type": "subscribe"}),
    ("3.2", "request.unsubscribe", {"type": "unsubscribe", "pools": ["raydium.cpmm"]}),
    ("3.2", "request.unsubscribe", {"type": "unsubscribe"}),
    ("3.2", "request.current_state", {"type": "current_state"}),
]


@pytest.mark.parametrize(
    ("section", "api", "family", "message"),
    [("contract §" + s, "pumpfun", f, m) for s, f, m in PUMPFUN]
    + [("contract §" + s, "pumpdata", f, m) for s, f, m in PUMPDATA]
    + [("contract §" + s, "corto", f, m) for s, f, m in CORTO],
    ids=lambda x: x if isinstance(x, str) and len(x) < 30 else "",
)
def test_contracts_examples_validate(section: str, api: str, family: str, message: Any) -> None:
    assert validate(message, api=api, family=family) == [], section


def test_units_the_contract_names_are_held_to() -> None:
    # contract §1.3: updated_at is unix s, the *_timestamp fields unix ms.
    found = validate({**COIN, "updated_at": 1762115164000, "created_timestamp": 1762115100}, api="pumpfun")
    assert {(v.pointer, v.rule) for v in found} == {
        ("/updated_at", "maximum"),
        ("/created_timestamp", "minimum"),
    }
    # contract §2.4: ohlcv t is ms, sol_price time s.
    assert validate([[1779812627, *CANDLE[1:]]], api="pumpdata", family="ohlcv")[0].pointer == "/0/0"
    assert (
        validate({"price": 1, "time": 1779812627000}, api="pumpdata", family="sol_price")[0].pointer
        == "/time"
    )
    # contract §2.2: new_token's optional keys are absent, never null or empty.
    found = validate({**NEW_TOKEN, "name": "", "symbol": None}, api="pumpdata", family="new_token")
    assert {(v.pointer, v.rule) for v in found} == {("/name", "minLength"), ("/symbol", "type")}


def test_numbers_as_published_exponents_and_integers_for_floats() -> None:
    # contract §3.7: 4e-9 and 2.88e-8 as the provider writes them, baseAmount int or float.
    repo = _repo_examples()
    liquidity = next(e["message"] for e in repo if e["family"] == "liquidity")
    text = json.dumps(liquidity).replace('"solInPool": 4e-09', '"solInPool": 4e-9')
    assert '"solInPool": 4e-9' in text
    text = text.replace('"price": 1.2357120790855732e-06', '"price": 2.88e-8')
    assert '"price": 2.88e-8' in text
    text = text.replace('"baseAmount": 825190689.284761', '"baseAmount": 1000000001')
    assert '"baseAmount": 1000000001' in text
    assert list(validate_tape(_tape([WsText(0, "ws-1", S2C, text)]))) == []


def _tape(frames: list[Frame]) -> Path:
    import tempfile

    return dump_tape(Path(tempfile.mkdtemp()) / "t.jsonl", header(), frames)


def _repo_examples() -> list[dict[str, Any]]:
    data = json.loads((SEEDS / "corto_repo_examples.json").read_text())
    examples: list[dict[str, Any]] = data["examples"]
    return examples


def test_repository_copy_examples_validate_and_classify() -> None:
    # contract §3.7: where the site (the corto.fun contract page) and repository copies disagree, both pass.
    for example in _repo_examples():
        message = example["message"]
        assert validate(message, api="corto", family=example["family"]) == [], example["page"]
        assert family_of(message) == ("corto", example["family"]), example["page"]
    families = {e["family"] for e in _repo_examples()}
    assert {"handshake", "trade", "create.full", "migration", "createPool", "liquidity"} <= families


def test_repository_burn_template_has_the_keys_and_types_of_burn() -> None:
    # contract §3.6: burn is a reserved template; its placeholder values ("string", 0) are not
    # real keys or times, but nothing is missing and every type matches.
    template = json.loads((SEEDS / "corto_repo_examples.json").read_text())["burn_template"]
    found = validate(template["message"], api="corto", family="burn")
    assert found and {v.rule for v in found} <= {"pattern", "minimum"}


def test_seed_000_rest_examples_validate_in_a_tape(tmp_path: Path) -> None:
    """The Pump.fun polling guide's pollers: every URL with the params it sends, answered as contract §1.2
    says."""
    text = (SEEDS / "000_d54aad61bf260926.txt").read_text()
    found = re.findall(r'"(https://frontend-api-v3\.pump\.fun/[^"]+)"', text)
    urls = list(dict.fromkeys(u.replace("{mint}", MINT) for u in found))
    params = [ast.literal_eval(p) for p in re.findall(r"params = (\{[^}]*\})", text)]
    assert {u.split(".fun", 1)[1].split(MINT)[0] for u in urls} == {
        "/trades/all/",
        "/coins/latest",
        "/trades/latest",
        "/coins/",
    }
    assert params == [
        {"limit": 10, "offset": 0, "minimumSize": 0},
        {"limit": 20, "offset": 0, "minimumSize": 0},
    ]
    bodies = {
        "/coins/latest": COIN,
        f"/coins/{MINT}": COIN,
        "/trades/latest": LATEST_TRADE,
        f"/trades/all/{MINT}": [TRADE_ITEM, TRADE_ITEM_BARE],
    }
    frames: list[Frame] = []
    for url in urls:
        path = url.split(".fun", 1)[1]
        for query in params if path.startswith("/trades/all/") else [{}]:
            target = f"{path}?{urlencode(query)}" if query else path
            body = json.dumps(bodies[path]).encode()
            etag = (("ETag", 'W/"1a-abc"'),)
            frames.append(
                HttpExchange(len(frames), "http-1", HttpRequest("GET", target), HttpResponse(200, etag, body))
            )
            frames.append(
                HttpExchange(
                    len(frames),
                    "http-1",
                    HttpRequest("GET", target, (("If-None-Match", 'W/"1a-abc"'),)),
                    HttpResponse(304, etag),
                )
            )
    frames.append(
        HttpExchange(
            len(frames),
            "http-1",
            HttpRequest("GET", "/sol-price"),
            HttpResponse(200, (), b'{"solPrice": 244.2}'),
        )
    )
    tally = Tally()
    path = dump_tape(tmp_path / "seed000.jsonl", header(), frames)
    assert list(validate_tape(path, tally=tally)) == []
    assert tally.messages == {
        "pumpfun coin": 2,
        "pumpfun trade": 1,
        "pumpfun trade_list": 2,
        "pumpfun query.trades_all": 4,
        "pumpfun sol_price": 1,
    }


def test_pumpdata_examples_in_a_tape_are_found_by_event_name(tmp_path: Path) -> None:
    """Contract §2.2/2.3: client emits with acks, server events, subscription_error."""
    emits = [
        (f, m) for _, f, m in PUMPDATA if f.startswith(("subscribe", "unsubscribe")) or f == "ohlcv_history"
    ]
    events = [
        (f, m)
        for _, f, m in PUMPDATA
        if f in ("ohlcv", "token_update", "trade", "new_token", "migration", "sol_price", "billing_error")
    ]
    frames: list[Frame] = []
    for ack_id, (name, payload) in enumerate(emits):
        args = () if payload is None else (payload,)
        frames.append(SioEvent(len(frames), "sio-1", C2S, name, args, ack_id))
        answer = {"ok": True, "pool": POOL, "data": [CANDLE]} if name == "ohlcv_history" else {"ok": True}
        frames.append(SioAck(len(frames), "sio-1", S2C, ack_id, (answer,)))
    frames += [
        SioEvent(len(frames) + i, "sio-1", S2C, name, (payload,)) for i, (name, payload) in enumerate(events)
    ]
    frames.append(
        SioEvent(len(frames), "sio-1", S2C, "subscription_error", ({"error": "not_found", "message": "x"},))
    )
    tally = Tally()
    assert list(validate_tape(dump_tape(tmp_path / "sio.jsonl", header(), frames), tally=tally)) == []
    assert tally.messages["pumpdata ohlcv_history_ack"] == 2
    assert tally.messages["pumpdata ack_error"] == 1
    assert tally.messages["pumpdata unsubscribe_sol_price"] == 1
    assert "pumpdata ?" not in tally.messages


def test_every_family_has_one_schema_citing_its_section() -> None:
    from harness.core.families import FAMILIES
    from harness.validation import SCHEMAS_DIR

    files = {p.relative_to(SCHEMAS_DIR).as_posix() for p in SCHEMAS_DIR.rglob("*.json")}
    expected = {f"{api}/{family}.json" for api, names in FAMILIES.items() for family in names}
    assert files - expected == {"defs.json", "tape/tape.json"} and expected <= files
    for name in sorted(files):
        schema = json.loads((SCHEMAS_DIR / name).read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        assert schema["$id"] == f"https://harness.local/schemas/{name}", name
        tape = name.startswith("tape/")
        cites = r"docs/architecture\.md 'Tape format'" if tape else r"contract §\d"
        assert re.search(cites, schema["description"]), f"{name} cites no section"


def test_seed_000_params_validate_as_the_client_holds_them() -> None:
    """The Pump.fun polling guide's pollers pass params = {"limit": 10, "offset": 0, "minimumSize": 0} to
    requests: the same parameters validate before encoding (numbers) as after (strings), and break alike."""
    text = (SEEDS / "000_d54aad61bf260926.txt").read_text()
    params = [ast.literal_eval(p) for p in re.findall(r"params = (\{[^}]*\})", text)]
    assert len(params) == 2
    for query in params:
        assert validate(query, api="pumpfun", family="query.trades_all") == []
        encoded = {k: str(v) for k, v in query.items()}
        assert validate(encoded, api="pumpfun", family="query.trades_all") == []
    for bad in ({"limit": -1}, {"limit": "-1"}):
        (violation,) = validate(bad, api="pumpfun", family="query.trades_all")
        assert violation.pointer == "/limit" and violation.rule in ("minimum", "pattern"), bad
    assert validate({"sync": True}, api="pumpfun", family="query.coin") == []
    (violation,) = validate({"sync": "yes"}, api="pumpfun", family="query.coin")
    assert (violation.pointer, violation.rule) == ("/sync", "enum")


def test_coin_keys_of_the_newest_samples_are_typed() -> None:
    # contract §1.3: the counters are integers when present; the Nov 2025 keys seen only as
    # null (platform, token_program, mayhem_state) take any value.
    for key in ("num_participants", "downrank_score", "livestream_ban_expiry", "thumbnail_updated_at"):
        found = validate({**COIN, key: "3"}, api="pumpfun", family="coin")
        assert [(v.pointer, v.rule) for v in found] == [(f"/{key}", "type")], key
    assert [v.pointer for v in validate({**COIN, "rec_id": 7}, api="pumpfun", family="coin")] == ["/rec_id"]
    assert validate({**COIN, "platform": "pump", "mayhem_state": {"on": True}}, api="pumpfun") == []


def test_candle_times_are_unix_ms_both_ways() -> None:
    # contract §2.4: t is ms; seconds are too small and microseconds too big.
    for t in (1779812627, 1779812627000000):
        (violation,) = validate([[t, *CANDLE[1:]]], api="pumpdata", family="ohlcv")
        assert violation.pointer == "/0/0", t


def test_family_names_are_the_interface_issue_3_names() -> None:
    """`--family` takes these names and `harness validate --list` prints them: renaming one
    breaks users' commands, so the list is pinned here (issue 3, "Families"), plus the two
    unsubscribe emits contract §2.2 also lists and the `/coins` array of 1.2 (`coin_list`)."""
    from harness.validation import families

    assert families() == {
        "pumpfun": [
            *["coin", "trade", "trade_list", "coin_list", "sol_price", "error"],
            *["query.trades_all", "query.trades_count", "query.coin", "query.coins", "query.none"],
        ],
        "pumpdata": [
            *["subscribe_ohlcv", "unsubscribe_ohlcv", "ohlcv_history", "subscribe_trades"],
            *["unsubscribe_trades", "subscribe", "unsubscribe", "subscribe_new_tokens"],
            *["subscribe_migrations", "subscribe_sol_price", "unsubscribe_new_tokens"],
            *["unsubscribe_sol_price", "ack", "ack_error", "ohlcv", "ohlcv_history_ack", "trade"],
            *["token_update", "new_token", "migration", "sol_price", "billing_error"],
        ],
        "corto": [
            *["request.subscribe", "request.unsubscribe", "request.current_state", "request.ping"],
            *["handshake", "subscription_ack", "current_state", "error", "pong"],
            *["create.min", "create.mid", "create.full", "create", "trade", "migration"],
            *["createPool", "liquidity", "burn"],
        ],
        "pumpportal": [
            *["request.subscribeNewToken", "request.subscribeMigration", "request.subscribeTokenTrade"],
            *["request.subscribeAccountTrade", "request.unsubscribeNewToken", "request.unsubscribeMigration"],
            *["request.unsubscribeTokenTrade", "request.unsubscribeAccountTrade"],
            *["message", "errors", "create.pump", "create.bonk", "trade", "migrate"],
        ],
    }


def test_the_schemas_and_the_emulation_share_the_corto_vocabulary() -> None:
    """Contract §3.2, 3.5: the events, modes and detail levels the schemas close are the ones
    the core's filters expand and the served handshake advertises."""
    from harness.core.corto.filters import DEFAULT_EVENTS, DETAILS, MESSAGES, MODES
    from harness.validation import SCHEMAS_DIR, default_validator

    for family in ("handshake", "subscription_ack", "current_state", "error"):
        state = default_validator().schema("corto", family)["properties"]["state"]
        assert state["$ref"].endswith("defs.json#/$defs/corto_state"), family
    shared = json.loads((SCHEMAS_DIR / "defs.json").read_text())["$defs"]
    assert shared["corto_event"]["enum"] == list(DEFAULT_EVENTS)
    assert shared["corto_mode"]["enum"] == list(MODES)
    assert shared["corto_detail"]["enum"] == list(DETAILS)
    messages = shared["corto_state"]["properties"]["supportedMessages"]["items"]["enum"]
    assert messages == [*MESSAGES, "ping"]


def test_a_coin_as_the_live_service_answered_in_september_2025_validates() -> None:
    # a /coins/latest body of September 2025: 44 keys, last_trade_timestamp null, and no
    # usd_market_cap, username or profile_image (contract §1.3: null or absent where any real
    # capture shows it)
    gone = {"usd_market_cap", "username", "profile_image", "thumbnail", "rec_id", "hide_banner"}
    gone |= {"num_participants", "livestream_ban_expiry", "livestream_downrank_score", "thumbnail_updated_at"}
    coin = {k: v for k, v in COIN.items() if k not in gone} | {"last_trade_timestamp": None}
    assert len(coin) == 44
    assert validate(coin, api="pumpfun", family="coin") == []
