"""The contracts as standard documents: OpenAPI 3.1 for the Pump.fun REST API, AsyncAPI 3.0 for
every streaming API.

Owns the translation of the schemas the validators use (``schemas/<api>/<family>.json``, the one
source of truth) into documents contract tools read (Prism, Microcks, Specmatic, Postman, AsyncAPI
Studio and CLI). Every family of every API in :data:`~harness.core.families.FAMILIES` becomes a
component schema named ``<api>.<family>``; the ``$ref`` between schema files are bundled: each
referenced definition becomes a component of its own (``defs.pubkey``,
``corto.create.full.fields``) and each reference points at it, so a document stands alone.

OpenAPI 3.1 takes JSON Schema 2020-12 as it is. AsyncAPI 3.0's default schema format is a superset
of JSON Schema draft 07, so its payloads are the same schemas written in draft 07's words:
``prefixItems`` as a tuple ``items``, ``dependentRequired`` as ``dependencies``, and a ``$ref``
with sibling keywords wrapped in ``allOf`` (draft 07 ignores a ``$ref``'s siblings). Nothing
else changes; ``tests/validation/test_export.py`` maps each component back and finds the
validator's schema.

What a family is for (a response body, a query string, a message a client sends or receives) and
where each API lives (hosts, paths, transport) is this module's knowledge; an API it does not know
yet (a profile added later) is exported as a WebSocket API at ``/`` whose ``request.*``,
``subscribe*`` and ``unsubscribe*`` families are sent by the client and the others received.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.__about__ import __version__
from harness.core.families import FAMILIES, PUMPDATA_CLIENT_EVENTS
from harness.resources import SCHEMAS_DIR

BASE_URI = "https://harness.local/schemas/"
OPENAPI_VERSION = "3.1.0"
ASYNCAPI_VERSION = "3.0.0"
REST_APIS = frozenset({"pumpfun"})
"""APIs exported as OpenAPI; every other one is exported as AsyncAPI."""

Schema = Any
"""A JSON Schema: an object or a boolean."""


@dataclass(frozen=True, slots=True)
class Service:
    """Where an API lives: its public server and how harness serves it."""

    title: str
    protocol: str  # https, wss; Socket.IO runs over wss
    host: str
    path: str
    transport: str  # rest, websocket, socketio
    description: str


SERVICES: Mapping[str, Service] = {
    "pumpfun": Service(
        "Pump.fun frontend REST API",
        "https",
        "frontend-api-v3.pump.fun",
        "",
        "rest",
        "The REST API pump.fun's website polls (contract §1): single objects from /coins/latest and "
        "/trades/latest, lists from /trades/all/{mint} and /coins, weak ETags with If-None-Match and "
        "304, x-ratelimit-* headers and 429 with Retry-After. Auth is optional.",
    ),
    "pumpdata": Service(
        "PumpData Socket.IO API",
        "wss",
        "api.pumpdata.fun",
        "/socket.io/",
        "socketio",
        "Socket.IO (Engine.IO 4) on the default namespace (contract §2). Connect with "
        'auth {"api_key": "pd_..."}. Each client emit is a request whose Socket.IO ack is the reply '
        "({ok: true, ...} or {error, message}); an emit without an ack callback gets its failure as "
        "a subscription_error event instead. Message names are Socket.IO event names; a payload is "
        "the event's first argument.",
    ),
    "corto": Service(
        "corto.fun Data Stream",
        "wss",
        "corto.fun",
        "/data-stream",
        "websocket",
        "A WebSocket of JSON text frames (contract §3). The server greets with a handshake; a "
        "client subscribes by quick mode or by events and pools, and receives events with no "
        "envelope (their txType says which).",
    ),
    "pumpportal": Service(
        "PumpPortal data WebSocket",
        "wss",
        "pumpportal.fun",
        "/api/data",
        "websocket",
        "A WebSocket of JSON text frames (contract §4): {method: subscribe...} requests, "
        "{message} acknowledgements, create, trade and migrate events.",
    ),
}

# What a Pump.fun REST path answers (contract §1.2): path, summary, body family, query family,
# and whether {mint} is in the path.
REST_PATHS: tuple[tuple[str, str, str | None, str], ...] = (
    ("/coins/latest", "The newest coin: a single coin object, not a list.", "coin", "query.none"),
    ("/coins/{mint}", "One coin by its mint.", "coin", "query.coin"),
    ("/coins", "One page of coins: a list of coin objects.", "coin_list", "query.coins"),
    ("/trades/latest", "The latest trade: a single trade object.", "trade", "query.none"),
    ("/trades/all/{mint}", "A mint's trades, newest first.", "trade_list", "query.trades_all"),
    (
        "/trades/count/{mint}",
        "How many trades a mint has (a number; not captured).",
        None,
        "query.trades_count",
    ),
    ("/sol-price", "The SOL price in USD.", "sol_price", "query.none"),
)

CORTO_REPLIES: Mapping[str, tuple[str, ...]] = {
    "request.subscribe": ("subscription_ack", "error"),
    "request.unsubscribe": ("subscription_ack", "error"),
    "request.current_state": ("current_state", "error"),
    "request.ping": ("pong", "error"),
}
"""What the Data Stream answers each request with (contract §3.3, §6.2)."""


# --- bundling ----------------------------------------------------------------------------------


def component_name(path: str, pointer: str = "") -> str:
    """``corto/create.full.json`` -> ``corto.create.full``; with ``/$defs/fields``,
    ``corto.create.full.fields``."""
    name = path.removesuffix(".json").replace("/", ".")
    if not pointer:
        return name
    if not pointer.startswith("/$defs/") or pointer.count("/") != 2:
        raise ValueError(f"cannot bundle a reference into {path}#{pointer}: only whole files and $defs")
    return f"{name}.{pointer.removeprefix('/$defs/')}"


SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SUBSCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs")
SUBSCHEMA_ONE = ("not", "if", "then", "else", "items", "contains", "additionalProperties", "propertyNames")


def _map_schemas(schema: Schema, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Schema:
    """``schema`` with ``change`` applied to every schema object in it, innermost first (keys
    that hold data, such as ``const``, ``enum`` or property names, are left alone)."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in SUBSCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_map_schemas(s, change) for s in out[key]]
    for key in SUBSCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {k: _map_schemas(s, change) for k, s in out[key].items()}
    for key in SUBSCHEMA_ONE:
        if key in out:
            out[key] = _map_schemas(out[key], change)
    return change(out)


