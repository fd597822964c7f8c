"""The supplier scorecard over HTTP (viewer): on-time delivery, fill rate, lead-time spread."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.planning.scorecard import load_scorecard
from gateway.web.auth import require_role
from gateway.web.keys import RUNTIME
from gateway.web.openapi import json_response, problem_responses

routes = web.RouteTableDef()


@routes.get("/api/v1/suppliers/scorecard")
async def scorecard(request: web.Request) -> web.Response:
    await require_role(request, "viewer")
    runtime = request.app[RUNTIME]
    today = runtime.clock().date()  # the business calendar (a demo runs ahead)

    def load() -> list[dict[str, Any]]:
        with runtime.reads() as s:
            return load_scorecard(s, today)

    return web.json_response({"as_of": today.isoformat(), "suppliers": await runtime.run(load)})


_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
OPENAPI = {
    "/api/v1/suppliers/scorecard": {"get": {
        "summary": "Per supplier: on-time delivery, fill rate, lead-time mean and spread, "
                   "acknowledgment rate (viewer)",
        "operationId": "supplierScorecard",
        "responses": {"200": json_response("the scorecard", {
            "type": "object", "required": ["as_of", "suppliers"],
            "properties": {"as_of": {"type": "string", "format": "date"},
                           "suppliers": {"type": "array", "items": {
                               "type": "object", "required": ["supplier"],
                               "properties": {"supplier": {"type": "string"},
                                              "on_time_rate": _RATE, "fill_rate": _RATE,
                                              "ack_rate": _RATE}}}}}),
            **problem_responses(401, 403)}}},
}
