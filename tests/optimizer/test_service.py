"""Service before cost: shortages counted, explained and never traded for savings; inputs
checked by the library itself; the plan says what it adopted and why; deadlines kept."""

from __future__ import annotations

import itertools
import math
import time

import pytest

from optimizer import (
    OrderLine,
    Plan,
    PlanOptions,
    StateError,
    generate,
    plan,
    plan_to_dict,
)
from optimizer.costs import evaluate
from optimizer.naive import naive_orders
from optimizer.planner import adopt
from optimizer.problem import compile_problem
from optimizer.state import Offer, Part, Receipt, Supplier, SupplyState
from tests.optimizer.helpers import METHODS, one_part


@pytest.mark.parametrize("method", METHODS, ids=lambda m: "-".join(m))
def test_fewer_shortages_than_naive_where_capacity_allows(method):
    # Capacity 10 a period and 30 due in period 3: lot-for-lot orders for period 3 only and
    # runs short; building ahead in periods 1 and 2 avoids it.
    state = one_part((0, 0, 0, 30), capacity=(10.0,) * 4, holding=0.5)
    options = PlanOptions(method=method[0], solver=method[1], time_limit=10)  # type: ignore[arg-type]
    result = plan(state, options)
    assert result.naive_stockouts == 1
    assert result.stockouts == 0 and result.shortages_avoided == 1
    assert result.source == "optimizer"


@pytest.mark.parametrize("method", METHODS, ids=lambda m: "-".join(m))
def test_a_saving_never_buys_a_shortage(method):
    # Demand only in the last period, a dear part and a tiny backlog penalty: a pure cost
    # model leaves it unbought (one period of backlog is cheaper than the part).
    state = one_part((0, 0, 10), price=100.0, backlog=1.0)
    cost_only = PlanOptions(method=method[0], solver=method[1], time_limit=10,  # type: ignore[arg-type]
                            service_first=False, line_stop_cost=0.0)
    starved = plan(state, cost_only)
    assert starved.stockouts == 1 and starved.naive_stockouts == 0
    assert starved.shortages_avoided == -1  # signed: worse than naive shows as negative
    assert plan_to_dict(starved)["shortages_avoided"] == -1
    served = plan(state, PlanOptions(method=method[0], solver=method[1], time_limit=10))  # type: ignore[arg-type]
    assert served.stockouts == 0 and sum(ln.quantity for ln in served.lines) == 10


def test_adoption_refuses_a_cheaper_plan_with_more_shortages():
    state = one_part((0, 0, 10), price=100.0, backlog=1.0)
    problem = compile_problem(state, PlanOptions(line_stop_cost=0.0))
    naive = naive_orders(problem)
    fallback = ("naive", naive, evaluate(problem, naive))
    source, orders, reasons = adopt(problem, {}, fallback)
    assert source == "naive" and orders == naive
    assert "service comes before cost" in reasons[0]
    # Compared on cost alone, the starving plan would have won.
    source, _, _ = adopt(problem, {}, fallback, service_first=False)
    assert evaluate(problem, {}).cost.operating < fallback[2].cost.operating
    assert source == "optimizer" or evaluate(problem, {}).cost.total > fallback[2].cost.total


def test_line_stop_cost_is_charged_per_period_short():
    state = one_part((10, 10), lead=1)  # period 0 cannot be served: lead time
    result = plan(state, PlanOptions(line_stop_cost=5000.0, service_first=False))
    assert result.stockouts == 1
    assert result.cost.line_stop == pytest.approx(5000.0)
    assert result.cost.total == pytest.approx(result.cost.operating + 5000.0)


