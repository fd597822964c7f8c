"""The supply state: everything the optimizer plans from, as plain immutable dataclasses.

Time is discrete: periods ``0 .. periods-1`` starting at ``start`` (``period_days`` long). The
gateway maps dates to periods when it builds the state, so the model never sees a calendar.
Quantities are whole units. Every input item may carry a :class:`Provenance` (the event ids it
came from and when the source last spoke) so a plan can name its inputs and stale data can be
spotted by :mod:`optimizer.freshness`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ReceiptKind = Literal["open_order", "confirmation", "in_transit"]
RECEIPT_KINDS: tuple[str, ...] = ("open_order", "confirmation", "in_transit")


class StateError(ValueError):
    """The supply state is inconsistent (unknown ids, wrong lengths, negative quantities...)."""


@dataclass(frozen=True)
class Provenance:
    """Where an input came from: its source event ids and the time the source reported it."""

    event_ids: tuple[str, ...] = ()
    as_of: datetime | None = None


@dataclass(frozen=True)
class Supplier:
    """A supplier and its residual delivery capacity per period (units, shared by all parts).

    ``capacity`` is ``None`` for unlimited, else one value per period (``math.inf`` allowed).
    Orders already placed are expected to be netted out of the reported capacity already.
    ``schedule_driven`` suppliers receive forecast/firm delivery schedules (830/862,
    DELFOR/DELJIT) rather than discrete purchase orders.
    """

    id: str
    capacity: tuple[float, ...] | None = None
    schedule_driven: bool = False
    source: Provenance = field(default_factory=Provenance)

    def capacity_at(self, period: int) -> float:
        if self.capacity is None:
            return math.inf
        return float(self.capacity[period])


@dataclass(frozen=True)
class Offer:
    """Eligibility of a supplier for a part, with its commercial terms.

    An order placed in period ``t`` arrives in period ``t + lead_time``. A non-zero order is at
    least ``moq`` and a whole number of ``multiple``; each placed order costs ``fixed_cost``.
    """

    part: str
    supplier: str
    price: float
    moq: int = 0
    multiple: int = 1
    lead_time: int = 0
    fixed_cost: float = 0.0
    source: Provenance = field(default_factory=Provenance)

    @property
    def min_lot(self) -> int:
        """Smallest non-zero quantity allowed: MOQ rounded up to the order multiple."""
        return max(self.multiple, -(-self.moq // self.multiple) * self.multiple)


@dataclass(frozen=True)
class Part:
    """A purchased part: demand per period, stock, and its cost parameters.

    ``safety_stock`` is a soft floor: each unit short of it in a period costs
    ``shortfall_penalty`` (default: halfway between holding cost and backlog penalty).
    ``backlog`` is demand already overdue at the start of the horizon.
    """

    id: str
    demand: tuple[int, ...]
    on_hand: int = 0
    holding_cost: float = 0.1
    backlog_penalty: float = 100.0
    safety_stock: int = 0
    shortfall_penalty: float | None = None
    backlog: int = 0
    demand_source: Provenance = field(default_factory=Provenance)
    stock_source: Provenance = field(default_factory=Provenance)

    @property
    def shortfall_cost(self) -> float:
        if self.shortfall_penalty is not None:
            return self.shortfall_penalty
        return (self.holding_cost + self.backlog_penalty) / 2.0


@dataclass(frozen=True)
class Receipt:
    """Goods already on their way: an open order, a confirmation, or an in-transit despatch."""

    part: str
    supplier: str
    quantity: int
    arrival_period: int
    kind: ReceiptKind = "open_order"
    order_ref: str = ""
    source: Provenance = field(default_factory=Provenance)


@dataclass(frozen=True)
class SupplyState:
    """One planning instance. ``budget`` is the spend limit per order-placement period."""

    periods: int
    parts: tuple[Part, ...]
    suppliers: tuple[Supplier, ...]
    offers: tuple[Offer, ...]
    receipts: tuple[Receipt, ...] = ()
    budget: tuple[float, ...] | None = None
    start: date | None = None
    period_days: int = 1

    def __post_init__(self) -> None:
        check_state(self)

    def part(self, part_id: str) -> Part:
        for part in self.parts:
            if part.id == part_id:
                return part
        raise KeyError(part_id)

    def supplier(self, supplier_id: str) -> Supplier:
        for supplier in self.suppliers:
            if supplier.id == supplier_id:
                return supplier
        raise KeyError(supplier_id)

    def offers_for(self, part_id: str) -> list[Offer]:
        return [offer for offer in self.offers if offer.part == part_id]

    def event_ids(self) -> list[str]:
        """Every source event id the state was built from, in first-seen order (for tracing)."""
        seen: dict[str, None] = {}
        sources: list[Provenance] = []
        for part in self.parts:
            sources += [part.demand_source, part.stock_source]
        sources += [supplier.source for supplier in self.suppliers]
        sources += [offer.source for offer in self.offers]
        sources += [receipt.source for receipt in self.receipts]
        for source in sources:
            for event_id in source.event_ids:
                seen.setdefault(event_id, None)
        return list(seen)


def check_state(state: SupplyState) -> None:
    """Raise :class:`StateError` naming the first inconsistency found."""
    if state.periods < 1:
        raise StateError(f"periods must be at least 1, got {state.periods}")
    if state.period_days < 1:
        raise StateError(f"period_days must be at least 1, got {state.period_days}")
    part_ids = _unique([p.id for p in state.parts], "part")
    supplier_ids = _unique([s.id for s in state.suppliers], "supplier")
    for part in state.parts:
        if len(part.demand) != state.periods:
            raise StateError(
                f"part {part.id}: demand has {len(part.demand)} periods, expected {state.periods}"
            )
        if any(d < 0 for d in part.demand):
            raise StateError(f"part {part.id}: negative demand")
        for name in ("on_hand", "safety_stock", "backlog"):
            if getattr(part, name) < 0:
                raise StateError(f"part {part.id}: {name} must not be negative")
        costs = (part.holding_cost, part.backlog_penalty, part.shortfall_cost)
        if any(c < 0 or not math.isfinite(c) for c in costs):
            raise StateError(f"part {part.id}: costs must be finite and not negative")
    for supplier in state.suppliers:
        if supplier.capacity is not None:
            if len(supplier.capacity) != state.periods:
                raise StateError(
                    f"supplier {supplier.id}: capacity has {len(supplier.capacity)} periods, "
                    f"expected {state.periods}"
                )
            if any(c < 0 or math.isnan(c) for c in supplier.capacity):
                raise StateError(f"supplier {supplier.id}: negative capacity")
    pairs: set[tuple[str, str]] = set()
    for offer in state.offers:
        if offer.part not in part_ids:
            raise StateError(f"offer for unknown part {offer.part!r}")
        if offer.supplier not in supplier_ids:
            raise StateError(f"offer from unknown supplier {offer.supplier!r}")
        if (offer.part, offer.supplier) in pairs:
            raise StateError(f"two offers for part {offer.part} from {offer.supplier}")
        pairs.add((offer.part, offer.supplier))
        if not (0 <= offer.price < math.inf and 0 <= offer.fixed_cost < math.inf):
            raise StateError(
                f"offer {offer.part}/{offer.supplier}: price and fixed cost must be finite and "
                "not negative"
            )
        if offer.multiple < 1 or offer.moq < 0 or offer.lead_time < 0:
            raise StateError(
                f"offer {offer.part}/{offer.supplier}: multiple must be >= 1, moq and "
                "lead_time >= 0"
            )
    for receipt in state.receipts:
        if receipt.part not in part_ids:
            raise StateError(f"receipt for unknown part {receipt.part!r}")
        if receipt.quantity < 0:
            raise StateError(f"receipt {receipt.order_ref or receipt.part}: negative quantity")
        if receipt.kind not in RECEIPT_KINDS:
            raise StateError(f"receipt kind {receipt.kind!r} is not one of {RECEIPT_KINDS}")
    if state.budget is not None:
        if len(state.budget) != state.periods:
            raise StateError(
                f"budget has {len(state.budget)} periods, expected {state.periods}"
            )
        if any(not 0 <= b < math.inf for b in state.budget):
            raise StateError("budget must be finite and not negative")


def _unique(ids: list[str], what: str) -> set[str]:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise StateError(f"duplicate {what} id {item!r}")
        seen.add(item)
    return seen
