"""Application factory: routes, middlewares and the resources' lifetime (cleanup contexts)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from gateway.config import Settings
from gateway.observability.logging import correlation
from gateway.runtime import Runtime
from gateway.web import health
from gateway.web.keys import RUNTIME

log = logging.getLogger("edigate.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def correlation_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    incoming = request.headers.get("X-Correlation-Id", "")
    cid = incoming if incoming.isalnum() and len(incoming) <= 32 else None
    with correlation(cid) as value:
        started = time.perf_counter()
        response = await handler(request)
        response.headers["X-Correlation-Id"] = value
        if request.path not in ("/healthz", "/metrics"):
            log.info("%s %s -> %s", request.method, request.path, response.status,
                     extra={"ms": round((time.perf_counter() - started) * 1000, 1)})
        return response


def create_app(settings: Settings, runtime: Runtime | None = None) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[correlation_middleware],
    )

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        owned = runtime is None
        app[RUNTIME] = runtime or Runtime.from_settings(settings)
        yield
        if owned:
            app[RUNTIME].close()

    app.cleanup_ctx.append(runtime_ctx)
    app.add_routes(health.routes)
    return app
