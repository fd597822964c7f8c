"""One planning run: state in, adopted plan out, with the adoption rule applied.

1. The inputs are checked (the state validates itself; the previous plan's lines here).
2. Stale inputs are made conservative (if a freshness policy and ``now`` are given).
3. The fallback is the better feasible plan of the naive lot-for-lot policy and the previous
   plan, priced by our own evaluator: service first (fewer part-periods short), then cost.
4. The chosen method (monolithic MILP on HiGHS/CBC, or the Lagrangian decomposition) starts
   from the fallback, within what is left of the time limit (model build counts).
5. Its plan is adopted only if feasible and no worse than the fallback: never more
   part-periods short (with ``service_first``), and no costlier at equal service; otherwise
   the fallback is adopted and the plan says why. A method that returns its warm start
   unchanged is reported as the fallback it is, not as the optimizer's.
6. An infeasible or failed solve produces no new orders: the previous plan is kept, with the
   reason.

``clock`` is a monotonic timer used for time budgets and timings only (inject a fake in tests).
The whole call keeps to ``options.time_limit`` (plus the time to check and explain the plan).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from optimizer.costs import Evaluation, Orders, evaluate
from optimizer.decompose import decompose
from optimizer.explain import explain_shortages, order_lines, planning_alerts
from optimizer.freshness import FreshnessPolicy, apply_freshness
from optimizer.model import BuildTimeout, build_model
from optimizer.naive import naive_orders
from optimizer.options import PlanOptions
from optimizer.plan import CostBreakdown, OrderLine, Plan, PlanSource, SolveReport
from optimizer.problem import Problem, compile_problem
from optimizer.solvers import TRANSFER_SECONDS_PER_COLUMN, solve_model
from optimizer.state import StateError, SupplyState

Progress = Callable[[str, float], None]
Fallback = tuple[PlanSource, Orders, Evaluation]

# Seconds kept back from the time limit for checking, explaining and returning the plan.
AFTER_SOLVE = 0.5
# Model build time per column measured on this code (PuLP expression building: 9 s for 126k
# columns at (500,5,28)); with the transfer to the solver, ``auto`` refuses a MILP whose
# overhead alone would eat half the time limit.
BUILD_SECONDS_PER_COLUMN = 7e-5


def plan(
    state: SupplyState,
    options: PlanOptions | None = None,
    previous: Sequence[OrderLine] = (),
    *,
    now: datetime | None = None,
    freshness: FreshnessPolicy | None = None,
    clock: Callable[[], float] = time.perf_counter,
    progress: Progress | None = None,
) -> Plan:
    options = options or PlanOptions()
    started = clock()
    deadline = started + options.time_limit
    check_previous(previous)
    stale: list[str] = []
    if freshness is not None and now is not None:
        state, found = apply_freshness(state, freshness, now)
        stale = [item.describe() for item in found]
    inputs = tuple(state.event_ids())
    problem = compile_problem(state, options, previous)
    method = choose_method(problem, options)
    parameters = {**options.as_dict(), "method_used": method}
    _say(progress, "fallback plans", 0.0)
    naive = naive_orders(problem)
    naive_eval = evaluate(problem, naive)
    candidates: list[Fallback] = []
    if naive_eval.feasible:
        candidates.append(("naive", naive, naive_eval))
    previous_orders = dict(problem.previous)
    if previous_orders:
        prev_eval = evaluate(problem, previous_orders)
        if prev_eval.feasible:
            candidates.append(("previous", previous_orders, prev_eval))
    service = options.service_first
    fallback = min(candidates, key=lambda c: c[2].key(service)) if candidates else None
    build_seconds = clock() - started
    alerts = planning_alerts(problem)

    def finish(result: Plan) -> Plan:
        return replace(result, alerts=alerts, time_limit=options.time_limit,
                       wall_seconds=clock() - started, naive_cost=naive_eval.cost.total,
                       naive_operating_cost=naive_eval.cost.operating,
                       naive_stockouts=naive_eval.shortages)

    def keep_previous(report: SolveReport, why: str) -> Plan:
        return finish(_keep_previous(problem, previous, report, why, inputs, parameters,
                                     stale))

    frozen_eval = evaluate(problem, problem.frozen)
    if method == "decompose" and not frozen_eval.feasible:
        report = SolveReport("decompose", "dp", "infeasible", False, build_seconds=build_seconds)
        return keep_previous(report, "infeasible: " + "; ".join(frozen_eval.violations[:3]))
    start = fallback[1] if fallback else None
    budget = deadline - AFTER_SOLVE - clock()
    if method == "naive":
        report = SolveReport("naive", "lot-for-lot", "policy", naive_eval.feasible,
                             build_seconds=build_seconds)
        if not naive_eval.feasible:
            return keep_previous(report, "infeasible: " + "; ".join(naive_eval.violations[:3]))
        return _fallback_plan(problem, ("naive", naive, naive_eval), report, inputs, parameters,
                              stale, finish, "the naive lot-for-lot policy, as configured")
    if method == "milp":
        _say(progress, f"building the MILP ({problem.columns_estimate():,} columns)", 0.05)
        transfer = TRANSFER_SECONDS_PER_COLUMN * problem.columns_estimate()
        try:
            model = build_model(problem, deadline=deadline - AFTER_SOLVE - transfer,
                                clock=clock)
        except BuildTimeout:
            model = None
        build_seconds = clock() - started
        budget = deadline - AFTER_SOLVE - clock()
        if model is None or budget <= 0.05:
            report = SolveReport("milp", options.solver, "time limit before solving", False,
                                 build_seconds=build_seconds)
            return _fallback_plan(problem, fallback, report, inputs, parameters, stale, finish,
                                  "the model build used up the time limit")
        _say(progress, f"solving with {options.solver}", 0.1)
        try:
            outcome = solve_model(
                model, problem, solver=options.solver, time_limit=budget,
                rel_gap=options.rel_gap, start=start, threads=options.threads,
                deadline=deadline - AFTER_SOLVE, clock=clock,
            )
        except Exception as exc:
            report = SolveReport("milp", options.solver, "error", False,
                                 build_seconds=build_seconds, message=repr(exc))
            return keep_previous(report, f"solver failed: {exc!r}")
        report = SolveReport(
            "milp", outcome.solver, outcome.status, outcome.has_solution,
            objective=outcome.objective, bound=outcome.bound, build_seconds=build_seconds,
            solve_seconds=outcome.seconds, message=outcome.message,
        )
        if outcome.infeasible:
            return keep_previous(report, f"infeasible: {outcome.solver} says {outcome.status}")
        if not outcome.has_solution and outcome.status == "time limit before solving":
            return _fallback_plan(problem, fallback, report, inputs, parameters, stale, finish,
                                  outcome.message)
        if not outcome.has_solution:
            return keep_previous(report, f"no solution: {outcome.solver} says {outcome.status}")
        candidate: Orders = {**problem.frozen, **model.orders()}
        bound = outcome.bound
    else:
        result = decompose(
            problem, time_limit=max(budget, 0.0), rel_gap=options.rel_gap,
            max_iterations=options.max_iterations, clock=clock, incumbent=start,
            progress=(lambda msg, f: _say(progress, msg, 0.1 + 0.9 * f)) if progress else None,
        )
        report = SolveReport(
            "decompose", "dp", result.status, result.orders is not None,
            objective=result.upper if result.orders is not None else None,
            bound=result.lower if math.isfinite(result.lower) else None,
            build_seconds=build_seconds, solve_seconds=result.seconds,
            iterations=result.iterations,
        )
        if result.orders is None:
            return keep_previous(report, f"no feasible plan found ({result.status})")
        candidate = result.orders
        bound = report.bound
    _say(progress, "checking the plan", 1.0)
    if fallback is not None and _same(candidate, fallback[1]):
        why = (f"{report.method} returned its warm start unchanged ({report.status}): "
               f"the {fallback[0]} plan is adopted")
        return _fallback_plan(problem, fallback, report, inputs, parameters, stale, finish, why,
                              bound=bound)
    source, adopted, reasons = adopt(problem, candidate, fallback, service_first=service)
    if source == "none":
        return keep_previous(report, reasons[0])
    adopted_eval = evaluate(problem, adopted)
    if source == "optimizer":
        detail = (f"optimizer ({report.method}, {report.status}): "
                  + _versus(adopted_eval, fallback))
    else:
        detail = f"{source} plan adopted: {reasons[0]}"
    return finish(Plan(
        lines=order_lines(problem, adopted), cost=adopted_eval.cost, source=source,
        report=_with_gap(report, adopted_eval, bound),
        fallback_cost=fallback[2].cost.total if fallback else None, reasons=tuple(reasons),
        inputs=inputs, parameters=parameters, stale=tuple(stale),
        stockouts=adopted_eval.shortages, source_detail=detail,
        shortages=explain_shortages(problem, adopted, adopted_eval.net),
    ))


def choose_method(problem: Problem, options: PlanOptions) -> str:
    """``auto``: the decomposition, except for models small enough for the MILP to prove
    optimality at once; and never a MILP whose build alone would eat half the time limit."""
    if options.method != "auto":
        return options.method
    columns = problem.columns_estimate()
    if columns > options.milp_max_columns:
        return "decompose"
    if columns * (BUILD_SECONDS_PER_COLUMN + TRANSFER_SECONDS_PER_COLUMN) > options.time_limit / 2:
        return "decompose"
    return "milp"


def check_previous(previous: Sequence[OrderLine]) -> None:
    """The previous plan's lines must be whole, finite and not negative (one-line errors)."""
    for i, line in enumerate(previous):
        for name in ("period", "arrival_period", "quantity"):
            value = getattr(line, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise StateError(f"previous line {i} ({line.part}/{line.supplier}): {name} "
                                 f"must be a whole number, got {value!r}")
        if line.quantity < 0:
            raise StateError(f"previous line {i} ({line.part}/{line.supplier}): negative "
                             "quantity")
        if not (isinstance(line.unit_price, int | float) and math.isfinite(line.unit_price)
                and line.unit_price >= 0):
            raise StateError(f"previous line {i} ({line.part}/{line.supplier}): unit_price "
                             f"must be finite and not negative, got {line.unit_price!r}")


def _same(a: Orders, b: Orders) -> bool:
    return {k: q for k, q in a.items() if q} == {k: q for k, q in b.items() if q}


def _versus(ev: Evaluation, fallback: Fallback | None) -> str:
    if fallback is None:
        return f"{ev.shortages} part-periods short, cost {ev.cost.operating:,.2f}"
    fb = fallback[2]
    return (f"{ev.shortages} part-periods short against {fb.shortages} for the {fallback[0]} "
            f"plan, operating cost {ev.cost.operating:,.2f} against {fb.cost.operating:,.2f}")


def _fallback_plan(
    problem: Problem, fallback: Fallback | None, report: SolveReport,
    inputs: tuple[str, ...], parameters: dict, stale: list[str], finish: Callable[[Plan], Plan],
    why: str, bound: float | None = None,
) -> Plan:
    if fallback is None:
        return finish(_keep_previous(problem, (), report, why, inputs, parameters, stale))
    source, orders, ev = fallback
    if source not in why:
        why = f"{why}: the {source} plan is adopted"
    return finish(Plan(
        lines=order_lines(problem, orders), cost=ev.cost, source=source,
        report=_with_gap(report, ev, bound), fallback_cost=ev.cost.total, reasons=(why,),
        inputs=inputs, parameters=parameters, stale=tuple(stale), stockouts=ev.shortages,
        source_detail=why, shortages=explain_shortages(problem, orders, ev.net),
    ))


def adopt(
    problem: Problem, candidate: Orders, fallback: Fallback | None, *,
    service_first: bool = True,
) -> tuple[PlanSource, Orders, list[str]]:
    """The adoption rule: the candidate only if feasible and no worse than the fallback.

    With ``service_first`` a plan with more part-periods short than the fallback is refused
    whatever it saves, and one with fewer is taken; at equal service the cheaper wins.
    Returns the source adopted (``none`` when neither is usable), its orders, and why the
    candidate was turned down (empty when adopted).
    """
    reasons: list[str] = []
    evaluation = evaluate(problem, candidate)
    if not evaluation.feasible:
        reasons.append("solver plan rejected: " + "; ".join(evaluation.violations[:3]))
    elif fallback is not None:
        name, _, fb = fallback
        if service_first and evaluation.shortages > fb.shortages:
            reasons.append(
                f"solver plan has {evaluation.shortages} part-periods short, more than the "
                f"{name} plan ({fb.shortages}): service comes before cost"
            )
        elif ((not service_first or evaluation.shortages == fb.shortages)
              and evaluation.cost.total > fb.cost.total * (1 + 1e-9) + 1e-6):
            reasons.append(
                f"solver plan costs {evaluation.cost.total:,.2f}, more than the {name} "
                f"plan ({fb.cost.total:,.2f})"
            )
    if not reasons:
        return "optimizer", candidate, reasons
    if fallback is None:
        return "none", {}, reasons
    return fallback[0], fallback[1], reasons


def _with_gap(report: SolveReport, ev: Evaluation, bound: float | None) -> SolveReport:
    """The gap of the adopted plan: its distance to the bound over its operating cost.

    Objective and bound both include the line-stop charges; dividing by the operating cost
    (not by the total, which those charges inflate) keeps the figure honest: a shortage the
    bound cannot prove unavoidable shows up as gap instead of vanishing in a large total.
    """
    if bound is None or not math.isfinite(bound):
        return report
    operating = ev.cost.operating
    if operating <= 0:
        return replace(report, gap=0.0 if ev.cost.total <= bound + 1e-6 else None)
    return replace(report, gap=max(0.0, (ev.cost.total - bound) / operating))


def _keep_previous(
    problem: Problem, previous: Sequence[OrderLine], report: SolveReport, why: str,
    inputs: tuple[str, ...], parameters: dict, stale: list[str],
) -> Plan:
    lines = tuple(previous)
    orders = dict(problem.previous)
    ev = evaluate(problem, orders)
    cost = ev.cost if orders else CostBreakdown()
    source: PlanSource = "previous" if lines else "none"
    return Plan(
        lines=lines, cost=cost, source=source, report=report,
        reasons=(why, "no new orders: the previous plan is kept"), inputs=inputs,
        parameters=parameters, stale=tuple(stale), stockouts=ev.shortages,
        source_detail=f"{source}: {why}; no new orders",
    )


def _say(progress: Progress | None, message: str, fraction: float) -> None:
    if progress is not None:
        progress(message, fraction)
