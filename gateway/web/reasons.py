"""Audited actions carry a reason: one reader of ``{"reason": "..."}`` for every JSON route, so
each gives the same specific answer to a missing body, bad JSON or a blank reason."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.web.problems import Problem

MAX_REASON = 2000


async def read_reason(request: web.Request, *, required: bool, why: str) -> str:
    """The stripped reason; ``why`` ends the refusal of a blank one ("it goes to ...")."""
    body: Any = {}
    if request.can_read_body:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise Problem(400, "invalid-json", "Invalid JSON",
                          'send a JSON object such as {"reason": "..."}') from None
    if not isinstance(body, dict):
        raise Problem(400, "invalid-body", "Invalid body", "expected a JSON object")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise Problem(400, "invalid-reason", "Invalid reason",
                      f"reason must be a string of at most {MAX_REASON} characters")
    if required and not reason.strip():
        raise Problem(400, "reason-required", "Reason required", why)
    return reason.strip()
