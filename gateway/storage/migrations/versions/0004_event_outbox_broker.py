"""event outbox for the broker relay (event_publications)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_publications",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("broker_ref", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_event_publications")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_publications_event_id")),
    )
    with op.batch_alter_table("event_publications", schema=None) as batch_op:
        batch_op.create_index("ix_event_publications_status_seq", ["status", "seq"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_publications", schema=None) as batch_op:
        batch_op.drop_index("ix_event_publications_status_seq")
    op.drop_table("event_publications")
