"""Scheduled reconciliation: every N minutes per partner in ``dual``, and once more when a
day's window closes (midnight plus the partner's grace), so late copies are judged final: the
first tick after the close (at most one interval later) adds a ``window-close`` run of that
day, also for every day that closed while no process was running.

The API pull connector is scheduled here too: every partner whose profile has
``[channels.api_pull]`` is polled at its ``interval_seconds`` (see connector.py), its requests
spaced by its ``rate_per_second``, transient failures retried by tenacity.

Several gateway processes may share one database: each partner's run or poll takes a lease row
in ``job_leases`` (one atomic UPDATE, or an INSERT that only one process can win), so exactly
one process runs it per interval; a crashed holder's lease simply expires.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import aiohttp
from apscheduler.executors.asyncio import AsyncIOExecutor
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gateway.domain.states import Stage
from gateway.reconcile.connector import PullConnector, PullError, PullSettings, RateLimiter
from gateway.reconcile.service import (
    ReconcileError,
    aware,
    day_window,
    partner_config,
    run_reconciliation,
)
from gateway.reconcile.stages import auto_promote
from gateway.runtime import Runtime
from gateway.storage.models import Partner, PartnerStage
from gateway.storage.models_reconciler import JobLease, PullCursor

log = logging.getLogger("edigate.reconcile")
pull_log = logging.getLogger("edigate.pull")
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def acquire_lease(session: Session, name: str, *, holder: str, now: datetime,
                  ttl: timedelta, due_before: datetime | None = None) -> bool:
    """Take or renew the lease ``name`` until ``now + ttl``; False when another holds it.

    With ``due_before``, also False when the job last ran after that moment: the "is it due?"
    check sits in the same atomic UPDATE, so two processes that both saw it due cannot both
    run it, however their transactions interleave."""
    condition = (JobLease.expires_at < now) | (JobLease.holder == holder)
    if due_before is not None:
        condition = condition & (JobLease.last_run_at.is_(None)
                                 | (JobLease.last_run_at <= due_before))
    taken = session.execute(
        update(JobLease).where(JobLease.name == name, condition)
        .values(holder=holder, expires_at=now + ttl).returning(JobLease.name),
        execution_options={"synchronize_session": False}).first()
    if taken is not None:
        return True
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    created = session.execute(insert(JobLease).values(name=name, holder=holder,
                                                      expires_at=now + ttl)
                              .on_conflict_do_nothing().returning(JobLease.name)).first()
    # RETURNING, not rowcount: drivers disagree on rowcount for ON CONFLICT DO NOTHING.
    return created is not None


def release_lease(session: Session, name: str, *, holder: str, now: datetime) -> None:
    """Give the lease back early (the work is done); ``last_run_at`` still says when it ran."""
    session.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == holder)
                    .values(expires_at=now), execution_options={"synchronize_session": False})


def dual_partners(session: Session) -> list[str]:
    return sorted(set(session.scalars(select(PartnerStage.partner_id)
                                      .where(PartnerStage.stage == Stage.DUAL))))


def reconcile_partner(session: Session, partner_id: str, *, now: datetime,
                      last_run: datetime | None) -> list[str]:
    """The regular run over the gate window, plus a final run for each day whose window
    closed since ``last_run``. Returns the run ids."""
    partner_conf = partner_config_of(session, partner_id)
    days = max(partner_conf["window_days"], 1)
    today = now.date()
    runs = [run_reconciliation(session, partner_id,
                                day_window(today - timedelta(days=days - 1), today),
                                as_of=now, trigger="schedule").id]
    grace: timedelta = partner_conf["grace"]
    for back in range(1, days + 1):
        day = today - timedelta(days=back)
        closes = datetime.combine(day + timedelta(days=1), time(), UTC) + grace
        if last_run is not None and last_run < closes <= now:
            runs.append(run_reconciliation(session, partner_id, day_window(day, day),
                                           as_of=now, trigger="window-close").id)
    for change in auto_promote(session, partner_id, now=now):
        log.info("%s %s promoted %s -> %s by its policy (%s)", partner_id,
                 change.document_type, change.from_stage, change.to_stage,
                 "; ".join(change.decision.reasons) if change.decision else "")
    return runs


def partner_config_of(session: Session, partner_id: str) -> dict[str, Any]:
    from gateway.storage.models import Partner

    partner = session.get(Partner, partner_id)
    if partner is None:
        raise ReconcileError(f"no partner {partner_id!r}")
    config = partner_config(partner)
    graces = [config.rules.grace, *(r.grace for r in config.per_type.values())]
    windows = [config.gate.window_days, *(g.window_days for g in config.gate_per_type.values())]
    return {"grace": max(graces), "window_days": max(windows)}


def reconcile_due(runtime: Runtime, *, every: timedelta = timedelta(minutes=15),
                  now: datetime | None = None, holder: str = HOLDER) -> dict[str, list[str]]:
    """The job: each partner in ``dual`` whose lease this process wins is reconciled."""
    now = now or datetime.now(UTC)
    with runtime.sessions() as session:
        partners = dual_partners(session)
    done: dict[str, list[str]] = {}
    for partner_id in partners:
        try:
            with runtime.sessions.begin() as session:
                name = f"reconcile:{partner_id}"
                previous = session.get(JobLease, name)
                last_run = aware(previous.last_run_at) if previous and previous.last_run_at \
                    else None
                # A little under the interval, so the next tick anywhere can take it.
                if not acquire_lease(session, name, holder=holder, now=now, ttl=every * 0.9):
                    continue
                done[partner_id] = reconcile_partner(session, partner_id, now=now,
                                                     last_run=last_run)
                session.execute(update(JobLease).where(JobLease.name == name)
                                .values(last_run_at=now),
                                execution_options={"synchronize_session": False})
        except ReconcileError as exc:
            log.warning("reconciliation of %s skipped: %s", partner_id, exc)
    return done


def pull_partners(session: Session) -> list[tuple[str, dict[str, Any]]]:
    """Partners whose profile configures the API pull channel, with their channels table."""
    found = []
    for partner_id, profile in session.execute(select(Partner.id, Partner.profile)
                                               .order_by(Partner.id)):
        channels = (profile or {}).get("channels") or {}
        if isinstance(channels, dict) and "api_pull" in channels:
            found.append((partner_id, channels))
    return found


def _record_pull_error(session: Session, partner_id: str, error: str, now: datetime) -> None:
    # Kept on the cursor row, so "why is this partner's API path silent?" has an answer.
    state = session.get(PullCursor, partner_id)
    if state is None:
        session.add(PullCursor(partner_id=partner_id, cursor="0", updated_at=now,
                               last_error=error))
    else:
        state.last_error, state.updated_at = error, now


@dataclass
class PullJob:
    """The scheduled API pull: each tick polls every partner that is due.

    A partner is due ``interval_seconds`` after its last poll began (by any process). The
    lease is held for the poll's worst case (``timeout`` plus a margin) and given back when
    the poll ends, so a crashed poller blocks the others for at most that long. One instance
    lives as long as the scheduler: its rate limiters keep each partner's spacing across
    ticks, not only within one poll, and it knows which polls of this process are in flight.
    """

    runtime: Runtime
    holder: str = HOLDER
    timeout: float = 300.0  # one poll, all pages and retries included
    attempts: int = 4
    backoff: float = 0.5
    limiters: dict[str, RateLimiter] = field(default_factory=dict)
    _inflight: dict[str, asyncio.Task[int | str]] = field(default_factory=dict, init=False,
                                                           repr=False)

    async def tick(self, now: datetime | None = None) -> list[str]:
        """The scheduler's entry: start the due partners' polls and return at once, so one
        slow feed never holds up the others' intervals. Returns the partners started."""
        now = now or datetime.now(UTC)
        started = await self._claim_due(now)
        for partner_id in started:
            task = asyncio.create_task(self._poll(partner_id, now), name=f"pull:{partner_id}")
            self._inflight[partner_id] = task
            task.add_done_callback(lambda _t, p=partner_id: self._inflight.pop(p, None))
        return started

    async def poll_due(self, now: datetime | None = None) -> dict[str, int | str]:
        """One tick, awaited: per polled partner the number of events stored, or the error."""
        now = now or datetime.now(UTC)
        started = await self._claim_due(now)
        outcomes = await asyncio.gather(*(self._poll(p, now) for p in started))
        return dict(zip(started, outcomes, strict=True))

    async def close(self) -> None:
        """Cancel this process's polls in flight (shutdown); their leases simply expire and
        a re-read page is recognised by its bytes."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _claim_due(self, now: datetime) -> list[str]:
        runtime = self.runtime
        claimed: list[str] = []
        for partner_id, channels in await runtime.run(self._load):
            if partner_id in self._inflight:  # still reading from an earlier tick
                continue
            try:
                interval = PullSettings.from_profile(partner_id, channels).interval_seconds
            except PullError as exc:
                pull_log.warning("pull %s: not polled: %s", partner_id, exc)
                continue
            if await runtime.run(self._claim, partner_id, now, timedelta(seconds=interval)):
                claimed.append(partner_id)
        return claimed

    def _load(self) -> list[tuple[str, dict[str, Any]]]:
        with self.runtime.sessions() as session:
            return pull_partners(session)

    def _claim(self, partner_id: str, now: datetime, interval: timedelta) -> bool:
        name = f"pull:{partner_id}"
        with self.runtime.sessions.begin() as session:
            if not acquire_lease(session, name, holder=self.holder, now=now,
                                 ttl=timedelta(seconds=self.timeout + 30),
                                 due_before=now - interval):
                return False
            # Marked as run when it starts: the next poll is due one interval after this one
            # began, wherever it runs, however long this one takes.
            session.execute(update(JobLease).where(JobLease.name == name)
                            .values(last_run_at=now),
                            execution_options={"synchronize_session": False})
            return True

    def _finish(self, partner_id: str, error: str | None, started: datetime) -> None:
        with self.runtime.sessions.begin() as session:
            if error is not None:
                _record_pull_error(session, partner_id, error, datetime.now(UTC))
            # Expired as of the poll's start: any later claim may take it (when due), and
            # the lease stays on the clock the claims use.
            release_lease(session, f"pull:{partner_id}", holder=self.holder, now=started)

    async def _poll(self, partner_id: str, started: datetime) -> int | str:
        error: str | None = None
        stored: int | str = 0
        try:
            async with asyncio.timeout(self.timeout), aiohttp.ClientSession() as http:
                connector = PullConnector(self.runtime, http, attempts=self.attempts,
                                          backoff=self.backoff, limiters=self.limiters)
                stored = await connector.poll(partner_id)
        except PullError as exc:
            error = str(exc)
        except TimeoutError:
            error = f"poll took longer than {self.timeout:.0f} s; the next one goes on"
        except Exception as exc:  # a job boundary: log it, free the lease, poll again later
            pull_log.exception("pull %s: unexpected failure", partner_id)
            error = f"unexpected failure: {type(exc).__name__}: {exc}"
        if error is not None:
            pull_log.warning("pull %s failed: %s", partner_id, error)
            stored = error
        elif stored:
            pull_log.info("pull %s: %d event(s) stored", partner_id, stored)
        await self.runtime.run(self._finish, partner_id, error, started)
        return stored


PULL_EXECUTOR = "reconcile-async"  # the pull job is a coroutine: it runs on the event loop


def register_reconcile_jobs(scheduler: Any, runtime: Runtime, *, minutes: int = 15,
                            pull_tick_seconds: float = 5.0) -> PullJob:
    """Called by gateway/jobs/scheduler.py: one interval job for every partner in dual, and
    the API pull tick (which polls only the partners that are due)."""
    scheduler.add_job(reconcile_due, "interval", minutes=minutes, args=[runtime],
                      kwargs={"every": timedelta(minutes=minutes)}, id="reconcile",
                      next_run_time=datetime.now(UTC) + timedelta(seconds=30))
    # The process's default executor is a thread pool, which would only create the
    # coroutine; the asyncio executor awaits it on the scheduler's loop, next to aiohttp.
    scheduler.add_executor(AsyncIOExecutor(), alias=PULL_EXECUTOR)
    pull = PullJob(runtime)
    # A bound coroutine method: APScheduler's asyncio executor recognises it (an instance
    # with an async __call__ it would not).
    scheduler.add_job(pull.tick, "interval", seconds=pull_tick_seconds, id="api-pull",
                      executor=PULL_EXECUTOR, name="API pull connector",
                      next_run_time=datetime.now(UTC) + timedelta(seconds=5))
    return pull


__all__ = ["PullJob", "acquire_lease", "reconcile_due", "register_reconcile_jobs",
           "release_lease"]
