"""The adoption rule, infeasible solves, the decomposition's bound, and the DP's exactness."""

from __future__ import annotations

import time

import pytest

from optimizer import OrderLine, PlanOptions, generate, plan
from optimizer.costs import evaluate
from optimizer.decompose import decompose
from optimizer.dp import StageCosts, solve_part
from optimizer.model import build_model
from optimizer.naive import naive_orders
from optimizer.planner import adopt
from optimizer.problem import compile_problem
from optimizer.solvers import solve_model
from optimizer.state import Offer, Part, Supplier, SupplyState
from tests.optimizer.helpers import METHODS, one_part


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("method", METHODS, ids=lambda m: "-".join(m))
def test_never_costlier_than_naive(method, seed):
    state = generate(12, 3, 10, seed=seed)
    options = PlanOptions(method=method[0], solver=method[1], time_limit=3)  # type: ignore[arg-type]
    result = plan(state, options)
    problem = compile_problem(state, options)
    naive_cost = evaluate(problem, naive_orders(problem)).cost.total
    orders = {(problem.parts.index(next(p for p in problem.parts if p.id == ln.part)),
               problem.supplier_ids.index(ln.supplier), ln.period): ln.quantity
              for ln in result.lines}
    check = evaluate(problem, orders)
    assert check.feasible, check.violations
    assert check.cost.total == pytest.approx(result.cost.total)
    assert result.cost.total <= naive_cost + 1e-6
    assert result.report.bound is not None and result.report.bound <= result.cost.total + 1e-6


def test_adoption_rule_prefers_the_cheaper_fallback():
    state = SupplyState(
        periods=1, parts=(Part("P", (10,)),), suppliers=(Supplier("A"), Supplier("B")),
        offers=(Offer("P", "A", 1.0), Offer("P", "B", 3.0)),
    )
    problem = compile_problem(state, PlanOptions())
    naive = naive_orders(problem)
    fallback = ("naive", naive, evaluate(problem, naive))
    dear = {(0, 1, 0): 10}  # feasible but buys everything from the dear supplier
    source, orders, reasons = adopt(problem, dear, fallback)
    assert source == "naive" and orders == naive and "more than the naive plan" in reasons[0]
    over = {(0, 0, 0): 10**9}  # breaks the stock bound: rejected however cheap it claims to be
    source, _, reasons = adopt(problem, over, fallback)
    assert source == "naive" and "rejected" in reasons[0]
    source, orders, reasons = adopt(problem, naive, fallback)
    assert source == "optimizer" and not reasons


@pytest.mark.parametrize("method", METHODS, ids=lambda m: "-".join(m))
def test_infeasible_solve_keeps_the_previous_plan(method):
    # The frozen order of 100 no longer fits: the supplier now reports capacity 50.
    state = one_part((40, 40, 40), capacity=(50.0, 50.0, 50.0))
    previous = (OrderLine("P", "A", 0, 0, 100, 1.0), OrderLine("P", "A", 1, 1, 20, 1.0))
    options = PlanOptions(method=method[0], solver=method[1], frozen_periods=1,  # type: ignore[arg-type]
                          time_limit=10)
    result = plan(state, options, previous)
    assert result.source == "previous"
    assert result.lines == previous
    assert result.reasons[0].startswith("infeasible")
    assert "previous plan is kept" in result.reasons[1]
    assert not result.report.has_solution
    if method == ("milp", "highs"):
        assert result.report.status == "Infeasible"


def test_solver_status_is_the_solvers_own_at_a_time_limit():
    state = generate(60, 4, 20, seed=5)
    problem = compile_problem(state, PlanOptions())
    model = build_model(problem)
    outcome = solve_model(model, problem, solver="highs", time_limit=1.0, rel_gap=0.0,
                          start=naive_orders(problem))
    assert outcome.status == "Time limit reached" and not outcome.proven_optimal
    assert outcome.objective is not None  # the warm start at least
    # A bound only if HiGHS got through its root LP in time (the line-stop binaries make the
    # root slower); an unproven bound is None, never PuLP's "Optimal".
    assert outcome.bound is None or outcome.bound < outcome.objective


def test_decomposition_bound_is_below_the_proven_optimum():
    state = generate(6, 3, 8, seed=11)
    problem = compile_problem(state, PlanOptions())
    model = build_model(problem)
    exact = solve_model(model, problem, solver="highs", time_limit=60, rel_gap=0.0, start=None)
    assert exact.proven_optimal and exact.objective is not None
    result = decompose(problem, time_limit=10, rel_gap=0.0, max_iterations=60,
                       clock=time.perf_counter, incumbent=naive_orders(problem))
    assert result.lower <= exact.objective + 1e-6
    assert result.upper >= exact.objective - 1e-6
    assert result.orders is not None and evaluate(problem, result.orders).feasible


