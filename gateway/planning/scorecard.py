"""Supplier scorecard: on-time delivery, fill rate, lead-time spread and acknowledgment rate.

What we ordered comes from the plan actions that went out (new orders and changes, the last
quantity per order line wins); what suppliers did comes from their despatch advices. A
despatch advice that arrived on both paths of a ``dual`` supplier counts once (one per
shipment number), so migration never inflates a score.

``score`` is pure (records in, numbers out); ``load_scorecard`` reads the database.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain.states import AckStatus
from gateway.storage.models import Event, OutboxItem
from gateway.storage.models_planning import SENT_STATUSES, PlanAction


@dataclass(frozen=True)
class OrderedLine:
    supplier: str
    order_number: str
    part: str
    quantity: float
    ordered: date
    requested: date


@dataclass(frozen=True)
class ShippedLine:
    supplier: str
    order_number: str
    part: str
    quantity: float
    arrives: date


@dataclass
class SupplierScore:
    supplier: str
    order_lines: int = 0
    due_lines: int = 0  # requested on or before today
    shipped_lines: int = 0
    on_time_lines: int = 0
    ordered_due_quantity: float = 0.0
    shipped_due_quantity: float = 0.0
    lead_times: list[float] = field(default_factory=list)
    acks_expected: int = 0
    acks_accepted: int = 0

    def to_json(self) -> dict[str, Any]:
        def share(part: float, whole: float) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "supplier": self.supplier, "order_lines": self.order_lines,
            "due_lines": self.due_lines, "shipped_lines": self.shipped_lines,
            "on_time_rate": share(self.on_time_lines, self.shipped_lines),
            "fill_rate": (min(1.0, round(self.shipped_due_quantity
                                         / self.ordered_due_quantity, 4))
                          if self.ordered_due_quantity else None),
            "lead_time_mean_days": (round(statistics.fmean(self.lead_times), 2)
                                    if self.lead_times else None),
            "lead_time_spread_days": (round(statistics.stdev(self.lead_times), 2)
                                      if len(self.lead_times) > 1 else None),
            "ack_rate": share(self.acks_accepted, self.acks_expected),
        }


def score(ordered: list[OrderedLine], shipped: list[ShippedLine], today: date,
          acks: dict[str, tuple[int, int]] | None = None) -> list[SupplierScore]:
    """One score per supplier. A shipped line is on time when it arrives by the requested
    date of the order line it names; the fill rate counts due order lines only (a line not
    yet due cannot be short)."""
    scores: dict[str, SupplierScore] = {}

    def of(supplier: str) -> SupplierScore:
        return scores.setdefault(supplier, SupplierScore(supplier))

    lines = {(o.supplier, o.order_number, o.part): o for o in ordered}
    shipped_qty: dict[tuple[str, str, str], float] = defaultdict(float)
    for o in lines.values():
        s = of(o.supplier)
        s.order_lines += 1
        if o.requested <= today:
            s.due_lines += 1
            s.ordered_due_quantity += o.quantity
    for line in shipped:
        key = (line.supplier, line.order_number, line.part)
        order = lines.get(key)
        if order is None:
            continue  # a shipment for an order we did not place here: not ours to score
        s = of(line.supplier)
        s.shipped_lines += 1
        s.on_time_lines += line.arrives <= order.requested
        s.lead_times.append(float((line.arrives - order.ordered).days))
        shipped_qty[key] += line.quantity
    for key, quantity in shipped_qty.items():
        order = lines[key]
        if order.requested <= today:
            of(order.supplier).shipped_due_quantity += min(quantity, order.quantity)
    for supplier, (expected, accepted) in (acks or {}).items():
        s = of(supplier)
        s.acks_expected, s.acks_accepted = expected, accepted
    return sorted(scores.values(), key=lambda s: s.supplier)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def load_scorecard(session: Session, today: date) -> list[dict[str, Any]]:
    ordered: list[OrderedLine] = []
    actions = session.scalars(select(PlanAction).where(
        PlanAction.status.in_(SENT_STATUSES), PlanAction.document_type == "purchase_order")
        .order_by(PlanAction.created_at)).all()
    for action in actions:  # oldest first: a change replaces the line it changes
        for line in action.lines:
            ordered_on, requested = _date(line.get("order_date")), _date(
                line.get("arrival_date"))
            if ordered_on is None or requested is None:
                continue
            ordered.append(OrderedLine(action.supplier_id, action.order_number,
                                       str(line.get("part")), float(line.get("quantity") or 0),
                                       ordered_on, requested))
    shipped: list[ShippedLine] = []
    seen: set[tuple[str, str]] = set()
    events = session.scalars(select(Event).where(Event.type == "despatch_advice")
                             .order_by(Event.path.desc(), Event.recorded_at)).all()
    for event in events:  # "edi" sorts after "api": desc puts the EDI copy first
        key = (event.partner_id or "", event.business_key)
        if key in seen:
            continue
        seen.add(key)
        data = event.data or {}
        arrives = _date(data.get("expected_delivery_date")) or _date(data.get("despatch_date"))
        if arrives is None:
            continue
        for item in data.get("items") or []:
            if isinstance(item, dict) and item.get("order_number") and item.get("buyer_part"):
                shipped.append(ShippedLine(key[0], str(item["order_number"]),
                                           str(item["buyer_part"]),
                                           float(item.get("quantity") or 0), arrives))
    acks: dict[str, tuple[int, int]] = {}
    rows = session.execute(select(OutboxItem.partner_id, OutboxItem.ack_status, func.count())
                           .where(OutboxItem.ack_status != AckStatus.NONE)
                           .group_by(OutboxItem.partner_id, OutboxItem.ack_status)).all()
    for partner, status, count in rows:
        expected, accepted = acks.get(partner, (0, 0))
        acks[partner] = (expected + count,
                         accepted + (count if status in (AckStatus.ACCEPTED,
                                                         AckStatus.ACCEPTED_WITH_ERRORS) else 0))
    return [s.to_json() for s in score(ordered, shipped, today, acks)]
