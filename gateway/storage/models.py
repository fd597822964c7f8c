"""The database tables, in SQLAlchemy 2.0 typed style.

One schema for SQLite (embedded default) and PostgreSQL (production); Alembic migrations in
``migrations/`` create it, and a test checks the migrations and these models agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gateway.domain.states import AckStatus
from gateway.storage.checks import checks
from gateway.storage.types import UTCDateTime

# Stable constraint names: Alembic can then alter them on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Partner(Base):
    """A trading partner; the profile holds its channel and outbound settings."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    standard: Mapped[str] = mapped_column(String(16))  # edifact | x12 | api
    version: Mapped[str] = mapped_column(String(16), default="")
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    identities: Mapped[list[PartnerIdentity]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", lazy="selectin"
    )
    stages: Mapped[list[PartnerStage]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", lazy="selectin"
    )


class PartnerIdentity(Base):
    """An envelope identity (UNB sender, ISA06/ISA08, GS02/GS03) that belongs to one partner."""

    __tablename__ = "partner_identities"
    __table_args__ = (UniqueConstraint("standard", "qualifier", "identifier",
                                       name="uq_partner_identities_identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"),
                                            index=True)
    standard: Mapped[str] = mapped_column(String(16))  # edifact | x12 | x12-gs
    qualifier: Mapped[str] = mapped_column(String(8), default="")
    identifier: Mapped[str] = mapped_column(String(64))

    partner: Mapped[Partner] = relationship(back_populates="identities")


class PartnerStage(Base):
    """The strangler stage of one partner for one document type (``*`` = every type)."""

    __tablename__ = "partner_stages"
    __table_args__ = (UniqueConstraint("partner_id", "document_type",
                                       name="uq_partner_stages_doc"),
                      *checks("partner_stages"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    document_type: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(8))  # gateway.domain.states.Stage
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_by: Mapped[str] = mapped_column(String(200), default="")

    partner: Mapped[Partner] = relationship(back_populates="stages")


class Credential(Base):
    """A secret or public credential: API token (hashed), SFTP key, AS2 certificate.

    Operator credentials have no partner and carry a role (viewer, operator, admin); a partner
    credential never has a role, so it can never open an operator route.
    """

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # api_token | sftp_key | as2_cert | webhook
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str | None] = mapped_column(String(16))
    token_prefix: Mapped[str | None] = mapped_column(String(16), index=True)
    secret_hash: Mapped[str | None] = mapped_column(String(256))
    public_data: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Interchange(Base):
    """Raw bytes received or sent, committed before any acknowledgment leaves."""

    __tablename__ = "interchanges"
    __table_args__ = (
        Index("ix_interchanges_dedup", "partner_id", "direction", "sender_id", "control_number"),
        Index("ix_interchanges_status", "status", "received_at"),
        # Same partner, same bytes = same interchange: the resend is answered, not stored.
        UniqueConstraint("partner_id", "direction", "sha256", name="uq_interchanges_bytes"),
        *checks("interchanges"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # (partner_id and sha256 look-ups use uq_interchanges_bytes: no indexes of their own, as
    # every receipt would write them.)
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"))
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    channel: Mapped[str] = mapped_column(String(16))  # http | as2 | sftp | rest | webhook
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    blob_path: Mapped[str | None] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(500), default="")
    standard: Mapped[str] = mapped_column(String(16), default="")
    sender_id: Mapped[str] = mapped_column(String(64), default="")
    receiver_id: Mapped[str] = mapped_column(String(64), default="")
    control_number: Mapped[str] = mapped_column(String(32), default="")
    # gateway.domain.states.InterchangeStatus; inbound and outbound have their own tables.
    status: Mapped[str] = mapped_column(String(24))
    status_detail: Mapped[str] = mapped_column(Text, default="")
    duplicate_of: Mapped[str | None] = mapped_column(String(36))
    correlation_id: Mapped[str] = mapped_column(String(32), default="")
    error_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # After a failed processing attempt: not before this time (exponential backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Event(Base):
    """A versioned schema event (CloudEvents envelope + lineage), from the EDI or the API path."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_type_partner_time", "type", "partner_id", "time"),
        Index("ix_events_business_key", "type", "business_key"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    path: Mapped[str] = mapped_column(String(4))  # edi | api
    source: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), default="")
    time: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    business_key: Mapped[str] = mapped_column(String(200), default="")
    interchange_id: Mapped[str | None] = mapped_column(ForeignKey("interchanges.id"),
                                                       index=True)
    message_ref: Mapped[str] = mapped_column(String(64), default="")
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IdempotencyKey(Base):
    """A REST call's Idempotency-Key with the answer it got, so a repeat has no second effect."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("partner_id", "key", name="uq_idempotency_keys_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxItem(Base):
    """A document we owe a partner, written in the same transaction as the decision behind it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      Index("ix_outbox_ack", "ack_status", "ack_due_at"),
                      Index("ix_outbox_cause", "cause_type", "cause_id"),
                      *checks("outbox"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    document_type: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    business_id: Mapped[str] = mapped_column(String(200), default="")
    # gateway.domain.states.OutboxStatus
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    control_numbers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    interchange_id: Mapped[str | None] = mapped_column(ForeignKey("interchanges.id"))
    # What caused it (a plan action; for an acknowledgment, the inbound interchange it
    # answers): promise 4, traceability. cause_type is a gateway.domain.states.CauseType.
    cause_type: Mapped[str] = mapped_column(String(32), default="")
    cause_id: Mapped[str] = mapped_column(String(64), default="")
    # Acknowledgment tracking (gateway.domain.states.AckStatus); the partner's error detail
    # lands in ack_detail.
    ack_status: Mapped[str] = mapped_column(String(24), default=AckStatus.NONE)
    ack_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ack_detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ack_interchange_id: Mapped[str | None] = mapped_column(String(36))

    attempts_log: Mapped[list[OutboxAttempt]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="OutboxAttempt.id")


class OutboxAttempt(Base):
    """One delivery attempt of an outbox row: when, by whom, what happened."""

    __tablename__ = "outbox_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[str] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    worker: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retry | failed
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    item: Mapped[OutboxItem] = relationship(back_populates="attempts_log")


class AuditEntry(Base):
    """Who did what, when and why: stage changes, approvals, replays, credential changes."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ControlNumberSequence(Base):
    """The next control number per partner and scope (isa, gs, st, unb, ung, unh)."""

    __tablename__ = "control_numbers"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"),
                                            primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)
    max_value: Mapped[int] = mapped_column(BigInteger, default=999_999_999)


# Tables of the later parts live in their own modules; importing them here registers them on
# Base.metadata, so Alembic and the tests see one schema.
from gateway.storage import (  # noqa: E402,F401
    models_as2,
    models_broker,
    models_planning,
    models_reconciler,
    models_search,
)
