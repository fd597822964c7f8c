"""Planning tables: plan runs with their inputs, planned order lines, and plan actions.

Traceability (promise 4) runs ``OutboxItem.cause_id`` -> :class:`PlanAction` -> :class:`PlanRun`
-> :class:`PlanRunInput` (event ids) -> ``Event.interchange_id`` -> the raw interchange.

A :class:`PlanAction` is one document the plan wants a supplier to receive (a new order, a
change or cancellation, a delivery schedule). Actions that pass the guardrails go to the outbox
at once; the others wait with status ``held`` (the approval queue) until an operator approves
or rejects them, or a newer plan run supersedes them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.domain.states import PlanActionStatus
from gateway.storage.checks import checks
from gateway.storage.models import Base
from gateway.storage.types import UTCDateTime

# PlanAction.status values (the enum's members, under the names the planning code uses).
HELD = PlanActionStatus.HELD
APPROVED = PlanActionStatus.APPROVED
RELEASED = PlanActionStatus.RELEASED
REJECTED = PlanActionStatus.REJECTED
SUPERSEDED = PlanActionStatus.SUPERSEDED
FAILED = PlanActionStatus.FAILED
SENT_STATUSES = (APPROVED, RELEASED)


class PlanRun(Base):
    """One planning run: when, why, with which parameters, and what it decided."""

    __tablename__ = "plan_runs"
    __table_args__ = (Index("ix_plan_runs_created", "created_at"), *checks("plan_runs"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    trigger: Mapped[str] = mapped_column(String(32))  # schedule | event | api | cli
    actor: Mapped[str] = mapped_column(String(200), default="")
    # adopted (a new plan) | kept (the previous plan stays: infeasible or failed solve)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # optimizer | naive | previous | none
    horizon_start: Mapped[date] = mapped_column(Date)
    periods: Mapped[int] = mapped_column(Integer)
    period_days: Mapped[int] = mapped_column(Integer, default=1)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The optimizer's report, cost breakdown, reasons and stale inputs (plan_to_dict minus lines).
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the state builder skipped or assumed (unknown parts, missing prices...).
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    cost_total: Mapped[float] = mapped_column(Float, default=0.0)
    solver_status: Mapped[str] = mapped_column(String(64), default="")
    gap: Mapped[float | None] = mapped_column(Float)

    inputs: Mapped[list[PlanRunInput]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="PlanRunInput.id")
    lines: Mapped[list[PlannedLine]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="PlannedLine.id")
    actions: Mapped[list[PlanAction]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="PlanAction.id")


class PlanRunInput(Base):
    """One event a plan run was built from (so an event can name the plans it shaped, too)."""

    __tablename__ = "plan_run_inputs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("plan_runs.id", ondelete="CASCADE"),
                                        index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)

    run: Mapped[PlanRun] = relationship(back_populates="inputs")


class PlannedLine(Base):
    """One order line of an adopted plan, with why it exists."""

    __tablename__ = "planned_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("plan_runs.id", ondelete="CASCADE"),
                                        index=True)
    part: Mapped[str] = mapped_column(String(64))
    supplier_id: Mapped[str] = mapped_column(String(64))
    order_date: Mapped[date] = mapped_column(Date)
    arrival_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[float] = mapped_column(Float)
    frozen: Mapped[bool] = mapped_column(default=False)
    firm: Mapped[bool] = mapped_column(default=False)
    # Demand dates this arrival serves (first in, first out) and the constraints that shaped it.
    covers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    bound_by: Mapped[list[Any]] = mapped_column(JSON, default=list)
    order_number: Mapped[str] = mapped_column(String(35), default="")

    run: Mapped[PlanRun] = relationship(back_populates="lines")


class PlanAction(Base):
    """A document the plan wants sent: a new order, a change, a cancellation or a schedule."""

    __tablename__ = "plan_actions"
    __table_args__ = (Index("ix_plan_actions_status", "status", "created_at"),
                      Index("ix_plan_actions_order", "supplier_id", "order_number"),
                      *checks("plan_actions"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("plan_runs.id", ondelete="CASCADE"),
                                        index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    supplier_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    kind: Mapped[str] = mapped_column(String(16))  # new | change | cancel | firm | forecast
    document_type: Mapped[str] = mapped_column(String(64))
    # Stable outbox business id: a retry of the same action enqueues nothing twice.
    business_id: Mapped[str] = mapped_column(String(200))
    order_number: Mapped[str] = mapped_column(String(35), default="")
    value: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # why it is held
    # What it tells the supplier, one entry per order/schedule line (part, order_date,
    # arrival_date, quantity, previous_quantity, unit_price): the next run's baseline.
    lines: Mapped[list[Any]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the event payload
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    outbox_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)

    run: Mapped[PlanRun] = relationship(back_populates="actions")