def test_each_remaining_shortage_says_why():
    state = SupplyState(
        periods=4,
        parts=(Part("SLOW", (10, 10, 10, 10)), Part("FULL", (0, 30, 0, 0)),
               Part("NONE", (5, 5, 5, 5), on_hand=7)),
        suppliers=(Supplier("A"), Supplier("B", (10.0, 10.0, 10.0, 10.0))),
        offers=(Offer("SLOW", "A", 1.0, lead_time=2), Offer("FULL", "B", 1.0)),
    )
    result = plan(state, PlanOptions(time_limit=10))
    reasons = {(s.part, s.reason): s.periods for s in result.shortages}
    assert reasons[("SLOW", "lead_time")] == (0, 1)
    assert reasons[("FULL", "capacity")] == (1,)
    assert reasons[("NONE", "no_supplier")] == (1, 2, 3)
    assert not any(s.reason == "not_avoided" for s in result.shortages)
    assert result.stockouts == 2 + 1 + 3


def test_unplannable_parts_are_alerts_with_the_demand_at_risk():
    state = SupplyState(
        periods=3,
        parts=(Part("NONE", (5, 5, 5), on_hand=4), Part("FAR", (1, 1, 1)),
               Part("ZERO", (2, 2, 2)), Part("OK", (1, 1, 1))),
        suppliers=(Supplier("A"), Supplier("Z", (0.0, 0.0, 0.0))),
        offers=(Offer("FAR", "A", 1.0, lead_time=3), Offer("ZERO", "Z", 1.0),
                Offer("OK", "A", 1.0)),
    )
    result = plan(state, PlanOptions(time_limit=10))
    alerts = {a.part: a for a in result.alerts}
    assert set(alerts) == {"NONE", "FAR", "ZERO"}
    assert alerts["NONE"].kind == "no_supplier" and alerts["NONE"].demand_at_risk == 11
    assert alerts["NONE"].first_short_period == 0
    assert alerts["FAR"].kind == "lead_time_beyond_horizon"
    assert alerts["ZERO"].kind == "no_capacity" and alerts["ZERO"].demand_at_risk == 6
    stored = plan_to_dict(result)["alerts"]
    assert {a["part"]: a["demand_at_risk"] for a in stored} == {"NONE": 11, "FAR": 3,
                                                                "ZERO": 6}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: one_part((1, 2), multiple=2.5), "multiple must be a whole number, got 2.5"),  # type: ignore[arg-type]
        (lambda: one_part((1, math.nan)), "demand[1] must be a whole number, got nan"),  # type: ignore[arg-type]
        (lambda: one_part((1, 2), on_hand=math.inf), "on_hand must be a whole number"),  # type: ignore[arg-type]
        (lambda: one_part((1, 2), price=math.nan), "price must be finite, got nan"),
        (lambda: one_part((1, 2), price=math.inf), "price must be finite, got inf"),
        (lambda: one_part((1, 2), holding=-1.0), "holding_cost must not be negative"),
        (lambda: one_part((1, 2), capacity=(math.nan, 1.0)), "capacity[0] must be finite"),
        (lambda: one_part((1, 2), moq=True), "moq must be a whole number, got True"),  # type: ignore[arg-type]
        (lambda: one_part((1, 2), receipts=(Receipt("P", "GHOST", 5, 0),)),
         "unknown supplier 'GHOST'"),
        (lambda: one_part((1, 2), receipts=(Receipt("P", "A", 2.5, 0),)),  # type: ignore[arg-type]
         "quantity must be a whole number, got 2.5"),
        (lambda: one_part((1, 2), receipts=(Receipt("P", "A", math.inf, 0),)),  # type: ignore[arg-type]
         "quantity must be a whole number, got inf"),
        (lambda: one_part((1, 2), budget=(math.inf, 1.0)), "budget[0] must be finite"),
    ],
)
def test_the_library_refuses_bad_inputs_with_one_line(build, message):
    with pytest.raises(StateError) as err:
        build()
    assert message in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (OrderLine("P", "A", 0, 0, 2.5, 1.0), "quantity must be a whole number"),  # type: ignore[arg-type]
        (OrderLine("P", "A", 0, 0, -1, 1.0), "negative quantity"),
        (OrderLine("P", "A", 0, 0, 1, math.nan), "unit_price must be finite"),
    ],
)
def test_a_bad_previous_plan_is_refused(line, message):
    with pytest.raises(StateError, match=message):
        plan(one_part((1, 2)), PlanOptions(time_limit=5), (line,))


