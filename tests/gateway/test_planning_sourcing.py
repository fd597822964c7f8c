"""Dual sourcing through the gateway: the plant's profile sets per-part supplier shares, the
planning service keeps them, and the planned lines and orders show the split."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from gateway.storage.models import OutboxItem, Partner
from gateway.storage.models_planning import PlanRun
from tests.gateway import test_planning as base
from tests.gateway.test_planning import NOW, add_event, day, network, run

runtime = base.runtime  # the planning suite's fixture


def terms(runtime, supplier: str, price: float) -> str:
    """A supplier's terms for P-100 in lots of one (a second later than network()'s)."""
    return add_event(runtime, "supplier_capacity", {"supplier": supplier, "as_of": day(0),
                                                    "items": [
        {"part": "P-100", "period_start": day(i), "capacity": 1000, "unit_price": price,
         "lead_time_days": 1, "lot_size": 1} for i in range(7)]}, partner="plant-erp",
        at=NOW + timedelta(seconds=1))


def set_policy(runtime, sourcing: object) -> None:
    with runtime.sessions.begin() as s:
        plant = s.get(Partner, "plant-erp")
        plant.profile = {**(plant.profile or {}), "sourcing": sourcing}


def test_a_minimum_share_sends_part_of_the_volume_to_the_second_supplier(runtime) -> None:
    network(runtime, supplier="nova-plastics", price=2.0)
    terms(runtime, "nova-plastics", 2.0)
    terms(runtime, "ozark-plastics", 3.0)
    unconstrained = run(runtime)
    assert {ln.supplier for ln in unconstrained.plan.lines} == {"nova-plastics"}
    set_policy(runtime, {"P-100": {"ozark-plastics": {"min_share": 0.3},
                                   "nova-plastics": {"max_share": 0.7}}})
    summary = run(runtime, now=NOW + timedelta(minutes=5))
    lines = summary.plan.lines
    total = sum(ln.quantity for ln in lines)
    ozark = sum(ln.quantity for ln in lines if ln.supplier == "ozark-plastics")
    assert total > 0 and 0.3 * total <= ozark and total - ozark <= 0.7 * total
    # The dearer supplier gets its minimum and no more: the bound shaped its lines.
    assert ozark <= 0.3 * total + 1
    assert all("min_share" in ln.bound_by for ln in lines if ln.supplier == "ozark-plastics")
    with runtime.sessions() as s:
        stored = s.get(PlanRun, summary.run_id)
        assert any("min_share" in ln.bound_by for ln in stored.lines
                   if ln.supplier_id == "ozark-plastics")
        # Whoever has an order due today gets it over its own channel.
        sent_to = {i.partner_id for i in s.scalars(select(OutboxItem)).all()}
    assert {ln.supplier for ln in lines if ln.period == 0} <= sent_to


def test_unusable_rules_are_warnings_not_failures(runtime) -> None:
    network(runtime, supplier="nova-plastics")
    set_policy(runtime, {"P-100": {"ozark-plastics": {"min_share": 0.3},  # no offer from it
                                   "nova-plastics": {"min_share": 0.9, "max_share": 0.5}},
                         "P-200": "half"})
    summary = run(runtime)
    assert summary.status == "adopted"
    text = " | ".join(summary.warnings)
    assert "P-100/ozark-plastics: no priced offer" in text
    assert "P-100/nova-plastics: shares must satisfy" in text
    assert "sourcing policy for P-200: not a table" in text
    assert summary.plan is not None and not summary.plan.lines[0].bound_by.count("min_share")

