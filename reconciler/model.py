"""The reconciler's vocabulary: events in, classified results out.

Times are always timezone-aware UTC-comparable datetimes handed in by the caller; the engine
never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

EDI = "edi"
API = "api"
PATHS = (EDI, API)


class Outcome(StrEnum):
    """How one document pair (or orphan, or extra copy) came out."""

    MATCH = "match"  # both paths, every compared field agrees within tolerance
    MISMATCH = "mismatch"  # both paths, at least one field differs (see the differences)
    MISSING_API = "missing_api"  # EDI only, and the grace for the API copy has passed
    MISSING_EDI = "missing_edi"  # API only, and the grace for the EDI copy has passed
    DUPLICATE = "duplicate"  # a second copy of a document on the same path
    LATE = "late"  # both paths, but the second copy arrived after the grace
    PENDING = "pending"  # one path only, still inside the grace: not decided yet


# Outcomes that say something about agreement; PENDING waits for the other path.
DECIDED = tuple(o for o in Outcome if o is not Outcome.PENDING)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What the engine needs of one stored event."""

    id: str
    type: str
    path: str  # "edi" | "api"
    business_key: str
    time: datetime  # business time of the document (CloudEvents ``time``)
    recorded_at: datetime  # when the gateway stored it
    data: dict[str, Any]
    partner_id: str = ""


@dataclass(frozen=True, slots=True)
class FieldDifference:
    """One field that disagrees: where, both values, and the rule it broke."""

    path: str  # e.g. ``lines[10].quantity`` (list elements named by their key)
    edi: Any
    api: Any
    rule: str  # e.g. ``quantity |Δ| ≤ max(0.5, 1%)``, ``equal``, ``missing_field``

    @property
    def field(self) -> str:
        """The path without element keys (``lines.quantity``): what statistics group by."""
        return field_name(self.path)

    @property
    def kind(self) -> str:
        """What a team does about it: ``value_differs`` (both values there),
        ``missing_on_edi`` / ``missing_on_api`` (one path left a field or line out)."""
        if self.rule in ("missing_field", "missing_line"):
            return MISSING_ON_EDI if _blank(self.edi) else MISSING_ON_API
        return VALUE_DIFFERS

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "field": self.field, "kind": self.kind, "edi": self.edi,
                "api": self.api, "rule": self.rule}


VALUE_DIFFERS, MISSING_ON_EDI, MISSING_ON_API = "value_differs", "missing_on_edi", \
    "missing_on_api"
NOT_COMPARABLE = "not_comparable"


def _blank(value: Any) -> bool:
    return value is None or (not value and isinstance(value, str | list | dict))


def field_name(path: str) -> str:
    out: list[str] = []
    depth = 0
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Window:
    """Documents whose business time falls in ``[start, end)`` are reconciled."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"window end {self.end.isoformat()} is not after its start "
                             f"{self.start.isoformat()}")

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a third of the engine's time
class Result:
    """One classified pair, orphan or extra copy."""

    outcome: Outcome
    document_type: str
    business_key: str
    day: date  # UTC day of the document's business time: what statistics group by
    partner_id: str = ""
    edi_id: str | None = None
    api_id: str | None = None
    differences: tuple[FieldDifference, ...] = ()
    delay: timedelta | None = None  # second arrival minus first arrival
    duplicate_of: str | None = None
    note: str = ""
    uncompared: tuple[str, ...] = ()  # fields left out: carried by one path only

    @property
    def agrees(self) -> bool:
        return self.outcome is Outcome.MATCH

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value, "document_type": self.document_type,
            "business_key": self.business_key, "day": self.day.isoformat(),
            "partner_id": self.partner_id, "edi_event_id": self.edi_id,
            "api_event_id": self.api_id,
            "differences": [d.to_dict() for d in self.differences],
            "delay_seconds": None if self.delay is None else self.delay.total_seconds(),
            "duplicate_of": self.duplicate_of, "note": self.note,
            "not_comparable": list(self.uncompared),
        }
