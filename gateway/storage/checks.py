"""CHECK constraints built from the domain enums: the database refuses any other status.

The models declare them from here, so the enums are the one source of the allowed values;
migration 0005 writes the same SQL with the values of its day, and a test checks the database
against the enums.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import CheckConstraint

from gateway.domain.states import (
    INBOUND_STATUSES,
    OUTBOUND_STATUSES,
    AckStatus,
    As2InboundStatus,
    As2OutboundStatus,
    CauseType,
    MdnStatus,
    OutboxStatus,
    PlanActionStatus,
    PlanRunStatus,
    PublicationStatus,
    ReconcileRunStatus,
    Stage,
)


def one_of(column: str, allowed: Iterable[str]) -> str:
    quoted = ", ".join("'" + str(v).replace("'", "''") + "'" for v in allowed)
    return f"{column} IN ({quoted})"


def by_direction(inbound: Iterable[str], outbound: Iterable[str]) -> str:
    # Both directions share the column but not the life cycle.
    return (f"(direction = 'in' AND {one_of('status', inbound)}) OR "
            f"(direction = 'out' AND {one_of('status', outbound)})")


# table -> {constraint name: SQL}; the naming convention makes them ck_<table>_<name>.
CHECKS: dict[str, dict[str, str]] = {
    "interchanges": {"status": by_direction(INBOUND_STATUSES, OUTBOUND_STATUSES)},
    "as2_messages": {"status": by_direction(As2InboundStatus, As2OutboundStatus),
                     "mdn_status": one_of("mdn_status", MdnStatus)},
    "outbox": {"status": one_of("status", OutboxStatus),
               "ack_status": one_of("ack_status", AckStatus),
               "cause_type": one_of("cause_type", CauseType)},
    "plan_actions": {"status": one_of("status", PlanActionStatus)},
    "plan_runs": {"status": one_of("status", PlanRunStatus)},
    "partner_stages": {"stage": one_of("stage", Stage)},
    "reconcile_runs": {"status": one_of("status", ReconcileRunStatus)},
    "event_publications": {"status": one_of("status", PublicationStatus)},
}


def checks(table: str) -> tuple[CheckConstraint, ...]:
    return tuple(CheckConstraint(sql, name=name) for name, sql in CHECKS[table].items())
