"""Plan differences -> event payloads (purchase_order, order_change, delivery_schedule).

One purchase order per planned order line (part, supplier, order date), line number 1, so a
change or cancellation addresses exactly one order and an approval decides exactly one order.
Order numbers are made once, when the order is first sent, and carried by every later change;
business ids are stable per action, so enqueueing the same action twice sends nothing twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from optimizer import OrderChange, ScheduleLine

UNIT = "EA"


@dataclass(frozen=True)
class Calendar:
    start: date
    period_days: int

    def day(self, period: int) -> date:
        return self.start + timedelta(days=period * self.period_days)


def new_order_number(run_id: str, supplier: str, part: str, order_date: date) -> str:
    """Short (X12 BEG03 allows 22 characters), unique per order, stable for its lifetime."""
    digest = hashlib.sha256(f"{run_id}|{supplier}|{part}|{order_date}".encode()).hexdigest()
    return f"EG{order_date:%y%m%d}{digest[:10].upper()}"


def _parties(supplier: str, buyer: str) -> list[dict[str, str]]:
    return [{"role": "buyer", "id": buyer}, {"role": "seller", "id": supplier}]


def order_line_entry(change: OrderChange, calendar: Calendar) -> dict[str, Any]:
    return {"part": change.part, "order_date": calendar.day(change.period).isoformat(),
            "arrival_date": calendar.day(change.arrival_period).isoformat(),
            "quantity": change.quantity, "previous_quantity": change.previous_quantity,
            "unit_price": change.unit_price}


def order_payload(change: OrderChange, order_number: str, change_number: str,
                  calendar: Calendar, buyer: str) -> tuple[str, dict[str, Any]]:
    """(document type, payload) for a new order, a change or a cancellation."""
    order_date = calendar.day(change.period).isoformat()
    delivery = calendar.day(change.arrival_period).isoformat()
    if change.kind == "new":
        return "purchase_order", {
            "order_number": order_number, "order_date": order_date, "purpose": "original",
            "parties": _parties(change.supplier, buyer), "requested_delivery_date": delivery,
            "lines": [{"line_number": "1", "buyer_part": change.part,
                       "quantity": change.quantity, "unit": UNIT,
                       "unit_price": change.unit_price, "requested_delivery_date": delivery}],
        }
    cancel = change.kind == "cancel"
    return "order_change", {
        "order_number": order_number, "change_number": change_number,
        "change_date": calendar.start.isoformat(), "purpose": "cancel" if cancel else "replace",
        "parties": _parties(change.supplier, buyer),
        "lines": [{"line_number": "1", "change": "cancel" if cancel else "quantity",
                   "buyer_part": change.part, "quantity": change.quantity, "unit": UNIT,
                   "unit_price": change.unit_price, "requested_delivery_date": delivery}],
    }


def schedule_payload(supplier: str, kind: str, lines: list[ScheduleLine], schedule_number: str,
                     calendar: Calendar, horizon: int, buyer: str) -> dict[str, Any]:
    """A whole delivery schedule (830/DELFOR forecast or 862/DELJIT firm call-offs)."""
    by_part: dict[str, list[ScheduleLine]] = {}
    for line in lines:
        by_part.setdefault(line.part, []).append(line)
    end_offset = timedelta(days=calendar.period_days - 1)
    items = []
    for part, part_lines in sorted(by_part.items()):
        items.append({
            "buyer_part": part, "unit": UNIT,
            "periods": [
                {"start": calendar.day(ln.arrival_period).isoformat(),
                 "end": (calendar.day(ln.arrival_period) + end_offset).isoformat(),
                 "quantity": ln.quantity, "commitment": kind}
                for ln in sorted(part_lines, key=lambda ln: ln.arrival_period)
            ],
        })
    return {
        "schedule_number": schedule_number, "schedule_type": kind,
        "issue_date": calendar.start.isoformat(), "horizon_start": calendar.start.isoformat(),
        "horizon_end": (calendar.day(horizon) - timedelta(days=1)).isoformat(),
        "parties": _parties(supplier, buyer), "items": items,
    }


def schedule_line_entry(line: ScheduleLine, calendar: Calendar, lead: int) -> dict[str, Any]:
    return {"part": line.part,
            "order_date": calendar.day(line.arrival_period - lead).isoformat(),
            "arrival_date": calendar.day(line.arrival_period).isoformat(),
            "quantity": line.quantity, "previous_quantity": line.previous_quantity,
            "unit_price": line.unit_price}
