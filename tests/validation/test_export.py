"""``harness contract export``: the OpenAPI and AsyncAPI documents pass real validators
(openapi-spec-validator from PyPI; @asyncapi/parser from npm, run by node), and every message
family of every API is in them with the schema the validator uses.

Needs ``node`` and ``npm ci --prefix tests/js`` (``.ci/run`` does it).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012

from harness.core.families import FAMILIES
from harness.strategies import messages
from harness.validation import SCHEMAS_DIR
from harness.validation.export import (
    BASE_URI,
    REST_APIS,
    asyncapi,
    document,
    document_name,
    openapi,
)
from tests.helpers import ROOT

JS = ROOT / "tests" / "js"
FAMILY_LIST = [(api, family) for api, names in FAMILIES.items() for family in names]
DOCS = {api: document(api) for api in FAMILIES}


def _parse_asyncapi(*files: Path) -> list[dict[str, Any]]:
    """@asyncapi/parser's verdict on each file, one dict per file."""
    node = shutil.which("node")
    assert node, "node is not installed: the AsyncAPI parser test needs Node.js"
    assert (JS / "node_modules" / "@asyncapi" / "parser").is_dir(), "run: npm ci --prefix tests/js"
    out = subprocess.run(
        [node, str(JS / "asyncapi_parse.js"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode in (0, 1), out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every API's document, written by the command as a user runs it."""
    out = tmp_path_factory.mktemp("contracts")
    done = subprocess.run(
        [sys.executable, "-m", "harness", "contract", "export", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(line.split()[0] for line in done.stdout.splitlines()) == sorted(
        str(out / document_name(api)) for api in FAMILIES
    )
    return out


def test_the_openapi_document_passes_openapi_spec_validator(exported: Path) -> None:
    doc = json.loads((exported / "pumpfun.openapi.json").read_text())
    validate_openapi(doc)
    assert doc["openapi"] == "3.1.0"
    latest = doc["paths"]["/coins/latest"]["get"]
    assert set(latest["responses"]) >= {"200", "304", "400", "404", "429"}
    assert {"ETag", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(
        latest["responses"]["200"]["headers"]
    )
    assert "Retry-After" in latest["responses"]["429"]["headers"]
    assert latest["responses"]["304"].get("content") is None
    assert {"$ref": "#/components/parameters/If-None-Match"} in latest["parameters"]
    trades = doc["paths"]["/trades/all/{mint}"]["get"]
    assert {p.get("name") for p in trades["parameters"]} >= {"limit", "offset", "minimumSize"}


def test_openapi_spec_validator_is_a_real_check() -> None:
    broken = openapi()
    broken["paths"]["/coins/latest"]["get"]["responses"]["200"]["headers"]["ETag"] = {"schema": 5}
    with pytest.raises(Exception, match="5"):
        validate_openapi(broken)


def test_the_asyncapi_documents_pass_the_asyncapi_parser(exported: Path) -> None:
    files = sorted(exported.glob("*.asyncapi.json"))
    assert {f.name for f in files} == {document_name(api) for api in FAMILIES if api not in REST_APIS}
    for verdict in _parse_asyncapi(*files):
        assert verdict["valid"], verdict
        assert verdict["errors"] == [] and verdict["warnings"] == [], verdict
        api = Path(verdict["file"]).name.split(".")[0]
        assert set(FAMILIES[api]) <= set(verdict["messages"])


def test_the_asyncapi_parser_is_a_real_check(tmp_path: Path) -> None:
    broken = asyncapi("corto")
    broken["components"]["schemas"]["corto.trade"]["type"] = "a trade"
    del broken["operations"]["send.request.subscribe"]["channel"]
    (path := tmp_path / "broken.asyncapi.json").write_text(json.dumps(broken))
    (verdict,) = _parse_asyncapi(path)
    assert not verdict["valid"] and len(verdict["errors"]) >= 2, verdict


def test_socketio_acks_are_replies_and_subscription_error_an_event() -> None:
    doc = asyncapi("pumpdata")
    subscribe = doc["operations"]["send.subscribe_ohlcv"]
    assert subscribe["action"] == "send"
    replies = [m["$ref"].rsplit("/", 1)[1] for m in subscribe["reply"]["messages"]]
    assert replies == ["ack", "ack_error"]
    history = [
        m["$ref"].rsplit("/", 1)[1] for m in doc["operations"]["send.ohlcv_history"]["reply"]["messages"]
    ]
    assert history == ["ohlcv_history_ack", "ack_error"]
    error = doc["channels"]["socketio"]["messages"]["subscription_error"]
    assert error["name"] == "subscription_error" and error["payload"] == {
        "$ref": "#/components/schemas/pumpdata.ack_error"
    }
    assert doc["operations"]["receive.subscription_error"]["action"] == "receive"
    corto = asyncapi("corto")["operations"]["send.request.subscribe"]["reply"]["messages"]
    assert [m["$ref"].rsplit("/", 1)[1] for m in corto] == ["subscription_ack", "error"]


# --- one source of truth -------------------------------------------------------------------------


def _uri(component: str) -> str:
    """The schema a component was bundled from: ``corto.create.full.fields`` ->
    ``.../corto/create.full.json#/$defs/fields``."""
    for path in sorted(SCHEMAS_DIR.rglob("*.json"), key=lambda p: -len(p.as_posix())):
        name = path.relative_to(SCHEMAS_DIR).as_posix().removesuffix(".json").replace("/", ".")
        if component == name:
            return BASE_URI + path.relative_to(SCHEMAS_DIR).as_posix()
        if component.startswith(name + ".") and "." not in component[len(name) + 1 :]:
            return f"{BASE_URI}{path.relative_to(SCHEMAS_DIR).as_posix()}#/$defs/{component[len(name) + 1 :]}"
    raise AssertionError(f"{component} comes from no schema file")


def _unbundle(schema: Any, *, draft07: bool) -> Any:
    """A component as its schema file wrote it: references back to the files' URIs, and for
    AsyncAPI draft 07's words back to 2020-12's."""
    if isinstance(schema, list):
        return [_unbundle(s, draft07=draft07) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _unbundle(v, draft07=draft07) for k, v in schema.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        out["$ref"] = _uri(ref.removeprefix("#/components/schemas/"))
    if draft07:
        if "additionalItems" in out:
            rest = out.pop("additionalItems")
            out["prefixItems"] = out.pop("items")
            if rest is not True:  # to_draft07 wrote a missing items as true
                out["items"] = rest
        if "dependencies" in out:
            out["dependentRequired"] = out.pop("dependencies")
        all_of = out.get("allOf")
        if isinstance(all_of, list) and all_of and set(all_of[0]) == {"$ref"} and len(out) > 1:
            out["$ref"] = all_of[0]["$ref"]
            rest = all_of[1:]
            if rest:
                out["allOf"] = rest
            else:
                del out["allOf"]
    return out


def _file_schema(uri: str) -> Any:
    """The schema at ``uri`` as its file holds it, a reference within the file made absolute."""
    path, _, pointer = uri.removeprefix(BASE_URI).partition("#")
    text = (SCHEMAS_DIR / path).read_text().replace('"$ref": "#', f'"$ref": "{BASE_URI}{path}#')
    schema = json.loads(text)
    if pointer:
        return schema["$defs"][pointer.removeprefix("/$defs/")]
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id", "$defs")}


def _strip_refs_wrapped_by_the_file(schema: Any) -> Any:
    """The schema files write ``allOf: [{$ref}]`` themselves in places: those come back as
    ``$ref`` beside their siblings from :func:`_unbundle`; compare both forms alike."""
    if isinstance(schema, list):
        return [_strip_refs_wrapped_by_the_file(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strip_refs_wrapped_by_the_file(v) for k, v in schema.items()}
    all_of = out.get("allOf")
    if isinstance(all_of, list) and all_of and isinstance(all_of[0], dict) and set(all_of[0]) == {"$ref"}:
        out["$ref"] = all_of[0]["$ref"]
        if all_of[1:]:
            out["allOf"] = all_of[1:]
        else:
            del out["allOf"]
    return out


@pytest.mark.parametrize("api", list(FAMILIES))
def test_every_component_is_the_schema_the_validator_uses(api: str) -> None:
    doc = document(api)
    draft07 = api not in REST_APIS
    components = doc["components"]["schemas"]
    assert {f"{api}.{family}" for family in FAMILIES[api]} <= set(components)
    for name, schema in components.items():
        shown = _strip_refs_wrapped_by_the_file(_unbundle(schema, draft07=draft07))
        assert shown == _strip_refs_wrapped_by_the_file(_file_schema(_uri(name))), name


def _used(doc: Any) -> set[str]:
    """Every component schema a document's paths, channels or operations refer to."""
    found = set()
    text = json.dumps({k: v for k, v in doc.items() if k != "components"})
    for part in text.split('"#/components/schemas/')[1:]:
        found.add(part.split('"', 1)[0])
    return found


@pytest.mark.parametrize("api", list(FAMILIES))
def test_every_family_is_used_by_the_document(api: str) -> None:
    doc = document(api)
    assert {f"{api}.{family}" for family in FAMILIES[api]} <= _used(doc)
    if api not in REST_APIS:
        (channel,) = doc["channels"].values()
        payloads = {m["payload"]["$ref"].rsplit("/", 1)[1] for m in channel["messages"].values()}
        assert {f"{api}.{family}" for family in FAMILIES[api]} <= payloads
        operated = {
            m["$ref"]
            for op in doc["operations"].values()
            for m in [*op["messages"], *op.get("reply", {}).get("messages", [])]
        }
        assert {f"#/channels/{next(iter(doc['channels']))}/messages/{f}" for f in FAMILIES[api]} <= operated


def _registry(doc: Any, spec: Any) -> Registry[Any]:
    return Registry().with_resource("urn:doc", Resource(contents=doc, specification=spec))


@pytest.mark.parametrize(("api", "family"), FAMILY_LIST, ids=[f"{a}.{f}" for a, f in FAMILY_LIST])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_messages_the_validator_passes_pass_the_exported_schema(
    api: str, family: str, data: st.DataObject
) -> None:
    message = data.draw(messages(api, family))
    doc = DOCS[api]
    if api in REST_APIS:
        validator: Any = Draft202012Validator(
            {"$ref": f"urn:doc#/components/schemas/{api}.{family}"}, registry=_registry(doc, DRAFT202012)
        )
    else:
        validator = Draft7Validator(
            {"$ref": f"urn:doc#/components/schemas/{api}.{family}"}, registry=_registry(doc, DRAFT7)
        )
    assert list(validator.iter_errors(message)) == []


# --- a profile added later -----------------------------------------------------------------------


def test_an_api_added_to_the_registry_is_exported_without_more_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas)
    (schemas / "toy").mkdir()
    for family, body in {
        "subscribeNewToken": {
            "type": "object",
            "required": ["method"],
            "properties": {"method": {"const": "x"}},
        },
        "create": {"type": "object", "properties": {"mint": {"$ref": BASE_URI + "defs.json#/$defs/pubkey"}}},
    }.items():
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{BASE_URI}toy/{family}.json",
        }
        (schemas / "toy" / f"{family}.json").write_text(
            json.dumps({**schema, "description": "A toy.", **body})
        )
    monkeypatch.setitem(FAMILIES, "toy", ("subscribeNewToken", "create"))  # type: ignore[index]
    doc = asyncapi("toy", schemas)
    assert doc["operations"]["send.subscribeNewToken"]["action"] == "send"
    assert doc["operations"]["receive.create"]["action"] == "receive"
    assert copy.deepcopy(doc["components"]["schemas"]["defs.pubkey"]) == _file_schema(_uri("defs.pubkey"))
    assert document_name("toy") == "toy.asyncapi.json"


def test_a_path_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    (tmp_path / "pumpfun.openapi.json").mkdir()
    out = run_cli("contract", "export", "--api", "pumpfun", "--out", str(tmp_path))
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().endswith(f"cannot write {tmp_path / 'pumpfun.openapi.json'}: Is a directory")
    assert "Traceback" not in out.stderr
