"""One planning run: state in, adopted plan out, with the adoption rule applied.

1. Stale inputs are made conservative (if a freshness policy and ``now`` are given).
2. The fallback is the cheaper feasible plan of the naive lot-for-lot policy and the previous
   plan, priced by our own evaluator.
3. The chosen method (monolithic MILP on HiGHS/CBC, or the Lagrangian decomposition) starts
   from the fallback.
4. Its plan is adopted only if feasible and no costlier than the fallback under the same cost
   function; otherwise the fallback is adopted and the plan says why.
5. An infeasible or failed solve produces no new orders: the previous plan is kept, with the
   reason.

``clock`` is a monotonic timer used for time budgets and timings only (inject a fake in tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

from optimizer.costs import Orders, evaluate
from optimizer.decompose import decompose
from optimizer.explain import order_lines
from optimizer.freshness import FreshnessPolicy, apply_freshness
from optimizer.model import build_model
from optimizer.naive import naive_orders
from optimizer.options import PlanOptions
from optimizer.plan import CostBreakdown, OrderLine, Plan, PlanSource, SolveReport
from optimizer.problem import Problem, compile_problem
from optimizer.solvers import solve_model
from optimizer.state import SupplyState

Progress = Callable[[str, float], None]


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
    stale: list[str] = []
    if freshness is not None and now is not None:
        state, found = apply_freshness(state, freshness, now)
        stale = [item.describe() for item in found]
    inputs = tuple(state.event_ids())
    started = clock()
    problem = compile_problem(state, options, previous)
    method = options.method
    if method == "auto":
        method = "milp" if problem.columns_estimate() <= options.milp_max_columns else "decompose"
    parameters = {**options.as_dict(), "method_used": method}
    _say(progress, "fallback plans", 0.0)
    naive = naive_orders(problem)
    candidates: list[tuple[PlanSource, Orders, float]] = []
    naive_eval = evaluate(problem, naive)
    if naive_eval.feasible:
        candidates.append(("naive", naive, naive_eval.cost.total))
    previous_orders = dict(problem.previous)
    if previous_orders:
        prev_eval = evaluate(problem, previous_orders)
        if prev_eval.feasible:
            candidates.append(("previous", previous_orders, prev_eval.cost.total))
    fallback = min(candidates, key=lambda c: c[2]) if candidates else None
    build_seconds = clock() - started

    def keep_previous(report: SolveReport, why: str) -> Plan:
        return _keep_previous(problem, previous, report, why, inputs, parameters, stale)

    frozen_eval = evaluate(problem, problem.frozen)
    if method == "decompose" and not frozen_eval.feasible:
        report = SolveReport("decompose", "dp", "infeasible", False, build_seconds=build_seconds)
        return keep_previous(report, "infeasible: " + "; ".join(frozen_eval.violations[:3]))
    start = fallback[1] if fallback else None
    if method == "milp":
        _say(progress, f"building the MILP ({problem.columns_estimate():,} columns)", 0.05)
        model = build_model(problem)
        build_seconds = clock() - started
        _say(progress, f"solving with {options.solver}", 0.1)
        try:
            outcome = solve_model(
                model, problem, solver=options.solver, time_limit=options.time_limit,
                rel_gap=options.rel_gap, start=start, threads=options.threads,
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
        if not outcome.has_solution:
            return keep_previous(report, f"no solution: {outcome.solver} says {outcome.status}")
        candidate: Orders = {**problem.frozen, **model.orders()}
        bound = outcome.bound
    else:
        result = decompose(
            problem, time_limit=options.time_limit, rel_gap=options.rel_gap,
            max_iterations=options.max_iterations, clock=clock, incumbent=start,
            progress=(lambda msg, f: _say(progress, msg, 0.1 + 0.9 * f)) if progress else None,
        )
        report = SolveReport(
            "decompose", "dp", result.status, result.orders is not None,
            objective=result.upper if result.orders is not None else None,
            bound=result.lower, build_seconds=build_seconds, solve_seconds=result.seconds,
            iterations=result.iterations,
        )
        if result.orders is None:
            return keep_previous(report, f"no feasible plan found ({result.status})")
        candidate = result.orders
        bound = result.lower
    _say(progress, "checking the plan", 1.0)
    source, adopted, reasons = adopt(problem, candidate, fallback)
    if source == "none":
        return keep_previous(report, reasons[0])
    adopted_eval = evaluate(problem, adopted)
    cost = adopted_eval.cost
    final_report = _with_gap(report, cost.total, bound)
    return Plan(
        lines=order_lines(problem, adopted), cost=cost, source=source, report=final_report,
        fallback_cost=fallback[2] if fallback else None, reasons=tuple(reasons), inputs=inputs,
        parameters=parameters, stale=tuple(stale), naive_cost=naive_eval.cost.total,
        naive_stockouts=_short(naive_eval.net), stockouts=_short(adopted_eval.net),
    )


def _short(net: tuple[tuple[int, ...], ...]) -> int:
    return sum(1 for path in net for n in path if n < 0)


def adopt(
    problem: Problem, candidate: Orders, fallback: tuple[PlanSource, Orders, float] | None,
) -> tuple[PlanSource, Orders, list[str]]:
    """The adoption rule: the candidate only if feasible and no costlier than the fallback.

    Returns the source adopted (``none`` when neither is usable), its orders, and why the
    candidate was turned down (empty when adopted).
    """
    reasons: list[str] = []
    evaluation = evaluate(problem, candidate)
    if not evaluation.feasible:
        reasons.append("solver plan rejected: " + "; ".join(evaluation.violations[:3]))
    elif fallback is not None and evaluation.cost.total > fallback[2] * (1 + 1e-9) + 1e-6:
        reasons.append(
            f"solver plan costs {evaluation.cost.total:,.2f}, more than the {fallback[0]} "
            f"plan ({fallback[2]:,.2f})"
        )
    if not reasons:
        return "optimizer", candidate, reasons
    if fallback is None:
        return "none", {}, reasons
    return fallback[0], fallback[1], reasons


def _with_gap(report: SolveReport, cost: float, bound: float | None) -> SolveReport:
    from dataclasses import replace

    if bound is None or cost <= 0:
        return report
    return replace(report, gap=max(0.0, (cost - bound) / cost))


def _keep_previous(
    problem: Problem, previous: Sequence[OrderLine], report: SolveReport, why: str,
    inputs: tuple[str, ...], parameters: dict, stale: list[str],
) -> Plan:
    lines = tuple(previous)
    orders = dict(problem.previous)
    cost = evaluate(problem, orders).cost if orders else CostBreakdown()
    return Plan(
        lines=lines, cost=cost, source="previous" if lines else "none", report=report,
        reasons=(why, "no new orders: the previous plan is kept"), inputs=inputs,
        parameters=parameters, stale=tuple(stale),
    )


def _say(progress: Progress | None, message: str, fraction: float) -> None:
    if progress is not None:
        progress(message, fraction)