def to_draft07(schema: dict[str, Any]) -> dict[str, Any]:
    """One schema object in draft 07's words (AsyncAPI's schema format); its meaning is kept."""
    out = dict(schema)
    if "prefixItems" in out:
        rest = out.pop("items", True)
        out["items"] = out.pop("prefixItems")
        out["additionalItems"] = rest
    if "dependentRequired" in out:
        out["dependencies"] = out.pop("dependentRequired")
    if "$ref" in out and len(out) > 1:
        ref = {"$ref": out.pop("$ref")}
        out["allOf"] = [ref, *out.get("allOf", [])]
    return out


class Bundle:
    """Component schemas bundled from the schema files: what a document's ``components.schemas``
    holds. ``add(api, family)`` adds a family and everything it refers to, and returns its name."""

    def __init__(self, schemas_dir: Path = SCHEMAS_DIR, *, draft07: bool = False) -> None:
        self._dir = schemas_dir
        self._draft07 = draft07
        self._files: dict[str, Any] = {}
        self.schemas: dict[str, Schema] = {}

    def add(self, api: str, family: str) -> str:
        return self._add(f"{api}/{family}.json", "")

    def ref(self, api: str, family: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{self.add(api, family)}"}

    def _file(self, path: str) -> Any:
        if path not in self._files:
            self._files[path] = json.loads((self._dir / path).read_text(encoding="utf-8"))
        return self._files[path]

    def _add(self, path: str, pointer: str) -> str:
        name = component_name(path, pointer)
        if name in self.schemas:
            return name
        schema = self._file(path)
        if pointer:
            schema = schema["$defs"][pointer.removeprefix("/$defs/")]
        else:
            schema = {k: v for k, v in schema.items() if k not in ("$schema", "$id", "$defs")}
        self.schemas[name] = True  # taken while its references are bundled (a cycle ends here)
        self.schemas[name] = _map_schemas(copy.deepcopy(schema), lambda node: self._node(node, path))
        return name

    def _node(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        ref = node.get("$ref")
        if isinstance(ref, str):
            target, _, pointer = ref.partition("#")
            if target.startswith(BASE_URI):
                target = target.removeprefix(BASE_URI)
            elif target == "":
                target = path
            else:
                raise ValueError(f"cannot bundle {ref!r} of {path}: not one of the project's schemas")
            node = {**node, "$ref": f"#/components/schemas/{self._add(target, pointer)}"}
        return to_draft07(node) if self._draft07 else node


# --- OpenAPI -----------------------------------------------------------------------------------


def _rest_headers() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    return {
        "ETag": {
            "description": 'The representation\'s entity tag, weak as Express emits it (W/"..."): send it '
            "back verbatim in If-None-Match (contract §1.5).",
            "schema": {"type": "string"},
        },
        "x-ratelimit-limit": {"description": "Requests allowed per window (contract §1.5).", "schema": count},
        "x-ratelimit-remaining": {"description": "Requests left in this window.", "schema": count},
        "x-ratelimit-reset": {
            "description": "When the window resets: seconds until it, or epoch seconds; the unit is not "
            "documented (contract §6.10; harness: seconds until, epoch when a tape shows values above 1e9).",
            "schema": count,
        },
        "Retry-After": {
            "description": "Seconds to wait before the next request (RFC 9110).",
            "schema": count,
        },
    }


def _query_parameters(bundle: Bundle, family: str) -> list[dict[str, Any]]:
    name = bundle.add("pumpfun", family)
    schema = bundle.schemas[name]
    params = []
    for prop, sub in schema.get("properties", {}).items():
        params.append(
            {
                "name": prop,
                "in": "query",
                "required": prop in schema.get("required", []),
                "schema": sub,
            }
        )
    return params


def openapi(api: str = "pumpfun", schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Any]:
    """The OpenAPI 3.1 document of a REST API (only Pump.fun's is REST)."""
    if api not in REST_APIS:
        raise ValueError(f"{api} is not a REST API; REST APIs: {', '.join(sorted(REST_APIS))}")
    service = SERVICES[api]
    bundle = Bundle(schemas_dir)
    for family in FAMILIES[api]:
        bundle.add(api, family)
    rate = {
        name: {"$ref": f"#/components/headers/{name}"} for name in _rest_headers() if name.startswith("x-")
    }

    def answer(description: str, *extra: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {name: {"$ref": f"#/components/headers/{name}"} for name in extra} | rate
        out: dict[str, Any] = {"description": description, "headers": headers}
        if body is not None:
            out["content"] = {"application/json": {"schema": body}}
        return out

    paths: dict[str, Any] = {}
    for path, summary, body, query in REST_PATHS:
        parameters: list[dict[str, Any]] = [{"$ref": "#/components/parameters/If-None-Match"}]
        if "{mint}" in path:
            parameters.insert(0, {"$ref": "#/components/parameters/mint"})
        parameters += _query_parameters(bundle, query)
        error = bundle.ref(api, "error")
        operation: dict[str, Any] = {
            "operationId": "get" + "".join(p.strip("{}").title() for p in path.replace("-", "/").split("/")),
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": answer(
                    "The representation the service shows now.",
                    "ETag",
                    body=bundle.ref(api, body) if body else {"type": "integer", "minimum": 0},
                ),
                "304": answer("Not modified: an If-None-Match tag matches the ETag; no body.", "ETag"),
                "400": answer("A malformed query parameter, named in the body.", body=error),
                "401": answer(
                    "No Authorization: Bearer token where one is required (contract §6.13).", body=error
                ),
                "404": answer("No such path or resource.", body=error),
                "429": answer("The rate-limit budget is spent (contract §1.5).", "Retry-After", body=error),
                "5XX": {"description": "A server or origin error (Cloudflare 530 was reported on v1)."},
            },
            "x-harness-query-family": {"$ref": f"#/components/schemas/{bundle.add(api, query)}"},
        }
        if body:
            operation["x-harness-body-family"] = {"$ref": f"#/components/schemas/{bundle.add(api, body)}"}
        paths[path] = {"get": operation}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": service.title,
            "version": __version__,
            "description": service.description
            + " Generated by harness contract export from the JSON Schemas harness validates with.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [
            {"url": f"{service.protocol}://{service.host}{service.path}", "description": "the service"},
            {"url": "http://127.0.0.1:8765", "description": "harness serve"},
        ],
        "security": [{}, {"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": bundle.schemas,
            "headers": _rest_headers(),
            "parameters": {
                "If-None-Match": {
                    "name": "If-None-Match",
                    "in": "header",
                    "required": False,
                    "description": "An ETag the client holds (weak comparison, lists and * as RFC 9110 "
                    "says): a match is answered 304.",
                    "schema": {"type": "string"},
                },
                "mint": {
                    "name": "mint",
                    "in": "path",
                    "required": True,
                    "description": "A token mint, base58.",
                    "schema": {"type": "string", "pattern": "^[1-9A-HJ-NP-Za-km-z]{32,44}$"},
                },
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Optional: public GETs work without it (contract §1.5).",
                }
            },
        },
    }


