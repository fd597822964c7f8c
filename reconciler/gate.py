"""Strangler stages and the cut-over gate.

``edi`` -> ``dual`` starts the comparison and needs no evidence (there is none yet).
``dual`` -> ``api`` makes the API path authoritative: allowed only when agreement over the gate
window meets the threshold with at least the minimum number of decided documents. A rollback
(one step back) is always allowed. Every decision carries its evidence, so the audit log can
show why a promotion was allowed or refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from reconciler.config import GateConfig
from reconciler.model import API, EDI, Outcome
from reconciler.stats import DayStats, summarize

STAGES = ("edi", "dual", "api")
NEXT = {"edi": "dual", "dual": "api"}
PREVIOUS = {"api": "dual", "dual": "edi"}


class StageError(ValueError):
    """A stage change that makes no sense (promote past ``api``, roll back before ``edi``)."""


def authoritative_path(stage: str) -> str:
    """Which path's events the planner counts, so a document is never counted twice."""
    if stage not in STAGES:
        raise StageError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    return API if stage == "api" else EDI


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    partner_id: str
    document_type: str
    from_stage: str
    to_stage: str
    reasons: tuple[str, ...]
    gate: GateConfig
    window_start: date | None = None
    window_end: date | None = None
    agreement: float | None = None
    documents: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    top_fields: list[tuple[str, int]] = field(default_factory=list)
    days: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed, "partner_id": self.partner_id,
            "document_type": self.document_type, "from_stage": self.from_stage,
            "to_stage": self.to_stage, "reasons": list(self.reasons),
            "gate": {"window_days": self.gate.window_days,
                     "min_documents": self.gate.min_documents,
                     "threshold": self.gate.threshold},
            "window": None if self.window_start is None else {
                "start": self.window_start.isoformat(),
                "end": self.window_end.isoformat() if self.window_end else None},
            "agreement": self.agreement, "documents": self.documents, "counts": self.counts,
            "top_fields": [{"field": f, "documents": n} for f, n in self.top_fields],
            "days": self.days,
        }


def gate_window(today: date, gate: GateConfig) -> tuple[date, date]:
    """The last ``window_days`` days, today included."""
    return today - timedelta(days=gate.window_days - 1), today


def decide_promotion(stage: str, rows: Iterable[DayStats], *, today: date, gate: GateConfig,
                     partner_id: str, document_type: str) -> GateDecision:
    """May this partner's document type move one stage up? ``rows`` are its daily stats."""
    if stage not in NEXT:
        raise StageError(f"{partner_id}/{document_type} is already at stage {stage!r}; "
                         "there is nothing to promote to")
    target = NEXT[stage]
    if stage == "edi":
        return GateDecision(True, partner_id, document_type, stage, target,
                            ("edi -> dual starts the comparison; it needs no evidence",), gate)
    start, end = gate_window(today, gate)
    in_window = [r for r in rows if start <= r.day <= end
                 and r.partner_id == partner_id and r.document_type == document_type]
    total = summarize(in_window, partner_id=partner_id, document_type=document_type)
    agreement = total.agreement
    reasons: list[str] = []
    if total.decided < gate.min_documents:
        reasons.append(f"only {total.decided} decided document(s) in the last "
                       f"{gate.window_days} day(s); the gate needs at least "
                       f"{gate.min_documents}")
    if agreement is None or agreement < gate.threshold:
        shown = "no data" if agreement is None else f"{agreement:.2%}"
        reasons.append(f"agreement {shown} is below the threshold {gate.threshold:.2%}")
    allowed = not reasons
    if allowed:
        reasons.append(f"agreement {agreement:.2%} over {total.decided} document(s) in "
                       f"{start.isoformat()}..{end.isoformat()} meets {gate.threshold:.2%}")
    else:
        disagreeing = {o.value: total.counts[o.value] for o in Outcome
                       if o not in (Outcome.MATCH, Outcome.PENDING) and total.counts[o.value]}
        if disagreeing:
            reasons.append("disagreements: " + ", ".join(f"{n} {o}"
                                                         for o, n in disagreeing.items()))
    days = [{"day": r.day.isoformat(), "decided": r.decided, "agreement": r.agreement,
             "counts": {k: v for k, v in r.counts.items() if v}}
            for r in sorted(in_window, key=lambda r: r.day)]
    return GateDecision(allowed, partner_id, document_type, stage, target, tuple(reasons), gate,
                        start, end, agreement, total.decided,
                        {o.value: total.counts[o.value] for o in Outcome},
                        total.top_fields(), days)


def rollback_target(stage: str, *, partner_id: str, document_type: str) -> str:
    if stage not in PREVIOUS:
        raise StageError(f"{partner_id}/{document_type} is at stage {stage!r}; "
                         "there is nothing to roll back to")
    return PREVIOUS[stage]
