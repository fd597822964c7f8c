"""The OpenAPI 3.1 description of the HTTP API, served at ``/openapi.json``.

Each route module keeps its own ``OPENAPI`` paths fragment next to its handlers, so a route and
its description change together; this module merges them and adds the shared components. The
test suite drives every described route with schemathesis and checks the answers match.
"""

from __future__ import annotations

import copy
import re
from types import ModuleType
from typing import Any

from aiohttp import web

from gateway import __version__
from gateway.web.reasons import MAX_REASON
from schemas import default_registry
from schemas.envelope import SPECVERSION, TYPE_PREFIX, schema_uri

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def problem_responses(*codes: int) -> dict[str, Any]:
    texts = {400: "Bad request", 401: "Missing or invalid token", 403: "Not allowed",
             404: "Not found", 409: "Conflict", 413: "Body too large",
             415: "Unsupported media type", 422: "Rejected", 503: "Unavailable"}
    return {str(c): {"description": texts.get(c, "Error"),
                     "content": {"application/problem+json": {"schema": PROBLEM}}}
            for c in codes}


def json_response(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def path_param(name: str, description: str,
               schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "string", "minLength": 1}}


# What an audited action's reason must look like (the handlers refuse a blank one).
REASON_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": MAX_REASON,
                                 "pattern": "\\S"}


def query_param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "A partner token (submit documents, read own data) or an "
                                  "operator token (viewer, operator, admin)."},
    },
    "schemas": {
        "Problem": {
            "type": "object", "required": ["type", "title", "status"],
            "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                           "status": {"type": "integer"}, "detail": {"type": "string"},
                           "correlation_id": {"type": "string"}},
            "additionalProperties": True,
        },
    },
}


# No identifier, name or filter value contains NUL (the problem middleware answers 400):
# every free-text path and query parameter says so.
NO_NUL = "^[^\\u0000]*$"


def _no_nul(operations: dict[str, Any]) -> None:
    for operation in operations.values():
        if not isinstance(operation, dict):
            continue
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema")
            if (parameter.get("in") in ("path", "query") and isinstance(schema, dict)
                    and schema.get("type") == "string"
                    and not {"pattern", "enum", "format", "const"} & schema.keys()):
                parameter["schema"] = {**schema, "pattern": NO_NUL}


# -- the CloudEvent envelope and each event type's data schema ---------------------------------

def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def data_component(event_type: str, version: int) -> str:
    """The component name of one version of an event type's data schema."""
    return f"{_camel(event_type)}V{version}"


