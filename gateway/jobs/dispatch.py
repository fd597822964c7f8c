"""The in-process dispatcher (when jobs are enabled) and the overdue-acknowledgment sweep."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from gateway.domain.states import OutboxStatus, values
from gateway.observability import metrics
from gateway.outbound.acks import flag_overdue
from gateway.outbound.dispatcher import Dispatcher, outbox_depth
from gateway.runtime import Runtime
from gateway.web.keys import RUNTIME

OUTBOX_STATUSES = values(OutboxStatus)


def sweep_overdue(runtime: Runtime, now: datetime | None = None) -> tuple[int, int]:
    """Flag documents whose acknowledgment is late (and queue resends where the profile asks);
    ``now`` is the scheduler's clock unless a caller passes its own. Returns (flagged, resent)."""
    with runtime.sessions.begin() as session:
        flagged, resent = flag_overdue(session, now or datetime.now(UTC))
        depth = outbox_depth(session)
        # Every known status, so a status that emptied reads 0 instead of its last count.
        for status in sorted(set(OUTBOX_STATUSES) | set(depth)):
            metrics.outbox_depth.labels(status=status).set(depth.get(status, 0))
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
