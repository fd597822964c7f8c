"""Seeded synthetic supply networks with realistic structure (for the bench, tests and demos).

Several suppliers per part with different price / lead time / MOQ trade-offs (the cheap one is
slow or sells in big lots), seasonal demand with noise and some intermittent parts, supplier
capacities sized near the demand routed to them so that they bind in some periods (including a
maintenance dip), some stock on hand and some orders already on their way.
"""

from __future__ import annotations

import math
import random
from datetime import date

from optimizer.state import Offer, Part, Receipt, Supplier, SupplyState


def generate(
    parts: int, suppliers: int, periods: int, seed: int = 0, *, budget: bool = False,
    start: date | None = None, tight: bool = False,
) -> SupplyState:
    """A seeded network. ``tight`` is a stress case: stock below the lead times and supplier
    capacity barely above average demand, so every supplier is oversubscribed early on."""
    if parts < 1 or suppliers < 1 or periods < 1:
        raise ValueError("parts, suppliers and periods must all be at least 1")
    rng = random.Random(f"edigate-{parts}-{suppliers}-{periods}-{seed}")
    supplier_ids = [f"S{j + 1:02d}" for j in range(suppliers)]
    supplier_bias = [rng.uniform(0.9, 1.1) for _ in supplier_ids]
    offers: list[Offer] = []
    part_list: list[Part] = []
    receipts: list[Receipt] = []
    routed = [[0.0] * periods for _ in supplier_ids]
    phase = rng.uniform(0, 2 * math.pi)
    for i in range(parts):
        pid = f"P{i + 1:04d}"
        base_price = round(rng.lognormvariate(math.log(20), 0.9), 2)
        mean = rng.choice([5, 10, 20, 40, 80, 150]) * rng.uniform(0.7, 1.3)
        intermittent = rng.random() < 0.15
        demand = []
        for t in range(periods):
            season = 1 + 0.3 * math.sin(2 * math.pi * t / 14 + phase)
            level = mean * season * rng.uniform(0.7, 1.3)
            if intermittent and rng.random() < 0.6:
                level = 0
            demand.append(max(0, round(level)))
        k = rng.randint(min(2, suppliers), min(4, suppliers))
        chosen = rng.sample(range(suppliers), k)
        terms = []
        for j in chosen:
            # Trade-offs: cheaper offers come with longer lead times or bigger lots.
            discount = rng.uniform(0.8, 1.2) * supplier_bias[j]
            lead = rng.randint(1, 3) + (2 if discount < 0.95 else 0)
            multiple = rng.choice([1, 5, 10, 25]) if mean > 15 else rng.choice([1, 1, 5])
            moq = int(rng.choice([0, 0.5, 1, 2, 4]) * mean)
            moq = -(-moq // multiple) * multiple
            fixed = round(rng.uniform(20, 150), 2)
            price = round(base_price * discount, 2)
            terms.append((price, j))
            offers.append(Offer(pid, supplier_ids[j], max(price, 0.01), moq, multiple,
                                min(lead, max(periods - 1, 0)), fixed))
        cheapest = min(terms)[1]
        for t in range(periods):
            routed[cheapest][t] += demand[t]
        on_hand = int(mean * (rng.uniform(0.5, 3.0) if tight else rng.uniform(1.5, 4.0)))
        safety = int(mean * rng.uniform(0.3, 1.0))
        holding = round(base_price * rng.uniform(0.003, 0.01), 4)
        part_list.append(
            Part(pid, tuple(demand), on_hand=on_hand, holding_cost=holding,
                 backlog_penalty=round(base_price * 0.5 + 5, 2), safety_stock=safety)
        )
        if rng.random() < 0.4 and periods > 1:
            supplier = supplier_ids[chosen[0]]
            receipts.append(
                Receipt(pid, supplier, int(mean * rng.uniform(1, 3)),
                        rng.randint(0, min(3, periods - 1)),
                        rng.choice(["open_order", "confirmation", "in_transit"]),
                        order_ref=f"PO-{pid}-{seed}")
            )
    supplier_list = []
    for j, sid in enumerate(supplier_ids):
        avg = sum(routed[j]) / periods if periods else 0.0
        level = max(avg, 50.0) * (rng.uniform(0.9, 1.4) if tight else rng.uniform(1.1, 1.5))
        dip = rng.randrange(periods)
        dip_factor = 0.4 if tight else 0.5
        capacity = tuple(
            float(int(level * (dip_factor if t in (dip, dip + 1) else rng.uniform(0.85, 1.15))))
            for t in range(periods)
        )
        supplier_list.append(Supplier(sid, capacity, schedule_driven=rng.random() < 0.4))
    spend_budget = None
    if budget:
        avg_spend = sum(
            min(o.price for o in offers if o.part == p.id) * sum(p.demand) for p in part_list
        ) / periods
        spend_budget = tuple(round(avg_spend * 1.3, 2) for _ in range(periods))
    return SupplyState(
        periods=periods, parts=tuple(part_list), suppliers=tuple(supplier_list),
        offers=tuple(offers), receipts=tuple(receipts), budget=spend_budget, start=start,
    )
