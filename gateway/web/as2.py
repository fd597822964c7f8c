"""``POST /as2`` (AS2 messages, RFC 4130) and ``POST /as2/mdn`` (asynchronous receipts).

Partners authenticate by their certificates, not by tokens: the AS2-From name selects the
partner and its registered certificates must verify the signature. The request is spooled and
committed before it is parsed; the MDN leaves only after the payload is committed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from gateway.channels.as2.inbound import Inbound, InboundAnswer, process_committed
from gateway.channels.as2.mdn import looks_like_mdn
from gateway.channels.as2.outbound import post_mdn, receive_async_mdn
from gateway.inbox.spool import SpooledBody
from gateway.observability.logging import current_correlation_id
from gateway.web.body import receive_body
from gateway.web.keys import RUNTIME
from gateway.web.openapi import problem_responses
from gateway.web.problems import Problem

log = logging.getLogger("edigate.as2")
routes = web.RouteTableDef()
MDN_LIMIT = 1 << 20  # a receipt is a few KiB; anything larger is not one
# Async MDN deliveries in flight; kept referenced so they are not garbage-collected mid-way.
_background: set[asyncio.Task[None]] = set()


async def _spool(request: web.Request, limit: int) -> SpooledBody:
    """Stream the body to a spool file. Even an empty body is kept and answered like any
    other request: the headers decide (unknown names 4xx, otherwise an MDN)."""
    runtime = request.app[RUNTIME]
    return await receive_body(request, runtime.settings.data_path, limit)


async def _deliver_async_mdn(inbound: Inbound, answer: InboundAnswer) -> None:
    assert answer.mdn is not None
    async with aiohttp.ClientSession() as http:
        ok, detail = await post_mdn(http, answer.async_mdn_url, answer.mdn)
    if not ok:
        log.error("AS2 alert: %s", detail, extra={"alert": "as2"})
    await inbound.runtime.run(inbound.mdn_delivered, ok, detail)


def _respond(inbound: Inbound, answer: InboundAnswer) -> web.Response:
    if answer.http_status >= 400:
        slug = {400: "as2-malformed", 403: "as2-unknown-partner",
                404: "as2-unknown-recipient"}.get(answer.http_status, "as2-refused")
        raise Problem(answer.http_status, slug, "AS2 message refused", answer.detail,
                      as2_message=answer.message_row)
    if answer.mdn is None:
        return web.Response(text=f"{answer.disposition}: {answer.detail}\n")
    if answer.async_mdn_url:
        task = asyncio.get_running_loop().create_task(_deliver_async_mdn(inbound, answer))
        _background.add(task)
        task.add_done_callback(_background.discard)
        return web.Response(text=f"received; the MDN will be posted to "
                                 f"{answer.async_mdn_url}\n")
    headers = {k: v for k, v in answer.mdn.headers}
    return web.Response(status=200, body=answer.mdn.body, headers=headers)


async def _mdn_answer(request: web.Request, body: bytes) -> web.Response:
    runtime = request.app[RUNTIME]
    outcome = await runtime.run(receive_async_mdn, runtime.sessions, runtime.settings,
                                dict(request.headers), body, datetime.now(UTC))
    if outcome.http_status >= 400:
        raise Problem(outcome.http_status, "as2-mdn-refused", "MDN refused", outcome.detail)
    return web.Response(text=f"MDN recorded: {outcome.mdn_status}\n")


@routes.post("/as2")
async def post_as2(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    spooled = await _spool(request, runtime.settings.max_body_bytes)
    if spooled.size <= MDN_LIMIT and looks_like_mdn(request.headers.get("Content-Type", ""),
                                                   spooled.read()):
        body = spooled.read()
        spooled.discard()
        return await _mdn_answer(request, body)
    now = datetime.now(UTC)
    inbound = Inbound(runtime, request.headers, request.headers.items(), now,
                      current_correlation_id() or "")
    await runtime.run(inbound.record_raw, spooled)
    answer = await runtime.run(inbound.process)
    if answer.interchange_id:
        await runtime.run_processing(process_committed, runtime, answer.interchange_id, now)
    return _respond(inbound, answer)


@routes.post("/as2/mdn")
async def post_as2_mdn(request: web.Request) -> web.Response:
    spooled = await _spool(request, MDN_LIMIT)
    body = spooled.read()
    spooled.discard()
    return await _mdn_answer(request, body)


_AS2_HEADERS = [
    {"name": name, "in": "header", "required": required, "description": text,
     "schema": {"type": "string", "minLength": 1, "pattern": r"^[!-~]([ -~]*[!-~])?$"}}
    for name, required, text in (
        ("AS2-From", True, "the sender's AS2 name (a registered partner)"),
        ("AS2-To", True, "our AS2 name"),
        ("Message-ID", True, "the message's unique id, in angle brackets"),
        ("Disposition-Notification-To", False, "present when an MDN is requested"),
        ("Disposition-Notification-Options", False, "signed-receipt-protocol and -micalg"),
        ("Receipt-Delivery-Option", False, "URL for an asynchronous MDN"))]

_BINARY = {"schema": {"type": "string", "format": "binary", "minLength": 1}}

OPENAPI = {
    "/as2": {"post": {
        "summary": "Receive an AS2 message (RFC 4130)",
        "description": "The request is stored before it is parsed; the payload is committed "
                       "to the inbox before the MDN is built. A synchronous MDN is the "
                       "response body; an asynchronous one is POSTed to "
                       "Receipt-Delivery-Option. An MDN posted here is recorded like one "
                       "posted to /as2/mdn.",
        "operationId": "postAs2", "security": [], "parameters": _AS2_HEADERS,
        "requestBody": {"required": True, "content": {
            "application/pkcs7-mime": _BINARY, "multipart/signed": _BINARY,
            "application/edi-consent": _BINARY, "application/edifact": _BINARY,
            "application/edi-x12": _BINARY, "application/octet-stream": _BINARY}},
        "responses": {
            "200": {"description": "a synchronous MDN (its disposition tells success or the "
                                   "RFC 4130 failure), or a plain text note when no MDN was "
                                   "requested or it follows asynchronously",
                    "content": {"multipart/report": _BINARY, "multipart/signed": _BINARY,
                                "text/plain": {"schema": {"type": "string"}}}},
            **problem_responses(400, 403, 404, 413)}}},
    "/as2/mdn": {"post": {
        "summary": "Receive an asynchronous MDN for a message we sent",
        "description": "The MDN is verified against the partner's certificates and matched "
                       "to the original message by Original-Message-ID; its MIC is compared "
                       "with the one we computed when sending.",
        "operationId": "postAs2Mdn", "security": [], "parameters": _AS2_HEADERS[:2],
        "requestBody": {"required": True, "content": {"multipart/report": _BINARY,
                                                      "multipart/signed": _BINARY}},
        "responses": {
            "200": {"description": "recorded", "content": {
                "text/plain": {"schema": {"type": "string"}}}},
            **problem_responses(400, 403, 404, 413)}}},
}
