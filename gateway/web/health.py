"""Liveness and readiness: ``/healthz`` says the process answers, ``/readyz`` that it can work."""

from __future__ import annotations

from aiohttp import web

from gateway.storage.db import DatabaseError, ping
from gateway.storage.migrate import pending_message
from gateway.web.keys import RUNTIME

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]

    def check() -> list[str]:
        try:
            ping(runtime.engine)
        except DatabaseError as exc:
            return [str(exc)]
        pending = pending_message(runtime.engine)
        return [pending] if pending else []

    problems = await runtime.run(check)
    if problems:
        return web.json_response({"status": "unavailable", "problems": problems}, status=503)
    return web.json_response({"status": "ready"})


OPENAPI = {
    "/healthz": {"get": {
        "summary": "Liveness: the process answers", "operationId": "healthz", "security": [],
        "responses": {"200": {"description": "alive", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"status": {"const": "ok"}}}}}}}}},
    "/readyz": {"get": {
        "summary": "Readiness: database reachable and schema current", "operationId": "readyz",
        "security": [],
        "responses": {
            "200": {"description": "ready", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"status": {"const": "ready"}}}}}},
            "503": {"description": "not ready, with the reasons", "content": {
                "application/json": {"schema": {"type": "object", "required": ["problems"],
                    "properties": {"problems": {"type": "array",
                                                "items": {"type": "string"}}}}}}}}}},
}
