"""Which business numbers a document carries, and writing them to ``business_refs``.

The field names are the event schemas' own (``schemas/events``): one table maps a field to the
kind of number it holds, at any depth, so a despatch advice's ``orders[].order_number`` and an
invoice's ``order_number`` both index as ``po``. Events are indexed by an explicit call where
they are stored; outbox rows and plan actions are written by many modules, so a flush hook
indexes them wherever they come from.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert
from sqlalchemy.orm import Session

from gateway.storage.models import Event, OutboxItem
from gateway.storage.models_planning import PlanAction
from gateway.storage.models_search import BusinessRef

FIELD_KINDS = {
    "order_number": "po", "shipment_number": "asn", "tracking_number": "tracking",
    "invoice_number": "invoice", "schedule_number": "schedule", "change_number": "change",
    "response_number": "response", "advice_number": "advice", "report_number": "report",
    "reference_number": "reference", "control_number": "control",
    "acknowledged_interchange": "control", "acknowledged_group": "control",
}
ENVELOPE_CONTROLS = ("interchangecontrol", "groupcontrol", "messagecontrol")
VALUE_LIMIT = 200


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text if text and len(text) <= VALUE_LIMIT and "\x00" not in text else None


def _walk(data: Any) -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            kind = FIELD_KINDS.get(key)
            text = _scalar(value) if kind else None
            if kind and text:
                yield kind, text
            elif isinstance(value, dict | list):
                yield from _walk(value)
    elif isinstance(data, list):
        for item in data:
            yield from _walk(item)


def references(data: Any, *, business_key: str = "",
               envelope: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """Distinct (kind, value) pairs in first-seen order: the business key, every numbered field
    of the payload, the envelope's control numbers."""
    found: list[tuple[str, str]] = []
    key = _scalar(business_key)
    if key:
        found.append(("key", key))
    found.extend(_walk(data))
    for name in ENVELOPE_CONTROLS:
        text = _scalar((envelope or {}).get(name))
        if text:
            found.append(("control", text))
    return list(dict.fromkeys(found))


PENDING = "edigate.business_refs"


def _queue(session: Session, refs: list[tuple[str, str]], **columns: Any) -> None:
    # Rows wait in the session and go in one executemany after its next flush: a
    # ``BusinessRef`` object per reference made storing events four times slower.
    pending: list[dict[str, Any]] = session.info.setdefault(PENDING, [])
    base = {"event_id": None, "interchange_id": None, "outbox_id": None,
            "plan_action_id": None, "partner_id": None, **columns}
    pending.extend({**base, "kind": kind, "value": value} for kind, value in refs)


def index_event(session: Session, row: Event) -> None:
    """Index a stored event (call in the transaction that stores it, after adding it)."""
    _queue(session, references(row.data, business_key=row.business_key, envelope=row.envelope),
           event_id=row.id, interchange_id=row.interchange_id, partner_id=row.partner_id,
           at=row.time)


def outbox_refs(business_id: str, data: Any, control_numbers: Any) -> list[tuple[str, str]]:
    """An outbox row's numbers (plain values, so the migration's backfill can call it too)."""
    found = references(data if isinstance(data, dict) else {})
    # "ack:<interchange>" rows are found through the interchange they answer.
    if business_id and not business_id.startswith("ack:"):
        found.insert(0, ("key", business_id[:VALUE_LIMIT]))
    found.extend(("control", text) for text in map(_scalar, (control_numbers or {}).values())
                 if text)
    return list(dict.fromkeys(found))


def action_refs(business_id: str, order_number: str, data: Any) -> list[tuple[str, str]]:
    found = [("key", business_id[:VALUE_LIMIT])] if business_id else []
    if order_number:
        found.append(("po", order_number))
    found.extend(references(data if isinstance(data, dict) else {}))
    return list(dict.fromkeys(found))


@sa_event.listens_for(Session, "before_flush")
def _index_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.new):
        if isinstance(obj, OutboxItem):
            _queue(session, outbox_refs(obj.business_id, obj.data, obj.control_numbers),
                   outbox_id=obj.id, interchange_id=obj.interchange_id,
                   partner_id=obj.partner_id, at=obj.created_at)
        elif isinstance(obj, PlanAction):
            _queue(session, action_refs(obj.business_id, obj.order_number, obj.data),
                   plan_action_id=obj.id, partner_id=obj.supplier_id, at=obj.created_at)


@sa_event.listens_for(Session, "after_flush")
def _write_refs(session: Session, _context: Any) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        session.connection().execute(insert(BusinessRef), pending)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_refs(session: Session, _previous: Any) -> None:
    session.info.pop(PENDING, None)
