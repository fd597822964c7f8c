"""The naive lot-for-lot policy: the baseline every plan must beat, and the fallback plan.

Each period, a part orders exactly what brings its projected stock back to the safety stock,
from the cheapest eligible supplier whose lead time still reaches that period (rounded up to its
MOQ and multiple), spilling to the next cheapest when capacity, budget or the share limit runs
out; what nobody can deliver becomes backlog and is ordered again for the next period. Frozen
orders are kept as they are. The result always satisfies the hard constraints (if the frozen
orders do), so it is a feasible plan to fall back on.
"""

from __future__ import annotations

import math

from optimizer.problem import Problem

Orders = dict[tuple[int, int, int], int]


class Ledger:
    """Remaining supplier capacity (by arrival period) and budget (by placement period)."""

    def __init__(self, problem: Problem) -> None:
        self.capacity = [list(row) for row in problem.capacity]
        self.budget = list(problem.budget) if problem.budget is not None else None
        self.problem = problem

    def take(self, p: int, s: int, t: int, q: int, sign: int = 1) -> None:
        offer = self.problem.offer(p, s)
        assert offer is not None
        self.capacity[s][t + offer.lead] -= sign * q
        if self.budget is not None:
            self.budget[t] -= sign * q * offer.price

    def room(self, p: int, s: int, t: int) -> float:
        offer = self.problem.offer(p, s)
        assert offer is not None
        room = self.capacity[s][t + offer.lead]
        if self.budget is not None and offer.price > 0:
            room = min(room, self.budget[t] / offer.price)
        return max(room, 0.0)


def naive_part(problem: Problem, p: int, ledger: Ledger) -> Orders:
    """Lot-for-lot orders of one part, drawn from (and charged to) ``ledger``."""
    part = problem.parts[p]
    T = problem.periods
    F = problem.options.frozen_periods
    share = problem.options.max_supplier_share if part.share_limited else None
    orders: Orders = {}
    arrivals = [0] * T
    for (fp, s, t), q in problem.frozen.items():
        if fp == p:
            offer = problem.offer(p, s)
            assert offer is not None
            arrivals[t + offer.lead] += q
            orders[(p, s, t)] = q
    requirement = max(0, part.safety + sum(part.demand) - part.n0 - sum(part.receipts))
    share_room = {
        o.supplier: (math.floor(share * requirement) if share is not None else math.inf)
        for o in part.offers
    }
    by_price = sorted(part.offers, key=lambda o: (o.price, o.lead, o.supplier))
    n = part.n0
    for a in range(T):
        n += part.receipts[a] + arrivals[a] - part.demand[a]
        need = part.safety - n
        for offer in by_price:
            if need <= 0:
                break
            t = a - offer.lead
            if t < max(F, 0):
                continue
            room = min(ledger.room(p, offer.supplier, t), share_room[offer.supplier])
            lot = max(offer.min_lot, -(-need // offer.multiple) * offer.multiple)
            if lot > room:
                lot = math.floor(room / offer.multiple) * offer.multiple
                if lot < offer.min_lot or lot <= 0:
                    continue
            key = (p, offer.supplier, t)
            orders[key] = orders.get(key, 0) + lot
            ledger.take(p, offer.supplier, t, lot)
            share_room[offer.supplier] -= lot
            n += lot
            need -= lot
    if share is not None:
        new = {k: q for k, q in orders.items() if k not in problem.frozen}
        total = sum(new.values())
        if any(q > share * total + 1e-9 for q in _per_supplier(new).values()):
            # Capacity cut the part short of its requirement, so the split cannot honour the
            # share: order nothing new rather than break the diversification rule.
            for (fp, s, t), q in list(orders.items()):
                if (fp, s, t) not in problem.frozen:
                    ledger.take(p, s, t, q, sign=-1)
                    del orders[(fp, s, t)]
    return orders


def _per_supplier(orders: Orders) -> dict[int, int]:
    out: dict[int, int] = {}
    for (_, s, _), q in orders.items():
        out[s] = out.get(s, 0) + q
    return out


def naive_orders(problem: Problem) -> Orders:
    ledger = Ledger(problem)
    for (p, s, t), q in problem.frozen.items():
        ledger.take(p, s, t, q)
    orders: Orders = {}
    for p in range(len(problem.parts)):
        orders.update(naive_part(problem, p, ledger))
    return orders
