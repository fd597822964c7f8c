"""The in-process dispatcher (when jobs are enabled) and the overdue-acknowledgment sweep."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from gateway.observability import metrics
from gateway.outbound.acks import flag_overdue
from gateway.outbound.dispatcher import Dispatcher, outbox_depth
from gateway.runtime import Runtime
from gateway.web.keys import RUNTIME


def sweep_overdue(runtime: Runtime) -> tuple[int, int]:
    with runtime.sessions.begin() as session:
        flagged, resent = flag_overdue(session, datetime.now(UTC))
        for status, count in outbox_depth(session).items():
            metrics.outbox_depth.labels(status=status).set(count)
    if flagged:
        metrics.acks_overdue.inc(flagged)
    return flagged, resent


async def dispatcher_ctx(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    if not runtime.settings.jobs_enabled:
        yield
        return
    stop = asyncio.Event()
    async with Dispatcher(runtime) as dispatcher:
        task = asyncio.create_task(dispatcher.run_forever(stop), name="edigate-dispatcher")
        yield
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
