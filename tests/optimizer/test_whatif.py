"""What-if scenarios: each changes a copy of the state in the way it says, and the
comparison names what would change."""

from __future__ import annotations

import pytest

from optimizer import (
    Offer,
    Part,
    PlanOptions,
    Receipt,
    StateError,
    Supplier,
    SupplyState,
    apply_scenario,
    parse_scenario,
    scenario_from_dict,
    what_if,
)

STATE = SupplyState(
    periods=6,
    parts=(Part("P", (10,) * 6), Part("Q", (4,) * 6)),
    suppliers=(Supplier("A", (50.0,) * 6), Supplier("B")),
    offers=(Offer("P", "A", 1.0, lead_time=1), Offer("P", "B", 3.0, lead_time=1),
            Offer("Q", "A", 2.0)),
    receipts=(Receipt("P", "A", 20, 1), Receipt("Q", "B", 5, 0)),
)


def test_outage_zeroes_capacity_for_its_periods_only():
    changed = apply_scenario(STATE, parse_scenario("outage:A:2:1"))
    assert changed.supplier("A").capacity == (50.0, 0.0, 0.0, 50.0, 50.0, 50.0)
    unlimited = apply_scenario(STATE, parse_scenario("outage:B:3"))
    assert unlimited.supplier("B").capacity[:4] == (0.0, 0.0, 0.0, float("inf"))
    assert STATE.supplier("A").capacity == (50.0,) * 6  # the original is untouched


def test_capacity_drop_lead_time_spike_and_late_shipment():
    drop = apply_scenario(STATE, parse_scenario("capacity_drop:A:0.5:2-4"))
    assert drop.supplier("A").capacity == (50.0, 50.0, 25.0, 25.0, 50.0, 50.0)
    slow = apply_scenario(STATE, parse_scenario("lead_time:A:2:P"))
    assert [(o.part, o.supplier, o.lead_time) for o in slow.offers] == [
        ("P", "A", 3), ("P", "B", 1), ("Q", "A", 0)]
    spike = apply_scenario(STATE, parse_scenario("demand_spike:*:1.5:0-2"))
    assert spike.part("P").demand == (15, 15, 10, 10, 10, 10)
    assert spike.part("Q").demand == (6, 6, 4, 4, 4, 4)
    late = apply_scenario(STATE, parse_scenario("late_shipment:A:3"))
    assert [(r.part, r.arrival_period) for r in late.receipts] == [("P", 4), ("Q", 0)]


@pytest.mark.parametrize(
    ("data", "message"),
    [({"kind": "flood"}, "scenario kind must be one of"),
     ({"kind": "outage", "periods": 2}, "a supplier is required"),
     ({"kind": "outage", "supplier": "A", "periods": -1}, "whole number >= 0"),
     ({"kind": "capacity_drop", "supplier": "A", "factor": float("nan")}, "finite number"),
     ({"kind": "demand_spike", "part": "P", "factor": 2, "start": 3, "until": 1},
      "until 1 is before start 3"),
     ({"kind": "outage", "supplier": "A", "weather": "bad"}, "unknown field(s) weather")],
)
def test_bad_scenarios_are_refused_in_one_line(data, message):
    with pytest.raises(StateError, match=message.replace("(", r"\(").replace(")", r"\)")):
        scenario_from_dict(data)


def test_unknown_ids_are_refused():
    with pytest.raises(StateError, match="unknown supplier 'Z'"):
        apply_scenario(STATE, parse_scenario("outage:Z:1"))
    with pytest.raises(StateError, match="unknown part 'R'"):
        apply_scenario(STATE, parse_scenario("demand_spike:R:2"))


def test_an_outage_moves_orders_to_the_other_supplier():
    _, _, view = what_if(STATE, [parse_scenario("outage:A:6")], PlanOptions(time_limit=5))
    assert view["suppliers_newly_loaded"] == ["B"]
    assert all(c["supplier"] in ("A", "B") for c in view["orders_changed"])
    assert view["what_if"]["operating_cost"] > view["current"]["operating_cost"]
    # Q has no other supplier: the outage leaves it short, and the plan says so.
    assert view["what_if"]["shortages"] > view["current"]["shortages"]
