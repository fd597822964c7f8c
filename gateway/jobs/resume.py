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

from sqlalchemy import func, or_, select

from gateway.domain.states import InterchangeStatus
from gateway.inbox.batches import MAX_BATCH, process_backlog
from gateway.inbox.poison import RetryPolicy, set_default_policy
from gateway.observability.logging import in_new_context
from gateway.runtime import Runtime
from gateway.storage.models import Interchange

log = logging.getLogger("edigate.jobs.resume")


def pending_interchanges(runtime: Runtime, *, older_than: timedelta, limit: int = 200,
                         share: tuple[int, int] | None = None) -> list[str]:
    """Received rows due for processing, oldest first: old enough, and past the backoff of a
    failed try.

    ``share=(slot, count)``: the rows of worker ``slot`` of ``count`` (by the last character
    of the random id), so sibling workers do not translate the same rows twice. A worker short
    of its own rows helps with its siblings' waiting longer than :data:`STEAL_AFTER` (one that
    died or lags), newest first, so it meets the owner (oldest first) instead of racing it."""
    now = datetime.now(UTC)
    due = [Interchange.direction == "in", Interchange.status == InterchangeStatus.RECEIVED,
           Interchange.received_at <= now - older_than,
           or_(Interchange.next_attempt_at.is_(None), Interchange.next_attempt_at <= now)]
    reader = runtime.engine.execution_options(sqlite_read_only=True)
    with runtime.sessions(bind=reader) as s:
        if share is None or share[1] <= 1:
            return list(s.scalars(select(Interchange.id).where(*due)
                                  .order_by(Interchange.received_at).limit(limit)))
        slot, count = share
        ending = func.substr(Interchange.id, 36, 1).in_(
            [c for n, c in enumerate("0123456789abcdef") if n % count == slot])
        mine = list(s.scalars(select(Interchange.id).where(*due, ending)
                              .order_by(Interchange.received_at).limit(limit)))
        if len(mine) < limit:
            mine += s.scalars(select(Interchange.id).where(
                *due, ~ending, Interchange.received_at <= now - STEAL_AFTER)
                .order_by(Interchange.received_at.desc()).limit(limit - len(mine)))
        return mine


# Long: a sibling may be busy with one large interchange for minutes, and one that died is
# started again within a second (a row taken from a busy sibling is translated twice).
STEAL_AFTER = timedelta(minutes=5)


def process_pending(runtime: Runtime, ids: list[str], *, batch: int = MAX_BATCH) -> int:
    # Several per transaction when there is a backlog (see gateway.inbox.batches).
    # (in a context of its own: the pipeline binds each interchange's correlation id there)
    return in_new_context(process_backlog, runtime.sessions, ids,
                          data_dir=runtime.settings.data_path,
                          policy=RetryPolicy.from_settings(runtime.settings), max_batch=batch)


def resume_inbox(runtime: Runtime, *, older_than: timedelta = timedelta(seconds=0)) -> int:
    set_default_policy(RetryPolicy.from_settings(runtime.settings))
    done = process_pending(runtime, pending_interchanges(runtime, older_than=older_than))
    if done:
        log.info("resumed %d interchange(s)", done)
    return done


def work_inbox(runtime: Runtime, stop: threading.Event, *, idle_seconds: float = 0.05,
               min_age: float = 0.5, once: bool = False,
               share: tuple[int, int] | None = None) -> int:
    """Process received interchanges as they arrive until ``stop`` is set (``once``: until
    none is waiting). Returns how many this worker processed.

    A row younger than ``min_age`` seconds is left alone: a partner waiting for its answer is
    being processed by the serving process right now (the claim would make a second try
    harmless, but it would translate the interchange twice)."""
    set_default_policy(RetryPolicy.from_settings(runtime.settings))
    done = 0
    while not stop.is_set():
        ids = pending_interchanges(runtime, older_than=timedelta(seconds=min_age), limit=64,
                                   share=share)
        if not ids:
            if once:
                break
            stop.wait(idle_seconds)
            continue
        done += process_pending(runtime, ids)
    return done
