"""The read side: interchanges, their acknowledgments, events with filters, and lineage.

A partner token sees only that partner's data; an operator (viewer and up) sees everything.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import select

from gateway.domain.causes import acknowledgments_of
from gateway.domain.timestamps import api_timestamp
from gateway.inbox.store import raw_bytes
from gateway.observability import metrics
from gateway.pipeline.api_events import type_name
from gateway.search.paging import CURSOR_SCHEMA, BadPage, decode, newest_first, parse_limit, split
from gateway.storage.models import Event, Interchange, OutboxItem
from gateway.web.auth import Principal, require_any, visible_partner
from gateway.web.keys import RUNTIME
from gateway.web.openapi import json_response, path_param, problem_responses, query_param
from gateway.web.problems import Problem

routes = web.RouteTableDef()
MAX_PAGE = 500


def interchange_json(row: Interchange) -> dict[str, Any]:
    report = row.error_report or {}
    return {
        "id": row.id, "partner": row.partner_id, "direction": row.direction,
        "channel": row.channel, "received_at": api_timestamp(row.received_at),
        "sha256": row.sha256, "size": row.size, "standard": row.standard,
        "sender_id": row.sender_id, "receiver_id": row.receiver_id,
        "control_number": row.control_number, "status": row.status,
        "detail": row.status_detail, "attempts": row.attempts,
        "processed_at": api_timestamp(row.processed_at),
        "next_attempt_at": api_timestamp(row.next_attempt_at),
        "messages": report.get("messages", []), "errors": report.get("report"),
        "links": {"raw": f"/interchanges/{row.id}/raw", "ack": f"/interchanges/{row.id}/ack"},
    }


def event_json(row: Event) -> dict[str, Any]:
    return {**row.envelope, "data": row.data}


def _visible(principal: Principal, row: Interchange | Event | None, what: str, ident: str):
    if row is None or (principal.partner_id and row.partner_id != principal.partner_id):
        # The same answer for "absent" and "someone else's": no probing of other partners.
        raise Problem(404, "not-found", "Not Found", f"no {what} {ident}")
    return row


@routes.get("/interchanges/{id}")
async def get_interchange(request: web.Request) -> web.Response:
    principal = await require_any(request)
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]

    def load() -> dict[str, Any]:
        with runtime.reads() as s:
            row = _visible(principal, s.get(Interchange, ident), "interchange", ident)
            body = interchange_json(row)
            body["events"] = s.scalars(select(Event.id).where(
                Event.interchange_id == ident).order_by(Event.id)).all()
            return body

    return web.json_response(await runtime.run(load))


@routes.get("/interchanges/{id}/raw")
async def get_raw(request: web.Request) -> web.Response:
    principal = await require_any(request)
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]

    def load() -> bytes:
        with runtime.reads() as s:
            row = _visible(principal, s.get(Interchange, ident), "interchange", ident)
            return raw_bytes(row, runtime.settings.data_path)

    return web.Response(body=await runtime.run(load), content_type="application/octet-stream")


@routes.get("/interchanges/{id}/ack")
async def get_ack(request: web.Request) -> web.Response:
    """The acknowledgment(s) we built for an inbound interchange, as EDI bytes or JSON."""
    principal = await require_any(request)
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]

    def load() -> list[dict[str, Any]]:
        with runtime.reads() as s:
            _visible(principal, s.get(Interchange, ident), "interchange", ident)
            items = s.scalars(select(OutboxItem).where(
                acknowledgments_of(ident)).order_by(OutboxItem.created_at)).all()
            return [{"id": i.interchange_id, "kind": i.data.get("kind"), "status": i.status,
                     "control_numbers": i.control_numbers,
                     "edi": (i.payload or b"").decode("latin-1")} for i in items]

    acks = await runtime.run(load)
    if not acks:
        raise Problem(404, "no-acknowledgment", "Not Found",
                      f"interchange {ident} has no acknowledgment (yet)")
    if "application/json" not in request.headers.get("Accept", ""):
        return web.Response(text="\n".join(a["edi"] for a in acks),
                            content_type="application/edi-x12"
                            if acks[0]["edi"].startswith("ISA") else "application/edifact",
                            charset="latin-1")
    return web.json_response({"interchange_id": ident, "acknowledgments": acks})


def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(400, "bad-parameter", "Bad Request",
                      f"{name}: expected an ISO 8601 time, got {value!r}") from None


def _page(request: web.Request) -> tuple[int, str | None]:
    raw = request.query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise Problem(400, "bad-parameter", "Bad Request",
                      f"limit: expected 1-{MAX_PAGE}, got {raw!r}")
    return int(raw), request.query.get("after")


@routes.get("/api/v1/events")
async def list_events(request: web.Request) -> web.Response:
    principal = await require_any(request)
    runtime = request.app[RUNTIME]
    q = request.query
    partner = visible_partner(principal, q.get("partner"))
    path = q.get("path")
    if path not in (None, "edi", "api"):
        raise Problem(400, "bad-parameter", "Bad Request", f"path: expected edi or api, "
                                                           f"got {path!r}")
    since, until = _parse_time(q.get("since"), "since"), _parse_time(q.get("until"), "until")
    limit, after = _page(request)

    def load() -> dict[str, Any]:
        query = select(Event)
        if partner:
            query = query.where(Event.partner_id == partner)
        if q.get("type"):
            query = query.where(Event.type == type_name(q["type"]))
        if path:
            query = query.where(Event.path == path)
        if q.get("business_key"):
            query = query.where(Event.business_key == q["business_key"])
        if since:
            query = query.where(Event.time >= since)
        if until:
            query = query.where(Event.time < until)
        if after:
            query = query.where(Event.id > after)
        with runtime.reads() as s:
            rows = s.scalars(query.order_by(Event.id).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return {"events": [event_json(r) for r in rows],
                "next": rows[-1].id if more and rows else None}

    return web.json_response(await runtime.run(load))


DIRECTIONS = ("in", "out")


@routes.get("/api/v1/interchanges")
async def list_interchanges(request: web.Request) -> web.Response:
    """Interchanges newest first with filters; ``next`` is the link to the following page."""
    principal = await require_any(request)
    runtime = request.app[RUNTIME]
    q = request.query
    partner = visible_partner(principal, q.get("partner"))
    direction = q.get("direction")
    if direction not in (None, *DIRECTIONS):
        raise Problem(400, "bad-parameter", "Bad Request",
                      f"direction: expected in or out, got {direction!r}")
    since, until = _parse_time(q.get("since"), "since"), _parse_time(q.get("until"), "until")
    try:
        limit = parse_limit(q.get("limit"), default=100, maximum=MAX_PAGE)
        if q.get("after"):
            decode(q["after"])
    except BadPage as exc:
        raise Problem(400, "bad-parameter", "Bad Request", str(exc)) from None

    def load() -> tuple[list[dict[str, Any]], str | None]:
        query = select(Interchange)
        for column, value in ((Interchange.partner_id, partner),
                              (Interchange.direction, direction),
                              (Interchange.status, q.get("status")),
                              (Interchange.channel, q.get("channel")),
                              (Interchange.control_number, q.get("control_number"))):
            if value:
                query = query.where(column == value)
        if since:
            query = query.where(Interchange.received_at >= since)
        if until:
            query = query.where(Interchange.received_at < until)
        query = newest_first(query, Interchange.received_at, Interchange.id, q.get("after"),
                             limit)
        with runtime.reads() as s:
            rows, cursor = split(list(s.scalars(query)), limit,
                                 lambda r: (r.received_at, r.id))
            return [interchange_json(r) for r in rows], cursor

    rows, cursor = await runtime.run(load)
    return web.json_response({"interchanges": rows, "next": None if cursor is None else str(
        request.rel_url.update_query(after=cursor))})


@routes.get("/lineage/{event_id}")
async def lineage(request: web.Request) -> web.Response:
    """Event → message → interchange → raw bytes (promise 4)."""
    principal = await require_any(request)
    runtime = request.app[RUNTIME]
    ident = request.match_info["event_id"]

    def load() -> dict[str, Any]:
        with runtime.reads() as s:
            event = _visible(principal, s.get(Event, ident), "event", ident)
            body: dict[str, Any] = {"event": event_json(event), "path": event.path}
            if event.interchange_id:
                row = s.get(Interchange, event.interchange_id)
                if row is not None:
                    raw = raw_bytes(row, runtime.settings.data_path)
                    body["message"] = next(
                        (m for m in (row.error_report or {}).get("messages", [])
                         if m.get("event_id") == event.id), None)
                    body["interchange"] = interchange_json(row)
                    body["raw"] = {"sha256": row.sha256, "size": row.size,
                                   "base64": base64.b64encode(raw).decode("ascii")
                                   if row.size <= 1 << 20 else None,
                                   "href": f"/interchanges/{row.id}/raw"}
            return body

    return web.json_response(await runtime.run(load))


@routes.get("/metrics")
async def metrics_route(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]

    def gauges() -> None:
        with runtime.reads() as s:
            metrics.refresh_from_db(s)

    await runtime.run(gauges)
    return web.Response(body=metrics.exposition(runtime.settings.data_path),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


_ID = [path_param("id", "interchange id")]
OPENAPI = {
    "/interchanges/{id}": {"get": {
        "summary": "One interchange: status, errors, events", "operationId": "getInterchange",
        "parameters": _ID,
        "responses": {"200": json_response("the interchange"), **problem_responses(401, 404)}}},
    "/interchanges/{id}/raw": {"get": {
        "summary": "The exact bytes received or sent", "operationId": "getInterchangeRaw",
        "parameters": _ID,
        "responses": {"200": {"description": "raw bytes", "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            **problem_responses(401, 404)}}},
    "/interchanges/{id}/ack": {"get": {
        "summary": "The acknowledgment built for an inbound interchange",
        "operationId": "getInterchangeAck", "parameters": _ID,
        "responses": {"200": {"description": "the 997/999/TA1 or CONTRL (EDI, or JSON with "
                                             "Accept: application/json)", "content": {
            "application/edi-x12": {"schema": {"type": "string"}},
            "application/edifact": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}}}},
            **problem_responses(401, 404)}}},
    "/api/v1/events": {"get": {
        "summary": "Events with filters (a partner sees only its own)",
        "operationId": "listEvents",
        "parameters": [
            query_param("type", "event type, in either spelling: order_response or "
                        "com.edigate.order_response", {"type": "string"}),
            query_param("partner", "partner id", {"type": "string"}),
            query_param("path", "edi or api", {"enum": ["edi", "api"]}),
            query_param("business_key", "business key", {"type": "string"}),
            query_param("since", "ISO 8601 time (inclusive)",
                        {"type": "string", "format": "date-time"}),
            query_param("until", "ISO 8601 time (exclusive)",
                        {"type": "string", "format": "date-time"}),
            query_param("limit", "page size", {"type": "integer", "minimum": 1,
                                               "maximum": MAX_PAGE}),
            query_param("after", "cursor: the last id of the previous page",
                        {"type": "string"})],
        "responses": {"200": json_response("a page of events", {
            "type": "object", "required": ["events"], "properties": {
                "events": {"type": "array", "items": {"type": "object"}},
                "next": {"type": ["string", "null"]}}}),
            **problem_responses(400, 401, 403)}}},
    "/api/v1/interchanges": {"get": {
        "summary": "Interchanges with filters, newest first (a partner sees only its own)",
        "operationId": "listInterchanges",
        "parameters": [
            query_param("partner", "partner id", {"type": "string"}),
            query_param("direction", "in or out", {"enum": list(DIRECTIONS)}),
            query_param("status", "status", {"type": "string"}),
            query_param("channel", "channel", {"type": "string"}),
            query_param("control_number", "interchange control number", {"type": "string"}),
            query_param("since", "ISO 8601 time (inclusive)",
                        {"type": "string", "format": "date-time"}),
            query_param("until", "ISO 8601 time (exclusive)",
                        {"type": "string", "format": "date-time"}),
            query_param("limit", "page size (a larger one is refused, never cut)",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
            query_param("after", "cursor: follow the previous page's next link",
                        CURSOR_SCHEMA)],
        "responses": {"200": json_response("a page of interchanges", {
            "type": "object", "required": ["interchanges", "next"], "properties": {
                "interchanges": {"type": "array", "items": {"type": "object"}},
                "next": {"type": ["string", "null"]}}}),
            **problem_responses(400, 401, 403)}}},
    "/lineage/{event_id}": {"get": {
        "summary": "Event → message → interchange → raw bytes", "operationId": "lineage",
        "parameters": [path_param("event_id", "event id")],
        "responses": {"200": json_response("the lineage"), **problem_responses(401, 404)}}},
    "/metrics": {"get": {
        "summary": "Prometheus metrics", "operationId": "metrics", "security": [],
        "responses": {"200": {"description": "text exposition format",
                              "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
}
