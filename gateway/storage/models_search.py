"""The business-reference index: every business number a stored document carries.

A despatch advice names the orders it ships, an invoice its order, an acknowledgment the control
numbers it answers; one row per (reference, document) lets a search by any of those numbers find
every document of the order's life in one indexed look-up instead of scanning JSON payloads.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.storage.models import Base


class BusinessRef(Base):
    """One business reference of one document (event, interchange, outbox row, plan action)."""

    __tablename__ = "business_refs"
    __table_args__ = (Index("ix_business_refs_value", "value", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # po | asn | invoice | schedule | control | change | response | advice | report | key | ...
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))
    # Exactly one document per row; the others stay empty (no foreign keys: an index row must
    # never block deleting what it points at, and a stale one simply finds nothing).
    event_id: Mapped[str | None] = mapped_column(String(64), index=True)
    interchange_id: Mapped[str | None] = mapped_column(String(36))
    outbox_id: Mapped[str | None] = mapped_column(String(36))
    plan_action_id: Mapped[str | None] = mapped_column(String(36))
    partner_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The flush hook that indexes outbox rows and plan actions must be on whenever the tables are:
# importing the models is the one thing every writer does.
from gateway.search import refs as _refs  # noqa: E402,F401
