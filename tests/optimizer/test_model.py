"""Hand-solved instances: every method must find the known optimum and respect each rule."""

from __future__ import annotations

import pytest

from optimizer import Offer, OrderLine, Part, PlanOptions, Supplier, SupplyState, plan
from tests.optimizer.helpers import METHODS, one_part


def run(state: SupplyState, method: tuple[str, str], previous: tuple[OrderLine, ...] = (),
        **opts: object):
    options = PlanOptions(method=method[0], solver=method[1], time_limit=20,  # type: ignore[arg-type]
                          rel_gap=0.0, **opts)  # type: ignore[arg-type]
    return plan(state, options, previous)


def quantities(result) -> dict[tuple[str, str, int], int]:
    return {line.key: line.quantity for line in result.lines}


@pytest.mark.parametrize("method", METHODS, ids=lambda m: "-".join(m))
class TestHandSolved:
    def test_moq_forces_a_bigger_lot(self, method):
        # 10 needed, MOQ 50: buy 50 at once and hold 40 for 3 periods.
        result = run(one_part((10, 0, 0), moq=50), method)
        assert quantities(result) == {("P", "A", 0): 50}
        assert result.cost.total == pytest.approx(50 + 0.1 * 40 * 3)
        assert "moq" in result.lines[0].bound_by

    def test_order_multiple(self, method):
        result = run(one_part((7, 0, 0), multiple=5), method)
        assert quantities(result) == {("P", "A", 0): 10}
        assert result.cost.total == pytest.approx(10 + 0.1 * 3 * 3)
        assert "multiple" in result.lines[0].bound_by

    def test_lead_time_offsets_arrival(self, method):
        # Lead time 2: the order for period 3 is placed in period 1, not earlier (holding).
        result = run(one_part((0, 0, 0, 8), lead=2, fixed=5), method)
        assert quantities(result) == {("P", "A", 1): 8}
        assert result.lines[0].arrival_period == 3
        assert result.lines[0].covers == (3,)
        assert result.cost.total == pytest.approx(8 + 5)

    def test_backlog_when_lead_time_cannot_reach(self, method):
        # Period 0 demand cannot be met (lead time 1): 5 units backlogged one period.
        result = run(one_part((5, 5), lead=1, backlog=7), method)
        assert quantities(result) == {("P", "A", 0): 10}
        assert result.cost.backlog == pytest.approx(5 * 7)
        line = result.lines[0]
        assert line.covers == (0, 1) and "lead_time" in line.bound_by

    def test_capacity_is_shared_across_parts(self, method):
        # Cheap A delivers 10 per period for both parts; the rest comes from dear B.
        state = SupplyState(
            periods=1,
            parts=(Part("P1", (10,), backlog_penalty=50), Part("P2", (10,), backlog_penalty=50)),
            suppliers=(Supplier("A", (10.0,)), Supplier("B")),
            offers=(Offer("P1", "A", 1.0), Offer("P1", "B", 2.0), Offer("P2", "A", 1.0),
                    Offer("P2", "B", 2.0)),
        )
        result = run(state, method)
        from_a = sum(ln.quantity for ln in result.lines if ln.supplier == "A")
        from_b = sum(ln.quantity for ln in result.lines if ln.supplier == "B")
        assert (from_a, from_b) == (10, 10)
        assert result.cost.total == pytest.approx(10 * 1 + 10 * 2)
        assert all("capacity" in ln.bound_by for ln in result.lines if ln.supplier == "A")

    def test_frozen_horizon_keeps_previous_orders(self, method):
        # The previous plan bought 12 in period 0 at a fixed cost; it is frozen, so it stays
        # and nothing new is placed in period 0, even though 10 would be cheaper.
        state = one_part((10, 10, 0), fixed=20)
        previous = (OrderLine("P", "A", 0, 0, 12, 1.0, 20.0),)
        result = run(state, method, previous, frozen_periods=1)
        got = quantities(result)
        assert got[("P", "A", 0)] == 12
        assert next(ln for ln in result.lines if ln.key == ("P", "A", 0)).frozen
        assert sum(got.values()) == 20  # period 1 tops up 8 (2 left over from the frozen 12)
        assert got.get(("P", "A", 1)) == 8

    def test_budget_splits_orders(self, method):
        # With a fixed cost of 50 one order of 20 is best, but period 0 may spend only 15.
        state = one_part((10, 10), fixed=50, budget=(15.0, 100.0))
        result = run(state, method)
        assert quantities(result) == {("P", "A", 0): 10, ("P", "A", 1): 10}
        assert result.cost.total == pytest.approx(10 + 50 + 10 + 50)
        unbudgeted = run(one_part((10, 10), fixed=50), method)
        assert quantities(unbudgeted) == {("P", "A", 0): 20}

    def test_diversification_caps_the_share(self, method):
        state = SupplyState(
            periods=1, parts=(Part("P", (10,)),), suppliers=(Supplier("A"), Supplier("B")),
            offers=(Offer("P", "A", 1.0), Offer("P", "B", 2.0)),
        )
        result = run(state, method, max_supplier_share=0.6)
        assert quantities(result) == {("P", "A", 0): 6, ("P", "B", 0): 4}
        assert result.cost.total == pytest.approx(6 + 8)
        assert "share" in next(ln for ln in result.lines if ln.supplier == "A").bound_by

    def test_safety_stock_is_a_soft_floor(self, method):
        # Keeping 5 units of safety stock costs 0.1 each per period; falling short costs 3.
        result = run(one_part((10, 10), safety=5, shortfall=3.0), method)
        net = sum(ln.quantity for ln in result.lines)
        assert net == 25 and result.cost.shortfall == pytest.approx(0)
        assert result.cost.holding == pytest.approx(0.1 * 5 * 2)
        cheap_floor = run(one_part((10, 10), safety=5, holding=10.0, shortfall=3.0), method)
        assert sum(ln.quantity for ln in cheap_floor.lines) == 20  # shortfall cheaper than stock
