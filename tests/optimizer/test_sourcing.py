"""Dual sourcing: a part's policy splits its volume between suppliers (minimum and maximum
share), every method keeps to it, and the lines say when a share bound shaped them."""

from __future__ import annotations

import pytest

from optimizer import (
    Offer,
    Part,
    PlanOptions,
    SourcingShare,
    StateError,
    Supplier,
    SupplyState,
    dumps,
    evaluate,
    generate,
    loads,
    plan,
)
from optimizer.naive import naive_orders
from optimizer.problem import compile_problem
from tests.optimizer.helpers import METHODS


def two_suppliers(*shares: SourcingShare, demand: tuple[int, ...] = (10,),
                  multiple: int = 1) -> SupplyState:
    return SupplyState(
        periods=len(demand), parts=(Part("P", demand),),
        suppliers=(Supplier("A"), Supplier("B")),
        offers=(Offer("P", "A", 1.0, multiple=multiple), Offer("P", "B", 2.0)),
        shares=shares,
    )


def quantities(result) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in result.lines:
        out[line.supplier] = out.get(line.supplier, 0) + line.quantity
    return out


def run(state: SupplyState, method: tuple[str, str], **opts: object):
    options = PlanOptions(method=method[0], solver=method[1], time_limit=20,  # type: ignore[arg-type]
                          rel_gap=0.0, **opts)  # type: ignore[arg-type]
    return plan(state, options)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: "-".join(m))
class TestShares:
    def test_a_minimum_share_buys_from_the_dearer_supplier(self, method):
        result = run(two_suppliers(SourcingShare("P", "B", min_share=0.3)), method)
        assert quantities(result) == {"A": 7, "B": 3}
        assert result.cost.total == pytest.approx(7 + 6)
        b_line = next(ln for ln in result.lines if ln.supplier == "B")
        assert "min_share" in b_line.bound_by
        assert "min_share" not in next(ln for ln in result.lines if ln.supplier == "A").bound_by

    def test_a_maximum_share_of_the_policy_caps_the_cheaper_supplier(self, method):
        result = run(two_suppliers(SourcingShare("P", "A", max_share=0.5)), method)
        assert quantities(result) == {"A": 5, "B": 5}
        assert "share" in next(ln for ln in result.lines if ln.supplier == "A").bound_by

    def test_a_maximum_share_spans_several_orders(self, method):
        # Two periods, so the supplier has two order variables in its share row (a row that
        # listed a variable twice once kept only its last coefficient).
        state = two_suppliers(SourcingShare("P", "A", max_share=0.6), demand=(10, 10))
        result = run(state, method)
        assert quantities(result) == {"A": 12, "B": 8}

    def test_the_policy_overrides_the_general_limit(self, method):
        # The general limit (60%) would give A 6; the part's own policy allows A 80%.
        state = two_suppliers(SourcingShare("P", "A", max_share=0.8))
        result = run(state, method, max_supplier_share=0.6)
        assert quantities(result) == {"A": 8, "B": 2}

    def test_shares_hold_over_the_horizon_not_per_order(self, method):
        # Lots of 10 from A: the split is over the horizon's total, whole lots kept.
        state = two_suppliers(SourcingShare("P", "B", min_share=0.25), demand=(10, 10, 10, 10),
                              multiple=10)
        result = run(state, method)
        got = quantities(result)
        total = sum(got.values())
        assert got["B"] >= 0.25 * total
        assert all(ln.quantity % 10 == 0 for ln in result.lines if ln.supplier == "A")


def test_every_method_keeps_the_shares_on_a_network():
    base = generate(12, 3, 10, seed=5)
    rules = []
    for part in base.parts[:6]:
        offers = base.offers_for(part.id)
        cheapest = min(offers, key=lambda o: o.price)
        dearest = max(offers, key=lambda o: o.price)
        rules.append(SourcingShare(part.id, cheapest.supplier, max_share=0.7))
        if dearest.supplier != cheapest.supplier:
            rules.append(SourcingShare(part.id, dearest.supplier, min_share=0.2))
    from dataclasses import replace
    state = replace(base, shares=tuple(rules))
    for method in ("decompose", "milp"):
        options = PlanOptions(method=method, time_limit=8)  # type: ignore[arg-type]
        result = plan(state, options)
        problem = compile_problem(state, options)
        index = {p.id: i for i, p in enumerate(problem.parts)}
        orders = {(index[ln.part], problem.supplier_ids.index(ln.supplier), ln.period):
                  ln.quantity for ln in result.lines}
        check = evaluate(problem, orders)
        assert check.feasible, (method, check.violations)
        for rule in rules:
            mine = sum(ln.quantity for ln in result.lines
                       if (ln.part, ln.supplier) == (rule.part, rule.supplier))
            total = sum(ln.quantity for ln in result.lines if ln.part == rule.part)
            assert rule.min_share * total - 1e-6 <= mine <= rule.max_share * total + 1e-6
        # The naive fallback keeps the shares too (or orders nothing new for the part).
        assert evaluate(problem, naive_orders(problem)).feasible


def test_share_rules_are_checked_with_one_line_errors():
    with pytest.raises(StateError, match="no offer"):
        two_suppliers(SourcingShare("P", "C", min_share=0.1))
    with pytest.raises(StateError, match="above max_share"):
        two_suppliers(SourcingShare("P", "A", min_share=0.6, max_share=0.5))
    with pytest.raises(StateError, match="add up to more than 1"):
        two_suppliers(SourcingShare("P", "A", min_share=0.6), SourcingShare("P", "B",
                                                                            min_share=0.6))
    with pytest.raises(StateError, match=r"in \[0, 1\]"):
        two_suppliers(SourcingShare("P", "A", max_share=float("nan")))
    with pytest.raises(StateError, match="given twice"):
        two_suppliers(SourcingShare("P", "A", max_share=0.9), SourcingShare("P", "A"))


def test_shares_survive_the_json_form():
    state = two_suppliers(SourcingShare("P", "B", min_share=0.3, max_share=0.6))
    assert loads(dumps(state)).shares == state.shares
