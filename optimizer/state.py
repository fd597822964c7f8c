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
    """The supply state is inconsistent (unknown ids, wrong lengths, negative, non-finite or
    fractional quantities...). The message is one line naming the offending item."""


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
    ``line_stop_cost`` is what one period short of this part costs the plant (a line stop);
    ``None`` takes the plan options' ``line_stop_cost``.
    """

    id: str
    demand: tuple[int, ...]
    on_hand: int = 0
    holding_cost: float = 0.1
    backlog_penalty: float = 100.0
    safety_stock: int = 0
    shortfall_penalty: float | None = None
    backlog: int = 0
    line_stop_cost: float | None = None
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
class SourcingShare:
    """Dual sourcing: the share of a part's newly ordered units that goes to one supplier.

    Over the horizon, the units of ``part`` ordered from ``supplier`` (orders in the frozen
    horizon are commitments and do not count) lie between ``min_share`` and ``max_share`` of
    all units of the part newly ordered. A part that orders nothing new meets every share.
    """

    part: str
    supplier: str
    min_share: float = 0.0
    max_share: float = 1.0


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
    shares: tuple[SourcingShare, ...] = ()

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
    """Raise :class:`StateError` naming the first inconsistency found.

    Quantities (demand, stock, MOQ, multiples, lead times, receipts, periods) must be whole
    numbers (``int``, not ``bool``); money and capacity must be numbers that are not negative
    and not NaN; only capacity may be infinite (unlimited).
    """
    _whole(state.periods, "periods", low=1)
    _whole(state.period_days, "period_days", low=1)
    part_ids = _unique([p.id for p in state.parts], "part")
    supplier_ids = _unique([s.id for s in state.suppliers], "supplier")
    for part in state.parts:
        where = f"part {part.id}"
        if len(part.demand) != state.periods:
            raise StateError(
                f"{where}: demand has {len(part.demand)} periods, expected {state.periods}"
            )
        for t, d in enumerate(part.demand):
            _whole(d, f"{where}: demand[{t}]")
        for name in ("on_hand", "safety_stock", "backlog"):
            _whole(getattr(part, name), f"{where}: {name}")
        _money(part.holding_cost, f"{where}: holding_cost")
        _money(part.backlog_penalty, f"{where}: backlog_penalty")
        if part.shortfall_penalty is not None:
            _money(part.shortfall_penalty, f"{where}: shortfall_penalty")
        if part.line_stop_cost is not None:
            _money(part.line_stop_cost, f"{where}: line_stop_cost")
    for supplier in state.suppliers:
        if supplier.capacity is not None:
            if len(supplier.capacity) != state.periods:
                raise StateError(
                    f"supplier {supplier.id}: capacity has {len(supplier.capacity)} periods, "
                    f"expected {state.periods}"
                )
            for t, c in enumerate(supplier.capacity):
                _money(c, f"supplier {supplier.id}: capacity[{t}]", infinite=True)
    pairs: set[tuple[str, str]] = set()
    for offer in state.offers:
        if offer.part not in part_ids:
            raise StateError(f"offer for unknown part {offer.part!r}")
        if offer.supplier not in supplier_ids:
            raise StateError(f"offer from unknown supplier {offer.supplier!r}")
        if (offer.part, offer.supplier) in pairs:
            raise StateError(f"two offers for part {offer.part} from {offer.supplier}")
        pairs.add((offer.part, offer.supplier))
        where = f"offer {offer.part}/{offer.supplier}"
        _money(offer.price, f"{where}: price")
        _money(offer.fixed_cost, f"{where}: fixed_cost")
        _whole(offer.multiple, f"{where}: multiple", low=1)
        _whole(offer.moq, f"{where}: moq")
        _whole(offer.lead_time, f"{where}: lead_time")
    for receipt in state.receipts:
        where = f"receipt {receipt.order_ref or receipt.part}"
        if receipt.part not in part_ids:
            raise StateError(f"receipt for unknown part {receipt.part!r}")
        if receipt.supplier not in supplier_ids:
            raise StateError(f"{where}: unknown supplier {receipt.supplier!r}")
        _whole(receipt.quantity, f"{where}: quantity")
        if isinstance(receipt.arrival_period, bool) or not isinstance(receipt.arrival_period,
                                                                      int):
            raise StateError(
                f"{where}: arrival_period must be a whole number, got {receipt.arrival_period!r}"
            )
        if receipt.kind not in RECEIPT_KINDS:
            raise StateError(f"receipt kind {receipt.kind!r} is not one of {RECEIPT_KINDS}")
    share_pairs: set[tuple[str, str]] = set()
    min_total: dict[str, float] = {}
    for rule in state.shares:
        where = f"share {rule.part}/{rule.supplier}"
        if (rule.part, rule.supplier) not in pairs:
            raise StateError(f"{where}: no offer for that part from that supplier")
        if (rule.part, rule.supplier) in share_pairs:
            raise StateError(f"{where}: given twice")
        share_pairs.add((rule.part, rule.supplier))
        for name in ("min_share", "max_share"):
            value = getattr(rule, name)
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not math.isfinite(value) or not 0 <= value <= 1):
                raise StateError(f"{where}: {name} must be a number in [0, 1], got {value!r}")
        if rule.min_share > rule.max_share:
            raise StateError(f"{where}: min_share {rule.min_share:g} above max_share "
                             f"{rule.max_share:g}")
        min_total[rule.part] = min_total.get(rule.part, 0.0) + rule.min_share
        if min_total[rule.part] > 1 + 1e-9:
            raise StateError(f"part {rule.part}: minimum shares add up to more than 1")
    if state.budget is not None:
        if len(state.budget) != state.periods:
            raise StateError(
                f"budget has {len(state.budget)} periods, expected {state.periods}"
            )
        for t, b in enumerate(state.budget):
            _money(b, f"budget[{t}]")


def _whole(value: object, where: str, low: int = 0) -> None:
    """A count of units or periods: an ``int`` (not ``bool``) of at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise StateError(f"{where} must be a whole number, got {value!r}")
    if value < low:
        if low == 0:
            raise StateError(f"{where} must not be negative, got {value}")
        raise StateError(f"{where} must be at least {low}, got {value}")


def _money(value: object, where: str, *, infinite: bool = False) -> None:
    """A price, cost or capacity: a real number, not NaN, not negative; finite unless allowed."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StateError(f"{where} must be a number, got {value!r}")
    if math.isnan(value) or (math.isinf(value) and not infinite):
        raise StateError(f"{where} must be finite, got {value}")
    if value < 0:
        raise StateError(f"{where} must not be negative, got {value}")


def _unique(ids: list[str], what: str) -> set[str]:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise StateError(f"duplicate {what} id {item!r}")
        seen.add(item)
    return seen
