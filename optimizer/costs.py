"""The cost evaluator: our own, independent of any solver, used to compare every candidate plan.

A plan is adopted only if this function says it costs no more than the fallback, so solver
objective values (which may be off by tolerances, or be incumbents reported as "optimal") never
decide on their own. It also checks every hard constraint and names each violation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from optimizer.plan import CostBreakdown
from optimizer.problem import Problem

Orders = Mapping[tuple[int, int, int], int]
TOL = 1e-6


@dataclass(frozen=True)
class Evaluation:
    cost: CostBreakdown
    violations: tuple[str, ...]
    net: tuple[tuple[int, ...], ...]

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def shortages(self) -> int:
        """Part-periods short (net inventory below zero): the service measure."""
        return shortage_periods(self.net)

    def key(self, service_first: bool = True) -> tuple[float, float]:
        """What the adoption rule compares: (shortages, cost), or cost alone."""
        return (self.shortages if service_first else 0, self.cost.total)


def shortage_periods(net: tuple[tuple[int, ...], ...] | list[list[int]]) -> int:
    return sum(1 for path in net for n in path if n < 0)


def arrivals_by_part(problem: Problem, orders: Orders) -> list[list[int]]:
    arrivals = [[0] * problem.periods for _ in problem.parts]
    for (p, s, t), q in orders.items():
        offer = problem.offer(p, s)
        if offer is not None and q > 0 and 0 <= t + offer.lead < problem.periods:
            arrivals[p][t + offer.lead] += q
    return arrivals


def part_stock_cost(problem: Problem, p: int, arrivals: list[int]) -> tuple[float, float, float,
                                                                             list[int]]:
    """Holding, backlog (with the line-stop charge of each period short) and shortfall cost of
    one part given its arrivals, and the net path."""
    part = problem.parts[p]
    n = part.n0
    holding = backlog = shortfall = 0.0
    path = []
    for t in range(problem.periods):
        n += part.receipts[t] + arrivals[t] - part.demand[t]
        path.append(n)
        stock = max(n, 0)
        holding += part.holding * stock
        if n < 0:
            backlog += part.backlog * -n + part.stop
        shortfall += part.shortfall * max(part.safety - stock, 0)
    return holding, backlog, shortfall, path


def evaluate(problem: Problem, orders: Orders) -> Evaluation:
    T = problem.periods
    F = problem.options.frozen_periods
    violations: list[str] = []
    purchase = ordering = 0.0
    used = [[0.0] * T for _ in problem.supplier_ids]
    spend = [0.0] * T
    per_part_supplier: dict[tuple[int, int], int] = {}
    per_part: dict[int, int] = {}
    for (p, s, t), q in sorted(orders.items()):
        if q == 0:
            continue
        where = f"{problem.parts[p].id}/{problem.supplier_ids[s]}@{t}"
        offer = problem.offer(p, s)
        if offer is None:
            violations.append(f"{where}: supplier not eligible")
            continue
        if q < 0:
            violations.append(f"{where}: negative quantity {q}")
            continue
        if t < 0 or t + offer.lead >= T:
            violations.append(f"{where}: arrival outside the horizon")
            continue
        frozen = (p, s, t) in problem.frozen
        if t < F and not frozen:
            violations.append(f"{where}: new order inside the frozen horizon")
        if frozen and problem.frozen[(p, s, t)] != q:
            violations.append(f"{where}: frozen order changed")
        if not frozen:
            if q % offer.multiple:
                violations.append(f"{where}: {q} is not a multiple of {offer.multiple}")
            if q < offer.moq:
                violations.append(f"{where}: {q} below MOQ {offer.moq}")
        purchase += offer.price * q
        ordering += offer.fixed
        used[s][t + offer.lead] += q
        spend[t] += offer.price * q
        if not frozen:  # the share rule governs new decisions; frozen orders are facts
            per_part_supplier[(p, s)] = per_part_supplier.get((p, s), 0) + q
            per_part[p] = per_part.get(p, 0) + q
    for (p, s, t), q in problem.frozen.items():
        if orders.get((p, s, t), 0) != q:
            violations.append(
                f"{problem.parts[p].id}/{problem.supplier_ids[s]}@{t}: frozen order missing"
            )
    for s, row in enumerate(used):
        for a, u in enumerate(row):
            if u > problem.capacity[s][a] + TOL:
                violations.append(
                    f"supplier {problem.supplier_ids[s]} period {a}: {u:g} exceeds capacity "
                    f"{problem.capacity[s][a]:g}"
                )
    if problem.budget is not None:
        for t, value in enumerate(spend):
            if value > problem.budget[t] * (1 + 1e-9) + TOL:
                violations.append(
                    f"period {t}: spend {value:.2f} exceeds budget {problem.budget[t]:.2f}"
                )
    for p, part in enumerate(problem.parts):
        total = per_part.get(p, 0)
        for s, (lo, hi) in part.shares.items():
            q = per_part_supplier.get((p, s), 0)
            if q > hi * total + TOL:
                violations.append(f"{part.id}/{problem.supplier_ids[s]}: share "
                                  f"{q / total:.0%} above {hi:.0%}")
            elif q < lo * total - TOL:
                violations.append(f"{part.id}/{problem.supplier_ids[s]}: share "
                                  f"{q / total:.0%} below {lo:.0%}")
    change = 0.0
    if problem.options.change_penalty > 0:
        keys = set(problem.previous) | {k for k, q in orders.items() if q}
        change = problem.options.change_penalty * sum(
            abs(orders.get(k, 0) - problem.previous.get(k, 0)) for k in keys if k[2] >= F
        )
    holding = backlog = shortfall = line_stop = 0.0
    paths = []
    arrivals = arrivals_by_part(problem, orders)
    for p, part in enumerate(problem.parts):
        h, b, sh, path = part_stock_cost(problem, p, arrivals[p])
        stops = part.stop * sum(1 for n in path if n < 0)
        holding, backlog, shortfall = holding + h, backlog + b - stops, shortfall + sh
        line_stop += stops
        paths.append(tuple(path))
        if path and max(path) > part.hi:
            violations.append(f"{part.id}: stock {max(path)} above the bound {part.hi}")
    cost = CostBreakdown(purchase, ordering, holding, backlog, shortfall, change, line_stop)
    return Evaluation(cost, tuple(violations), tuple(paths))


def part_cost(problem: Problem, p: int, orders: Mapping[tuple[int, int], int]) -> float:
    """One part's share of the cost function; ``orders`` maps (supplier, period) -> quantity."""
    return part_key(problem, p, orders)[1]


def part_key(problem: Problem, p: int,
             orders: Mapping[tuple[int, int], int]) -> tuple[int, float]:
    """One part's (periods short, cost): how the polish ranks a part's alternatives."""
    arrivals = [0] * problem.periods
    total = 0.0
    for (s, t), q in orders.items():
        offer = problem.offer(p, s)
        if offer is None or q <= 0:
            continue
        arrivals[t + offer.lead] += q
        total += offer.fixed + offer.price * q
    holding, backlog, shortfall, path = part_stock_cost(problem, p, arrivals)
    total += holding + backlog + shortfall
    penalty = problem.options.change_penalty
    if penalty > 0:
        F = problem.options.frozen_periods
        keys = {(s, t) for (pp, s, t) in problem.previous if pp == p} | set(orders)
        total += penalty * sum(
            abs(orders.get(k, 0) - problem.previous.get((p, k[0], k[1]), 0))
            for k in keys if k[1] >= F
        )
    short = sum(1 for n in path if n < 0) if problem.options.service_first else 0
    return short, total
