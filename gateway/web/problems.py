"""RFC 9457 problem details: every error response is ``application/problem+json``.

Handlers raise :class:`Problem`; the middleware turns it (and aiohttp's own HTTP errors, and
anything unexpected) into one JSON shape with the correlation id, so a partner's developer can
quote one id and we find the whole trace.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gateway.observability.logging import current_correlation_id
from gateway.web.keys import RUNTIME

log = logging.getLogger("edigate.http")
PROBLEM_TYPE_BASE = "https://edigate.dev/problems/"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Problem(Exception):
    """An error answer: HTTP status, a stable type slug, a title and a specific detail."""

    def __init__(self, status: int, slug: str, title: str, detail: str = "",
                 **extensions: Any) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extensions = extensions
        self.headers: dict[str, str] = {}

    def response(self) -> web.Response:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        cid = current_correlation_id()
        if cid:
            body["correlation_id"] = cid
        body.update(self.extensions)
        return web.Response(status=self.status, text=json.dumps(body, default=str),
                            content_type="application/problem+json", headers=self.headers)


_SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
          405: "method-not-allowed", 409: "conflict", 413: "payload-too-large",
          415: "unsupported-media-type", 422: "unprocessable", 429: "too-many-requests"}


def _has_nul(request: web.Request) -> bool:
    if "\x00" in request.path:
        return True
    return any("\x00" in key or "\x00" in value for key, value in request.query.items())


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _has_nul(request):
        # No id, name or filter value contains NUL; PostgreSQL refuses it in any text
        # parameter, so it would otherwise surface as a 500 deep in a query.
        return Problem(400, "nul-character", "NUL character in the request",
                       "the path or a query parameter contains a NUL character (%00)"
                       ).response()
    try:
        return await handler(request)
    except Problem as problem:
        return problem.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else ""
        if exc.status == 413:
            limit = request.app[RUNTIME].settings.max_body_bytes
            detail = f"request body exceeds the limit of {limit} bytes"
        # (not ``problem``: the name the clause above binds is deleted after it)
        answer = Problem(exc.status, _SLUGS.get(exc.status, "http-error"), exc.reason, detail)
        if exc.status == 405:
            answer.headers["Allow"] = exc.headers.get("Allow", "")
        return answer.response()
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return Problem(500, "internal-error", "Internal Server Error",
                       "an unexpected error occurred; quote the correlation id").response()
