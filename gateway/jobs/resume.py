"""Process interchanges that were committed but not processed yet.

Two callers: the scheduler's resume job (a crash, a failed step: rows older than a few seconds)
and the inbox workers (``edigate work``, or ``inbox.workers`` processes started by ``serve``)
that take every row as it arrives. Safe to run in several processes at once: processing claims
each row in its own transaction, so a row another process already handled is skipped.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select

from gateway.domain.states import InterchangeStatus
from gateway.inbox.poison import RetryPolicy, describe, record_failure, set_default_policy
from gateway.observability.logging import in_new_context
from gateway.pipeline.process import Prepared, prepare_interchange, process_interchange
from gateway.runtime import Runtime
from gateway.storage.models import Interchange
from gateway.storage.retry import conflict_kind, retry_on_conflict

log = logging.getLogger("edigate.jobs.resume")


def pending_interchanges(runtime: Runtime, *, older_than: timedelta, limit: int = 200) -> list[str]:
    """Received rows due for processing: old enough, and past the backoff of a failed try."""
    now = datetime.now(UTC)
    cutoff = now - older_than
    reader = runtime.engine.execution_options(sqlite_read_only=True)
    with runtime.sessions(bind=reader) as s:
        return list(s.scalars(select(Interchange.id).where(
            Interchange.direction == "in", Interchange.status == InterchangeStatus.RECEIVED,
            Interchange.received_at <= cutoff,
            or_(Interchange.next_attempt_at.is_(None), Interchange.next_attempt_at <= now),
        ).order_by(Interchange.received_at).limit(limit)))


# Interchanges stored per write transaction by a worker. More share one commit, but on SQLite
# every receipt arriving meanwhile waits for the whole transaction: one keeps that wait to a few
# ms. (Sixteen while no receipt was announced worked off a backlog a fifth faster, but a burst
# arriving just after the check then waited out the whole batch: ~80 ms at half load.)
BATCH = 1


def process_pending(runtime: Runtime, ids: list[str], *, batch: int = BATCH) -> int:
    done = 0
    for at in range(0, len(ids), batch):
        done += in_new_context(_process_batch, runtime, ids[at:at + batch])
    return done


def _process_batch(runtime: Runtime, ids: list[str]) -> int:
    data_dir = runtime.settings.data_path
    policy = RetryPolicy.from_settings(runtime.settings)
    prepared: dict[str, Prepared | None] = {}
    failed: dict[str, Exception] = {}
    for interchange_id in ids:
        try:
            # Translation happens here, outside the write transaction.
            prepared[interchange_id] = prepare_interchange(runtime.engine, interchange_id,
                                                           data_dir=data_dir)
        except Exception as exc:
            failed[interchange_id] = exc
    done = 0

    def store() -> tuple[int, dict[str, Exception]]:
        stored = 0
        broken: dict[str, Exception] = {}
        with runtime.sessions.begin() as session:
            for interchange_id in ids:
                if interchange_id in failed:
                    continue
                try:
                    with session.begin_nested():
                        outcome = process_interchange(session, interchange_id,
                                                      data_dir=data_dir,
                                                      prepared=prepared[interchange_id])
                    if not outcome.already_done:
                        stored += 1
                except Exception as exc:
                    if conflict_kind(exc):
                        raise  # the whole transaction runs again
                    # One poisoned interchange must not block the rest: its failure is
                    # counted below, in a transaction of its own.
                    broken[interchange_id] = exc
        return stored, broken

    try:
        done, broken = retry_on_conflict(store, what="processing received interchanges")
        failed.update(broken)
    except Exception as exc:
        log.warning("storing a batch of %d interchange(s) failed (%s); each is retried",
                    len(ids), describe(exc))
        for interchange_id in ids:
            failed.setdefault(interchange_id, exc)
    for interchange_id, exc in failed.items():
        try:
            outcome = record_failure(runtime.sessions, interchange_id, exc, data_dir=data_dir,
                                     policy=policy)
        except Exception as again:
            log.error("recording the failure of interchange %s failed: %s; the next run "
                      "retries it", interchange_id, describe(again))
            continue
        if outcome.status != InterchangeStatus.RECEIVED:
            done += 1
    return done


def resume_inbox(runtime: Runtime, *, older_than: timedelta = timedelta(seconds=0)) -> int:
    set_default_policy(RetryPolicy.from_settings(runtime.settings))
    done = process_pending(runtime, pending_interchanges(runtime, older_than=older_than))
    if done:
        log.info("resumed %d interchange(s)", done)
    return done


def work_inbox(runtime: Runtime, stop: threading.Event, *, idle_seconds: float = 0.05,
               min_age: float = 0.5, once: bool = False) -> int:
    """Process received interchanges as they arrive until ``stop`` is set (``once``: until
    none is waiting). Returns how many this worker processed.

    A row younger than ``min_age`` seconds is left alone: a partner waiting for its answer is
    being processed by the serving process right now (the claim would make a second try
    harmless, but it would translate the interchange twice)."""
    set_default_policy(RetryPolicy.from_settings(runtime.settings))
    done = 0
    while not stop.is_set():
        ids = pending_interchanges(runtime, older_than=timedelta(seconds=min_age), limit=64)
        if not ids:
            if once:
                break
            stop.wait(idle_seconds)
            continue
        done += process_pending(runtime, ids)
    return done
