"""Commit received bytes as an ``interchanges`` row, recognising exact resends.

The same partner sending the same bytes again is the same interchange (its sender and control
number are inside those bytes): the original row is returned and nothing new is stored
(promise 2). A unique index on (partner, direction, sha256) closes the race between two
concurrent identical posts.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain.states import InterchangeStatus
from gateway.inbox.spool import SpooledBody, keep, kept_bytes
from gateway.observability.logging import current_correlation_id, new_correlation_id
from gateway.storage.models import Interchange


@dataclass
class Accepted:
    interchange: Interchange
    duplicate: bool


def find_same_bytes(session: Session, partner_id: str | None, sha256: str) -> Interchange | None:
    return session.scalars(select(Interchange).where(
        Interchange.partner_id == partner_id, Interchange.direction == "in",
        Interchange.sha256 == sha256)).first()


def accept(session: Session, body: SpooledBody, *, data_dir: Path, partner_id: str | None,
           channel: str, now: datetime, content_type: str = "", filename: str = "",
           correlation_id: str = "", status: str = InterchangeStatus.RECEIVED,
           status_detail: str = "") -> Accepted:
    existing = find_same_bytes(session, partner_id, body.sha256)
    if existing is not None:
        body.discard()
        return Accepted(existing, duplicate=True)
    raw, blob_path = keep(body, data_dir)
    row = Interchange(
        id=str(uuid.uuid4()), partner_id=partner_id, direction="in", channel=channel,
        received_at=now, sha256=body.sha256, size=body.size, raw=raw, blob_path=blob_path,
        content_type=content_type[:200], filename=filename[:500], status=status,
        status_detail=status_detail,
        correlation_id=correlation_id or current_correlation_id() or new_correlation_id(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = find_same_bytes(session, partner_id, body.sha256)
        if existing is None:
            raise
        return Accepted(existing, duplicate=True)
    return Accepted(row, duplicate=False)


def store_outbound(session: Session, raw: bytes, *, partner_id: str, channel: str,
                   now: datetime, content_type: str = "", filename: str = "",
                   correlation_id: str = "", standard: str = "",
                   control_number: str = "", status: str = InterchangeStatus.QUEUED) -> Interchange:
    """Keep the exact bytes of something we send (an acknowledgment, an order)."""
    row = Interchange(
        id=str(uuid.uuid4()), partner_id=partner_id, direction="out", channel=channel,
        received_at=now, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), raw=raw,
        content_type=content_type, filename=filename, standard=standard,
        control_number=control_number, status=status,
        correlation_id=correlation_id or current_correlation_id() or "",
    )
    session.add(row)
    return row


def raw_bytes(interchange: Interchange, data_dir: Path) -> bytes:
    return kept_bytes(interchange.raw, interchange.blob_path, data_dir)
