"""The scheduler's executor: every job run under a correlation id of its own."""

from __future__ import annotations

from apscheduler.executors.pool import BasePoolExecutor

from gateway.observability.logging import CorrelatedThreadPool


class CorrelatedJobExecutor(BasePoolExecutor):  # type: ignore[misc]
    """APScheduler's thread pool executor, on a pool that gives each run a fresh context and a
    new correlation id (APScheduler's own pool would run jobs with whatever a thread had)."""

    def __init__(self, max_workers: int = 10) -> None:
        super().__init__(CorrelatedThreadPool(max_workers, thread_name_prefix="edigate-job"))
