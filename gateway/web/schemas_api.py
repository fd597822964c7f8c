"""The event contracts over HTTP: `GET /schemas`, `/schemas/{type}`, `/schemas/{type}/{version}`.

Public (no token): a partner reads the contract before it has credentials. A versioned schema
never changes once published, so its answer is cacheable for good; the unversioned one follows
the latest version. ``?format=avro`` serves the derived Avro schema instead of the JSON Schema.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway.web.openapi import json_response, path_param, problem_responses
from gateway.web.problems import Problem
from schemas import SchemaVersion, UnknownSchemaError, default_registry

routes = web.RouteTableDef()

JSON_SCHEMA_TYPE = "application/schema+json"
AVRO_TYPE = "application/json"
IMMUTABLE = "public, max-age=31536000, immutable"
FOLLOWS_LATEST = "public, max-age=300"


def _summary(event_type: str) -> dict[str, Any]:
    registry = default_registry()
    latest = registry.get(event_type)
    return {"type": event_type, "versions": registry.versions(event_type),
            "latest": latest.version, "compatibility": registry.mode(event_type).value,
            "title": latest.json_schema.get("title"),
            "description": latest.json_schema.get("description"),
            "business_key": latest.business_key,
            "links": {"latest": f"/schemas/{event_type}",
                      "versions": [f"/schemas/{event_type}/{v}"
                                   for v in registry.versions(event_type)]}}


def _schema_response(item: SchemaVersion, fmt: str, cache: str) -> web.Response:
    if fmt == "avro":
        body, content_type = item.avro_schema, AVRO_TYPE
    else:
        body, content_type = item.json_schema, JSON_SCHEMA_TYPE
    return web.Response(text=json.dumps(body), content_type=content_type, headers={
        "Cache-Control": cache, "ETag": f'"{item.subject}-{fmt}"',
        "X-Schema-Version": str(item.version)})


def _format(request: web.Request) -> str:
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "avro"):
        raise Problem(400, "bad-parameter", "Bad Request",
                      f"format: expected json or avro, got {fmt[:20]!r}")
    return fmt


def _lookup(event_type: str, version: int | None = None) -> SchemaVersion:
    try:
        return default_registry().get(event_type, version)
    except UnknownSchemaError as exc:
        raise Problem(404, "unknown-schema", "Unknown schema", str(exc)) from None


def _answer(request: web.Request, version: int | None) -> web.Response:
    try:
        fmt = _format(request)
        item = _lookup(request.match_info["type"], version)
    except Problem as problem:  # answered here too, so the routes work without the middleware
        return problem.response()
    return _schema_response(item, fmt, IMMUTABLE if version is not None else FOLLOWS_LATEST)


@routes.get("/schemas")
async def list_schemas(_request: web.Request) -> web.Response:
    registry = default_registry()
    return web.json_response({"schemas": [_summary(t) for t in registry.types()]})


@routes.get("/schemas/{type}")
async def latest_schema(request: web.Request) -> web.Response:
    return _answer(request, None)


@routes.get("/schemas/{type}/{version}")
async def schema_version(request: web.Request) -> web.Response:
    raw = request.match_info["version"]
    digits = raw[1:] if raw[:1] in ("v", "V") else raw
    if raw == "latest":
        return _answer(request, None)
    if not digits.isdigit() or len(digits) > 6:
        return Problem(404, "unknown-schema", "Unknown schema",
                       f"version {raw[:20]!r} is not a number (or 'latest')").response()
    return _answer(request, int(digits))


_FORMAT_PARAM = {"name": "format", "in": "query", "required": False,
                 "description": "json (JSON Schema 2020-12, default) or avro (derived Avro)",
                 "schema": {"type": "string", "enum": ["json", "avro"]}}
_SCHEMA_CONTENT = {JSON_SCHEMA_TYPE: {"schema": {"type": "object"}},
                   AVRO_TYPE: {"schema": {"type": "object"}}}

OPENAPI = {
    "/schemas": {"get": {
        "summary": "Event types with their versions, compatibility mode and business key",
        "operationId": "listSchemas", "security": [], "tags": ["schemas"],
        "responses": {"200": json_response("every event type", {
            "type": "object", "required": ["schemas"],
            "properties": {"schemas": {"type": "array", "items": {
                "type": "object",
                "required": ["type", "versions", "latest", "compatibility", "business_key"],
                "properties": {
                    "type": {"type": "string"},
                    "versions": {"type": "array", "items": {"type": "integer"}},
                    "latest": {"type": "integer"},
                    "compatibility": {"type": "string"},
                    "title": {"type": ["string", "null"]},
                    "description": {"type": ["string", "null"]},
                    "business_key": {"type": "object"},
                    "links": {"type": "object"}}}}}})}}},
    "/schemas/{type}": {"get": {
        "summary": "The latest version's schema of an event type",
        "operationId": "getLatestSchema", "security": [], "tags": ["schemas"],
        "parameters": [path_param("type", "event type, e.g. purchase_order"), _FORMAT_PARAM],
        "responses": {"200": {"description": "the schema (JSON Schema unless format=avro)",
                              "content": _SCHEMA_CONTENT},
                      **problem_responses(400, 404)}}},
    "/schemas/{type}/{version}": {"get": {
        "summary": "One version's schema of an event type (immutable, cacheable)",
        "operationId": "getSchemaVersion", "security": [], "tags": ["schemas"],
        "parameters": [path_param("type", "event type, e.g. despatch_advice"),
                       path_param("version", "version number (2 or v2) or latest"),
                       _FORMAT_PARAM],
        "responses": {"200": {"description": "the schema (JSON Schema unless format=avro)",
                              "content": _SCHEMA_CONTENT},
                      **problem_responses(400, 404)}}},
}
