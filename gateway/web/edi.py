"""``POST /edi``: a partner posts a raw EDIFACT or X12 interchange with its API token.

The body is streamed to a spool file (never buffered whole), committed to the inbox, and only
then processed and answered. An exact resend returns the original answer and stores nothing.
With ``Prefer: respond-async`` the answer (202) comes right after the commit and processing
follows in the background: for bulk senders that do not wait for the outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web

from gateway.domain.states import InterchangeStatus
from gateway.inbox.committer import Receipt
from gateway.inbox.poison import RetryPolicy
from gateway.observability import metrics
from gateway.observability.logging import current_correlation_id
from gateway.pipeline.process import Outcome, process_received
from gateway.web.auth import require_partner
from gateway.web.body import receive_body
from gateway.web.keys import RUNTIME
from gateway.web.openapi import problem_responses
from gateway.web.problems import Problem

routes = web.RouteTableDef()


def _answer(outcome: Outcome, *, duplicate: bool) -> web.Response:
    body = outcome.to_json()
    body["duplicate"] = duplicate
    # "status" is the HTTP status in a problem document (RFC 9457); "outcome" always says what
    # became of the interchange, in successful and problem answers alike.
    body["outcome"] = body["status"]
    body["links"] = {"self": f"/interchanges/{outcome.interchange_id}",
                     "ack": f"/interchanges/{outcome.interchange_id}/ack"}
    if outcome.http_status >= 400:
        titles = {403: ("sender-mismatch", "Sender identity does not match the partner"),
                  409: ("control-number-reused", "Control number reused with different bytes"),
                  422: ("edi-rejected", "The EDI was rejected")}
        slug, title = titles.get(outcome.http_status, ("edi-rejected", "Rejected"))
        raise Problem(outcome.http_status, slug, title,
                      outcome.detail or "see errors for every fault with its position",
                      **{k: v for k, v in body.items() if k not in ("detail", "status")})
    return web.json_response(body, status=outcome.http_status)


# Background processing started for respond-async answers (kept referenced until done).
_BACKGROUND: set[asyncio.Task[None]] = set()


def _respond_async(request: web.Request) -> bool:
    prefer = request.headers.getall("Prefer", [])
    return any(token.strip().lower() == "respond-async"
               for header in prefer for token in header.split(","))


async def _process_later(app: web.Application, process: Callable[[], Outcome],
                         interchange_id: str) -> None:
    try:
        await app[RUNTIME].run_processing(process)
    except Exception:
        app.logger.exception("processing of %s failed; will resume", interchange_id)


@routes.post("/edi")
async def post_edi(request: web.Request) -> web.Response:
    principal = await require_partner(request)
    runtime = request.app[RUNTIME]
    settings = runtime.settings
    spooled = await receive_body(request, settings.data_path, settings.max_body_bytes)
    if spooled.size == 0:
        spooled.discard()
        raise Problem(400, "empty-body", "Empty body",
                      "POST the raw EDIFACT or X12 interchange as the request body")
    now = datetime.now(UTC)
    cid = current_correlation_id() or ""

    committed = await runtime.inbox.commit(Receipt(
        spooled, partner_id=principal.partner_id, channel="http", now=now,
        content_type=request.content_type,
        filename=request.headers.get("Content-Disposition", ""), correlation_id=cid))
    interchange_id, duplicate = committed.interchange_id, committed.duplicate
    metrics.received(principal.partner_id, "http", "duplicate" if duplicate else "received")

    def process() -> Outcome:
        # Also for a duplicate: if its original was committed but never processed (a crash
        # before the answer), it is processed now; otherwise the claim fails and the stored
        # outcome comes back unchanged.
        return process_received(runtime.sessions, interchange_id,
                                data_dir=settings.data_path, now=now,
                                policy=RetryPolicy.from_settings(settings))

    if _respond_async(request):
        # RFC 7240: the bytes are committed; the answer does not wait for translation. The
        # outcome is at the links below once processed (the resume job covers a crash).
        # With inbox workers, they take it from the inbox; otherwise this process does.
        if settings.inbox_workers == 0:
            task = asyncio.get_running_loop().create_task(
                _process_later(request.app, process, interchange_id))
            _BACKGROUND.add(task)
            task.add_done_callback(_BACKGROUND.discard)
        return web.json_response(
            {"interchange_id": interchange_id, "status": InterchangeStatus.RECEIVED,
             "outcome": "received",
             "duplicate": duplicate,
             "links": {"self": f"/interchanges/{interchange_id}",
                       "ack": f"/interchanges/{interchange_id}/ack"}},
            status=202, headers={"Preference-Applied": "respond-async",
                                 "Location": f"/interchanges/{interchange_id}"})
    try:
        outcome = await runtime.run_processing(process)
    except Exception:
        # Committed but not processed: the resume job retries it; the partner's bytes are safe.
        request.app.logger.exception("processing of %s failed; will resume", interchange_id)
        return web.json_response({"interchange_id": interchange_id,
                                  "status": InterchangeStatus.RECEIVED,
                                  "duplicate": duplicate,
                                  "detail": "accepted; processing will be retried"},
                                 status=202)
    return _answer(outcome, duplicate=duplicate)


_OUTCOME = {"type": "object", "required": ["interchange_id", "status"], "properties": {
    "interchange_id": {"type": "string"}, "status": {"type": "string"},
    "duplicate": {"type": "boolean"}, "events": {"type": "array", "items": {"type": "string"}},
    "acknowledgments": {"type": "array", "items": {"type": "string"}},
    "messages": {"type": "array", "items": {"type": "object"}}}}

OPENAPI = {"/edi": {"post": {
    "summary": "Submit a raw EDIFACT or X12 interchange",
    "description": "The body is committed before the answer. An exact resend returns the "
                   "original answer (duplicate: true) and stores nothing new.",
    "operationId": "postEdi",
    "parameters": [{"name": "Prefer", "in": "header", "required": False,
                    "description": "respond-async: answer 202 once the bytes are committed",
                    "schema": {"type": "string"}}],
    "requestBody": {"required": True, "content": {
        "application/edifact": {"schema": {"type": "string", "format": "binary"}},
        "application/edi-x12": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "text/plain": {"schema": {"type": "string"}}}},
    "responses": {
        "200": {"description": "processed (events and acknowledgment stored)",
                "content": {"application/json": {"schema": _OUTCOME}}},
        "202": {"description": "committed; processing follows (Prefer: respond-async, or "
                               "a processing failure that will be retried: detail says "
                               "which attempt failed and when the next one is due)",
                "content": {"application/json": {"schema": _OUTCOME}}},
        **problem_responses(400, 401, 403, 409, 413, 422)}}}}
