"""The naive lot-for-lot policy: the baseline every plan must beat, and the fallback plan.

Each period, a part orders exactly what brings its projected stock back to the safety stock,
from the cheapest eligible supplier whose lead time still reaches that period (rounded up to its
MOQ and multiple), spilling to the next cheapest when capacity, budget or the share limit runs
out (a supplier still owed its minimum share comes first); what nobody can deliver becomes
backlog and is ordered again for the next period. Frozen orders are kept as they are. The
result always satisfies the hard constraints (if the frozen orders do), so it is a feasible
plan to fall back on.
"""

from __future__ import annotations

import math
from collections.abc import Callable

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
    orders: Orders = {}
    arrivals = [0] * T
    for (fp, s, t), q in problem.frozen.items():
        if fp == p:
            offer = problem.offer(p, s)
            assert offer is not None
            arrivals[t + offer.lead] += q
            orders[(p, s, t)] = q
    requirement = max(0, part.safety + sum(part.demand) - part.n0 - sum(part.receipts))
    bounds = {o.supplier: part.shares.get(o.supplier, (0.0, 1.0)) for o in part.offers}
    share_room = {s: (math.floor(hi * requirement) if hi < 1 else math.inf)
                  for s, (_, hi) in bounds.items()}
    owed = {s: math.ceil(lo * requirement) for s, (lo, _) in bounds.items()}
    n = part.n0
    for a in range(T):
        n += part.receipts[a] + arrivals[a] - part.demand[a]
        need = part.safety - n
        # Suppliers still owed their minimum share first, then the cheapest.
        by_price = sorted(part.offers, key=lambda o: (owed[o.supplier] <= 0, o.price, o.lead,
                                                      o.supplier))
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
            owed[offer.supplier] -= lot
            n += lot
            need -= lot
    if part.shares:
        new = {k: q for k, q in orders.items() if k not in problem.frozen}
        for k, q in new.items():
            ledger.take(*k, q, sign=-1)
        met = meet_shares(problem, p, new, ledger.room)
        if met is None:
            # Capacity cut the part short, so the split cannot honour its shares: order
            # nothing new rather than break the sourcing rule.
            met = {}
        orders = {k: q for k, q in orders.items() if k in problem.frozen}
        for k, q in met.items():
            orders[k] = q
            ledger.take(*k, q)
    return orders


def share_violations(problem: Problem, p: int, orders: Orders) -> dict[int, int]:
    """Per supplier of part ``p``: the units its share bounds call for (positive: more of
    this supplier, negative: more of the others) given the part's new ``orders``."""
    part = problem.parts[p]
    per_s = _per_supplier({k: q for k, q in orders.items() if k not in problem.frozen})
    total = sum(per_s.values())
    out: dict[int, int] = {}
    for s, (lo, hi) in part.shares.items():
        q = per_s.get(s, 0)
        if q < lo * total - 1e-6:
            # (q + x) >= lo * (total + x)
            out[s] = math.ceil((lo * total - q) / (1 - lo) - 1e-9) if lo < 1 else 0
        elif q > hi * total + 1e-6:
            # q <= hi * (total + x), x going to the others
            out[s] = -math.ceil((q / hi - total) - 1e-9) if hi > 0 else 0
    return out


def meet_shares(problem: Problem, p: int, orders: Orders,
                room: Callable[[int, int, int], float], rounds: int = 12) -> Orders | None:
    """``orders`` (part ``p``'s new orders) topped up until its share bounds hold: units added
    to a supplier under its minimum, or to the cheapest other supplier with room when one is
    above its maximum, each time in whole lots in the period with room nearest the part's
    first order. ``room(p, s, t)`` is what the ledger has left *before* these orders; ``None``
    if the bounds cannot be met that way."""
    part = problem.parts[p]
    out = dict(orders)
    F = max(problem.options.frozen_periods, 0)
    for _ in range(rounds):
        missing = share_violations(problem, p, out)
        if not missing:
            return out
        s, units = max(missing.items(), key=lambda kv: abs(kv[1]))
        if units == 0:
            return None
        per_s = _per_supplier(out)
        if units > 0:
            targets = [o for o in part.offers if o.supplier == s]
        else:
            units = -units
            targets = sorted(
                (o for o in part.offers if o.supplier != s
                 and per_s.get(o.supplier, 0) < part.shares.get(o.supplier, (0.0, 1.0))[1]
                 * (sum(per_s.values()) + units)),
                key=lambda o: (o.price, o.supplier))
        placed = False
        first = min((t for (_, _, t) in out), default=F)
        for offer in targets:
            periods = sorted(range(F, problem.periods - offer.lead), key=lambda t: abs(t - first))
            for t in periods:
                key = (p, offer.supplier, t)
                have = out.get(key, 0)
                left = room(p, offer.supplier, t) - have
                lot = max(-(-units // offer.multiple) * offer.multiple,
                          offer.min_lot if have == 0 else offer.multiple)
                if lot <= left + 1e-9:
                    out[key] = have + lot
                    placed = True
                    break
            if placed:
                break
        if not placed:
            return None
    return out if not share_violations(problem, p, out) else None


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
