"""Acknowledgment tracking for what we send.

Every outbound EDI business document expects a 997/999 (X12, matched on GS06 and ST02) or a
CONTRL (EDIFACT, matched on the UNB reference). A rejection marks the document failed with the
partner's own error detail; silence past the partner's window marks it overdue and, when the
profile says so, queues the identical bytes again (same control numbers, so the partner can see
it is a repeat). A TA1 that accepts the interchange is noted but settles nothing (the 997 is the
verdict); an acknowledgment that arrives while the document is still being delivered is kept,
and the dispatcher applies it when it records the delivery.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.lifecycle import move, move_ack
from gateway.domain.states import ACK_VERDICTS, ACK_WAITING, AckStatus, OutboxStatus
from gateway.outbound.enqueue import ack_window
from gateway.outbound.routing import EDI_KINDS
from gateway.storage.models import OutboxItem, Partner

WAITING = ACK_WAITING
MAX_OVERDUE_RESENDS_DEFAULT = 1
# A functional acknowledgment's verdict is in: the document is settled one way or the other.
ACKED = ACK_VERDICTS


def expects_ack(item: OutboxItem) -> bool:
    return item.channel in EDI_KINDS and not item.document_type.startswith("ack:")


def mark_sent(item: OutboxItem, profile: dict[str, Any], now: datetime) -> None:
    if expects_ack(item) and (item.ack_status or AckStatus.NONE) in (AckStatus.NONE,
                                                                      AckStatus.OVERDUE):
        move_ack(item, AckStatus.EXPECTED)
        item.ack_due_at = now + ack_window(profile)


def _status_of(data: dict[str, Any], item: OutboxItem) -> tuple[str, list[dict[str, Any]]]:
    message = str(item.control_numbers.get("message", ""))
    for entry in data.get("messages", []) or []:
        if str(entry.get("control_number", "")).lstrip("0") == message.lstrip("0"):
            return str(entry.get("status", data.get("status", ""))), list(entry.get("errors", []))
    return str(data.get("status", "")), []


def _same(a: Any, b: Any) -> bool:
    return str(a or "").lstrip("0") == str(b or "").lstrip("0") and str(a or "") != ""


def apply_functional_ack(session: Session, partner_id: str, data: dict[str, Any], *,
                         ack_interchange_id: str, now: datetime) -> list[OutboxItem]:
    """Match one inbound functional_ack payload to the documents it acknowledges."""
    ack_type = str(data.get("ack_type", ""))
    rows = session.scalars(select(OutboxItem).where(
        OutboxItem.partner_id == partner_id,
        OutboxItem.ack_status.in_((*WAITING, AckStatus.NONE)),
        OutboxItem.status.in_((OutboxStatus.SENT, OutboxStatus.SENDING,
                               OutboxStatus.PENDING)))).all()
    matched: list[OutboxItem] = []
    for item in rows:
        if not expects_ack(item):
            continue
        numbers = item.control_numbers
        if ack_type in ("997", "999"):
            hit = _same(numbers.get("group"), data.get("acknowledged_group"))
        else:  # CONTRL and TA1 acknowledge an interchange
            hit = _same(numbers.get("interchange"), data.get("acknowledged_interchange"))
        if not hit:
            continue
        status, errors = _status_of(data, item)
        if ack_type == "TA1" and status != AckStatus.REJECTED:
            # An interchange-level receipt, not the verdict on the document: the 997/999 is
            # still to come and may reject it, so the row keeps waiting for that.
            item.ack_detail = {**(item.ack_detail or {}), "ta1": {
                "status": status, "errors": errors, "interchange_id": ack_interchange_id}}
            item.updated_at = now
            matched.append(item)
            continue
        # Anything but a clean accept or reject (partially accepted, an unknown code) is an
        # acceptance the partner had something to say about.
        move_ack(item, AckStatus(status) if status in ACKED
                 else AckStatus.ACCEPTED_WITH_ERRORS)
        item.acked_at = now
        item.ack_due_at = None
        item.ack_interchange_id = ack_interchange_id
        item.ack_detail = {**{k: v for k, v in (item.ack_detail or {}).items()
                              if k in ("overdue_resends", "ta1")},
                           "ack_type": ack_type, "status": status, "errors": errors}
        if item.ack_status == AckStatus.REJECTED:
            item.last_error = f"rejected by the partner's {ack_type}: " + "; ".join(
                str(e.get("description") or e.get("code")) for e in errors)[:2000]
        # A row still ``sending`` (the partner answered before our dispatcher recorded the
        # delivery) stays with the dispatcher: it owns the claim, records its attempt and then
        # applies this verdict (dispatcher.record_result). A ``pending`` one, waiting for a
        # retry after, say, an MDN timeout, was received after all.
        if item.status != OutboxStatus.SENDING:
            move(item, OutboxStatus.FAILED if item.ack_status == AckStatus.REJECTED
                 else OutboxStatus.SENT)
            item.delivered_at = item.delivered_at or now
        item.updated_at = now
        matched.append(item)
    return matched


def flag_overdue(session: Session, now: datetime) -> tuple[int, int]:
    """Mark documents whose acknowledgment is late; queue a resend where the profile asks.
    Returns (flagged, resent)."""
    rows = session.scalars(select(OutboxItem).where(
        OutboxItem.ack_status == AckStatus.EXPECTED, OutboxItem.ack_due_at < now)).all()
    flagged = resent = 0
    for item in rows:
        partner = session.get(Partner, item.partner_id)
        outbound = (partner.profile if partner else {}).get("outbound", {})
        move_ack(item, AckStatus.OVERDUE)
        item.updated_at = now
        flagged += 1
        resends = int((item.ack_detail or {}).get("overdue_resends", 0))
        limit = int(outbound.get("max_overdue_resends", MAX_OVERDUE_RESENDS_DEFAULT))
        if outbound.get("resend_overdue") and resends < limit:
            item.ack_detail = {**(item.ack_detail or {}), "overdue_resends": resends + 1}
            move(item, OutboxStatus.PENDING)
            item.next_attempt_at = now
            # A resend is a new delivery with its own attempts (the log keeps the old ones).
            item.attempts = 0
            resent += 1
    return flagged, resent


def overdue_after(profile: dict[str, Any]) -> timedelta:
    return ack_window(profile)
