"""The OpenAPI 3.1 description of the HTTP API, served at ``/openapi.json``.

Each route module keeps its own ``OPENAPI`` paths fragment next to its handlers, so a route and
its description change together; this module merges them and adds the shared components. The
test suite drives every described route with schemathesis and checks the answers match.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from aiohttp import web

from gateway import __version__
from gateway.web.reasons import MAX_REASON

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
    return {
        "openapi": "3.1.0",
        "info": {"title": "edigate", "version": __version__,
                 "description": "EDI-to-API strangler gateway: HTTP EDI and REST event "
                                "ingest, read side, lineage, reconciliation, plans, outbox.",
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
        "components": COMPONENTS,
    }


def route(spec: dict[str, Any]) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/openapi.json")
    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(spec)

    return routes
