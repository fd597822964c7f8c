"""Statuses of the gateway's entities and, for each, the changes it may make — one table each.

Read a table as a state machine: the key is the current status, the set the statuses it may go
to next (h11's ``_state.py`` style). Setting the status a row already has is not a change and is
always allowed (a re-claimed ``sending`` row, a re-run that lands on the same verdict).
:func:`transition` is the one place that enforces the tables; the CHECK constraints of
:mod:`gateway.storage` are built from the same enums, so the code and the database cannot
disagree on what a status may be.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class Entity(StrEnum):
    """The things that have a status (named in :class:`InvalidTransition`)."""

    INBOUND_INTERCHANGE = "inbound interchange"
    OUTBOUND_INTERCHANGE = "outbound interchange"
    OUTBOX = "outbox row"
    ACK = "acknowledgment"
    PLAN_ACTION = "plan action"
    STAGE = "stage"


class InterchangeStatus(StrEnum):
    # Inbound: received (stored, not yet processed) -> processed | partial | rejected |
    # quarantined; a replay puts it back to received.
    RECEIVED = "received"
    PROCESSED = "processed"
    PARTIAL = "partial"
    REJECTED = "rejected"
    QUARANTINED = "quarantined"
    # Outbound: follows its outbox row and the partner's acknowledgment.
    QUEUED = "queued"
    SENT = "sent"
    PICKED_UP = "picked_up"  # the partner fetched it from its mailbox (SFTP)
    ACCEPTED = "accepted"
    ACCEPTED_WITH_ERRORS = "accepted_with_errors"
    OVERDUE = "overdue"
    FAILED = "failed"  # delivery gave up (dead letter); a retry queues it again
    CANCELLED = "cancelled"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # the partner rejected it (its acknowledgment says why)
    DEAD = "dead"  # delivery gave up after the last attempt
    CANCELLED = "cancelled"


class AckStatus(StrEnum):
    NONE = "none"  # nothing expected (yet): not sent, or a channel without acknowledgments
    EXPECTED = "expected"
    ACCEPTED = "accepted"
    ACCEPTED_WITH_ERRORS = "accepted_with_errors"
    REJECTED = "rejected"
    OVERDUE = "overdue"


class PlanActionStatus(StrEnum):
    HELD = "held"  # waits in the approval queue
    APPROVED = "approved"  # approved by an operator and queued in the outbox
    RELEASED = "released"  # passed the guardrails and queued in the outbox
    REJECTED = "rejected"  # turned down by an operator; never sent
    SUPERSEDED = "superseded"  # a newer plan run replaced it before anyone decided
    FAILED = "failed"  # could not be queued; may be approved again after a fix


class Stage(StrEnum):
    """The strangler stage of a partner's document type."""

    EDI = "edi"
    DUAL = "dual"
    API = "api"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class CauseType(StrEnum):
    """Why an outbox row exists; ``cause_id`` names the row of that kind."""

    NONE = ""  # queued by hand or by an older version that recorded no cause
    PLAN_ACTION = "plan_action"  # cause_id: plan_actions.id
    INTERCHANGE = "interchange"  # an acknowledgment; cause_id: the inbound interchanges.id


# Statuses of rows that are not part of a state machine of their own, refused by the database
# outside these values all the same.
class PlanRunStatus(StrEnum):
    ADOPTED = "adopted"
    KEPT = "kept"


class ReconcileRunStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"


class As2InboundStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    REJECTED = "rejected"  # not AS2, not for us, an unknown sender or a reused Message-ID
    FAILED = "failed"  # could not be opened (decryption, signature)
    DUPLICATE = "duplicate"


class As2OutboundStatus(StrEnum):
    BUILT = "built"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class MdnStatus(StrEnum):
    """The MDN of an AS2 message: for ours, the partner's verdict; for theirs, our answer."""

    NONE = "none"
    PENDING = "pending"
    PROCESSED = "processed"
    WARNING = "warning"
    ERROR = "error"
    FAILED = "failed"
    INVALID = "invalid"
    SENT = "sent"
    SEND_FAILED = "send_failed"


class PublicationStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"


# status -> the statuses it may become (StrEnum members are the strings they stand for).
Table = Mapping[str, frozenset[str]]

_IS = InterchangeStatus
_OS = OutboxStatus
_AS = AckStatus
_PS = PlanActionStatus

INBOUND_INTERCHANGE: Table = {
    _IS.RECEIVED: frozenset({_IS.PROCESSED, _IS.PARTIAL, _IS.REJECTED, _IS.QUARANTINED}),
    # A replay (operator or channel re-delivery) processes the stored bytes again.
    _IS.PROCESSED: frozenset({_IS.RECEIVED}),
    _IS.PARTIAL: frozenset({_IS.RECEIVED}),
    _IS.REJECTED: frozenset({_IS.RECEIVED}),
    _IS.QUARANTINED: frozenset({_IS.RECEIVED}),
}

_ACK_VERDICTS = frozenset({_IS.ACCEPTED, _IS.ACCEPTED_WITH_ERRORS, _IS.REJECTED})
OUTBOUND_INTERCHANGE: Table = {
    # An acknowledgment can overtake our own record of the delivery.
    _IS.QUEUED: frozenset({_IS.SENT, _IS.FAILED, _IS.CANCELLED} | _ACK_VERDICTS),
    _IS.SENT: frozenset({_IS.PICKED_UP, _IS.OVERDUE, _IS.QUEUED} | _ACK_VERDICTS),
    _IS.PICKED_UP: frozenset({_IS.OVERDUE, _IS.QUEUED} | _ACK_VERDICTS),
    # Overdue: resent (queued), or the verdict arrives late.
    _IS.OVERDUE: frozenset({_IS.QUEUED, _IS.SENT, _IS.PICKED_UP} | _ACK_VERDICTS),
    _IS.ACCEPTED: frozenset(),
    _IS.ACCEPTED_WITH_ERRORS: frozenset(),
    # An operator may retry a rejected document (the outbox row goes back to pending).
    _IS.REJECTED: frozenset({_IS.QUEUED, _IS.CANCELLED}),
    _IS.FAILED: frozenset({_IS.QUEUED, _IS.CANCELLED}),
    _IS.CANCELLED: frozenset({_IS.QUEUED}),
}

OUTBOX: Table = {
    # pending -> sent without sending: an acknowledgment proved the partner has it.
    _OS.PENDING: frozenset({_OS.SENDING, _OS.SENT, _OS.FAILED, _OS.CANCELLED}),
    _OS.SENDING: frozenset({_OS.SENT, _OS.PENDING, _OS.FAILED, _OS.DEAD}),
    # sent -> failed: the partner's acknowledgment rejected it; sent -> pending: an overdue
    # acknowledgment asks for the identical bytes again.
    _OS.SENT: frozenset({_OS.FAILED, _OS.PENDING}),
    _OS.FAILED: frozenset({_OS.PENDING, _OS.CANCELLED}),
    _OS.DEAD: frozenset({_OS.PENDING, _OS.CANCELLED}),
    _OS.CANCELLED: frozenset({_OS.PENDING}),
}

ACK: Table = {
    _AS.NONE: frozenset({_AS.EXPECTED, _AS.ACCEPTED, _AS.ACCEPTED_WITH_ERRORS, _AS.REJECTED}),
    _AS.EXPECTED: frozenset({_AS.ACCEPTED, _AS.ACCEPTED_WITH_ERRORS, _AS.REJECTED,
                             _AS.OVERDUE}),
    # Overdue and resent: expected again; or the verdict arrives late.
    _AS.OVERDUE: frozenset({_AS.EXPECTED, _AS.ACCEPTED, _AS.ACCEPTED_WITH_ERRORS,
                            _AS.REJECTED}),
    _AS.ACCEPTED: frozenset(),
    _AS.ACCEPTED_WITH_ERRORS: frozenset(),
    _AS.REJECTED: frozenset(),
}

