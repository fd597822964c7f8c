"""The supply state compiled to indices: the one shape every method and the evaluator read.

Conventions shared by the MILP, the decomposition, the naive policy and the cost evaluator:

- An order of part ``p`` from supplier ``s`` placed in period ``t`` arrives in ``t + lead``;
  only placements with ``0 <= t`` and arrival ``< T`` exist.
- Net inventory ``n_t = n_{t-1} + receipts_t + arrivals_t - demand_t`` starts from
  ``on_hand - backlog``; positive part is stock (holding cost), negative part is backlog
  (backlog penalty), and stock below the safety stock costs the shortfall penalty per unit.
- Supplier capacity limits the units *arriving* from it per period, across parts.
- The budget limits the value of orders *placed* per period.
- Each period a part is short (net inventory below zero) costs its line-stop charge ``stop``
  on top of the backlog penalty per unit: the service stage of the objective (see
  :func:`line_stop_charge`).
- ``n_t <= hi`` for each part: holding more than safety stock plus all remaining demand plus
  one lot is never useful; the bound keeps the exact per-part DP finite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from optimizer.options import PlanOptions
from optimizer.plan import OrderLine
from optimizer.state import Part, SupplyState


@dataclass(frozen=True)
class OfferIx:
    supplier: int
    price: float
    moq: int
    multiple: int
    lead: int
    fixed: float

    @property
    def min_lot(self) -> int:
        return max(self.multiple, -(-self.moq // self.multiple) * self.multiple)


@dataclass
class PartIx:
    id: str
    demand: list[int]
    receipts: list[int]
    n0: int
    safety: int
    holding: float
    backlog: float
    shortfall: float
    hi: int
    offers: list[OfferIx]
    stop: float = 0.0  # cost of one period short (line stop), see line_stop_charge
    # Dual sourcing: supplier index -> (min share, max share) of the part's newly ordered
    # units; only suppliers with a bound that can bind are listed (see compile_problem).
    shares: dict[int, tuple[float, float]] = field(default_factory=dict)

    @property
    def share_limited(self) -> bool:
        return bool(self.shares)

    def lowest_net(self) -> int:
        """The lowest net inventory reachable (no order ever placed): the DP's floor."""
        low = n = self.n0
        for t, d in enumerate(self.demand):
            n += self.receipts[t] - d
            low = min(low, n)
        return low


@dataclass
class Problem:
    state: SupplyState
    options: PlanOptions
    parts: list[PartIx]
    supplier_ids: list[str]
    capacity: list[list[float]]
    budget: list[float] | None
    frozen: dict[tuple[int, int, int], int] = field(default_factory=dict)
    previous: dict[tuple[int, int, int], int] = field(default_factory=dict)
    schedule_driven: list[bool] = field(default_factory=list)

    @property
    def periods(self) -> int:
        return self.state.periods

    def placements(self, p: int) -> Iterable[tuple[OfferIx, int, int]]:
        """Every (offer, placement period, arrival period) open for new orders of part ``p``."""
        for offer in self.parts[p].offers:
            for t in range(self.options.frozen_periods, self.periods - offer.lead):
                yield offer, t, t + offer.lead

    def offer(self, p: int, s: int) -> OfferIx | None:
        for offer in self.parts[p].offers:
            if offer.supplier == s:
                return offer
        return None

    def columns_estimate(self) -> int:
        return sum(
            2 * len(part.offers) * self.periods + 3 * self.periods for part in self.parts
        )


