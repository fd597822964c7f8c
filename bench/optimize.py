"""Benchmark the planner on seeded networks: service first, then cost, within the time limit.

Each instance is planned by ``optimizer.plan`` exactly as the gateway plans (naive and
previous-plan fallbacks, the adoption rule, the time limit kept outside the solver), and
compared with the naive lot-for-lot policy on the same instance:

- part-periods short under the adopted plan and under naive, and the signed difference
  (positive = shortages avoided; a negative figure is a plan worse than naive);
- the operating cost (line-stop charges excluded) against naive's;
- the proven lower bound and the gap after the service stage: (plan objective - bound) over
  the plan's operating cost, valid for every plan with no more periods short than this one;
- the wall time of the whole call (model build included) against its limit.

Every instance comes in the generator's normal form and a ``tight`` one (stock below the
lead times, capacity barely above demand: every supplier oversubscribed early on).

    python bench/optimize.py            # (100,5,28), (500,5,28), (2000,8,28), each also tight
    python bench/optimize.py --quick    # (20,3,14) and (100,5,28), each also tight
    python bench/optimize.py --size 500,5,28 --no-tight --method milp
    python bench/optimize.py --size 500,5,28 --no-tight --seeds 1,2,3   # gap per seed
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from optimizer import PlanOptions, generate, plan

SIZES = [(100, 5, 28), (500, 5, 28), (2000, 8, 28)]
QUICK = [(20, 3, 14), (100, 5, 28)]
# Time limit per size (seconds): the targets are 60 s at (500,5,28) and 5 minutes at
# (2000,8,28).
LIMITS = {(20, 3, 14): 10.0, (100, 5, 28): 30.0, (500, 5, 28): 60.0, (2000, 8, 28): 300.0}
QUICK_LIMITS = {(20, 3, 14): 5.0, (100, 5, 28): 15.0}


@dataclass
class Row:
    instance: str
    limit: float
    wall: float
    source: str
    method: str
    status: str
    short: int | None
    naive_short: int | None
    operating: float
    naive_operating: float | None
    bound: float | None
    gap: float | None
    alerts: int


def run(size: tuple[int, int, int], limit: float, seed: int, tight: bool,
        method: str, solver: str) -> Row:
    parts, suppliers, periods = size
    state = generate(parts, suppliers, periods, seed=seed, tight=tight)
    options = PlanOptions(time_limit=limit, method=method, solver=solver)  # type: ignore[arg-type]
    started = time.perf_counter()
    result = plan(state, options, clock=time.perf_counter)
    wall = time.perf_counter() - started
    r = result.report
    return Row(",".join(map(str, size)) + (" tight" if tight else ""), limit, wall,
               result.source, f"{r.method}/{r.solver}", r.status, result.stockouts,
               result.naive_stockouts, result.cost.operating, result.naive_operating_cost,
               r.bound, r.gap, len(result.alerts))


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and limits")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", metavar="N,N,...",
                        help="several seeds (overrides --seed); prints each gap and the worst")
    parser.add_argument("--size", action="append", metavar="P,S,T",
                        help="only this size (repeatable), e.g. --size 500,5,28")
    parser.add_argument("--limit", type=float, help="time limit for every instance (s)")
    parser.add_argument("--no-tight", action="store_true", help="skip the tight variants")
    parser.add_argument("--method", choices=["auto", "milp", "decompose"], default="auto")
    parser.add_argument("--solver", choices=["highs", "cbc"], default="highs")
    args = parser.parse_args()
    sizes = QUICK if args.quick else SIZES
    limits = QUICK_LIMITS if args.quick else LIMITS
    if args.size:
        try:
            sizes = [tuple(int(x) for x in text.split(",")) for text in args.size]  # type: ignore[misc]
        except ValueError:
            parser.error("--size expects PARTS,SUPPLIERS,PERIODS")
        if any(len(s) != 3 or min(s) < 1 for s in sizes):
            parser.error("--size expects three positive integers")
    try:
        seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    except ValueError:
        parser.error("--seeds expects integers separated by commas")
    console = Console(width=max(Console().width, 160))
    table = Table(title=f"bench/optimize.py (seeds {', '.join(map(str, seeds))}, method "
                        f"{args.method}): the adopted plan against naive lot-for-lot on the "
                        "same instance")
    for column in ("instance", "adopted", "method", "status", "short plan/naive",
                   "avoided", "op. cost", "x naive", "bound", "gap", "wall / limit", "alerts"):
        table.add_column(column, justify="left" if column in ("instance", "adopted", "method",
                                                               "status") else "right")
    started = time.perf_counter()
    worse = 0
    gaps: dict[str, list[tuple[int, float | None]]] = {}
    for size, tight, seed in [(size, tight, seed) for size in sizes
                              for tight in ((False,) if args.no_tight else (False, True))
                              for seed in seeds]:
        limit = args.limit or limits.get(size, 60.0)
        console.log(f"planning {size}{' tight' if tight else ''} seed {seed} "
                    f"(limit {limit:g} s)")
        row = run(size, limit, seed, tight, args.method, args.solver)
        gaps.setdefault(row.instance, []).append((seed, row.gap))
        if len(seeds) > 1:
            row.instance += f" s{seed}"
        avoided = (row.naive_short - row.short
                   if row.short is not None and row.naive_short is not None else None)
        worse += avoided is not None and avoided < 0
        ratio = (row.operating / row.naive_operating
                 if row.naive_operating else None)
        table.add_row(
            row.instance, row.source, row.method, row.status,
            f"{row.short}/{row.naive_short}", _fmt(avoided, "+,d") if avoided is not None
            else "-", _fmt(row.operating), _fmt(ratio, ".3f"), _fmt(row.bound),
            _fmt(row.gap, ".2%"), f"{row.wall:.1f} / {row.limit:g} s"
            + (" [red]over[/]" if row.wall > row.limit + 2 else ""), str(row.alerts),
        )
    console.print(table)
    for instance, found in gaps.items():
        known = [g for _, g in found if g is not None]
        worst = f"worst {max(known):.2%}" if len(known) == len(found) else "some unproven"
        console.print(f"gap at {instance}: " + ", ".join(
            f"seed {seed} {_fmt(gap, '.2%')}" for seed, gap in found) + f"; {worst}")
    console.print(f"total {time.perf_counter() - started:.0f} s; plans with more part-periods "
                  f"short than naive: {worse}")


if __name__ == "__main__":
    main()
