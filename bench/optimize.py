"""Benchmark the planner on seeded networks: CBC and HiGHS (monolithic MILP) vs decomposition.

For each size it prints build time, solve time, the solver's own status, the cost of each
method's raw plan (priced by our evaluator), its proven lower bound, its gap against the best
bound proven in the run, and ratios against the naive lot-for-lot policy (cheapest supplier
first) measured on the same instance. The "adopted" column applies the adoption rule (never
costlier than the fallback).

    python bench/optimize.py            # all four sizes: about 25 minutes on 2 cores
    python bench/optimize.py --quick    # (20,3,14) and (100,5,28): about 3 minutes
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from optimizer.costs import evaluate
from optimizer.decompose import decompose
from optimizer.generator import generate
from optimizer.model import build_model
from optimizer.naive import naive_orders
from optimizer.options import PlanOptions
from optimizer.problem import compile_problem
from optimizer.solvers import solve_model

SIZES = [(20, 3, 14), (100, 5, 28), (500, 5, 28), (2000, 8, 28)]
# The stress case: stock below lead times, every supplier oversubscribed early (generate's
# ``tight``), decomposition only.
TIGHT = (500, 5, 28)
# (MILP limit, decomposition limit) in seconds per size; the targets are 60 s for
# (500,5,28) and 5 minutes for (2000,8,28).
LIMITS = {(20, 3, 14): (20, 10), (100, 5, 28): (60, 30), (500, 5, 28): (60, 60),
          (2000, 8, 28): (120, 290)}
QUICK_LIMITS = {(20, 3, 14): (15, 10), (100, 5, 28): (45, 30)}


@dataclass
class Row:
    size: str
    method: str
    build: float
    solve: float
    status: str
    cost: float | None
    bound: float | None
    naive: float


def run_size(size: tuple[int, int, int], limits: tuple[float, float], seed: int,
             progress: Progress, skip_milp: bool, tight: bool = False,
             gap: float = PlanOptions().rel_gap) -> list[Row]:
    parts, suppliers, periods = size
    state = generate(parts, suppliers, periods, seed=seed, tight=tight)
    label = ",".join(map(str, size)) + (" tight" if tight else "")
    problem = compile_problem(state, PlanOptions())
    t0 = time.perf_counter()
    naive = naive_orders(problem)
    naive_cost = evaluate(problem, naive).cost.total
    rows = [Row(label, "naive lot-for-lot", 0.0, time.perf_counter() - t0, "-", naive_cost, None,
                naive_cost)]
    milp_limit, dec_limit = limits
    for solver in ("cbc", "highs"):
        if skip_milp:
            break
        task = progress.add_task(f"{size} {solver}", total=None)
        t0 = time.perf_counter()
        model = build_model(problem)
        build = time.perf_counter() - t0
        outcome = solve_model(model, problem, solver=solver, time_limit=milp_limit,
                              rel_gap=1e-4, start=naive)
        solve = time.perf_counter() - t0 - build
        cost = None
        if outcome.has_solution:
            orders = {**problem.frozen, **model.orders()}
            ev = evaluate(problem, orders)
            cost = ev.cost.total if ev.feasible else None
        rows.append(Row(label, f"MILP {solver}", build, solve, outcome.status, cost,
                        outcome.bound, naive_cost))
        progress.remove_task(task)
    task = progress.add_task(f"{size} decomposition", total=1.0)
    t0 = time.perf_counter()
    result = decompose(
        problem, time_limit=dec_limit, rel_gap=gap, max_iterations=10_000,
        clock=time.perf_counter, incumbent=naive,
        progress=lambda msg, f: progress.update(task, completed=f, description=f"{size} {msg}"),
    )
    rows.append(Row(label, "decomposition", 0.0, time.perf_counter() - t0, result.status,
                    result.upper if result.orders is not None else None, result.lower,
                    naive_cost))
    progress.remove_task(task)
    return rows


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the two smallest sizes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-milp", action="store_true", help="decomposition only")
    parser.add_argument("--size", action="append", metavar="P,S,T",
                        help="only this size (repeatable), e.g. --size 500,5,28")
    parser.add_argument("--gap", type=float, default=PlanOptions().rel_gap,
                        help="decomposition's target relative gap (default: the planner's)")
    args = parser.parse_args()
    sizes = SIZES[:2] if args.quick else SIZES
    if args.size:
        try:
            sizes = [tuple(int(x) for x in text.split(",")) for text in args.size]
        except ValueError:
            parser.error("--size expects PARTS,SUPPLIERS,PERIODS")
        unknown = [s for s in sizes if s not in LIMITS]
        if unknown:
            parser.error(f"--size must be one of {', '.join(','.join(map(str, s)) for s in SIZES)}")
    limits = QUICK_LIMITS if args.quick and not args.size else LIMITS
    console = Console(width=max(Console().width, 150))
    started = time.perf_counter()
    table = Table(title=f"bench/optimize.py (seed {args.seed}, decomposition gap target "
                        f"{args.gap:.2%}); ratios vs naive lot-for-lot")
    for column in ("instance", "method", "build s", "solve s", "solver status", "plan cost",
                   "x naive", "adopted x naive", "own bound", "gap vs best bound"):
        table.add_column(column)
    with Progress(console=console, transient=True) as progress:
        runs = [(size, limits[size], args.no_milp, False) for size in sizes]
        if not args.quick and not args.size:
            runs.append((TIGHT, (0, 60), True, True))
        for size, limit, skip_milp, tight in runs:
            rows = run_size(size, limit, args.seed, progress, skip_milp, tight, args.gap)
            bounds = [r.bound for r in rows if r.bound is not None and math.isfinite(r.bound)]
            best_bound = max(bounds) if bounds else None
            for r in rows:
                ratio = r.cost / r.naive if r.cost is not None else None
                adopted = min(r.cost, r.naive) / r.naive if r.cost is not None else 1.0
                gap = ((r.cost - best_bound) / r.cost
                       if r.cost is not None and best_bound is not None else None)
                table.add_row(
                    r.size, r.method, f"{r.build:.1f}", f"{r.solve:.1f}",
                    r.status, _fmt(r.cost), _fmt(ratio, ".3f"), f"{adopted:.3f}",
                    _fmt(r.bound), _fmt(gap, ".2%"),
                )
            table.add_section()
            console.log(f"{size}{' tight' if tight else ''} done")
    console.print(table)
    console.print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
