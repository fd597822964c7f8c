"""The event outbox: enqueue in the event's transaction, claim in order, record the outcome.

Only the relay holding the destination's lease publishes (see :mod:`gateway.broker.relay`), so
the order per partner holds across gateway processes; rows are still read with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a replay or a second relay never blocks on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import tenacity
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from gateway.storage.models import Event
from gateway.storage.models_broker import FAILED, PENDING, PUBLISHED, EventPublication

# Backoff between attempts of one row: exponential with jitter, at most a minute (a broker that
# is down is retried for as long as it takes: nothing accepted is lost).
BACKOFF = tenacity.wait_exponential_jitter(multiplier=0.2, exp_base=2, max=60, jitter=0.5)


def backoff_after(attempts: int) -> timedelta:
    state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(),
                                    kwargs={})
    state.attempt_number = max(1, attempts)
    return timedelta(seconds=float(BACKOFF(state)))


def enqueue_publication(session: Session, event_id: str, now: datetime) -> None:
    """Owe the event ``event_id`` to the broker: call in the transaction that adds its row
    (the rows are inserted in the order of these calls, which is the order of publication)."""
    session.add(EventPublication(
        event_id=event_id, status=PENDING, attempts=0, next_attempt_at=now, last_error="",
        created_at=now, destination="", broker_ref=""))


@dataclass(frozen=True, slots=True)
class Claimed:
    seq: int
    event_id: str
    partner_id: str
    attempts: int


def claim_batch(session: Session, *, now: datetime, limit: int,
                after_seq: int = 0) -> tuple[list[Claimed], bool]:
    """The oldest pending rows (past ``after_seq``), per partner cut at its first row that is
    not due yet (a row waiting for its retry holds the partner's later events back: order per
    partner). Also says whether any partner was held back: a scan that starts past rows
    still pending (``after_seq``) is only sound while none is."""
    query = (select(EventPublication.seq, EventPublication.event_id,
                    Event.partner_id, EventPublication.attempts,
                    EventPublication.next_attempt_at)
             .join(Event, Event.id == EventPublication.event_id, isouter=True)
             .where(EventPublication.status == PENDING)
             .order_by(EventPublication.seq).limit(limit))
    if after_seq:
        query = query.where(EventPublication.seq > after_seq)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=EventPublication, skip_locked=True)
    held: set[str] = set()
    claimed: list[Claimed] = []
    for seq, event_id, partner, attempts, due in session.execute(query):
        partner = partner or ""
        if partner in held:
            continue
        if _aware(due) > now:
            held.add(partner)
            continue
        claimed.append(Claimed(seq, event_id, partner, attempts))
    return claimed, bool(held)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def mark_published(session: Session, results: list[tuple[int, str]], *, destination: str,
                   now: datetime) -> None:
    """Record the broker's receipts ``(seq, broker_ref)``: only ever after its ack (one
    statement executed for many rows)."""
    if not results:
        return
    table = EventPublication.__table__
    statement = (table.update()
                 .where(table.c.seq == bindparam("p_seq"), table.c.status == PENDING)
                 .values(status=PUBLISHED, destination=destination,
                         broker_ref=bindparam("p_ref"), published_at=now, last_error=""))
    session.connection().execute(statement, [{"p_seq": seq, "p_ref": ref}
                                             for seq, ref in results])


def mark_retry(session: Session, seq: int, error: str, *, attempts: int,
               now: datetime) -> None:
    session.execute(update(EventPublication).where(EventPublication.seq == seq)
                    .values(attempts=attempts + 1, last_error=error[:4000],
                            next_attempt_at=now + backoff_after(attempts + 1)),
                    execution_options={"synchronize_session": False})


def mark_failed(session: Session, seq: int, error: str, *, now: datetime) -> None:
    session.execute(update(EventPublication).where(EventPublication.seq == seq)
                    .values(status=FAILED, last_error=error[:4000], published_at=None,
                            next_attempt_at=now),
                    execution_options={"synchronize_session": False})


def oldest_pending(session: Session) -> datetime | None:
    value = session.scalar(select(func.min(EventPublication.created_at))
                           .where(EventPublication.status == PENDING))
    return _aware(value) if value is not None else None


def load_events(session: Session, ids: list[str]) -> dict[str, Event]:
    if not ids:
        return {}
    return {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(ids)))}