def compile_problem(
    state: SupplyState, options: PlanOptions, previous: Iterable[OrderLine] = ()
) -> Problem:
    T = state.periods
    supplier_ix = {s.id: i for i, s in enumerate(state.suppliers)}
    part_ix = {p.id: i for i, p in enumerate(state.parts)}
    offers_by_part: dict[str, list[OfferIx]] = {p.id: [] for p in state.parts}
    for o in state.offers:
        offers_by_part[o.part].append(
            OfferIx(supplier_ix[o.supplier], o.price, o.moq, o.multiple, o.lead_time,
                    o.fixed_cost)
        )
    receipts = {p.id: [0] * T for p in state.parts}
    for r in state.receipts:
        if r.arrival_period < T:
            # Overdue receipts are expected as soon as possible: at the start of the horizon.
            receipts[r.part][max(0, r.arrival_period)] += r.quantity
    share = options.max_supplier_share
    rules: dict[str, dict[int, tuple[float, float]]] = {}
    for rule in state.shares:
        rules.setdefault(rule.part, {})[supplier_ix[rule.supplier]] = (rule.min_share,
                                                                       rule.max_share)
    parts: list[PartIx] = []
    for part in state.parts:
        offers = sorted(offers_by_part[part.id], key=lambda o: o.supplier)
        n0 = part.on_hand - part.backlog
        max_lot = max((o.min_lot for o in offers), default=0)
        hi = max(n0 + sum(receipts[part.id]), part.safety_stock + sum(part.demand)) + max_lot
        bounds: dict[int, tuple[float, float]] = {}
        if share is not None and share < 1 and len(offers) * share >= 1:
            bounds = {o.supplier: (0.0, share) for o in offers}
        # The part's own sourcing policy overrides the general diversification limit.
        bounds.update(rules.get(part.id, {}))
        bounds = {s: b for s, b in bounds.items() if b[0] > 0 or b[1] < 1}
        parts.append(
            PartIx(
                id=part.id, demand=list(part.demand), receipts=receipts[part.id], n0=n0,
                safety=part.safety_stock, holding=part.holding_cost,
                backlog=part.backlog_penalty, shortfall=part.shortfall_cost, hi=max(hi, 0),
                offers=offers, stop=line_stop_charge(part, offers, options, T), shares=bounds,
            )
        )
    capacity = [[s.capacity_at(t) for t in range(T)] for s in state.suppliers]
    problem = Problem(
        state=state, options=options, parts=parts,
        supplier_ids=[s.id for s in state.suppliers], capacity=capacity,
        budget=list(state.budget) if state.budget is not None else None,
        schedule_driven=[s.schedule_driven for s in state.suppliers],
    )
    for line in previous:
        p, s = part_ix.get(line.part), supplier_ix.get(line.supplier)
        if p is None or s is None or line.quantity <= 0 or line.period < 0:
            continue
        offer = problem.offer(p, s)
        if offer is None or line.period + offer.lead >= T:
            continue  # the offer is gone or the order now lands beyond the horizon
        key = (p, s, line.period)
        problem.previous[key] = problem.previous.get(key, 0) + line.quantity
        if line.period < options.frozen_periods:
            problem.frozen[key] = problem.frozen.get(key, 0) + line.quantity
            # Frozen arrivals are forced, so the stock bound must leave room for them.
            problem.parts[p].hi += line.quantity
    return problem


def line_stop_charge(part: Part, offers: list[OfferIx], options: PlanOptions,
                     periods: int) -> float:
    """The cost of one period with ``part`` short.

    The plant's line-stop cost (the part's own, else the options'). With ``service_first``
    it is raised to more than one period's worth of the part bought at its dearest offer
    (the largest period demand plus safety stock, or the largest minimum lot, plus the fixed
    cost): then no plan saves money by leaving a period's demand unbought (the horizon-end
    trade a pure cost model makes), and the adoption rule does the rest (never more periods
    short than the fallback).
    """
    stated = part.line_stop_cost if part.line_stop_cost is not None else options.line_stop_cost
    if not options.service_first or not offers:
        return stated
    dearest = max(o.price for o in offers)
    units = max(max(part.demand, default=0) + part.safety_stock,
                max(o.min_lot for o in offers))
    worth = dearest * units + max(o.fixed for o in offers) + part.backlog_penalty * units
    return max(stated, math.ceil(worth) + 1.0)


def is_finite(value: float) -> bool:
    return not math.isinf(value)
