"""Plan diff, guardrails, order-line explanations, plan storage form."""

from __future__ import annotations

import json

import pytest

from optimizer import (
    GuardrailPolicy,
    OrderLine,
    PlanOptions,
    diff_plans,
    generate,
    lines_from_dicts,
    plan,
    plan_to_dict,
    review,
)


def line(part: str, supplier: str, period: int, qty: int, price: float = 10.0,
         lead: int = 1) -> OrderLine:
    return OrderLine(part, supplier, period, period + lead, qty, price)


PREVIOUS = (line("P1", "A", 0, 100), line("P1", "A", 3, 50), line("P2", "A", 2, 20),
            line("P1", "S", 0, 30), line("P1", "S", 4, 40))
NEW = (line("P1", "A", 0, 100), line("P1", "A", 3, 70), line("P2", "A", 5, 20),
       line("P1", "S", 0, 10), line("P1", "S", 5, 40))


def test_diff_orders_into_new_changes_and_cancellations():
    diff = diff_plans(PREVIOUS, NEW, schedule_driven={"S"}, firm_periods=3)
    assert [(c.part, c.period, c.quantity) for c in diff.new] == [("P2", 5, 20)]
    assert [(c.part, c.period, c.previous_quantity, c.quantity) for c in diff.changes] == [
        ("P1", 3, 50, 70)
    ]
    assert [(c.part, c.period, c.quantity) for c in diff.cancellations] == [("P2", 2, 0)]
    assert all(c.supplier == "A" for c in diff.orders)  # unchanged line (P1,A,0) not repeated


def test_diff_sends_whole_schedules_split_firm_and_forecast():
    diff = diff_plans(PREVIOUS, NEW, schedule_driven={"S"}, firm_periods=3)
    schedule = {(s.arrival_period, s.kind): (s.previous_quantity, s.quantity)
                for s in diff.schedule_for("S")}
    assert schedule == {(1, "firm"): (30, 10), (5, "forecast"): (40, 0),
                        (6, "forecast"): (0, 40)}
    same = diff_plans(PREVIOUS, PREVIOUS, schedule_driven={"S"}, firm_periods=3)
    assert same.empty


def test_guardrails_hold_big_and_firm_changes():
    previous = (line("P1", "A", 0, 100), line("P2", "A", 5, 10), line("P3", "A", 0, 50))
    new = (line("P1", "A", 0, 110), line("P2", "A", 5, 10_000), line("P3", "A", 0, 20),
           line("P4", "A", 6, 5))
    diff = diff_plans(previous, new, firm_periods=2)
    result = review(diff, GuardrailPolicy(value_threshold=50_000, firm_change_share=0.2))
    held = {d.item.part: d.reasons for d in result.held}
    assert set(held) == {"P2", "P3"}
    assert "above" in held["P2"][0]  # 10,000 x 10 = 100,000
    assert "60% change" in held["P3"][0]  # firm 50 -> 20
    assert {item.part for item in result.released} == {"P1", "P4"}  # P1: +10% firm, allowed
    loose = review(diff, GuardrailPolicy(value_threshold=None, firm_change_share=None))
    assert not loose.held


def test_guardrails_on_firm_schedule_lines_and_cancellations():
    diff = diff_plans(PREVIOUS, NEW, schedule_driven={"S"}, firm_periods=3)
    result = review(diff, GuardrailPolicy(value_threshold=None, firm_change_share=0.5))
    held = [(d.item.part, getattr(d.item, "kind", None)) for d in result.held]
    # Firm schedule line 30 -> 10 (67%) is held; the forecast changes are not. The cancelled
    # PO (P2, period 2) arrives in period 3, outside the firm horizon, so it goes out.
    assert held == [("P1", "firm")]


def test_every_line_explains_itself():
    state = generate(10, 3, 12, seed=3)
    result = plan(state, PlanOptions(method="milp", time_limit=10))
    assert result.lines
    demand = {p.id: p.demand for p in state.parts}
    for ln in result.lines:
        assert all(0 <= t < state.periods and demand[ln.part][t] > 0 for t in ln.covers)
        assert set(ln.bound_by) <= {"capacity", "budget", "share", "moq", "multiple",
                                    "lead_time", "frozen", "safety_stock", "stock_ahead"}
        assert ln.covers or ln.bound_by, f"{ln} explains nothing"
    assert any(ln.covers for ln in result.lines)


def test_plan_storage_form_round_trips_lines():
    result = plan(generate(5, 2, 6, seed=2), PlanOptions(method="milp", time_limit=5))
    stored = json.loads(json.dumps(plan_to_dict(result)))
    assert lines_from_dicts(stored["lines"]) == result.lines
    assert stored["report"]["status"] == result.report.status
    assert stored["cost"]["total"] == pytest.approx(result.cost.total)
    with pytest.raises(ValueError, match="order line 0"):
        lines_from_dicts([{"part": "P"}])
