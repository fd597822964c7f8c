"""Released or approved plan actions -> outbox rows, through the outbound module's enqueue.

``enqueue_document`` renders the document once (EDI with control numbers, or the webhook body)
and routes it by the supplier's strangler stage; it is idempotent on (partner, document type,
business id), and our business ids are stable per action, so a retry adds nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.domain.states import CauseType
from gateway.observability import metrics
from gateway.outbound.enqueue import OurIdentity, enqueue_document
from gateway.storage.models import Partner
from gateway.storage.models_planning import APPROVED, FAILED, RELEASED, PlanAction
from gateway.storage.retry import backoff, conflict_kind, retry_on_conflict

log = logging.getLogger("edigate.planning")
Enqueue = Callable[[Session, PlanAction, datetime], list[str]]


# decision_reason of a released or approved action whose enqueue lost a lock conflict every
# time: it waits for :func:`requeue_waiting` (explicitly waiting, never silently failed).
WAITING = "waiting to be queued"
ENQUEUE_ATTEMPTS = 4


def enqueuer(ours: OurIdentity, *, sleep: Callable[[float], None] = time.sleep) -> Enqueue:
    def enqueue(session: Session, action: PlanAction, now: datetime) -> list[str]:
        partner = session.get(Partner, action.supplier_id)
        if partner is None:
            action.status, action.decision_reason = FAILED, "supplier is no longer a partner"
            return []
        for attempt in range(ENQUEUE_ATTEMPTS):
            try:
                with session.begin_nested():
                    rows = enqueue_document(
                        session, partner, action.document_type, action.business_id,
                        action.data, now=now, ours=ours, cause_type=CauseType.PLAN_ACTION,
                        cause_id=action.id)
                    session.flush()
                break
            except Exception as exc:
                kind = conflict_kind(exc)
                if kind is not None:
                    # A lock conflict (deadlock, serialization, locked) says nothing about the
                    # document: try again, and if it keeps losing, wait for the requeue job.
                    metrics.db_conflicts.labels(kind=kind).inc()
                    if attempt < ENQUEUE_ATTEMPTS - 1:
                        sleep(backoff(attempt))
                        continue
                    log.warning("plan action %s waits to be queued: %s", action.id, kind)
                    if not action.decision_reason.startswith(WAITING):
                        action.decision_reason = (f"{WAITING} (database {kind}; retried by "
                                                  f"the planning job); {action.decision_reason}")
                    return []
                # Whatever stops one document (a profile without a channel, a render error)
                # must not undo the plan run: the action says why and can be approved again
                # after a fix.
                log.warning("plan action %s could not be queued: %s", action.id, exc)
                action.status = FAILED
                action.decision_reason = f"could not be queued: {exc}"
                return []
        action.outbox_ids = [row.id for row in rows]
        if action.decision_reason.startswith(WAITING):
            action.decision_reason = action.decision_reason.partition("; ")[2]
        return action.outbox_ids

    return enqueue


def requeue_waiting(sessions: sessionmaker[Session], enqueue: Enqueue, *,
                    now: datetime | None = None, limit: int = 100) -> int:
    """Queue released or approved actions whose enqueue lost every try; returns how many are
    queued now. Each in a transaction of its own, run again on a lock conflict."""
    with sessions() as session:
        ids = list(session.scalars(select(PlanAction.id).where(
            PlanAction.status.in_((RELEASED, APPROVED)),
            PlanAction.decision_reason.like(f"{WAITING}%")).limit(limit)))
    queued = 0
    for action_id in ids:
        def one(action_id: str = action_id) -> bool:
            with sessions.begin() as session:
                action = session.get(PlanAction, action_id)
                if action is None or action.status not in (RELEASED, APPROVED) \
                        or not action.decision_reason.startswith(WAITING):
                    return False
                return bool(enqueue(session, action, now or datetime.now(UTC)))

        if retry_on_conflict(one, what=f"queueing plan action {action_id}"):
            queued += 1
    if queued:
        log.info("queued %d plan action(s) that waited", queued)
    return queued


def settings_enqueuer(settings: Settings) -> Enqueue:
    return enqueuer(OurIdentity.from_settings(settings))
