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
from gateway.pipeline.api_events import MAX_BATCH, ingest_events
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


_EVENT = {"$ref": "#/components/schemas/TypedCloudEvent"}
_BATCH = {"type": "array", "items": _EVENT, "minItems": 1, "maxItems": MAX_BATCH}
_REPLAYED = {"Idempotent-Replayed": {
    "description": "'true' when this is the stored answer to an earlier call with the same "
                   "Idempotency-Key (or the same bytes): same status, same body, no new effect",
    "schema": {"type": "string", "enum": ["true"]}}}
_STORED = {"type": "object", "required": ["accepted", "events", "duplicates", "interchange_id"],
           "properties": {
               "accepted": {"type": "integer", "minimum": 0,
                            "description": "events stored by this call"},
               "events": {"type": "array", "items": {"type": "string"},
                          "description": "ids of the events stored"},
               "duplicates": {"type": "array", "items": {"type": "string"},
                              "description": "ids already stored with the same data: "
                                             "nothing new"},
               "interchange_id": {"type": "string",
                                  "description": "the stored request body (lineage)"}}}
_PARTNER = {"type": "object", "required": ["id", "name", "standard", "source", "stages"],
            "properties": {
                "id": {"type": "string"}, "name": {"type": "string"},
                "standard": {"type": "string"},
                "source": {"type": "string", "description": "the source your events carry"},
                "stages": {"type": "object", "additionalProperties": {"type": "string"}},
                "interchanges": {"type": "integer", "minimum": 0}}}

EXAMPLE_EVENT: dict[str, Any] = {
    "specversion": "1.0", "id": "nova-or-0001", "source": "/partners/nova-plastics",
    "type": "com.edigate.order_response", "dataschemaversion": 2,
    "time": "2026-12-04T09:30:00Z", "datacontenttype": "application/json",
    "data": {"order_number": "PO-1001", "response_number": "R-5",
             "response_date": "2026-12-04", "status": "accepted_with_changes",
             "lines": [{"line_number": "1", "status": "changed", "buyer_part": "BP-7",
                        "ordered_quantity": 1200, "confirmed_quantity": 1000, "unit": "EA",
                        "confirmed_delivery_date": "2026-12-16"}]}}
_STORED_EXAMPLE = {"accepted": 1, "events": ["nova-or-0001"], "duplicates": [],
                   "interchange_id": "0193a6c2-5f3e-7c1a-9d2b-4e5f6a7b8c9d"}

OPENAPI = {
    "/api/v1/events": {"post": {
        "summary": "Submit CloudEvents (one object or an array)",
        "description": "Each event is a CloudEvents 1.0 envelope whose data is validated against "
                       "the registered schema of its type and version (see /schemas). Its "
                       "source must be /partners/<your partner id> or below it. The type is "
                       "stored and published as com.edigate.<event_type>, however it was "
                       "spelled. A batch is all or nothing.\n\n"
                       "Idempotency: repeat a call with the same Idempotency-Key (or the same "
                       "bytes) and the original answer comes back — the same status (201 for "
                       "a stored batch, or the original 4xx) and body — with the header "
                       "Idempotent-Replayed: true, and nothing is stored again. The same key "
                       "with a different body is refused (422).\n\n"
                       "The same bodies may be sent as application/cloudevents+json (one "
                       "event) or application/cloudevents-batch+json (an array); only "
                       "application/json is listed, so that generated clients stay simple.",
        "operationId": "postEvents",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "description": "any string you choose per logical request",
                        "schema": {"type": "string", "maxLength": MAX_KEY},
                        "example": "or-PO-1001-R-5"}],
        "requestBody": {"required": True, "content": {
            "application/json": {
                "schema": {"oneOf": [_EVENT, _BATCH]},
                "examples": {"event": {"summary": "one order response",
                                       "value": EXAMPLE_EVENT},
                             "batch": {"summary": "a batch (all or nothing)",
                                       "value": [EXAMPLE_EVENT]}}}}},
        "responses": {
            "201": {"description": "stored (or, with Idempotent-Replayed, the stored answer "
                                   "to an earlier identical call)",
                    "headers": _REPLAYED,
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/EventsStored"},
                        "example": _STORED_EXAMPLE}}},
            **problem_responses(400, 401, 403, 409, 413, 415, 422)}}},
    "/api/v1/partners/me": {"get": {
        "summary": "The partner this token belongs to", "operationId": "whoami",
        "responses": {"200": json_response("the partner", _PARTNER),
                      **problem_responses(401, 403)}}},
}

# A stored refusal is replayed like a stored success.
for _code in ("400", "403", "409", "413", "422"):
    OPENAPI["/api/v1/events"]["post"]["responses"][_code]["headers"] = _REPLAYED

COMPONENTS = {"EventsStored": _STORED}
