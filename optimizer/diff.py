"""Previous plan vs new plan: what must be sent to suppliers.

Purchase-order suppliers get discrete changes keyed by (part, supplier, placement period):
``new`` (850/ORDERS), ``change`` (860/ORDCHG) and ``cancel`` (860 with quantity 0).
Schedule-driven suppliers get their whole delivery schedule again whenever any line of it
changed, split into ``firm`` lines (arrival inside the firm horizon: 862/DELJIT call-offs) and
``forecast`` lines (830/DELFOR); a line that disappeared is sent with quantity 0.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from optimizer.plan import OrderLine


@dataclass(frozen=True)
class OrderChange:
    kind: Literal["new", "change", "cancel"]
    part: str
    supplier: str
    period: int
    arrival_period: int
    quantity: int
    previous_quantity: int
    unit_price: float
    firm: bool

    @property
    def value(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class ScheduleLine:
    supplier: str
    part: str
    arrival_period: int
    quantity: int
    previous_quantity: int
    kind: Literal["firm", "forecast"]
    unit_price: float

    @property
    def changed(self) -> bool:
        return self.quantity != self.previous_quantity

    @property
    def value(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class PlanDiff:
    orders: tuple[OrderChange, ...]
    schedules: tuple[ScheduleLine, ...]

    @property
    def new(self) -> list[OrderChange]:
        return [c for c in self.orders if c.kind == "new"]

    @property
    def changes(self) -> list[OrderChange]:
        return [c for c in self.orders if c.kind == "change"]

    @property
    def cancellations(self) -> list[OrderChange]:
        return [c for c in self.orders if c.kind == "cancel"]

    def schedule_for(self, supplier: str) -> list[ScheduleLine]:
        return [line for line in self.schedules if line.supplier == supplier]

    @property
    def empty(self) -> bool:
        return not self.orders and not self.schedules


def diff_plans(
    previous: Sequence[OrderLine], new: Sequence[OrderLine], *,
    schedule_driven: Collection[str] = (), firm_periods: int = 0,
) -> PlanDiff:
    scheduled = set(schedule_driven)
    before = _by_key([ln for ln in previous if ln.supplier not in scheduled])
    after = _by_key([ln for ln in new if ln.supplier not in scheduled])
    changes: list[OrderChange] = []
    for key in sorted(set(before) | set(after)):
        old, cur = before.get(key), after.get(key)
        if cur is not None and old is not None and cur.quantity == old.quantity:
            continue
        ref = cur or old
        assert ref is not None
        kind: Literal["new", "change", "cancel"] = (
            "new" if old is None else "cancel" if cur is None else "change"
        )
        changes.append(
            OrderChange(
                kind=kind, part=ref.part, supplier=ref.supplier, period=ref.period,
                arrival_period=ref.arrival_period, quantity=cur.quantity if cur else 0,
                previous_quantity=old.quantity if old else 0, unit_price=ref.unit_price,
                firm=ref.arrival_period < firm_periods,
            )
        )
    schedules: list[ScheduleLine] = []
    for supplier in sorted(scheduled):
        old_s = _schedule([ln for ln in previous if ln.supplier == supplier])
        new_s = _schedule([ln for ln in new if ln.supplier == supplier])
        keys = sorted(set(old_s) | set(new_s))
        if all(old_s.get(k, (0, 0.0))[0] == new_s.get(k, (0, 0.0))[0] for k in keys):
            continue
        for part, arrival in keys:
            qty, price = new_s.get((part, arrival), (0, 0.0))
            prev_qty, prev_price = old_s.get((part, arrival), (0, 0.0))
            schedules.append(
                ScheduleLine(
                    supplier=supplier, part=part, arrival_period=arrival, quantity=qty,
                    previous_quantity=prev_qty,
                    kind="firm" if arrival < firm_periods else "forecast",
                    unit_price=price or prev_price,
                )
            )
    return PlanDiff(tuple(changes), tuple(schedules))


def _by_key(lines: Sequence[OrderLine]) -> dict[tuple[str, str, int], OrderLine]:
    out: dict[tuple[str, str, int], OrderLine] = {}
    for line in lines:
        if line.key in out:
            merged = out[line.key]
            line = OrderLine(**{**merged.__dict__, "quantity": merged.quantity + line.quantity})
        out[line.key] = line
    return out


def _schedule(lines: Sequence[OrderLine]) -> dict[tuple[str, int], tuple[int, float]]:
    out: dict[tuple[str, int], tuple[int, float]] = {}
    for line in lines:
        qty, _ = out.get((line.part, line.arrival_period), (0, 0.0))
        out[(line.part, line.arrival_period)] = (qty + line.quantity, line.unit_price)
    return out
