"""What suppliers have already been told: the orders and schedule lines sent by earlier runs.

This is the baseline every new plan is compared with (the plan diff), the ``previous`` plan of
the optimizer (frozen horizon, change penalty), and — for orders placed before today — the open
orders the state builder nets against confirmations and despatches. Held or rejected actions
were never sent, so they are not part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.storage.models_planning import SENT_STATUSES, PlanAction


@dataclass(frozen=True)
class CommittedLine:
    supplier: str
    part: str
    order_number: str  # "" for schedule lines
    order_date: date
    arrival_date: date
    quantity: int
    unit_price: float
    sent_at: datetime
    action_id: str


def committed_lines(session: Session) -> list[CommittedLine]:
    """The latest word sent per order (purchase orders) or per delivery date (schedules)."""
    actions = session.scalars(
        select(PlanAction).where(PlanAction.status.in_(SENT_STATUSES))
        .order_by(PlanAction.created_at, PlanAction.id)
    ).all()
    latest: dict[tuple[str, ...], CommittedLine] = {}
    for action in actions:
        for item in action.lines:
            try:
                line = CommittedLine(
                    supplier=action.supplier_id, part=str(item["part"]),
                    order_number=action.order_number,
                    order_date=date.fromisoformat(item["order_date"]),
                    arrival_date=date.fromisoformat(item["arrival_date"]),
                    quantity=int(item["quantity"]), unit_price=float(item["unit_price"]),
                    sent_at=action.created_at, action_id=action.id,
                )
            except (KeyError, TypeError, ValueError):
                continue  # written by this module, so only a hand-edited row lands here
            if action.document_type == "delivery_schedule":
                key: tuple[str, ...] = ("schedule", line.supplier, line.part,
                                        line.arrival_date.isoformat())
            else:
                key = ("order", line.supplier, line.order_number, line.part)
            latest[key] = line
    return [line for line in latest.values() if line.quantity > 0]
