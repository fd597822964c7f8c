"""The outbox over HTTP: operators list, retry and cancel; HTTP-EDI partners pick up documents.

Partners whose profile has ``[channels.http]`` without a ``url`` fetch what we owe them from
``GET /api/v1/outbound`` and ``GET /api/v1/outbound/{id}`` (the exact bytes, same control
numbers on every fetch); fetching marks the row picked up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.domain.states import OutboxStatus, values
from gateway.domain.timestamps import api_timestamp
from gateway.observability import metrics
from gateway.search.paging import CURSOR_SCHEMA, BadPage, decode, newest_first, parse_limit, split
from gateway.storage.models import OutboxAttempt, OutboxItem
from gateway.storage.repositories import append_audit
from gateway.web.auth import require_any, require_partner, require_role, visible_partner
from gateway.web.keys import RUNTIME
from gateway.web.openapi import (
    REASON_SCHEMA,
    json_response,
    path_param,
    problem_responses,
    query_param,
)
from gateway.web.problems import Problem
from gateway.web.reasons import read_reason

routes = web.RouteTableDef()
MAX_PAGE = 1000
STATUSES = values(OutboxStatus)


def outbox_json(row: OutboxItem) -> dict[str, Any]:
    return {
        "id": row.id, "partner": row.partner_id, "document_type": row.document_type,
        "channel": row.channel, "business_id": row.business_id, "status": row.status,
        "attempts": row.attempts, "control_numbers": row.control_numbers,
        "created_at": api_timestamp(row.created_at), "updated_at": api_timestamp(row.updated_at),
        "next_attempt_at": api_timestamp(row.next_attempt_at),
        "delivered_at": api_timestamp(row.delivered_at),
        "last_error": row.last_error, "ack_status": row.ack_status,
        "ack_due_at": api_timestamp(row.ack_due_at),
        "ack_detail": row.ack_detail, "interchange_id": row.interchange_id,
        "cause": {"type": row.cause_type, "id": row.cause_id},
    }


@routes.get("/api/v1/outbox")
async def list_outbox(request: web.Request) -> web.Response:
    principal = await require_any(request)
    runtime = request.app[RUNTIME]
    partner = visible_partner(principal, request.query.get("partner"))
    status = request.query.get("status")
    if status and status not in STATUSES:
        raise Problem(400, "bad-filter", "Bad filter",
                      f"status must be one of {', '.join(STATUSES)}")
    try:
        limit = parse_limit(request.query.get("limit"), default=100, maximum=MAX_PAGE)
        after = request.query.get("after")
        if after:
            decode(after)
    except BadPage as exc:
        raise Problem(400, "bad-filter", "Bad filter", str(exc)) from None
    document_type = request.query.get("document_type")

    def load() -> tuple[list[dict[str, Any]], str | None]:
        query = select(OutboxItem)
        if partner:
            query = query.where(OutboxItem.partner_id == partner)
        if status:
            query = query.where(OutboxItem.status == status)
        if document_type:
            query = query.where(OutboxItem.document_type == document_type)
        query = newest_first(query, OutboxItem.created_at, OutboxItem.id, after, limit)
        with runtime.sessions() as s:
            rows, cursor = split(list(s.scalars(query)), limit,
                                 lambda r: (r.created_at, r.id))
            return [outbox_json(r) for r in rows], cursor

    items, cursor = await runtime.run(load)
    return web.json_response({"items": items, "next": None if cursor is None else str(
        request.rel_url.update_query(after=cursor))})


@routes.get("/api/v1/outbox/{id}")
async def get_outbox(request: web.Request) -> web.Response:
    principal = await require_any(request)
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]

    def load() -> dict[str, Any] | None:
        with runtime.sessions() as s:
            row = s.get(OutboxItem, ident)
            if row is None or (principal.partner_id and row.partner_id != principal.partner_id):
                return None
            attempts = s.scalars(select(OutboxAttempt).where(OutboxAttempt.outbox_id == ident)
                                 .order_by(OutboxAttempt.id)).all()
            return {**outbox_json(row), "attempts_log": [
                {"at": api_timestamp(a.at), "worker": a.worker, "outcome": a.outcome,
                 "http_status": a.http_status, "duration_ms": a.duration_ms, "error": a.error}
                for a in attempts]}

    body = await runtime.run(load)
    if body is None:
        raise Problem(404, "not-found", "Not Found", f"no outbox row {ident}")
    return web.json_response(body)


async def _change(request: web.Request, *, allowed: tuple[str, ...], to: str) -> web.Response:
    principal = await require_role(request, "operator")
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]
    reason = await read_reason(request, required=True,
                               why='send {"reason": "..."}: it goes to the audit log')
    now = datetime.now(UTC)

    def act() -> dict[str, Any]:
        with runtime.sessions.begin() as s:
            row = s.get(OutboxItem, ident)
            if row is None:
                raise Problem(404, "not-found", "Not Found", f"no outbox row {ident}")
            if row.status not in allowed:
                raise Problem(409, "wrong-status", "Wrong status",
                              f"row is {row.status}; only {', '.join(allowed)} can become {to}")
            row.status = to
            row.updated_at = now
            if to == OutboxStatus.PENDING:
                row.attempts = 0
                row.next_attempt_at = now
            append_audit(s, at=now, actor=principal.actor, action=f"outbox.{to}",
                         subject_type="outbox", subject_id=row.id, reason=reason)
            return outbox_json(row)

    return web.json_response(await runtime.run(act))


@routes.post("/api/v1/outbox/{id}/retry")
async def retry(request: web.Request) -> web.Response:
    return await _change(request, allowed=(OutboxStatus.DEAD, OutboxStatus.FAILED,
                                              OutboxStatus.CANCELLED), to=OutboxStatus.PENDING)


@routes.post("/api/v1/outbox/{id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    return await _change(request, allowed=(OutboxStatus.PENDING, OutboxStatus.DEAD,
                                              OutboxStatus.FAILED), to=OutboxStatus.CANCELLED)


@routes.get("/api/v1/outbound")
async def pickup_list(request: web.Request) -> web.Response:
    principal = await require_partner(request)
    runtime = request.app[RUNTIME]

    def load() -> list[dict[str, Any]]:
        with runtime.sessions() as s:
            rows = s.scalars(select(OutboxItem).where(
                OutboxItem.partner_id == principal.partner_id, OutboxItem.channel == "http",
                OutboxItem.status == OutboxStatus.SENT).order_by(OutboxItem.created_at)).all()
            return [{"id": r.id, "document_type": r.document_type,
                     "business_id": r.business_id, "control_numbers": r.control_numbers,
                     "picked_up": bool((r.ack_detail or {}).get("picked_up_at")),
                     "href": f"/api/v1/outbound/{r.id}"} for r in rows]

    return web.json_response({"documents": await runtime.run(load)})


@routes.get("/api/v1/outbound/{id}")
async def pickup_one(request: web.Request) -> web.Response:
    principal = await require_partner(request)
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]
    now = datetime.now(UTC)

    def load() -> tuple[bytes, str] | None:
        with runtime.sessions.begin() as s:
            row = s.get(OutboxItem, ident)
            if row is None or row.partner_id != principal.partner_id or row.channel != "http":
                return None
            detail = dict(row.ack_detail or {})
            detail.setdefault("picked_up_at", api_timestamp(now))
            row.ack_detail = detail
            kind = "application/edi-x12" if (row.payload or b"")[:3] == b"ISA" \
                else "application/edifact"
            return row.payload or b"", kind

    found = await runtime.run(load)
    if found is None:
        raise Problem(404, "not-found", "Not Found", f"no outbound document {ident}")
    metrics.sent(channel="api", partner=principal.partner_id or "", document_type="edi",
                 outcome="accepted", size=len(found[0]))
    return web.Response(body=found[0], content_type=found[1])


_ROW = {"type": "object", "required": ["id", "status"], "properties": {
    "id": {"type": "string"}, "status": {"type": "string", "enum": list(STATUSES)}}}
_REASON = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["reason"], "properties": {"reason": REASON_SCHEMA}}}}}

OPENAPI = {
    "/api/v1/outbox": {"get": {
        "summary": "Outbox rows (operators: all; a partner: its own)",
        "operationId": "listOutbox",
        "parameters": [query_param("partner", "partner id", {"type": "string"}),
                       query_param("status", "row status", {"type": "string",
                                                            "enum": list(STATUSES)}),
                       query_param("document_type", "document type", {"type": "string"}),
                       query_param("limit", "page size (a larger one is refused, never cut)",
                                   {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
                       query_param("after", "cursor: follow the previous page's next link",
                                   CURSOR_SCHEMA)],
        "responses": {"200": json_response("rows, newest first", {
            "type": "object", "required": ["items", "next"], "properties": {
                "items": {"type": "array", "items": _ROW},
                "next": {"type": ["string", "null"]}}}), **problem_responses(400, 401)}}},
    "/api/v1/outbox/{id}": {"get": {
        "summary": "One outbox row with its delivery attempts", "operationId": "getOutbox",
        "parameters": [path_param("id", "outbox row id")],
        "responses": {"200": json_response("the row", _ROW), **problem_responses(401, 404)}}},
    "/api/v1/outbox/{id}/retry": {"post": {
        "summary": "Send a dead-lettered, failed or cancelled row again (operator)",
        "operationId": "retryOutbox", "parameters": [path_param("id", "outbox row id")],
        "requestBody": _REASON,
        "responses": {"200": json_response("the row", _ROW),
                      **problem_responses(400, 401, 403, 404, 409)}}},
    "/api/v1/outbox/{id}/cancel": {"post": {
        "summary": "Stop delivering a row (operator)", "operationId": "cancelOutbox",
        "parameters": [path_param("id", "outbox row id")], "requestBody": _REASON,
        "responses": {"200": json_response("the row", _ROW),
                      **problem_responses(400, 401, 403, 404, 409)}}},
    "/api/v1/outbound": {"get": {
        "summary": "Documents waiting for an HTTP-EDI partner to pick up (partner token)",
        "operationId": "listOutbound",
        "responses": {"200": json_response("documents"), **problem_responses(401, 403)}}},
    "/api/v1/outbound/{id}": {"get": {
        "summary": "The exact bytes of one outbound document (partner token)",
        "operationId": "getOutbound", "parameters": [path_param("id", "outbox row id")],
        "responses": {"200": {"description": "the EDI document", "content": {
            "application/edi-x12": {"schema": {"type": "string"}},
            "application/edifact": {"schema": {"type": "string"}}}},
            **problem_responses(401, 403, 404)}}},
}
