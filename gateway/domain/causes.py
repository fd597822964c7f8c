"""Why an outbox row exists, in typed columns (``cause_type``, ``cause_id``).

An acknowledgment we owe names the inbound interchange it answers; an order the plan sent names
its plan action. Readers ask these functions rather than parsing ``business_id``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_

from gateway.domain.states import CauseType
from gateway.storage.models import OutboxItem


def acknowledging(interchange_id: str) -> dict[str, Any]:
    """The cause columns of an acknowledgment of ``interchange_id`` (OutboxItem keywords)."""
    return {"cause_type": CauseType.INTERCHANGE, "cause_id": interchange_id}


def acknowledgments_of(interchange_id: str) -> ColumnElement[bool]:
    """Outbox rows that acknowledge the inbound interchange ``interchange_id``."""
    return and_(OutboxItem.cause_type == CauseType.INTERCHANGE,
                OutboxItem.cause_id == interchange_id)


def caused_by_plan_action(action_id: str) -> ColumnElement[bool]:
    return and_(OutboxItem.cause_type == CauseType.PLAN_ACTION, OutboxItem.cause_id == action_id)
