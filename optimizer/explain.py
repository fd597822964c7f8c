"""Turn solved quantities into order lines that explain themselves.

``covers``: the demand periods each arrival serves, first in first out (stock on hand and
scheduled receipts are used first, backlog is served by the next arrival). ``bound_by``: which
constraints shaped the line:

- ``capacity``: the supplier's arrivals in that period are at its capacity;
- ``budget``: the spend of the placement period is at the budget;
- ``share``: the part's quantity from this supplier is at the diversification limit;
- ``moq`` / ``multiple``: the quantity is the minimum lot, or was rounded up to a multiple,
  beyond the demand it covers;
- ``lead_time``: it serves demand that was due before it could arrive (backlog catch-up);
- ``frozen``: it is a previous order inside the frozen horizon.
"""

from __future__ import annotations

from collections import deque

from optimizer.costs import Orders
from optimizer.plan import OrderLine
from optimizer.problem import Problem

TOL = 1e-6


def order_lines(problem: Problem, orders: Orders) -> tuple[OrderLine, ...]:
    T = problem.periods
    used = [[0.0] * T for _ in problem.supplier_ids]
    spend = [0.0] * T
    per_ps: dict[tuple[int, int], int] = {}
    per_p: dict[int, int] = {}
    for (p, s, t), q in orders.items():
        offer = problem.offer(p, s)
        if offer is None or q <= 0:
            continue
        used[s][t + offer.lead] += q
        spend[t] += q * offer.price
        if (p, s, t) not in problem.frozen:
            per_ps[(p, s)] = per_ps.get((p, s), 0) + q
            per_p[p] = per_p.get(p, 0) + q
    covers = _fifo_covers(problem, orders)
    share = problem.options.max_supplier_share
    firm = problem.options.firm_horizon
    lines = []
    for (p, s, t), q in sorted(orders.items()):
        offer = problem.offer(p, s)
        if offer is None or q <= 0:
            continue
        a = t + offer.lead
        served = covers.get((p, s, t), {})
        covered_units = sum(served.values())
        reasons = []
        frozen = (p, s, t) in problem.frozen
        if frozen:
            reasons.append("frozen")
        if used[s][a] >= problem.capacity[s][a] - TOL:
            reasons.append("capacity")
        if problem.budget is not None and spend[t] >= problem.budget[t] * (1 - 1e-6) - TOL:
            reasons.append("budget")
        if (share is not None and problem.parts[p].share_limited and not frozen
                and per_ps[(p, s)] >= share * per_p[p] - 0.5):
            reasons.append("share")
        excess = q - covered_units
        if not frozen and excess > 0:
            if q == offer.min_lot and offer.moq > offer.multiple:
                reasons.append("moq")
            elif offer.multiple > 1 and excess < offer.multiple:
                reasons.append("multiple")
        if any(period < a for period in served):
            reasons.append("lead_time")
        lines.append(
            OrderLine(
                part=problem.parts[p].id, supplier=problem.supplier_ids[s], period=t,
                arrival_period=a, quantity=q, unit_price=offer.price, fixed_cost=offer.fixed,
                frozen=frozen, firm=a < firm, covers=tuple(sorted(served)),
                bound_by=tuple(reasons),
            )
        )
    return tuple(lines)


def _fifo_covers(problem: Problem, orders: Orders) -> dict[tuple[int, int, int], dict[int, int]]:
    by_arrival: dict[tuple[int, int], list[tuple[tuple[int, int, int], int]]] = {}
    for (p, s, t), q in sorted(orders.items()):
        offer = problem.offer(p, s)
        if offer is not None and q > 0:
            by_arrival.setdefault((p, t + offer.lead), []).append(((p, s, t), q))
    out: dict[tuple[int, int, int], dict[int, int]] = {}
    for p, part in enumerate(problem.parts):
        supply: deque[list] = deque()  # [line key or None for stock, remaining units]
        unmet: deque[list[int]] = deque()  # [demand period, remaining units]
        if part.n0 > 0:
            supply.append([None, part.n0])
        elif part.n0 < 0:
            unmet.append([-1, -part.n0])  # backlog carried in from before the horizon
        for t in range(problem.periods):
            if part.receipts[t]:
                supply.append([None, part.receipts[t]])
            for key, q in by_arrival.get((p, t), []):
                supply.append([key, q])
            if part.demand[t]:
                unmet.append([t, part.demand[t]])
            while supply and unmet:
                lot, need = supply[0], unmet[0]
                take = min(lot[1], need[1])
                if lot[0] is not None and need[0] >= 0:
                    served = out.setdefault(lot[0], {})
                    served[need[0]] = served.get(need[0], 0) + take
                lot[1] -= take
                need[1] -= take
                if lot[1] == 0:
                    supply.popleft()
                if need[1] == 0:
                    unmet.popleft()
    return out
