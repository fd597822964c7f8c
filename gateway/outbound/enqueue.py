"""Write what we owe a partner into the outbox, inside the caller's transaction.

A document is rendered ONCE, here: its control numbers are allocated from the partner's durable
sequences and its exact bytes are stored (as an outbound interchange), so every later delivery
attempt — after a timeout, a crash, a resend of an overdue document — sends the same bytes with
the same control numbers and the partner can recognise a repeat (promise 2).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.domain.states import AckStatus, CauseType, OutboxStatus
from gateway.inbox.store import store_outbound
from gateway.outbound.routing import EDI_KINDS, routes_for
from gateway.storage.models import OutboxItem, Partner
from gateway.storage.repositories import allocate_control_numbers, stage_of
from gateway.storage.retry import lock_counters

DEFAULT_ACK_WINDOW = timedelta(hours=4)

# Document types we render as EDI, with the message each standard uses (for file names only;
# the renderer decides the real message type).
OUTBOUND_TYPES = ("purchase_order", "order_change", "delivery_schedule")


@dataclass(frozen=True)
class OurIdentity:
    x12_id: str
    x12_qualifier: str
    edifact_id: str
    edifact_qualifier: str

    @classmethod
    def from_settings(cls, settings: Settings) -> OurIdentity:
        return cls(settings.x12_id, settings.x12_qualifier, settings.edifact_id,
                   settings.edifact_qualifier)


def ack_window(profile: dict[str, Any]) -> timedelta:
    minutes = profile.get("outbound", {}).get("ack_window_minutes")
    return timedelta(minutes=float(minutes)) if minutes else DEFAULT_ACK_WINDOW


def _receiver(partner: Partner) -> tuple[str, str]:
    wanted = "x12" if partner.standard == "x12" else "edifact"
    for ident in partner.identities:
        if ident.standard == wanted:
            return ident.identifier, ident.qualifier
    raise ValueError(f"partner {partner.id} has no {wanted} identity to address documents to")


def with_party_qualifiers(data: dict[str, Any], standard: str,
                          outbound: dict[str, Any]) -> dict[str, Any]:
    """Give every party id the code of its identification scheme where the document needs one.

    Payloads name parties by id alone (the planner does not know how a partner's systems label
    our ids). X12 N1 cannot carry N104 without N103 (syntax rule P0304): a partner's translator
    rejects such an 850 with AK5 R. The profile's ``outbound.party_id_qualifier`` says which
    scheme the partner expects; without it X12 gets "92" (assigned by the buyer), which is what
    our ids are. EDIFACT NAD may leave the agency code out, so it is added only when configured.
    """
    configured = outbound.get("party_id_qualifier")
    qualifier = str(configured) if configured else ("92" if standard == "x12" else "")
    parties = data.get("parties")
    if not qualifier or not isinstance(parties, list):
        return data
    filled = [{**party, "id_qualifier": qualifier}
              if isinstance(party, dict) and party.get("id") and not party.get("id_qualifier")
              else party for party in parties]
    return {**data, "parties": filled}


def render_edi(session: Session, partner: Partner, document_type: str, data: dict[str, Any], *,
               ours: OurIdentity, now: datetime) -> tuple[bytes, dict[str, Any]]:
    """Allocate control numbers and render the document in the partner's standard."""
    from translators.render import ControlNumbers, RenderProfile, render_document

    outbound = partner.profile.get("outbound", {})
    data = with_party_qualifiers(data, partner.standard, outbound)
    receiver_id, receiver_qualifier = _receiver(partner)
    if partner.standard == "x12":
        scopes = ("isa", "gs", "st")
        sender_id, sender_qualifier = ours.x12_id, ours.x12_qualifier
    else:
        scopes = ("unb", "ung", "unh")
        sender_id, sender_qualifier = ours.edifact_id, ours.edifact_qualifier
    # In the one global order of counters (gateway.storage.retry): interchange, group, message.
    lock_counters(session, partner.id, scopes)
    numbers = [allocate_control_numbers(session, partner.id, scope)[0] for scope in scopes]
    control = ControlNumbers(interchange=numbers[0], group=numbers[1], message=numbers[2])
    profile = RenderProfile(
        standard=partner.standard, version=partner.version or
        ("004010" if partner.standard == "x12" else "D96A"),
        sender_id=sender_id, sender_qualifier=sender_qualifier,
        receiver_id=receiver_id, receiver_qualifier=receiver_qualifier,
        **{k: v for k, v in {"charset": outbound.get("charset"),
                             "segment_suffix": outbound.get("segment_suffix"),
                             "test_indicator": outbound.get("test_indicator")}.items()
           if v is not None},
    )
    raw = render_document(document_type, data, profile=profile, control=control, now=now)
    return raw, {"interchange": str(numbers[0]), "group": str(numbers[1]),
                 "message": str(numbers[2])}


def webhook_body(partner: Partner, document_type: str, business_id: str,
                 data: dict[str, Any], *, now: datetime, event_id: str) -> bytes:
    envelope = {
        "specversion": "1.0", "id": event_id, "source": "/edigate", "type": document_type,
        "time": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "subject": business_id, "datacontenttype": "application/json",
        "partner": partner.id, "business_id": business_id, "data": data,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def enqueue_document(session: Session, partner: Partner, document_type: str, business_id: str,
                     data: dict[str, Any], *, now: datetime, ours: OurIdentity,
                     cause_type: CauseType = CauseType.NONE, cause_id: str = "",
                     stage: str | None = None) -> list[OutboxItem]:
    """One outbox row per delivery channel the partner's stage calls for. Idempotent: the same
    (partner, document type, business id) returns the rows already queued."""
    existing = session.scalars(select(OutboxItem).where(
        OutboxItem.partner_id == partner.id, OutboxItem.document_type == document_type,
        OutboxItem.business_id == business_id)).all()
    if existing:
        return list(existing)
    stage = stage or stage_of(session, partner.id, document_type)
    rows: list[OutboxItem] = []
    for channel in routes_for(partner.profile, stage):
        row_id = str(uuid.uuid4())
        if channel in EDI_KINDS:
            raw, control = render_edi(session, partner, document_type, data, ours=ours, now=now)
            stored = store_outbound(
                session, raw, partner_id=partner.id, channel=channel, now=now,
                standard=partner.standard, control_number=control["interchange"],
                content_type="application/edi-x12" if partner.standard == "x12"
                else "application/edifact",
                filename=f"{document_type}-{business_id}-{control['interchange']}.edi")
            session.flush()
            row = OutboxItem(
                id=row_id, partner_id=partner.id, document_type=document_type, channel=channel,
                business_id=business_id, status=OutboxStatus.PENDING, payload=raw, data=data,
                control_numbers=control, next_attempt_at=now, created_at=now, updated_at=now,
                interchange_id=stored.id, cause_type=cause_type, cause_id=cause_id,
                ack_status=AckStatus.NONE)
        else:
            body = webhook_body(partner, document_type, business_id, data, now=now,
                                event_id=row_id)
            row = OutboxItem(
                id=row_id, partner_id=partner.id, document_type=document_type, channel=channel,
                business_id=business_id, status=OutboxStatus.PENDING, payload=body, data=data,
                control_numbers={}, next_attempt_at=now, created_at=now, updated_at=now,
                cause_type=cause_type, cause_id=cause_id, ack_status=AckStatus.NONE)
        session.add(row)
        rows.append(row)
    return rows