def _embed(schema: Any, name: str, defs: dict[str, str], top: bool = False) -> Any:
    """A registry JSON Schema made a component: ``$defs`` become sibling components, ``$id``
    goes (inside an OpenAPI document it would re-base every ``$ref``), nested titles go (a
    generator names models by them, and two versions share them)."""
    if isinstance(schema, list):
        return [_embed(item, name, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("$id", "$schema", "$defs") or (key == "title" and not top):
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            out[key] = "#/components/schemas/" + defs[value.removeprefix("#/$defs/")]
        elif key in ("properties", "patternProperties", "dependentSchemas"):
            out[key] = {k: _embed(v, name, defs) for k, v in value.items()}
        else:
            out[key] = _embed(value, name, defs)
    return out


def _event_type_pattern(event_type: str | None = None) -> str:
    name = re.escape(event_type) if event_type else "[a-z][a-z0-9_]{0,63}"
    return f"^({re.escape(TYPE_PREFIX)})?{name}(\\.v[0-9]{{1,6}})?$"


def _envelope_properties(event_type: str | None = None) -> dict[str, Any]:
    named = f"'{TYPE_PREFIX}{event_type}'" if event_type else f"'{TYPE_PREFIX}<event_type>'"
    return {
        "specversion": {"type": "string", "enum": [SPECVERSION],
                        "description": "CloudEvents version"},
        "id": {"type": "string", "minLength": 1, "maxLength": 64,
               "description": "Unique per event; resending the same id with the same data is "
                              "a no-op (listed under 'duplicates')"},
        "source": {"type": "string", "minLength": 1, "maxLength": 200,
                   "pattern": "^/partners/[^/]+(/.*)?$",
                   "description": "/partners/<your partner id>, or a path below it: an event "
                                  "whose source names another partner is refused (403)"},
        "type": {"type": "string", "pattern": _event_type_pattern(event_type),
                 "description": f"{named} (canonical, as stored and published), the bare "
                                "name, or either with '.v<N>' to name the data version"},
        "dataschemaversion": {"type": "integer", "minimum": 1,
                              "description": "The data schema version (default: the latest); "
                                             "must agree with '.v<N>' and dataschema when "
                                             "several are given"},
        "dataschema": {"type": "string", "minLength": 1,
                       "description": "The schema's URI, e.g. "
                                      f"{schema_uri(event_type or 'order_response', 1)}"},
        "time": {"type": "string", "format": "date-time",
                 "description": "When it happened (RFC 3339 with a zone; default: receipt)"},
        "subject": {"type": "string", "minLength": 1, "maxLength": 200,
                    "description": "Default: the business key of the data"},
        "datacontenttype": {"type": "string", "enum": ["application/json"]},
        "partner": {"type": "string",
                    "description": "If given, your partner id (anything else: 403)"},
    }


def event_components() -> dict[str, Any]:
    """``CloudEvent`` (any type), and per event type ``<Type>Event`` with its data schema:
    every version of every type registered, as served at ``/schemas/<type>/<version>``."""
    registry = default_registry()
    schemas: dict[str, Any] = {}
    typed: list[dict[str, str]] = []
    for event_type in registry.types():
        versions = registry.versions(event_type)
        for version in versions:
            name = data_component(event_type, version)
            source = registry.json_schema(event_type, version)
            defs = {d: f"{name}{_camel(d)}" for d in source.get("$defs", {})}
            for d, component in defs.items():
                schemas[component] = _embed(source["$defs"][d], name, defs)
            embedded = _embed(source, name, defs, top=True)
            embedded["title"] = name
            embedded["externalDocs"] = {
                "description": f"{event_type} v{version} as JSON Schema (and Avro)",
                "url": f"/schemas/{event_type}/{version}"}
            embedded["x-dataschema"] = schema_uri(event_type, version)
            schemas[name] = embedded
        latest_first = [{"$ref": f"#/components/schemas/{data_component(event_type, v)}"}
                        for v in sorted(versions, reverse=True)]
        event_name = f"{_camel(event_type)}Event"
        schemas[event_name] = {
            "type": "object", "title": event_name,
            "description": f"A {event_type} CloudEvent; its data is validated against the "
                           f"version it names (/schemas/{event_type}).",
            "required": ["specversion", "id", "source", "type", "data"],
            "properties": {**_envelope_properties(event_type),
                           "data": latest_first[0] if len(latest_first) == 1
                           else {"anyOf": latest_first}},
        }
        typed.append({"$ref": f"#/components/schemas/{event_name}"})
    schemas["CloudEvent"] = {
        "type": "object", "title": "CloudEvent",
        "description": "A CloudEvents 1.0 event in structured JSON mode. Lower-case extension "
                       "attributes (letters and digits, at most 20) are kept with it. Its data "
                       "must validate against the schema of its type and version: see the "
                       "<Type>Event schemas and /schemas.",
        "required": ["specversion", "id", "source", "type", "data"],
        "properties": {**_envelope_properties(),
                       "data": {"type": "object", "description": "The business document"}},
    }
    schemas["TypedCloudEvent"] = {"oneOf": typed, "title": "TypedCloudEvent"}
    return schemas


# -- examples ------------------------------------------------------------------------------

def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example_of(schema: Any, components: dict[str, Any], depth: int = 0) -> Any:
    """A value valid for ``schema`` (required properties only; its own example when it has
    one): what an operation without a hand-written example shows."""
    if not isinstance(schema, dict) or depth > 12:
        return None
    schema = _resolve(schema, components)
    for key in ("example", "const", "default"):
        if key in schema:
            return copy.deepcopy(schema[key])
    if schema.get("examples"):
        return copy.deepcopy(schema["examples"][0])
    if "enum" in schema:
        return copy.deepcopy(schema["enum"][0])
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return example_of(schema[key][0], components, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_of(part, components, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else None
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example_of(properties.get(name, {}), components, depth + 1)
                for name in schema.get("required", []) if name in properties}
    if kind == "array":
        item = example_of(schema.get("items", {}), components, depth + 1)
        return [item] * max(1, int(schema.get("minItems", 1)))
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "string":
        fmt = schema.get("format")
        text = {"date-time": "2026-12-01T08:00:00Z", "date": "2026-12-01", "uri": "/",
                "binary": "", "byte": ""}.get(fmt or "", "string")
        return text
    return None


def add_examples(paths: dict[str, Any], components: dict[str, Any]) -> None:
    """Give every request body and response without an example one made from its schema."""
    for operations in paths.values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            bodies = [operation.get("requestBody", {}),
                      *operation.get("responses", {}).values()]
            for body in bodies:
                for media in body.get("content", {}).values():
                    if "example" in media or "examples" in media:
                        continue
                    media["example"] = example_of(media.get("schema", {}), components)


def build_spec(modules: list[ModuleType]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for module in modules:
        for path, operations in getattr(module, "OPENAPI", {}).items():
            paths.setdefault(path, {}).update(operations)
    for operations in paths.values():
        _no_nul(operations)
    paths["/openapi.json"] = {"get": {
        "summary": "This description", "operationId": "openapi", "security": [],
        "responses": {"200": json_response("OpenAPI 3.1 document")}}}
    components = copy.deepcopy(COMPONENTS)
    components["schemas"].update(event_components())
    for module in modules:
        components["schemas"].update(getattr(module, "COMPONENTS", {}))
    add_examples(paths, components["schemas"])
    return {
        "openapi": "3.1.0",
        "info": {"title": "edigate", "version": __version__,
                 "description": "EDI-to-API strangler gateway: HTTP EDI and REST event "
                                "ingest, read side, lineage, reconciliation, plans, outbox.",
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
        "components": components,
    }


def route(spec: dict[str, Any]) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/openapi.json")
    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(spec)

    return routes