PLAN_ACTION: Table = {
    # held -> failed: approved and refused by the outbox in one transaction.
    _PS.HELD: frozenset({_PS.APPROVED, _PS.REJECTED, _PS.SUPERSEDED, _PS.FAILED}),
    # Queued at once; failed when rendering or routing refuses it.
    _PS.RELEASED: frozenset({_PS.FAILED}),
    _PS.APPROVED: frozenset({_PS.FAILED}),
    # A failed action waits in the queue like a held one.
    _PS.FAILED: frozenset({_PS.APPROVED, _PS.REJECTED, _PS.SUPERSEDED}),
    _PS.REJECTED: frozenset(),
    _PS.SUPERSEDED: frozenset(),
}

STAGE: Table = {
    # One step at a time: promotion up, rollback down.
    Stage.EDI: frozenset({Stage.DUAL}),
    Stage.DUAL: frozenset({Stage.API, Stage.EDI}),
    Stage.API: frozenset({Stage.DUAL}),
}

TABLES: Mapping[Entity, Table] = {
    Entity.INBOUND_INTERCHANGE: INBOUND_INTERCHANGE,
    Entity.OUTBOUND_INTERCHANGE: OUTBOUND_INTERCHANGE,
    Entity.OUTBOX: OUTBOX,
    Entity.ACK: ACK,
    Entity.PLAN_ACTION: PLAN_ACTION,
    Entity.STAGE: STAGE,
}

INBOUND_STATUSES = tuple(INBOUND_INTERCHANGE)
OUTBOUND_STATUSES = tuple(OUTBOUND_INTERCHANGE)
# The outbound interchange of a row whose acknowledgment settled it.
ACK_TO_INTERCHANGE: Mapping[AckStatus, InterchangeStatus] = {
    _AS.ACCEPTED: _IS.ACCEPTED,
    _AS.ACCEPTED_WITH_ERRORS: _IS.ACCEPTED_WITH_ERRORS,
    _AS.REJECTED: _IS.REJECTED,
    _AS.OVERDUE: _IS.OVERDUE,
}
ACK_VERDICTS = (_AS.ACCEPTED, _AS.ACCEPTED_WITH_ERRORS, _AS.REJECTED)
ACK_WAITING = (_AS.EXPECTED, _AS.OVERDUE)


class InvalidTransition(ValueError):
    """A status change its entity's table does not allow."""

    def __init__(self, entity: Entity, current: str | None, new: str) -> None:
        self.entity, self.current, self.new = entity, current, new
        table = TABLES[entity]
        was = "a new row" if current is None else f"'{current}'"
        if current is not None and current in table:
            allowed = ", ".join(sorted(str(s) for s in table[current]))
            why = f" (from '{current}': {allowed})" if allowed else f" ('{current}' is final)"
        else:
            why = f" ('{new}' is not a {entity} status)" if new not in table else ""
        super().__init__(f"{entity}: {was} -> '{new}' is not allowed{why}")


def can_transition(entity: Entity, current: str | None, new: str) -> bool:
    table = TABLES[entity]
    if new not in table:
        return False
    if current is None or current == new:
        # A row being created starts anywhere its table knows.
        return True
    return new in table.get(current, frozenset())


def transition(entity: Entity, current: str | None, new: str) -> str:
    """The new status, or :class:`InvalidTransition`. ``current`` None: the row is new."""
    if not can_transition(entity, current, new):
        raise InvalidTransition(entity, current, new)
    return new


def sources_of(entity: Entity, new: str) -> tuple[str, ...]:
    """Every status that may become ``new`` (for guarded bulk UPDATEs)."""
    return tuple(s for s, targets in TABLES[entity].items() if new in targets or s == new)


def values(enum: type[StrEnum] | Iterable[StrEnum]) -> tuple[str, ...]:
    """The plain string values, in declaration order (CHECK constraints are built from them)."""
    return tuple(str(member.value) for member in enum)
