"""Retry a claiming transaction that lost a lock conflict, and the one global lock order.

PostgreSQL aborts one of two transactions that wait on each other (SQLSTATE 40P01, deadlock
detected) and, under stricter isolation, one that cannot be serialised (40001); SQLite answers
"database is locked" when a writer's busy timeout runs out. None of them says anything about
the work itself: the whole transaction is run again after a short, growing, jittered pause.

Control-number counters are the rows every acknowledgment and every rendered document takes.
Everyone takes them in one order: interchange, then group, then message
(:data:`COUNTER_ORDER`), through :func:`lock_counters` before a builder that asks for them in
its own order.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gateway.observability import metrics
from gateway.storage.models import ControlNumberSequence

log = logging.getLogger("edigate.storage")
T = TypeVar("T")

# Rank of each counter scope: interchange (0) before group (1) before message (2).
COUNTER_ORDER: dict[str, int] = {"isa": 0, "unb": 0, "gs": 1, "ung": 1, "st": 2, "unh": 2}
SCOPES = {"x12": ("isa", "gs", "st"), "edifact": ("unb", "ung", "unh")}

ATTEMPTS = 6
BASE_SECONDS = 0.02
CAP_SECONDS = 1.0


def conflict_kind(exc: BaseException) -> str | None:
    """'deadlock', 'serialization' or 'locked' for a lost lock conflict; None otherwise."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code == "40P01":
        return "deadlock"
    if code == "40001":
        return "serialization"
    text = str(orig).lower()
    if "database is locked" in text or "database table is locked" in text:
        return "locked"
    if "deadlock detected" in text:
        return "deadlock"
    return None


def ordered_scopes(scopes: Iterable[str]) -> list[str]:
    return sorted(set(scopes), key=lambda s: (COUNTER_ORDER.get(s, 9), s))


def lock_counters(session: Session, partner_id: str, scopes: Iterable[str]) -> None:
    """Take the partner's counters of ``scopes`` in the global order, creating missing ones.

    PostgreSQL: each row is locked (``FOR UPDATE``) in order, so later increments in whatever
    order a builder asks for them wait for nobody. SQLite: the transaction already holds the
    database's writer lock (BEGIN IMMEDIATE), nothing to do."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return
    table = ControlNumberSequence.__table__
    for scope in ordered_scopes(scopes):
        conn.execute(pg_insert(table).values(partner_id=partner_id, scope=scope, next_value=1,
                                             max_value=999_999_999).on_conflict_do_nothing())
        conn.execute(select(table.c.next_value).where(
            table.c.partner_id == partner_id, table.c.scope == scope).with_for_update())


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (full jitter)."""
    return random.uniform(0, min(CAP_SECONDS, BASE_SECONDS * (2 ** attempt)))


def retry_on_conflict(work: Callable[[], T], *, what: str = "transaction",
                      attempts: int = ATTEMPTS,
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``work`` (which opens and commits its own transaction) again while it loses a
    lock conflict; any other error, or the last conflict, is raised."""
    for attempt in range(attempts):
        try:
            return work()
        except DBAPIError as exc:
            kind = conflict_kind(exc)
            if kind is None or attempt == attempts - 1:
                raise
            metrics.db_conflicts.labels(kind=kind).inc()
            pause = backoff(attempt)
            log.info("%s lost a lock conflict (%s); attempt %d of %d in %.0f ms", what, kind,
                     attempt + 2, attempts, pause * 1000)
            sleep(pause)
    raise AssertionError("unreachable")
