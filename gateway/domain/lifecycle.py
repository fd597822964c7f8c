"""Status changes of stored rows, checked against the tables of :mod:`gateway.domain.states`.

Two ways in, one rule: code that owns a row calls :func:`move` (or :func:`move_ack`), which
refuses a change its table does not allow before the row is touched; and every session made by
:func:`gateway.storage.db.session_factory` runs :func:`check_flush` before it writes, which
checks every status that changed in that flush the same way — a writer elsewhere that forgets
:func:`move` is still held to the tables — and makes each outbound interchange follow its outbox
row and acknowledgment (queued -> sent -> accepted | accepted_with_errors | rejected | overdue).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from gateway.domain.states import (
    ACK_TO_INTERCHANGE,
    ACK_VERDICTS,
    AckStatus,
    Entity,
    InterchangeStatus,
    OutboxStatus,
    can_transition,
    transition,
)
from gateway.storage.models import Interchange, OutboxItem, PartnerStage
from gateway.storage.models_planning import PlanAction


def entity_of(row: object) -> Entity | None:
    if isinstance(row, OutboxItem):
        return Entity.OUTBOX
    if isinstance(row, Interchange):
        return (Entity.OUTBOUND_INTERCHANGE if row.direction == "out"
                else Entity.INBOUND_INTERCHANGE)
    if isinstance(row, PlanAction):
        return Entity.PLAN_ACTION
    if isinstance(row, PartnerStage):
        return Entity.STAGE
    return None


def _field(row: object) -> str:
    return "stage" if isinstance(row, PartnerStage) else "status"


def move(row: Any, new: str) -> None:
    """Set the status of ``row`` (outbox row, interchange, plan action, partner stage)."""
    entity = entity_of(row)
    if entity is None:
        raise TypeError(f"{type(row).__name__} has no status state machine")
    field = _field(row)
    current = getattr(row, field, None)
    setattr(row, field, transition(entity, current, new))


def move_ack(item: OutboxItem, new: AckStatus) -> None:
    item.ack_status = transition(Entity.ACK, item.ack_status, new)


def outbound_status(outbox: str, ack: str, current: str | None = None) -> InterchangeStatus:
    """What an outbound interchange is, given its outbox row and acknowledgment (and, as the
    outbox does not know of pick-ups, what it is now)."""
    if outbox == OutboxStatus.CANCELLED:
        return InterchangeStatus.CANCELLED
    if ack in ACK_VERDICTS:
        # The partner's verdict is the last word (even on a row an operator queued again).
        return ACK_TO_INTERCHANGE[AckStatus(ack)]
    if outbox in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        return InterchangeStatus.QUEUED
    if outbox in (OutboxStatus.DEAD, OutboxStatus.FAILED):
        return InterchangeStatus.FAILED
    if ack == AckStatus.OVERDUE:
        return InterchangeStatus.OVERDUE
    if current == InterchangeStatus.PICKED_UP:
        return InterchangeStatus.PICKED_UP
    return InterchangeStatus.SENT


def _before(row: object, field: str) -> str | None:
    """The status ``row`` had when loaded (None: new row, or the value was never loaded)."""
    state = inspect(row)
    if state.pending or state.transient:
        return None
    history = state.attrs[field].history
    if not history.has_changes():
        return None
    return history.deleted[0] if history.deleted else None


def _changed(row: object, *fields: str) -> bool:
    state = inspect(row)
    return state.pending or any(state.attrs[f].history.has_changes() for f in fields)


def check_flush(session: Session, _context: Any = None, _instances: Any = None) -> None:
    """``before_flush``: every status change in this flush follows its table; outbound
    interchanges follow their outbox rows."""
    follow: list[OutboxItem] = []
    for row in (*session.new, *session.dirty):
        entity = entity_of(row)
        if entity is None:
            continue
        field = _field(row)
        new = getattr(row, field)
        if new is not None and _changed(row, field):
            transition(entity, _before(row, field), new)
        if isinstance(row, OutboxItem):
            if row.ack_status is not None and _changed(row, "ack_status"):
                transition(Entity.ACK, _before(row, "ack_status"), row.ack_status)
            if row.interchange_id and _changed(row, "status", "ack_status", "interchange_id"):
                follow.append(row)
    # An outbound interchange added in this flush is not in the identity map yet (the inbox
    # stores a batch without flushing in between): found among the new objects.
    added = {o.id: o for o in session.new if isinstance(o, Interchange)} if follow else {}
    with session.no_autoflush:
        for item in follow:
            target = item.interchange_id or ""  # (follow holds rows that name one)
            stored = added.get(target) or session.get(Interchange, target)
            if stored is None or stored.direction != "out":
                continue
            derived = outbound_status(item.status, item.ack_status or AckStatus.NONE,
                                      stored.status)
            if stored.status != derived:
                stored.status = transition(Entity.OUTBOUND_INTERCHANGE, stored.status, derived)


def note_picked_up(row: Interchange) -> None:
    """The partner fetched an outbound interchange; after its verdict that changes nothing."""
    if can_transition(Entity.OUTBOUND_INTERCHANGE, row.status, InterchangeStatus.PICKED_UP):
        row.status = InterchangeStatus.PICKED_UP
