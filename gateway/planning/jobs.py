"""Planning jobs: a run on an interval, and a debounced run when supplier news arrives.

The debounce lives in the database, not in memory: a run is due when an inventory, stock,
confirmation or despatch event was recorded after the last run and nothing new has arrived for
``debounce_seconds`` (a burst of despatch advices gives one run, not fifty). Only one run at a
time: a lock per process, plus a PostgreSQL advisory lock so several gateway processes sharing
one database never plan concurrently.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from gateway.planning import triggers
from gateway.planning.config import PlanningConfig
from gateway.planning.outbox import requeue_waiting, settings_enqueuer
from gateway.planning.run import Progress, RunSummary, run_plan
from gateway.planning.state import aware
from gateway.runtime import Runtime
from gateway.storage.models import Event
from gateway.storage.models_planning import PlanRun

log = logging.getLogger("edigate.planning")
TRIGGER_TYPES = ("inventory_report", "stock", "order_response", "despatch_advice")
_ADVISORY_KEY = 0x6564_6970_6C61_6E  # "ediplan"
_LOCAL = threading.Lock()
FIRST_PLAN_WAIT = timedelta(seconds=10)


class PlanningBusy(RuntimeError):
    """Another planning run is in progress."""


# Planning settings given to a runtime in this process, over its settings' (an embedding; the
# demo plays a scenario once under the optimizer and once under the naive policy).
_CONFIG: dict[int, PlanningConfig] = {}


def use_config(runtime: Runtime, config: PlanningConfig | None) -> None:
    """Plan ``runtime`` with ``config`` from now on (``None``: its settings' again)."""
    if config is None:
        _CONFIG.pop(id(runtime), None)
    else:
        _CONFIG[id(runtime)] = config


def config_for(runtime: Runtime) -> PlanningConfig:
    return _CONFIG.get(id(runtime)) or PlanningConfig.from_settings(runtime.settings)


@contextlib.contextmanager
def planning_lock(runtime: Runtime) -> Iterator[None]:
    if not _LOCAL.acquire(blocking=False):
        raise PlanningBusy("a planning run is already in progress in this process")
    try:
        if runtime.engine.dialect.name != "postgresql":
            yield
            return
        with runtime.engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                               {"k": _ADVISORY_KEY}).scalar()
            if not got:
                raise PlanningBusy("a planning run is already in progress in another process")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})
                conn.commit()
    finally:
        _LOCAL.release()


def run_now(runtime: Runtime, *, trigger: str, actor: str, reason: str = "",
            now: datetime | None = None, config: PlanningConfig | None = None,
            progress: Progress | None = None) -> RunSummary:
    """One run with the runtime's settings (raises :class:`PlanningBusy` if one is running).

    Whatever triggered it, the run records the disruptions recorded since the previous run
    as its lineage (see planning.triggers): they are what it answers."""
    config = config or config_for(runtime)
    with planning_lock(runtime):
        with runtime.sessions() as session:
            news = triggers.pending(session)
        # An explicit ``now`` (a replay, a test) is also the business time; otherwise the run
        # is stamped with the wall clock and planned on the runtime's calendar.
        business_now = now or runtime.clock()
        summary = run_plan(runtime.sessions, now=now or datetime.now(UTC), config=config,
                           business_now=business_now, trigger=trigger, actor=actor,
                           reason=reason,
                           enqueue=settings_enqueuer(runtime.settings),
                           buyer=runtime.settings.x12_id or "EDIGATE", progress=progress,
                           triggers=[d.as_dict() for d in reversed(news)])
        triggers.planned({d.partner for d in news})
        return summary


def disruption_run(runtime: Runtime, now: datetime | None = None) -> RunSummary | None:
    """Replan if some partner's disruptions are due (debounced per partner); the run's
    lineage names them, newest first."""
    config = config_for(runtime)
    given, now = now, now or datetime.now(UTC)
    with runtime.sessions() as session:
        ready = triggers.due(triggers.pending(session), now,
                             timedelta(seconds=config.debounce_seconds),
                             timedelta(seconds=config.max_wait_seconds))
    if not ready:
        return None
    first = ready[0]
    try:
        return run_now(runtime, trigger="disruption", actor="scheduler",
                       reason=f"{first.kind} from {first.partner}: {first.reason}",
                       now=given, config=config)
    except PlanningBusy as exc:
        log.info("disruption replan deferred: %s", exc)
        triggers.schedule_replan(first.partner, now)
        return None


def due_for_event_run(runtime: Runtime, now: datetime, debounce: timedelta,
                      max_wait: timedelta | None = None) -> bool:
    """Due once supplier news has been quiet for ``debounce``, or, when news never stops
    (a busy network), once the oldest news not yet planned has waited ``max_wait``."""
    with runtime.sessions() as session:
        last = session.scalar(select(func.max(PlanRun.created_at)))
        waiting = select(func.min(Event.recorded_at), func.max(Event.recorded_at)).where(
            Event.type.in_(TRIGGER_TYPES))
        if last is not None:
            waiting = waiting.where(Event.recorded_at > last)
        oldest, newest = session.execute(waiting).one()
    if newest is None:
        return False
    if now - aware(newest) >= debounce:
        return True
    if last is None:
        # No plan at all yet (a fresh gateway): a short wait is enough to gather the first
        # feeds; nothing older would be overturned.
        max_wait = min(max_wait or debounce, FIRST_PLAN_WAIT)
    return max_wait is not None and now - aware(oldest) >= max_wait


def scheduled_run(runtime: Runtime) -> RunSummary | None:
    try:
        return run_now(runtime, trigger="schedule", actor="scheduler")
    except PlanningBusy as exc:
        log.info("scheduled plan skipped: %s", exc)
        return None


def event_run(runtime: Runtime) -> RunSummary | None:
    config = config_for(runtime)
    now = datetime.now(UTC)
    if not due_for_event_run(runtime, now, timedelta(seconds=config.debounce_seconds),
                             timedelta(seconds=config.max_wait_seconds)):
        return None
    try:
        return run_now(runtime, trigger="event", actor="scheduler", config=config)
    except PlanningBusy as exc:
        log.info("event-triggered plan skipped: %s", exc)
        return None


def add_planning_jobs(scheduler: Any, runtime: Runtime) -> None:
    """Register both jobs on the process's APScheduler (call where the other jobs are added)."""
    config = config_for(runtime)
    scheduler.add_job(scheduled_run, "interval", minutes=config.interval_minutes,
                      args=[runtime], id="plan-interval")
    # A cheap check (two aggregate queries): often, so news is planned soon after it is due.
    scheduler.add_job(event_run, "interval", seconds=5,
                      args=[runtime], id="plan-on-events")
    # Disruptions: a one-shot job per partner scheduled by the storing hook, and this check
    # for overdue acknowledgments and news a restart dropped (every 30 s: a run it starts
    # usually ends before the next tick, so ticks are rarely skipped).
    triggers.register(scheduler, disruption_run, [runtime],
                      timedelta(seconds=config.debounce_seconds),
                      timedelta(seconds=config.max_wait_seconds))
    scheduler.add_job(disruption_run, "interval", seconds=30, args=[runtime],
                      id="plan-on-disruptions")
    # Actions whose enqueue lost every try on a lock conflict wait for this (never 'failed').
    scheduler.add_job(requeue_actions, "interval", seconds=10, args=[runtime],
                      id="plan-requeue")


def requeue_actions(runtime: Runtime) -> int:
    return requeue_waiting(runtime.sessions, settings_enqueuer(runtime.settings))
