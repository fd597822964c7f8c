"""business reference index (business_refs), backfilled from the stored documents

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from gateway.search.refs import action_refs, outbox_refs, references

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "business_refs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("interchange_id", sa.String(length=36), nullable=True),
        sa.Column("outbox_id", sa.String(length=36), nullable=True),
        sa.Column("plan_action_id", sa.String(length=36), nullable=True),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_refs")),
    )
    with op.batch_alter_table("business_refs", schema=None) as batch_op:
        batch_op.create_index("ix_business_refs_value", ["value", "kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_business_refs_event_id"), ["event_id"],
                              unique=False)
    _backfill()


def _backfill() -> None:
    """Index what is already stored, in batches (keyset on id, never OFFSET)."""
    bind = op.get_bind()
    meta = sa.MetaData()
    refs = sa.Table("business_refs", meta, autoload_with=bind)
    events = sa.Table("events", meta, autoload_with=bind)
    outbox = sa.Table("outbox", meta, autoload_with=bind)
    actions = sa.Table("plan_actions", meta, autoload_with=bind)

    def batches(table: sa.Table, columns: list[Any]) -> Any:
        last = ""
        while True:
            rows = bind.execute(sa.select(*columns).where(table.c.id > last)
                                .order_by(table.c.id).limit(BATCH)).mappings().all()
            if not rows:
                return
            yield rows
            last = rows[-1]["id"]

    e = events.c
    for rows in batches(events, [e.id, e.data, e.business_key, e.envelope, e.partner_id,
                                 e.interchange_id, e.time]):
        values = [{"kind": kind, "value": value, "event_id": r["id"],
                   "interchange_id": r["interchange_id"], "partner_id": r["partner_id"],
                   "at": r["time"]}
                  for r in rows for kind, value in references(
                      r["data"] or {}, business_key=r["business_key"] or "",
                      envelope=r["envelope"] or {})]
        if values:
            bind.execute(refs.insert(), values)
    o = outbox.c
    for rows in batches(outbox, [o.id, o.data, o.business_id, o.control_numbers, o.partner_id,
                                 o.interchange_id, o.created_at]):
        values = [{"kind": kind, "value": value, "outbox_id": r["id"],
                   "interchange_id": r["interchange_id"], "partner_id": r["partner_id"],
                   "at": r["created_at"]}
                  for r in rows for kind, value in outbox_refs(
                      r["business_id"] or "", r["data"], r["control_numbers"])]
        if values:
            bind.execute(refs.insert(), values)
    a = actions.c
    for rows in batches(actions, [a.id, a.data, a.business_id, a.order_number, a.supplier_id,
                                  a.created_at]):
        values = [{"kind": kind, "value": value, "plan_action_id": r["id"],
                   "partner_id": r["supplier_id"], "at": r["created_at"]}
                  for r in rows for kind, value in action_refs(
                      r["business_id"] or "", r["order_number"] or "", r["data"])]
        if values:
            bind.execute(refs.insert(), values)


def downgrade() -> None:
    with op.batch_alter_table("business_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_refs_event_id"))
        batch_op.drop_index("ix_business_refs_value")
    op.drop_table("business_refs")