@pytest.mark.parametrize("seed", range(6))
def test_part_dp_matches_the_milp_optimum(seed):
    # One part at a time with capacity ignored: the DP is exact, so it must equal HiGHS' optimum.
    state = generate(1, 3, 9, seed=seed)
    uncapped = SupplyState(
        periods=state.periods, parts=state.parts,
        suppliers=tuple(Supplier(s.id) for s in state.suppliers), offers=state.offers,
        receipts=state.receipts,
    )
    problem = compile_problem(uncapped, PlanOptions(change_penalty=0.0))
    part = problem.parts[0]
    dp = solve_part(problem, 0, StageCosts([[o.price] * problem.periods for o in part.offers]))
    model = build_model(problem)
    exact = solve_model(model, problem, solver="highs", time_limit=60, rel_gap=0.0, start=None)
    assert exact.proven_optimal
    assert dp.value == pytest.approx(exact.objective, rel=1e-7)
    orders = {(0, s, t): q for (s, t), q in dp.orders.items()}
    assert evaluate(problem, orders).cost.total == pytest.approx(dp.value)


def test_change_penalty_damps_replanning():
    # The previous plan ordered in period 0. Ordering in period 1 instead saves 10 x 0.1 of
    # holding, but moving costs 0.5 per unit on both keys (10), so the old timing is kept.
    state = one_part((0, 10, 0), holding=0.1, fixed=0)
    previous = (OrderLine("P", "A", 0, 0, 10, 1.0),)
    free = plan(state, PlanOptions(method="milp"), previous)
    assert {ln.key for ln in free.lines} == {("P", "A", 1)}
    damped = plan(state, PlanOptions(method="milp", change_penalty=0.5), previous)
    assert {ln.key for ln in damped.lines} == {("P", "A", 0)}
    dp = plan(state, PlanOptions(method="decompose", change_penalty=0.5), previous)
    assert {ln.key for ln in dp.lines} == {("P", "A", 0)}


def test_plan_records_inputs_and_parameters():
    from datetime import datetime

    from optimizer import Provenance

    stamp = datetime(2026, 1, 5, 8, 0)
    state = SupplyState(
        periods=2,
        parts=(Part("P", (5, 5), demand_source=Provenance(("evt-d1",), stamp),
                    stock_source=Provenance(("evt-s1",), stamp)),),
        suppliers=(Supplier("A", source=Provenance(("evt-c1",), stamp)),),
        offers=(Offer("P", "A", 2.0, source=Provenance(("evt-o1", "evt-d1"), stamp)),),
    )
    result = plan(state, PlanOptions(method="milp", time_limit=5))
    assert result.inputs == ("evt-d1", "evt-s1", "evt-c1", "evt-o1")
    assert result.parameters["method_used"] == "milp"
    assert result.parameters["time_limit"] == 5


@pytest.mark.parametrize("seed", range(4))
def test_part_dp_matches_the_milp_with_frozen_orders_and_change_penalty(seed):
    state = generate(1, 3, 8, seed=seed)
    uncapped = SupplyState(
        periods=state.periods, parts=state.parts,
        suppliers=tuple(Supplier(s.id) for s in state.suppliers), offers=state.offers,
        receipts=state.receipts,
    )
    first = plan(uncapped, PlanOptions(method="milp", time_limit=30, rel_gap=0.0))
    # Shift the old plan by one period so that keeping it is not simply optimal.
    previous = tuple(
        OrderLine(ln.part, ln.supplier, ln.period + 1, ln.arrival_period + 1, ln.quantity,
                  ln.unit_price) for ln in first.lines
    )
    options = PlanOptions(frozen_periods=2, change_penalty=0.3, rel_gap=0.0)
    problem = compile_problem(uncapped, options, previous)
    part = problem.parts[0]
    dp = solve_part(problem, 0, StageCosts([[o.price] * problem.periods for o in part.offers]))
    model = build_model(problem)
    exact = solve_model(model, problem, solver="highs", time_limit=60, rel_gap=0.0, start=None)
    assert exact.proven_optimal
    assert dp.value == pytest.approx(exact.objective, rel=1e-7)
    orders = {(0, s, t): q for (s, t), q in dp.orders.items()}
    check = evaluate(problem, orders)
    assert check.feasible, check.violations
    assert check.cost.total == pytest.approx(dp.value)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: "-".join(m))
def test_all_rules_at_once_stay_feasible_and_no_costlier_than_the_fallback(method):
    state = generate(10, 3, 10, seed=7, budget=True)
    options = PlanOptions(method=method[0], solver=method[1], time_limit=4,  # type: ignore[arg-type]
                          max_supplier_share=0.7, frozen_periods=2, change_penalty=0.05)
    first = plan(state, PlanOptions(method="decompose", time_limit=2))
    result = plan(state, options, first.lines)
    problem = compile_problem(state, options, first.lines)
    index = {p.id: i for i, p in enumerate(problem.parts)}
    orders = {(index[ln.part], problem.supplier_ids.index(ln.supplier), ln.period): ln.quantity
              for ln in result.lines}
    check = evaluate(problem, orders)
    assert check.feasible, check.violations
    assert result.fallback_cost is not None
    assert result.cost.total <= result.fallback_cost + 1e-6
    assert all(ln.frozen for ln in result.lines if ln.period < 2)
    assert result.report.bound is None or result.report.bound <= result.cost.total + 1e-6
