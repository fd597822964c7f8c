"""Reconciler tables: runs, their classified results, daily agreement, and job leases.

A run reconciles one partner over one window and stores every non-trivial result (matches are
counted, not stored one by one, so a busy partner does not fill the database with agreement).
``reconcile_daily`` keeps the latest statistics per partner, document type and day: the
dashboard's chart and the cut-over gate read it. ``job_leases`` lets several gateway processes
share one schedule: a job runs where its lease is held.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.storage.checks import checks
from gateway.storage.models import Base
from gateway.storage.types import UTCDateTime


class ReconcileRun(Base):
    """One reconciliation of one partner over a window: when, why, what it found."""

    __tablename__ = "reconcile_runs"
    __table_args__ = (Index("ix_reconcile_runs_partner_started", "partner_id", "started_at"),
                      *checks("reconcile_runs"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    trigger: Mapped[str] = mapped_column(String(32))  # schedule | window-close | api | cli | gate
    actor: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16))  # ok | failed
    events: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # outcome -> number
    agreement: Mapped[float | None] = mapped_column(Float)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")

    results: Mapped[list[ReconcileResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ReconcileResult.id")


class ReconcileResult(Base):
    """One classified pair, orphan or duplicate that is not a plain match."""

    __tablename__ = "reconcile_results"
    __table_args__ = (Index("ix_reconcile_results_run_outcome", "run_id", "outcome"),
                      Index("ix_reconcile_results_doc", "partner_id", "document_type", "day"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("reconcile_runs.id", ondelete="CASCADE"))
    partner_id: Mapped[str] = mapped_column(String(64))
    document_type: Mapped[str] = mapped_column(String(64))
    business_key: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))
    edi_event_id: Mapped[str | None] = mapped_column(String(64))
    api_event_id: Mapped[str | None] = mapped_column(String(64))
    duplicate_of: Mapped[str | None] = mapped_column(String(64))
    delay_seconds: Mapped[float | None] = mapped_column(Float)
    differences: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")

    run: Mapped[ReconcileRun] = relationship(back_populates="results")


class ReconcileDaily(Base):
    """Latest agreement statistics of one partner, document type and day."""

    __tablename__ = "reconcile_daily"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"),
                                            primary_key=True)
    document_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field -> documents
    decided: Mapped[int] = mapped_column(Integer, default=0)
    agreement: Mapped[float | None] = mapped_column(Float)
    run_id: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobLease(Base):
    """Who runs a scheduled job until when; another process takes over after expiry."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PullCursor(Base):
    """How far the API pull connector has read a partner's event feed."""

    __tablename__ = "pull_cursors"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"),
                                            primary_key=True)
    cursor: Mapped[str] = mapped_column(String(200), default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
