"""Strangler stages: promotion gates with evidence, rollback, authoritative path."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from reconciler import (
    DayStats,
    GateConfig,
    GateDecision,
    StageError,
    authoritative_path,
    decide_promotion,
    rollback_target,
)

TODAY = date(2024, 3, 10)
GATE = GateConfig(window_days=3, min_documents=20, threshold=0.95)


def day(offset: int, match: int, **others: int) -> DayStats:
    return DayStats("alpen-gaskets", "purchase_order", TODAY - timedelta(days=offset),
                    Counter({"match": match, **others}),
                    Counter({"lines.quantity": others.get("mismatch", 0)}))


def decide(rows: list[DayStats], stage: str = "dual") -> GateDecision:
    return decide_promotion(stage, rows, today=TODAY, gate=GATE, partner_id="alpen-gaskets",
                            document_type="purchase_order")


def test_promotion_allowed_with_evidence() -> None:
    decision = decide([day(0, 10), day(1, 10, mismatch=1), day(2, 10)])
    assert decision.allowed
    assert decision.to_stage == "api"
    assert decision.documents == 31
    assert decision.agreement == pytest.approx(30 / 31)
    assert (decision.window_start, decision.window_end) == (date(2024, 3, 8), TODAY)
    assert decision.reasons == ("agreement 96.77% over 31 document(s) in 2024-03-08..2024-03-10 "
                                "meets 95.00%",)
    assert decision.to_dict()["top_fields"] == [{"field": "lines.quantity", "documents": 1}]
    assert [d["day"] for d in decision.to_dict()["days"]] == ["2024-03-08", "2024-03-09",
                                                              "2024-03-10"]


def test_refused_below_threshold_lists_the_disagreements() -> None:
    decision = decide([day(0, 15, mismatch=1, missing_api=1, late=1), day(1, 10)])
    assert not decision.allowed
    assert decision.reasons == ("agreement 89.3% < 95.0%: 1 document(s) differ in "
                                "lines.quantity; 1 missing API copy; 1 late copy",)
    assert decision.missing == decision.reasons


def test_refused_below_minimum_count_even_at_full_agreement() -> None:
    decision = decide([day(0, 19)])
    assert not decision.allowed
    assert decision.agreement == 1.0
    assert decision.reasons == ("1 more document(s): 19 of 20 decided in the last 3 day(s)",)


def test_days_outside_the_window_and_pending_results_do_not_count() -> None:
    old_bad = day(3, 0, mismatch=50)  # before the 3-day window
    decision = decide([old_bad, day(0, 20, pending=30)])
    assert decision.allowed and decision.documents == 20


def test_other_partners_and_types_do_not_count() -> None:
    other = DayStats("other", "purchase_order", TODAY, Counter({"match": 100}))
    other_type = DayStats("alpen-gaskets", "invoice", TODAY, Counter({"match": 100}))
    decision = decide([other, other_type])
    assert not decision.allowed and decision.documents == 0
    assert decision.reasons[1] == "agreement no data < 95.0%"


def test_edi_to_dual_needs_no_evidence_and_api_cannot_be_promoted() -> None:
    assert decide([], stage="edi").allowed
    with pytest.raises(StageError, match="already at stage 'api'"):
        decide([], stage="api")


def test_rollback_is_one_step_back() -> None:
    assert rollback_target("api", partner_id="p", document_type="*") == "dual"
    assert rollback_target("dual", partner_id="p", document_type="*") == "edi"
    with pytest.raises(StageError, match="nothing to roll back to"):
        rollback_target("edi", partner_id="p", document_type="*")


def test_authoritative_path_never_counts_a_document_twice() -> None:
    assert [authoritative_path(s) for s in ("edi", "dual", "api")] == ["edi", "edi", "api"]
    with pytest.raises(StageError):
        authoritative_path("shadow")
