"""The approval queue: held plan actions wait for an operator's approve or reject.

Every decision is audited with who and why (promise 4). Only the newest plan's held actions
can be decided: an older one was superseded by a later run that saw fresher data. An approved
action goes to the outbox in the same transaction as the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.planning.outbox import Enqueue
from gateway.storage.models_planning import APPROVED, FAILED, HELD, REJECTED, PlanAction
from gateway.storage.repositories import append_audit


class DecisionError(ValueError):
    """The action cannot be decided (unknown, or no longer waiting)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def queue(session: Session) -> Sequence[PlanAction]:
    """What waits for approval (and what failed to queue), oldest first."""
    return session.scalars(select(PlanAction).where(PlanAction.status.in_((HELD, FAILED)))
                           .order_by(PlanAction.created_at, PlanAction.id)).all()


def _waiting(session: Session, action_id: str) -> PlanAction:
    action = session.get(PlanAction, action_id, with_for_update=True)
    if action is None:
        raise DecisionError(404, f"no plan action {action_id}")
    if action.status not in (HELD, FAILED):
        raise DecisionError(409, f"plan action {action_id} is {action.status}, not waiting "
                                 "for approval")
    return action


def approve(session: Session, action_id: str, *, actor: str, reason: str, now: datetime,
            enqueue: Enqueue) -> PlanAction:
    action = _waiting(session, action_id)
    action.status, action.decided_by, action.decided_at = APPROVED, actor, now
    action.decision_reason = reason
    enqueue(session, action, now)  # sets FAILED with the cause if it cannot be queued
    append_audit(session, at=now, actor=actor, action="plan_action.approve",
                 subject_type="plan_action", subject_id=action.id, reason=reason,
                 details={"run_id": action.run_id, "business_id": action.business_id,
                          "value": action.value, "held_for": list(action.reasons),
                          "status": action.status, "outbox": list(action.outbox_ids)})
    return action


def reject(session: Session, action_id: str, *, actor: str, reason: str,
           now: datetime) -> PlanAction:
    action = _waiting(session, action_id)
    action.status, action.decided_by, action.decided_at = REJECTED, actor, now
    action.decision_reason = reason
    append_audit(session, at=now, actor=actor, action="plan_action.reject",
                 subject_type="plan_action", subject_id=action.id, reason=reason,
                 details={"run_id": action.run_id, "business_id": action.business_id,
                          "value": action.value})
    return action
