"""status CHECK constraints; typed acknowledgment causes; truthful outbound statuses

Every status column gets a CHECK constraint with the values of the domain enums of this day
(gateway.domain.states; a test compares the database with the enums). Interchange statuses
differ by direction, and ``accepted_with_errors`` needs 20 characters, so the column widens.

Existing data is brought in line first:
- acknowledgment rows named their inbound interchange only inside ``business_id``
  (``ack:<id>``): they get ``cause_type = 'interchange'`` and ``cause_id = <id>``;
- outbound interchanges stayed ``queued`` forever: each now says what its outbox row and
  acknowledgment say (queued, sent, picked_up, accepted, accepted_with_errors, rejected, overdue, failed,
  cancelled), the rule of gateway.domain.lifecycle.outbound_status.

SQLite alters tables in batch mode (a copy of the table); a later batch migration of these
tables must name the constraints again (SQLite batch mode does not carry unnamed ones over).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INBOUND = ("received", "processed", "partial", "rejected", "quarantined")
OUTBOUND = ("queued", "sent", "picked_up", "accepted", "accepted_with_errors", "rejected", "overdue",
            "failed", "cancelled")
OUTBOX = ("pending", "sending", "sent", "failed", "dead", "cancelled")
ACK = ("none", "expected", "accepted", "accepted_with_errors", "rejected", "overdue")
CAUSE = ("", "plan_action", "interchange")
PLAN_ACTION = ("held", "approved", "released", "rejected", "superseded", "failed")
PLAN_RUN = ("adopted", "kept")
STAGE = ("edi", "dual", "api")
RECONCILE_RUN = ("ok", "failed")
PUBLICATION = ("pending", "published", "failed")
AS2_IN = ("received", "processed", "rejected", "failed", "duplicate")
AS2_OUT = ("built", "sending", "sent", "failed")
MDN = ("none", "pending", "processed", "warning", "error", "failed", "invalid", "sent",
       "send_failed")


def _in(column: str, allowed: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in allowed)})"


def _by_direction(inbound: tuple[str, ...], outbound: tuple[str, ...]) -> str:
    return (f"(direction = 'in' AND {_in('status', inbound)}) OR "
            f"(direction = 'out' AND {_in('status', outbound)})")


CHECKS: dict[str, dict[str, str]] = {
    "interchanges": {"status": _by_direction(INBOUND, OUTBOUND)},
    "as2_messages": {"status": _by_direction(AS2_IN, AS2_OUT),
                     "mdn_status": _in("mdn_status", MDN)},
    "outbox": {"status": _in("status", OUTBOX), "ack_status": _in("ack_status", ACK),
               "cause_type": _in("cause_type", CAUSE)},
    "plan_actions": {"status": _in("status", PLAN_ACTION)},
    "plan_runs": {"status": _in("status", PLAN_RUN)},
    "partner_stages": {"stage": _in("stage", STAGE)},
    "reconcile_runs": {"status": _in("status", RECONCILE_RUN)},
    "event_publications": {"status": _in("status", PUBLICATION)},
}

# gateway.domain.lifecycle.outbound_status, in SQL, for the rows written before it existed.
OUTBOUND_FROM_OUTBOX = """
    SELECT CASE
        WHEN o.status = 'cancelled' THEN 'cancelled'
        WHEN o.ack_status IN ('accepted', 'accepted_with_errors', 'rejected') THEN o.ack_status
        WHEN o.status IN ('pending', 'sending') THEN 'queued'
        WHEN o.status IN ('dead', 'failed') THEN 'failed'
        WHEN o.ack_status = 'overdue' THEN 'overdue'
        WHEN interchanges.status = 'picked_up' THEN 'picked_up'
        ELSE 'sent'
    END
    FROM outbox o WHERE o.interchange_id = interchanges.id
    ORDER BY o.created_at DESC LIMIT 1
"""


def upgrade() -> None:
    with op.batch_alter_table("interchanges", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(length=16),
                              type_=sa.String(length=24), existing_nullable=False)
    op.execute("UPDATE outbox SET cause_type = 'interchange', cause_id = substr(business_id, 5) "
               "WHERE business_id LIKE 'ack:%' AND cause_type = ''")
    op.execute(f"UPDATE interchanges SET status = ({OUTBOUND_FROM_OUTBOX}) "
               "WHERE direction = 'out' AND EXISTS "
               "(SELECT 1 FROM outbox o WHERE o.interchange_id = interchanges.id)")
    # Anything else is a legacy value no code writes any more: say what it was in its
    # detail and give it the status its direction starts with.
    op.execute(f"UPDATE interchanges SET status_detail = 'was ' || status, status = 'queued' "
               f"WHERE direction = 'out' AND NOT ({_in('status', OUTBOUND)})")
    op.execute("UPDATE outbox SET ack_status = 'none' WHERE ack_status = '' ")
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, sql in checks.items():
                batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), sa.text(sql))
            if table == "outbox":
                batch_op.create_index("ix_outbox_cause", ["cause_type", "cause_id"],
                                      unique=False)


def downgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "outbox":
                batch_op.drop_index("ix_outbox_cause")
            for name in checks:
                batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
    # Before 0005 an outbound interchange was queued for good.
    op.execute("UPDATE interchanges SET status = 'queued' WHERE direction = 'out'")
    op.execute("UPDATE outbox SET cause_type = '', cause_id = '' "
               "WHERE cause_type = 'interchange' AND business_id LIKE 'ack:%'")
    with op.batch_alter_table("interchanges", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(length=24),
                              type_=sa.String(length=16), existing_nullable=False)
