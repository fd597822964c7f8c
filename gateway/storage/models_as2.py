"""AS2 tables: partner and own certificates with validity windows, and every AS2 message.

``as2_certificates`` holds several certificates per partner so a rotation needs no downtime:
during the overlap both verify, and outbound encryption picks the newest valid one. Our own
certificates (``partner_id`` NULL) point at a private key file; keys never enter the database.

``as2_messages`` records each AS2 message in either direction with its Message-ID, MIC and MDN
state. Inbound rows keep the raw request (headers + body) committed before anything is parsed;
outbound rows keep the exact bytes sent, so a resend repeats them byte for byte.
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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.storage.checks import checks
from gateway.storage.models import Base
from gateway.storage.types import UTCDateTime


class As2Certificate(Base):
    __tablename__ = "as2_certificates"
    __table_args__ = (
        UniqueConstraint("owner", "fingerprint", name="uq_as2_certificates_owner_fp"),
        Index("ix_as2_certificates_owner_window", "owner", "not_after"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The partner id, or "" for our own certificates (a NULL would escape the unique index).
    owner: Mapped[str] = mapped_column(String(64))
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    usage: Mapped[str] = mapped_column(String(16), default="both")  # sign | encrypt | both
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the DER, hex
    subject: Mapped[str] = mapped_column(String(500), default="")
    issuer: Mapped[str] = mapped_column(String(500), default="")
    serial: Mapped[str] = mapped_column(String(80), default="")
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    cert_pem: Mapped[str] = mapped_column(Text)
    key_path: Mapped[str | None] = mapped_column(String(500))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class As2Message(Base):
    __tablename__ = "as2_messages"
    __table_args__ = (
        Index("ix_as2_messages_lookup", "partner_id", "direction", "message_id"),
        Index("ix_as2_messages_mdn", "direction", "mdn_status"),
        *checks("as2_messages"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    message_id: Mapped[str] = mapped_column(String(255))
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    as2_from: Mapped[str] = mapped_column(String(128), default="")
    as2_to: Mapped[str] = mapped_column(String(128), default="")
    # gateway.domain.states.As2InboundStatus / As2OutboundStatus, by direction
    status: Mapped[str] = mapped_column(String(16))
    status_detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The exact request (in) or the exact message (out): headers and body.
    headers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_path: Mapped[str | None] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    signed: Mapped[bool] = mapped_column(default=False)
    encrypted: Mapped[bool] = mapped_column(default=False)
    compressed: Mapped[bool] = mapped_column(default=False)
    mic: Mapped[str] = mapped_column(String(200), default="")
    mic_algorithm: Mapped[str] = mapped_column(String(16), default="")
    # The payload committed to the inbox (in) or the outbox row it carries (out).
    interchange_id: Mapped[str | None] = mapped_column(ForeignKey("interchanges.id"))
    outbox_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # none | sync | async
    mdn_mode: Mapped[str] = mapped_column(String(8), default="none")
    mdn_url: Mapped[str] = mapped_column(String(500), default="")
    # gateway.domain.states.MdnStatus
    mdn_status: Mapped[str] = mapped_column(String(16), default="none")
    mdn_disposition: Mapped[str] = mapped_column(String(300), default="")
    mdn_message_id: Mapped[str] = mapped_column(String(255), default="")
    mdn_raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    mdn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
