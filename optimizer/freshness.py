"""Stale inputs are flagged and handled conservatively, never silently trusted.

Each source kind has a freshness budget; an input whose ``as_of`` is older than ``now - budget``
(or that has no ``as_of`` at all, when ``require_timestamp``) is stale. What happens then:

- ``in_transit`` receipts: counted at ``in_transit_factor`` of their quantity (default 50%) and
  expected ``stale_delay`` periods later than announced;
- ``confirmation`` and ``open_order`` receipts: counted at ``receipt_factor`` (default 0: an
  order nobody has confirmed recently is not counted on);
- ``stock``: on-hand reduced by ``stock_margin`` (default 10%), as a count may have drifted;
- ``capacity``: supplier capacity scaled by ``capacity_factor`` (default 50%);
- ``demand`` and ``offer``: flagged only (no safer value exists), so the plan says it leant
  on them.

Every adjustment is reported as a :class:`StaleInput`, which the plan stores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from optimizer.state import Provenance, SupplyState

DEFAULT_BUDGETS: dict[str, timedelta] = {
    "demand": timedelta(days=7),
    "stock": timedelta(days=2),
    "open_order": timedelta(days=14),
    "confirmation": timedelta(days=7),
    "in_transit": timedelta(days=3),
    "capacity": timedelta(days=14),
    "offer": timedelta(days=90),
}


@dataclass(frozen=True)
class FreshnessPolicy:
    budgets: dict[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_BUDGETS))
    require_timestamp: bool = False
    in_transit_factor: float = 0.5
    receipt_factor: float = 0.0
    stale_delay: int = 1
    stock_margin: float = 0.1
    capacity_factor: float = 0.5


@dataclass(frozen=True)
class StaleInput:
    kind: str
    key: str
    age: timedelta | None
    budget: timedelta
    action: str

    def describe(self) -> str:
        age = "no timestamp" if self.age is None else f"{self.age} old"
        return f"{self.kind} {self.key}: {age} (budget {self.budget}); {self.action}"


def _stale(
    policy: FreshnessPolicy, kind: str, source: Provenance, now: datetime
) -> tuple[bool, timedelta | None]:
    budget = policy.budgets.get(kind)
    if budget is None:
        return False, None
    if source.as_of is None:
        return policy.require_timestamp, None
    age = now - source.as_of
    return age > budget, age


def apply_freshness(
    state: SupplyState, policy: FreshnessPolicy, now: datetime
) -> tuple[SupplyState, list[StaleInput]]:
    """The state with stale inputs made conservative, and the list of what was changed."""
    found: list[StaleInput] = []

    def flag(kind: str, key: str, age: timedelta | None, action: str) -> None:
        found.append(StaleInput(kind, key, age, policy.budgets[kind], action))

    parts = []
    for part in state.parts:
        stale, age = _stale(policy, "stock", part.stock_source, now)
        if stale:
            reduced = math.floor(part.on_hand * (1 - policy.stock_margin))
            flag("stock", part.id, age, f"on hand {part.on_hand} counted as {reduced}")
            part = replace(part, on_hand=reduced)
        stale, age = _stale(policy, "demand", part.demand_source, now)
        if stale:
            flag("demand", part.id, age, "used as is (no safer value)")
        parts.append(part)
    receipts = []
    for receipt in state.receipts:
        stale, age = _stale(policy, receipt.kind, receipt.source, now)
        key = receipt.order_ref or f"{receipt.part}/{receipt.supplier}"
        if not stale:
            receipts.append(receipt)
            continue
        if receipt.kind == "in_transit":
            quantity = math.floor(receipt.quantity * policy.in_transit_factor)
            arrival = receipt.arrival_period + policy.stale_delay
            action = (
                f"{receipt.quantity} in transit counted as {quantity}, "
                f"expected period {arrival} instead of {receipt.arrival_period}"
            )
        else:
            quantity = math.floor(receipt.quantity * policy.receipt_factor)
            arrival = receipt.arrival_period
            action = f"{receipt.quantity} expected counted as {quantity}"
        flag(receipt.kind, key, age, action)
        if quantity > 0:
            receipts.append(replace(receipt, quantity=quantity, arrival_period=arrival))
    suppliers = []
    for supplier in state.suppliers:
        stale, age = _stale(policy, "capacity", supplier.source, now)
        if stale and supplier.capacity is not None:
            flag("capacity", supplier.id, age,
                 f"capacity scaled to {policy.capacity_factor:.0%}")
            supplier = replace(
                supplier, capacity=tuple(c * policy.capacity_factor for c in supplier.capacity)
            )
        suppliers.append(supplier)
    for offer in state.offers:
        stale, age = _stale(policy, "offer", offer.source, now)
        if stale:
            flag("offer", f"{offer.part}/{offer.supplier}", age, "used as is (no safer value)")
    adjusted = replace(
        state, parts=tuple(parts), receipts=tuple(receipts), suppliers=tuple(suppliers)
    )
    return adjusted, found
