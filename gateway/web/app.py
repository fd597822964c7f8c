"""Application factory: routes, middlewares and the resources' lifetime (cleanup contexts)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from gateway.broker.service import broker_ctx
from gateway.channels.sftp_service import sftp_ctx
from gateway.config import Settings
from gateway.jobs.dispatch import dispatcher_ctx
from gateway.jobs.scheduler import scheduler_ctx
from gateway.jobs.simulators import simulators_ctx
from gateway.observability.logging import correlation
from gateway.runtime import Runtime
from gateway.web import (
    admin_api,
    as2,
    asyncapi,
    edi,
    events,
    health,
    openapi,
    outbox_api,
    plans_api,
    read,
    reconcile_api,
    schemas_api,
    search_api,
    suppliers_api,
)
from gateway.web.dashboard import outbox_pages, plans_pages, reconcile_pages, supplier_pages
from gateway.web.dashboard import pages as dashboard_pages
from gateway.web.keys import RUNTIME, TOKENS
from gateway.web.problems import problem_middleware
from gateway.web.token_cache import TokenCache

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
        middlewares=[correlation_middleware, problem_middleware],
    )

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        owned = runtime is None
        app[RUNTIME] = runtime or Runtime.from_settings(settings)
        yield
        if owned:
            app[RUNTIME].close()

    app[TOKENS] = TokenCache(settings.token_cache_seconds)
    app.cleanup_ctx.append(runtime_ctx)
    app.cleanup_ctx.append(scheduler_ctx)
    app.cleanup_ctx.append(sftp_ctx)
    app.cleanup_ctx.append(dispatcher_ctx)
    app.cleanup_ctx.append(simulators_ctx)
    app.cleanup_ctx.append(broker_ctx)
    modules = [health, edi, as2, events, read, schemas_api, reconcile_api, plans_api,
               suppliers_api, outbox_api, search_api, admin_api, dashboard_pages, reconcile_pages,
               plans_pages, supplier_pages, outbox_pages, asyncapi]
    for module in modules:
        app.add_routes(module.routes)
    app.add_routes(openapi.route(openapi.build_spec(modules)))
    return app