def test_options_refuse_non_finite_numbers():
    with pytest.raises(ValueError, match="time_limit must be a finite number"):
        PlanOptions(time_limit=math.inf)
    with pytest.raises(ValueError, match="line_stop_cost must be a finite number"):
        PlanOptions(line_stop_cost=math.nan)


def test_the_warm_start_returned_unchanged_is_not_called_the_optimizers():
    # A clock that jumps 100 s a reading: the time limit is gone before the solver starts.
    ticks = itertools.count(0.0, 100.0)
    state = generate(8, 2, 6, seed=3)
    result = plan(state, PlanOptions(time_limit=10, method="decompose"),
                  clock=lambda: next(ticks))
    assert result.source == "naive"
    assert "warm start unchanged" in result.source_detail
    assert result.stockouts == result.naive_stockouts
    ticks = itertools.count(0.0, 100.0)
    result = plan(state, PlanOptions(time_limit=10, method="milp"), clock=lambda: next(ticks))
    assert result.source == "naive"
    assert result.source_detail == ("the model build used up the time limit: the naive plan "
                                    "is adopted")


def test_the_source_says_why_the_optimizer_was_adopted():
    result = plan(one_part((0, 0, 0, 30), capacity=(10.0,) * 4), PlanOptions(time_limit=10))
    assert result.source == "optimizer"
    assert result.source_detail.startswith("optimizer (")
    assert "0 part-periods short against 1 for the naive plan" in result.source_detail


@pytest.mark.parametrize(("method", "size"), [("decompose", (400, 5, 28)),
                                              ("milp", (80, 4, 20))])
def test_the_time_limit_holds_model_build_and_first_pass_included(method, size):
    # The first pass of the decomposition over 400 parts alone takes several seconds here,
    # and the MILP's build plus HiGHS more than the limit: both must stop on time.
    state = generate(*size, seed=2)
    started = time.perf_counter()
    result = plan(state, PlanOptions(method=method, time_limit=1.0))  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    assert wall < 1.0 + 3.0, f"{method} took {wall:.1f}s on a 1s limit"
    assert result.wall_seconds is not None and result.time_limit == 1.0
    assert result.source in ("optimizer", "naive")
    assert result.stockouts is not None and result.stockouts <= (result.naive_stockouts or 0)


def test_plan_to_dict_carries_the_service_figures():
    result = plan(one_part((10, 10), lead=1), PlanOptions(time_limit=5))
    data = plan_to_dict(result)
    assert isinstance(result, Plan)
    assert data["stockouts"] == 1 and data["naive_stockouts"] == 1
    assert data["shortages_avoided"] == 0
    assert data["shortages"] == [{"part": "P", "periods": [0], "units": 10,
                                  "reason": "lead_time"}]
    assert data["cost"]["line_stop"] > 0 and data["source_detail"]


def test_the_naive_method_adopts_the_baseline_and_says_so():
    state = one_part((0, 0, 0, 30), capacity=(10.0,) * 4)
    result = plan(state, PlanOptions(method="naive"))
    assert result.source == "naive" and result.report.method == "naive"
    assert result.source_detail == "the naive lot-for-lot policy, as configured"
    assert result.stockouts == result.naive_stockouts == 1


def test_decomposition_never_returns_more_shortages_than_its_warm_start():
    # A congested network (the first supplier out for five periods): the plan of lowest
    # objective has more periods short than lot-for-lot; it must not be the one returned.
    from optimizer import apply_scenario, parse_scenario
    from optimizer.decompose import decompose

    state = apply_scenario(generate(30, 3, 14, seed=1), parse_scenario("outage:S01:5"))
    problem = compile_problem(state, PlanOptions())
    naive = naive_orders(problem)
    result = decompose(problem, time_limit=4, rel_gap=0.005, max_iterations=300,
                       clock=time.perf_counter, incumbent=naive)
    assert result.orders is not None
    found, start = evaluate(problem, result.orders), evaluate(problem, naive)
    assert found.feasible and found.shortages <= start.shortages