# --- AsyncAPI ----------------------------------------------------------------------------------


def _title(family: str) -> str:
    return family.replace("request.", "").replace("_", " ").replace(".", " ")


def _sent_by_client(api: str, family: str) -> bool:
    if api == "pumpdata":
        return family in PUMPDATA_CLIENT_EVENTS
    return family.startswith(("request.", "subscribe", "unsubscribe"))


def _replies(api: str, family: str) -> tuple[str, ...]:
    """The families that answer a client's message, or () when nothing does."""
    if api == "corto":
        return CORTO_REPLIES.get(family, ())
    if api == "pumpdata":
        return ("ohlcv_history_ack" if family == "ohlcv_history" else "ack", "ack_error")
    return ()


def _socketio_name(family: str) -> str:
    return {"ack": "ack", "ack_error": "ack", "ohlcv_history_ack": "ack"}.get(family, family)


def asyncapi(api: str, schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of a streaming API."""
    if api in REST_APIS or api not in FAMILIES:
        raise ValueError(f"{api} is not a streaming API; streaming APIs: {', '.join(streaming_apis())}")
    service = SERVICES.get(api) or Service(api, "wss", "localhost", "/", "websocket", f"The {api} API.")
    bundle = Bundle(schemas_dir, draft07=True)
    socketio = service.transport == "socketio"
    channel = "socketio" if socketio else "stream"
    messages: dict[str, Any] = {}
    for family in FAMILIES[api]:
        message: dict[str, Any] = {
            "name": _socketio_name(family) if socketio else family,
            "title": _title(family),
            "summary": _description(bundle, api, family),
            "contentType": "application/json",
            "payload": bundle.ref(api, family),
            "x-harness-family": f"{api}.{family}",
        }
        if socketio and family in ("ack", "ack_error", "ohlcv_history_ack"):
            message["x-socketio-ack"] = True
        messages[family] = message
    if socketio:
        # contract §2.3: without an ack callback, a failure comes as this event
        messages["subscription_error"] = {
            **messages["ack_error"],
            "name": "subscription_error",
            "title": "subscription error",
            "x-socketio-ack": False,
        }
    ref = {"$ref": f"#/channels/{channel}"}

    def msg(family: str) -> dict[str, str]:
        return {"$ref": f"#/channels/{channel}/messages/{family}"}

    operations: dict[str, Any] = {}
    for family in FAMILIES[api]:
        if _sent_by_client(api, family):
            operation: dict[str, Any] = {
                "action": "send",
                "channel": ref,
                "title": f"send {_title(family)}",
                "messages": [msg(family)],
            }
            replies = _replies(api, family)
            if replies:
                operation["reply"] = {"channel": ref, "messages": [msg(r) for r in replies]}
            operations[f"send.{family}"] = operation
        elif not (socketio and family in ("ack", "ack_error", "ohlcv_history_ack")):
            operations[f"receive.{family}"] = {
                "action": "receive",
                "channel": ref,
                "title": f"receive {_title(family)}",
                "messages": [msg(family)],
            }
    if socketio:
        operations["receive.subscription_error"] = {
            "action": "receive",
            "channel": ref,
            "title": "receive subscription error",
            "summary": "A failed emit that asked for no ack (contract §2.3).",
            "messages": [msg("subscription_error")],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": service.title,
            "version": __version__,
            "description": service.description
            + " Generated by harness contract export from the JSON Schemas harness validates with.",
            "license": {"name": "MIT"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "service": {
                "host": service.host,
                "pathname": service.path,
                "protocol": service.protocol,
                "description": "the service",
            },
            "harness": {
                "host": "127.0.0.1:8765",
                "pathname": service.path,
                "protocol": "ws",
                "description": "harness serve",
            },
        },
        "channels": {
            channel: {
                "address": "/" if socketio else service.path,
                "title": "the default Socket.IO namespace" if socketio else service.path,
                "messages": messages,
            }
        },
        "operations": operations,
        "components": {"schemas": bundle.schemas},
    }


def _description(bundle: Bundle, api: str, family: str) -> str:
    schema = bundle.schemas[bundle.add(api, family)]
    text = schema.get("description", "") if isinstance(schema, dict) else ""
    return str(text).split(". ")[0].rstrip(".") + "." if text else family


# --- documents ---------------------------------------------------------------------------------


def streaming_apis() -> list[str]:
    return [api for api in FAMILIES if api not in REST_APIS]


def document_name(api: str) -> str:
    """The file a document is written to: ``pumpfun.openapi.json``, ``corto.asyncapi.json``."""
    return f"{api}.{'openapi' if api in REST_APIS else 'asyncapi'}.json"


def document(api: str, schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Any]:
    """The document of ``api``: OpenAPI for a REST API, AsyncAPI for the others."""
    return openapi(api, schemas_dir) if api in REST_APIS else asyncapi(api, schemas_dir)


def documents(apis: list[str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(file name, document)`` of each API (every API in the registry when ``apis`` is None)."""
    for api in apis or list(FAMILIES):
        yield document_name(api), document(api)
