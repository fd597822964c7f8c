"""Turn solved quantities into order lines that explain themselves, say why each remaining
shortage could not be avoided, and raise alerts for parts no order can serve.

``covers``: the demand periods each arrival serves, first in first out (stock on hand and
scheduled receipts are used first, backlog is served by the next arrival). ``bound_by``: which
constraints shaped the line:

- ``capacity``: the supplier's arrivals in that period are at its capacity;
- ``budget``: the spend of the placement period is at the budget;
- ``share``: the part's quantity from this supplier is at its maximum share (the
  diversification limit or the part's sourcing policy);
- ``min_share``: the part's quantity from this supplier is at its minimum share (dual
  sourcing keeps a second supplier in business even when another is cheaper);
- ``moq`` / ``multiple``: the quantity is the minimum lot, or was rounded up to a multiple,
  beyond the demand it covers;
- ``lead_time``: it serves demand that was due before it could arrive (backlog catch-up);
- ``safety_stock`` / ``stock_ahead``: (part of) it serves no demand in the horizon: a top-up
  to the safety stock, or stock bought ahead;
- ``frozen``: it is a previous order inside the frozen horizon.
"""

from __future__ import annotations

import math
from collections import deque

from optimizer.costs import Orders
from optimizer.plan import OrderLine, PlanningAlert, Shortage
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
        lo, hi = problem.parts[p].shares.get(s, (0.0, 1.0))
        if not frozen and hi < 1 and per_ps[(p, s)] >= hi * per_p[p] - 0.5:
            reasons.append("share")  # at its maximum share: the rest went elsewhere
        if not frozen and lo > 0 and per_ps[(p, s)] <= lo * per_p[p] + 0.5:
            reasons.append("min_share")  # bought here to keep the supplier's minimum share
        excess = q - covered_units
        if not frozen and excess > 0:
            if q == offer.min_lot and offer.moq > offer.multiple:
                reasons.append("moq")
            elif offer.multiple > 1 and excess < offer.multiple:
                reasons.append("multiple")
            elif problem.parts[p].safety > 0:
                reasons.append("safety_stock")  # a top-up to the safety stock, no demand yet
            else:
                reasons.append("stock_ahead")  # bought ahead of demand beyond the horizon
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


def explain_shortages(
    problem: Problem, orders: Orders, net: tuple[tuple[int, ...], ...],
) -> tuple[Shortage, ...]:
    """Why each part-period still short in ``orders`` could not be avoided.

    A period ``t`` short of part ``p`` is put down to, in this order: no eligible supplier;
    lead time (no order placed in the open horizon arrives by ``t``); capacity or budget
    (every offer that could arrive by ``t`` finds its supplier's capacity, or the placement
    period's budget, below its minimum lot); otherwise ``not_avoided``.
    """
    T = problem.periods
    F = problem.options.frozen_periods
    used = [[0.0] * T for _ in problem.supplier_ids]
    spend = [0.0] * T
    for (p, s, t), q in orders.items():
        offer = problem.offer(p, s)
        if offer is not None and q > 0 and t + offer.lead < T:
            used[s][t + offer.lead] += q
            spend[t] += q * offer.price
    out: list[Shortage] = []
    for p, part in enumerate(problem.parts):
        groups: dict[str, list[int]] = {}
        depth: dict[str, int] = {}
        for t, n in enumerate(net[p]):
            if n >= 0:
                continue
            reason = _shortage_reason(problem, p, t, F, used, spend, -n)
            groups.setdefault(reason, []).append(t)
            depth[reason] = max(depth.get(reason, 0), -n)
        for reason, periods in groups.items():
            out.append(Shortage(part.id, tuple(periods), depth[reason], reason))  # type: ignore[arg-type]
    return tuple(out)


def _shortage_reason(problem: Problem, p: int, t: int, F: int, used: list[list[float]],
                     spend: list[float], deficit: int) -> str:
    """Why ``deficit`` units short in period ``t`` stayed short: the room left at every
    supplier that could still deliver by ``t`` (whole lots, at least the minimum lot) does not
    add up to the deficit, for lack of capacity or of budget."""
    part = problem.parts[p]
    if not part.offers:
        return "no_supplier"
    reachable = [(o, a) for o in part.offers for a in range(F + o.lead, t + 1)]
    if not reachable:
        return "lead_time"
    by_capacity = by_both = 0.0
    for offer, a in reachable:
        room = max(problem.capacity[offer.supplier][a] - used[offer.supplier][a], 0.0)
        money = math.inf
        if problem.budget is not None and offer.price > 0:
            money = max(problem.budget[a - offer.lead] - spend[a - offer.lead], 0.0) / offer.price
        by_capacity += _lots(room, offer.multiple, offer.min_lot)
        by_both += _lots(min(room, money), offer.multiple, offer.min_lot)
    if by_both + TOL >= deficit:
        return "not_avoided"
    return "capacity" if by_capacity + TOL < deficit else "budget"


def _lots(room: float, multiple: int, min_lot: int) -> float:
    if math.isinf(room):
        return room
    q = math.floor(room / multiple + 1e-9) * multiple
    return q if q >= min_lot else 0.0


def planning_alerts(problem: Problem) -> tuple[PlanningAlert, ...]:
    """Parts with demand the plan cannot serve whatever it orders: no supplier, every offer's
    lead time beyond the open horizon, or no capacity at any supplier that could deliver."""
    T = problem.periods
    F = problem.options.frozen_periods
    out: list[PlanningAlert] = []
    for part in problem.parts:
        if not any(part.demand) and part.n0 >= 0:
            continue
        n, low, first = part.n0, min(part.n0, 0), None if part.n0 >= 0 else 0
        for t in range(T):
            n += part.receipts[t] - part.demand[t]
            if n < 0 and first is None:
                first = t
            low = min(low, n)
        at_risk = -low
        if not part.offers:
            kind, why = "no_supplier", "no supplier offers it"
        elif all(F + o.lead >= T for o in part.offers):
            kind = "lead_time_beyond_horizon"
            why = (f"every offer's lead time ({min(o.lead for o in part.offers)} periods or "
                   f"more) reaches beyond the {T - F}-period open horizon")
        elif all(problem.capacity[o.supplier][a] < o.min_lot
                 for o in part.offers for a in range(F + o.lead, T)):
            kind, why = "no_capacity", "no supplier offering it has capacity for a lot"
        else:
            continue
        if at_risk <= 0:
            continue
        out.append(PlanningAlert(
            part.id, kind, at_risk, first,  # type: ignore[arg-type]
            f"part {part.id}: {why}; {at_risk:,} units of demand at risk from period {first}",
        ))
    return tuple(out)
