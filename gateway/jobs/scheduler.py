"""The process's APScheduler: jobs run in threads (storage is synchronous) off the event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from gateway.jobs.dispatch import sweep_overdue
from gateway.jobs.resume import resume_inbox
from gateway.observability.jobs import CorrelatedJobExecutor
from gateway.planning.jobs import add_planning_jobs
from gateway.reconcile.jobs import PullJob, register_reconcile_jobs
from gateway.web.keys import RUNTIME

SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    scheduler = AsyncIOScheduler(executors={"default": CorrelatedJobExecutor(4)},
                                 job_defaults={"coalesce": True, "max_instances": 1,
                                               "misfire_grace_time": 30})
    pull: PullJob | None = None
    if runtime.settings.jobs_enabled:
        # At start: everything a crash left behind; afterwards: rows whose inline processing
        # failed (older than a few seconds, so a request still processing is left alone).
        scheduler.add_job(resume_inbox, args=[runtime], id="resume-inbox-startup")
        scheduler.add_job(resume_inbox, "interval", seconds=15, args=[runtime],
                          kwargs={"older_than": timedelta(seconds=10)}, id="resume-inbox")
        scheduler.add_job(sweep_overdue, "interval", seconds=60, args=[runtime],
                          id="acks-overdue")
        pull = register_reconcile_jobs(scheduler, runtime)
        add_planning_jobs(scheduler, runtime)
    scheduler.start()
    app[SCHEDULER] = scheduler
    yield
    scheduler.shutdown(wait=False)
    if pull is not None:
        await pull.close()  # API polls in flight: cancelled; their leases expire
