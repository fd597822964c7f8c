"""``POST /api/v1/events``: modern partners submit CloudEvents (one or a batch).

The body is committed to the inbox first (channel ``rest``), then validated and stored as
API-path events in one transaction with the ``Idempotency-Key`` record, so a repeated call —
same key, or same bytes — returns the original answer and has no second effect.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain.states import InterchangeStatus
from gateway.inbox.store import accept, raw_bytes
from gateway.observability import metrics
from gateway.observability.logging import current_correlation_id
from gateway.pipeline.api_events import ingest_events
from gateway.storage.models import IdempotencyKey, Interchange, Partner
from gateway.web.auth import require_partner
from gateway.web.body import receive_body
from gateway.web.keys import RUNTIME
from gateway.web.openapi import json_response, problem_responses
from gateway.web.problems import Problem

routes = web.RouteTableDef()
MAX_KEY = 200


def _respond(status: int, body: dict[str, Any], *, replayed: bool) -> web.Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    content_type = "application/problem+json" if status >= 400 else "application/json"
    return web.Response(status=status, text=json.dumps(body), content_type=content_type,
                        headers=headers)


@routes.post("/api/v1/events")
async def post_events(request: web.Request) -> web.Response:
    principal = await require_partner(request)
    partner_id = principal.partner_id or ""
    runtime = request.app[RUNTIME]
    settings = runtime.settings
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_KEY:
        raise Problem(400, "bad-idempotency-key", "Bad Idempotency-Key",
                      f"Idempotency-Key is longer than {MAX_KEY} characters")
    if request.content_type not in ("application/json", "application/cloudevents+json",
                                    "application/cloudevents-batch+json"):
        raise Problem(415, "unsupported-media-type", "Unsupported Media Type",
                      f"send application/json or application/cloudevents+json, "
                      f"not {request.content_type!r}")
    spooled = await receive_body(request, settings.data_path, settings.max_body_bytes)
    if spooled.size == 0:
        spooled.discard()
        raise Problem(400, "empty-body", "Empty body", "send one event or an array of events")
    now = datetime.now(UTC)

    def known_answer(session: Session) -> tuple[int, dict[str, Any], bool] | None:
        known = session.scalars(select(IdempotencyKey).where(
            IdempotencyKey.partner_id == partner_id, IdempotencyKey.key == key)).first()
        if known is None:
            return None
        spooled.discard()
        if known.request_sha256 != spooled.sha256:
            return 422, {
                "type": "https://edigate.dev/problems/idempotency-key-reused",
                "title": "Idempotency-Key reused", "status": 422,
                "detail": "this Idempotency-Key was used with a different body"}, False
        return known.status_code, known.response, True

    def work() -> tuple[int, dict[str, Any], bool]:
        try:
            return store()
        except IntegrityError:
            # A concurrent request with the same key (or the same event id) committed first:
            # its answer decides ours, as if it had come a moment earlier.
            spooled.discard()
            with runtime.sessions() as session:
                answer = known_answer(session) if key else None
            if answer is not None:
                return answer
            return 409, {
                "type": "https://edigate.dev/problems/concurrent-request",
                "title": "Concurrent request", "status": 409,
                "detail": "another request stored the same event id at the same moment; "
                          "nothing of this one was stored: send it again"}, False

    def store() -> tuple[int, dict[str, Any], bool]:
        with runtime.sessions.begin() as session:
            if key:
                answer = known_answer(session)
                if answer is not None:
                    return answer
            accepted = accept(session, spooled, data_dir=settings.data_path,
                              partner_id=partner_id, channel="rest", now=now,
                              content_type=request.content_type,
                              correlation_id=current_correlation_id() or "")
            row = accepted.interchange
            if accepted.duplicate and row.status != InterchangeStatus.RECEIVED:
                stored = (row.error_report or {}).get("response", {})
                return int((row.error_report or {}).get("http_status", 200)), stored, True
            outcome = ingest_events(session, row, raw_bytes(row, settings.data_path),
                                    partner_id=partner_id, now=now)
            row.status = (InterchangeStatus.PROCESSED if outcome.status < 400
                          else InterchangeStatus.QUARANTINED)
            row.status_detail = "" if outcome.status < 400 else outcome.body.get("detail", "")
            row.processed_at = now
            row.error_report = {"http_status": outcome.status, "response": outcome.body}
            if key:
                session.add(IdempotencyKey(partner_id=partner_id, key=key,
                                           request_sha256=row.sha256,
                                           status_code=outcome.status, response=outcome.body,
                                           created_at=now))
            for _ in outcome.event_ids:
                metrics.events_in.labels(type="api", path="api", partner=partner_id).inc()
            return outcome.status, outcome.body, False

    status, body, replayed = await runtime.run(work)
    metrics.received(partner_id, "rest", "replayed" if replayed else str(status))
    return _respond(status, body, replayed=replayed)


@routes.get("/api/v1/partners/me")
async def whoami(request: web.Request) -> web.Response:
    """Who this token is: lets a partner's developer check credentials before sending."""
    principal = await require_partner(request)
    runtime = request.app[RUNTIME]

    def load() -> dict[str, Any]:
        with runtime.sessions() as session:
            partner = session.get(Partner, principal.partner_id)
            assert partner is not None
            return {"id": partner.id, "name": partner.name, "standard": partner.standard,
                    "source": f"/partners/{partner.id}",
                    "stages": {s.document_type: s.stage for s in partner.stages},
                    "interchanges": session.scalar(select(func.count()).select_from(
                        Interchange).where(Interchange.partner_id == partner.id))}

    return web.json_response(await runtime.run(load))


OPENAPI = {
    "/api/v1/events": {"post": {
        "summary": "Submit CloudEvents (one object or an array)",
        "description": "Each event is validated against its registered schema version; a "
                       "batch is all or nothing. Repeat a call with the same Idempotency-Key "
                       "(or the same bytes) to get the original answer without a second effect.",
        "operationId": "postEvents",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": MAX_KEY}}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"oneOf": [{"type": "object"},
                                                      {"type": "array",
                                                       "items": {"type": "object"}}]}},
            "application/cloudevents+json": {"schema": {"type": "object"}}}},
        "responses": {
            "201": json_response("stored", {"type": "object", "properties": {
                "accepted": {"type": "integer"},
                "events": {"type": "array", "items": {"type": "string"}}}}),
            "200": json_response("a replay of an earlier answer"),
            **problem_responses(400, 401, 403, 409, 413, 415, 422)}}},
    "/api/v1/partners/me": {"get": {
        "summary": "The partner this token belongs to", "operationId": "whoami",
        "responses": {"200": json_response("the partner"), **problem_responses(401, 403)}}},
}
