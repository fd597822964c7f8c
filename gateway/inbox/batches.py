"""Work off a backlog of received interchanges, several per write transaction.

Processing one small interchange alone costs a commit (an fsync on SQLite) plus a dozen
statements; most of that is shared when a backlog is stored together: the rows are claimed in
one statement, the inserts of every event, acknowledgment and outbox row go out table by
table at the commit, and the partners' counters are locked once. Translation happens before,
outside any transaction, one interchange at a time.

A lone interchange (no backlog) is a batch of one, as before. On SQLite every receipt that
arrives while a batch is stored waits for its commit, so a batch stops early, commits what it
has stored, when receipts are announced (:func:`gateway.storage.db.receipts_waiting`): they
go next, then the rest of the batch.

Nothing weakens a promise: if anything in a batch raises (a poisoned interchange, a database
refusal), the whole transaction rolls back and each interchange is stored on its own, as
:func:`gateway.pipeline.process.process_received` does, so the failure is counted against the
one that caused it and the others are stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from gateway.domain.states import InterchangeStatus
from gateway.inbox.poison import RetryPolicy, describe, record_failure
from gateway.pipeline.process import (
    Outcome,
    Prepared,
    prepare_many,
    process_interchange,
    store_prepared,
)
from gateway.storage.db import receipts_waiting
from gateway.storage.retry import retry_on_conflict

log = logging.getLogger("edigate.inbox")

# Interchanges stored per write transaction at most. Storing one small interchange costs about
# a millisecond of statements once batched; 32 keep a transaction (and so the wait of a
# receipt arriving meanwhile on SQLite) to a few tens of milliseconds, and the translated
# results held in memory to a few MB.
MAX_BATCH = 32
# Bytes translated ahead of one transaction at most (inline bodies are at most 1 MiB; a body
# kept as a blob is processed on its own).
MAX_BATCH_BYTES = 4 << 20


def process_backlog(sessions: sessionmaker[Session], ids: list[str], *, data_dir: Path,
                    policy: RetryPolicy | None = None, now: datetime | None = None,
                    max_batch: int = MAX_BATCH) -> int:
    """Process the received interchanges ``ids`` (in their order), up to ``max_batch`` per
    transaction. Returns how many this call finished (processed, or quarantined after their
    last failed attempt)."""
    engine = sessions.kw["bind"]
    waiting = receipts_waiting(engine)
    done = 0
    for at in range(0, len(ids), max_batch):
        chunk = ids[at:at + max_batch]
        prepared, failed = prepare_many(engine, chunk, data_dir=data_dir)
        todo = [prepared[i] for i in chunk if i in prepared]
        while todo:
            def store(items: list[Prepared] = todo) -> tuple[int, list[Prepared]]:
                return _store(sessions, items, data_dir, now, waiting)

            try:
                stored, todo = retry_on_conflict(
                    store, what=f"storing {len(todo)} processed interchange(s)")
                done += stored
            except Exception as exc:
                if len(todo) > 1:
                    log.info("storing %d interchange(s) together failed (%s); each is stored "
                             "on its own", len(todo), describe(exc))
                done += _one_by_one(sessions, todo, failed, data_dir, now)
                break
        for interchange_id, failure in failed.items():
            done += _failed(sessions, interchange_id, failure, data_dir, now, policy)
    return done


def _store(sessions: sessionmaker[Session], items: list[Prepared], data_dir: Path,
           now: datetime | None, waiting: Callable[[], bool]) -> tuple[int, list[Prepared]]:
    with sessions.begin() as session:
        outcomes, rest = store_prepared(session, items, data_dir=data_dir, now=now,
                                        enough=waiting)
    return sum(1 for o in outcomes if not o.already_done), rest


def _one_by_one(sessions: sessionmaker[Session], items: list[Prepared],
                failed: dict[str, Exception], data_dir: Path, now: datetime | None) -> int:
    done = 0
    for item in items:
        def store(item: Prepared = item) -> Outcome:
            with sessions.begin() as session:
                return process_interchange(session, item.interchange_id, data_dir=data_dir,
                                           now=now, prepared=item)
        try:
            outcome = retry_on_conflict(store, what=f"processing {item.interchange_id}")
        except Exception as exc:
            failed[item.interchange_id] = exc
            continue
        if not outcome.already_done:
            done += 1
    return done


def _failed(sessions: sessionmaker[Session], interchange_id: str, exc: Exception,
            data_dir: Path, now: datetime | None, policy: RetryPolicy | None) -> int:
    try:
        outcome = record_failure(sessions, interchange_id, exc, data_dir=data_dir, now=now,
                                 policy=policy)
    except Exception as again:
        log.error("recording the failure of interchange %s failed: %s; the next run retries "
                  "it", interchange_id, describe(again))
        return 0
    return 0 if outcome.status == InterchangeStatus.RECEIVED else 1
