"""The event outbox: one row per stored event, written in the event's own transaction.

The broker relay (:mod:`gateway.broker.relay`) publishes the rows in ``seq`` order per partner
and marks a row ``published`` only after the broker acknowledged it, so a crash at any point
leaves the row ``pending`` and the next pass publishes it again under the same message id (the
event id), which the broker or the consumer drops as a duplicate.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.domain.states import PublicationStatus
from gateway.storage.checks import checks
from gateway.storage.models import Base
from gateway.storage.types import UTCDateTime

# pending -> published (the broker acknowledged it) | failed (cannot be encoded: never
# publishable, kept for the operator; the partner's later events go on).
PENDING = PublicationStatus.PENDING
PUBLISHED = PublicationStatus.PUBLISHED
FAILED = PublicationStatus.FAILED


class EventPublication(Base):
    """An event owed to the configured broker."""

    __tablename__ = "event_publications"
    __table_args__ = (Index("ix_event_publications_status_seq", "status", "seq"),
                      *checks("event_publications"))

    # Insertion order: events of one partner are published in this order.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=True)
    # The event (type, partner, data) is read from ``events`` when published.
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Where and when it went: the destination's name, the broker's receipt (JetStream stream
    # sequence, or "confirmed" for RabbitMQ) and whether the broker saw it as a duplicate.
    destination: Mapped[str] = mapped_column(String(64), default="")
    broker_ref: Mapped[str] = mapped_column(String(64), default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
