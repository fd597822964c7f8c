"""``GET /api/v1/search``: everything about one business number, across every table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from gateway.search.paging import CURSOR_SCHEMA, BadPage, parse_limit
from gateway.search.query import KINDS, BadCursor, Filters, Page, search
from gateway.web.auth import Principal, require_any, visible_partner
from gateway.web.keys import RUNTIME
from gateway.web.openapi import json_response, problem_responses, query_param
from gateway.web.problems import Problem

routes = web.RouteTableDef()
MAX_PAGE = 500


def parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(400, "bad-parameter", "Bad Request",
                      f"{name}: expected an ISO 8601 time, got {value!r}") from None
    if parsed.tzinfo is None:
        raise Problem(400, "bad-parameter", "Bad Request",
                      f"{name}: give a zone (Z or +hh:mm), got {value!r}")
    return parsed


def filters_of(principal: Principal, query: Any) -> Filters:
    kind = query.get("kind") or None
    if kind and kind not in KINDS:
        raise Problem(400, "bad-parameter", "Bad Request",
                      f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    return Filters(partner=visible_partner(principal, query.get("partner") or None),
                   type=query.get("type") or None, status=query.get("status") or None,
                   kind=kind, since=parse_time(query.get("since"), "since"),
                   until=parse_time(query.get("until"), "until"))


async def run_search(request: web.Request, principal: Principal, *,
                     default_limit: int = 50) -> tuple[str, Page]:
    q = request.query.get("q", "").strip()
    filters = filters_of(principal, request.query)
    try:
        limit = parse_limit(request.query.get("limit"), default=default_limit,
                            maximum=MAX_PAGE)
    except BadPage as exc:
        raise Problem(400, "bad-parameter", "Bad Request", str(exc)) from None
    if not q:
        return q, Page([], None, 0, True)
    runtime = request.app[RUNTIME]

    def load() -> Page:
        with runtime.reads() as s:
            return search(s, q, filters, limit=limit, after=request.query.get("after"))

    try:
        return q, await runtime.run(load)
    except BadCursor as exc:
        raise Problem(400, "bad-parameter", "Bad Request", str(exc)) from None


def next_link(request: web.Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return str(request.rel_url.update_query(after=cursor))


@routes.get("/api/v1/search")
async def search_route(request: web.Request) -> web.Response:
    principal = await require_any(request)
    if not request.query.get("q", "").strip():
        raise Problem(400, "bad-parameter", "Bad Request",
                      "q: give a business number (order, despatch advice, invoice, schedule "
                      "or control number)")
    q, page = await run_search(request, principal)
    return web.json_response({"q": q, "total": page.total, "complete": page.complete,
                              "results": [h.json() for h in page.hits],
                              "next": next_link(request, page.next)})


_HIT = {"type": "object", "required": ["kind", "id", "at", "href"], "properties": {
    "kind": {"enum": list(KINDS)}, "id": {"type": "string"},
    "at": {"type": "string", "format": "date-time"}, "partner": {"type": "string"},
    "type": {"type": "string"}, "status": {"type": "string"}, "summary": {"type": "string"},
    "matched": {"type": "array", "items": {"type": "string"}}, "href": {"type": "string"},
    "lineage": {"type": ["string", "null"]}}}

OPENAPI = {
    "/api/v1/search": {"get": {
        "summary": "Everything about one business number (PO, ASN, invoice, schedule, control "
                   "number): events, interchanges, outbox rows, acknowledgments, plan actions",
        "operationId": "search",
        "parameters": [
            {**query_param("q", "the business number", {"type": "string", "minLength": 1}),
             "required": True},
            query_param("partner", "partner id", {"type": "string"}),
            query_param("kind", "only this kind of result", {"enum": list(KINDS)}),
            query_param("type", "document or event type", {"type": "string"}),
            query_param("status", "status", {"type": "string"}),
            query_param("since", "ISO 8601 time with zone (inclusive)",
                        {"type": "string", "format": "date-time"}),
            query_param("until", "ISO 8601 time with zone (exclusive)",
                        {"type": "string", "format": "date-time"}),
            query_param("limit", "page size", {"type": "integer", "minimum": 1,
                                               "maximum": MAX_PAGE}),
            query_param("after", "cursor from the previous page's next link",
                        CURSOR_SCHEMA)],
        "responses": {"200": json_response("newest first", {
            "type": "object", "required": ["q", "results", "next"], "properties": {
                "q": {"type": "string"}, "total": {"type": "integer"},
                "complete": {"type": "boolean"},
                "results": {"type": "array", "items": _HIT},
                "next": {"type": ["string", "null"]}}}),
            **problem_responses(400, 401, 403)}}},
}
