"""Promotion and rollback of a partner's strangler stage, with gate evidence and audit.

Before a ``dual`` -> ``api`` decision the gate window is reconciled afresh, so the evidence is
as of now, not as of the last scheduled run. Refused promotions are audited too: who tried,
why, and the evidence that stopped them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.states import Stage
from gateway.reconcile.service import (
    ReconcileError,
    daily_stats,
    day_window,
    partner_config,
    run_reconciliation,
)
from gateway.storage.models import Partner, PartnerStage
from gateway.storage.repositories import append_audit, stage_of
from reconciler import (
    DayStats,
    GateDecision,
    StageError,
    decide_promotion,
    gate_window,
    rollback_target,
)


@dataclass(frozen=True)
class StageChange:
    partner_id: str
    document_type: str
    from_stage: str
    to_stage: str
    changed: bool
    decision: GateDecision | None
    run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "document_type": self.document_type,
                "from_stage": self.from_stage, "to_stage": self.to_stage,
                "changed": self.changed, "run_id": self.run_id,
                "evidence": self.decision.to_dict() if self.decision else None}


def _partner(session: Session, partner_id: str) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise ReconcileError(f"no partner {partner_id!r}")
    return partner


def preview(session: Session, partner_id: str, document_type: str, *,
            now: datetime) -> GateDecision:
    """What a promotion would decide now, from the stored daily statistics (no new run)."""
    partner = _partner(session, partner_id)
    stage = stage_of(session, partner_id, document_type)
    gate = partner_config(partner, session).gate_for(document_type)
    start, end = gate_window(now.date(), gate)
    rows = _rows(session, partner_id, document_type, start, end)
    return decide_promotion(stage, rows, today=now.date(), gate=gate, partner_id=partner_id,
                            document_type=document_type)


def _rows(session: Session, partner_id: str, document_type: str, start: Any,
          end: Any) -> list[DayStats]:
    rows = daily_stats(session, partner_id=partner_id, document_type=document_type,
                       since=start, until=end)
    if document_type == "*":  # every type counts toward the partner-wide gate
        rows = [DayStats(r.partner_id, "*", r.day, r.counts, r.fields) for r in rows]
    return rows


def _set_stage(session: Session, partner: Partner, document_type: str, stage: str,
               *, now: datetime, actor: str) -> None:
    row = session.scalars(select(PartnerStage).where(
        PartnerStage.partner_id == partner.id,
        PartnerStage.document_type == document_type)).first()
    if row is None:
        row = PartnerStage(partner_id=partner.id, document_type=document_type, stage=stage,
                           changed_at=now, changed_by=actor)
        session.add(row)
    row.stage, row.changed_at, row.changed_by = stage, now, actor
    session.flush()


def promote(session: Session, partner_id: str, document_type: str, *, actor: str,
            reason: str, now: datetime) -> StageChange:
    """One stage up if the gate allows; the refusal is recorded as well. Caller commits."""
    partner = _partner(session, partner_id)
    stage = stage_of(session, partner_id, document_type)
    gate = partner_config(partner, session).gate_for(document_type)
    run_id = None
    if stage == Stage.DUAL:
        start, end = gate_window(now.date(), gate)
        run = run_reconciliation(session, partner_id, day_window(start, end), as_of=now,
                                 trigger="gate", actor=actor, document_type=document_type)
        run_id = run.id
    rows = _rows(session, partner_id, document_type, *gate_window(now.date(), gate))
    decision = decide_promotion(stage, rows, today=now.date(), gate=gate,
                                partner_id=partner_id, document_type=document_type)
    details = {"document_type": document_type, "from": stage, "to": decision.to_stage,
               "run_id": run_id, "evidence": decision.to_dict()}
    if not decision.allowed:
        append_audit(session, at=now, actor=actor, action="stage.promote_refused",
                     subject_type="partner", subject_id=partner_id, reason=reason,
                     details=details)
        return StageChange(partner_id, document_type, stage, stage, False, decision, run_id)
    _set_stage(session, partner, document_type, decision.to_stage, now=now, actor=actor)
    append_audit(session, at=now, actor=actor, action="stage.promote", subject_type="partner",
                 subject_id=partner_id, reason=reason, details=details)
    return StageChange(partner_id, document_type, stage, decision.to_stage, True, decision,
                       run_id)


def rollback(session: Session, partner_id: str, document_type: str, *, actor: str,
             reason: str, now: datetime) -> StageChange:
    """One stage back; always allowed (no gate), always audited. Caller commits."""
    partner = _partner(session, partner_id)
    stage = stage_of(session, partner_id, document_type)
    target = rollback_target(stage, partner_id=partner_id, document_type=document_type)
    _set_stage(session, partner, document_type, target, now=now, actor=actor)
    append_audit(session, at=now, actor=actor, action="stage.rollback", subject_type="partner",
                 subject_id=partner_id, reason=reason,
                 details={"document_type": document_type, "from": stage, "to": target})
    return StageChange(partner_id, document_type, stage, target, True, None)


def shadow_check(session: Session, partner_id: str, document_type: str, *,
                 now: datetime) -> GateDecision:
    """For a type already in ``api`` whose EDI copy still runs as a shadow: would the gate
    still pass? A refusal after cut-over is a regression, and a reason to roll back."""
    partner = _partner(session, partner_id)
    gate = partner_config(partner, session).gate_for(document_type)
    rows = _rows(session, partner_id, document_type, *gate_window(now.date(), gate))
    return decide_promotion(Stage.DUAL, rows, today=now.date(), gate=gate, partner_id=partner_id,
                            document_type=document_type)


POLICY_ACTOR = "policy:auto_promote"


def auto_promote(session: Session, partner_id: str, *, now: datetime) -> list[StageChange]:
    """The partner's policy: every document type in ``dual`` whose gate passes moves to
    ``api`` now, audited as done by the policy (``[reconcile.gate] auto_promote = true``).
    Types whose gate does not pass stay, without a refusal in the audit log (nobody asked)."""
    partner = _partner(session, partner_id)
    config = partner_config(partner, session)
    changes = []
    for row in sorted(partner.stages, key=lambda r: r.document_type):
        if row.stage != Stage.DUAL or not config.gate_for(row.document_type).auto_promote:
            continue
        if not preview(session, partner_id, row.document_type, now=now).allowed:
            continue
        change = promote(session, partner_id, row.document_type, actor=POLICY_ACTOR,
                         reason="the partner's policy promotes as soon as the gate passes",
                         now=now)
        changes.append(change)
    return changes


__all__ = ["POLICY_ACTOR", "StageChange", "StageError", "auto_promote", "preview", "promote",
           "rollback", "shadow_check"]
