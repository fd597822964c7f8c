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
    missing: tuple[str, ...] = ()  # what the gate still needs, one short sentence each
    fields: list[dict[str, Any]] = field(default_factory=list)  # per field: kinds, example
    not_comparable: dict[str, int] = field(default_factory=dict)  # field -> documents

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed, "partner_id": self.partner_id,
            "document_type": self.document_type, "from_stage": self.from_stage,
            "to_stage": self.to_stage, "reasons": list(self.reasons),
            "gate": self.gate.to_dict(), "missing": list(self.missing),
            "fields": self.fields, "not_comparable": self.not_comparable,
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
    missing: list[str] = []
    if total.decided < gate.min_documents:
        missing.append(f"{gate.min_documents - total.decided} more document(s): "
                       f"{total.decided} of {gate.min_documents} decided in the last "
                       f"{gate.window_days} day(s)")
    if agreement is None or agreement < gate.threshold:
        shown = "no data" if agreement is None else f"{agreement:.1%}"
        why = _disagreement(total)
        missing.append(f"agreement {shown} < {gate.threshold:.1%}" + (f": {why}" if why
                                                                       else ""))
    if gate.no_missing_days:
        since = end - timedelta(days=gate.no_missing_days - 1)
        recent = [r for r in in_window if r.day >= since]
        lost_api = sum(r.counts[Outcome.MISSING_API.value] for r in recent)
        lost_edi = sum(r.counts[Outcome.MISSING_EDI.value] for r in recent)
        if lost_api or lost_edi:
            parts = [f"{n} missing {p} cop{'y' if n == 1 else 'ies'}"
                     for n, p in ((lost_api, "API"), (lost_edi, "EDI")) if n]
            missing.append(f"{' and '.join(parts)} since {since.isoformat()} (the gate wants "
                           f"none in the last {gate.no_missing_days} day(s))")
    allowed = not missing
    reasons = list(missing)
    if allowed:
        reasons.append(f"agreement {agreement:.2%} over {total.decided} document(s) in "
                       f"{start.isoformat()}..{end.isoformat()} meets {gate.threshold:.2%}")
    days = [{"day": r.day.isoformat(), "decided": r.decided, "agreement": r.agreement,
             "counts": {k: v for k, v in r.counts.items() if v}}
            for r in sorted(in_window, key=lambda r: r.day)]
    return GateDecision(allowed, partner_id, document_type, stage, target, tuple(reasons), gate,
                        start, end, agreement, total.decided,
                        {o.value: total.counts[o.value] for o in Outcome},
                        total.top_fields(), days, tuple(missing), total.field_report(),
                        dict(sorted(total.uncompared.items())))


_OUTCOME_WORDS = {Outcome.MISSING_API: "missing API cop", Outcome.MISSING_EDI: "missing EDI cop",
                  Outcome.LATE: "late cop", Outcome.DUPLICATE: "duplicate"}
_KIND_WORDS = {"value_differs": "differing value(s)", "missing_on_api": "missing on API",
               "missing_on_edi": "missing on EDI"}


def _disagreement(total: DayStats, fields: int = 3) -> str:
    """``3 differences in lines.quantity (e.g. lines[2].quantity 10 vs 15), 1 late copy``."""
    parts: list[str] = []
    for entry in total.field_report()[:fields]:
        kinds = ", ".join(f"{n} {_KIND_WORDS.get(k, k)}" for k, n in entry["kinds"].items())
        example = entry.get("example") or {}
        shown = f", e.g. {example.get('path')}: EDI {_short(example.get('edi'))} vs API " \
                f"{_short(example.get('api'))}" if example else ""
        parts.append(f"{entry['documents']} document(s) differ in {entry['field']}"
                     + (f" ({kinds}{shown})" if kinds or shown else ""))
    for outcome, word in _OUTCOME_WORDS.items():
        n = total.counts[outcome.value]
        if n:
            plural = ("y" if n == 1 else "ies") if word.endswith("cop") else \
                ("" if n == 1 else "s")
            parts.append(f"{n} {word}{plural}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def rollback_target(stage: str, *, partner_id: str, document_type: str) -> str:
    if stage not in PREVIOUS:
        raise StageError(f"{partner_id}/{document_type} is at stage {stage!r}; "
                         "there is nothing to roll back to")
    return PREVIOUS[stage]
