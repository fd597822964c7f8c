"""interchanges: drop two indexes the unique (partner_id, direction, sha256) index already serves

Every receipt writes every index of ``interchanges``; look-ups by partner, and by partner and
bytes, use the unique index's leading columns.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interchanges_sha256"))
        batch_op.drop_index(batch_op.f("ix_interchanges_partner_id"))


def downgrade() -> None:
    with op.batch_alter_table("interchanges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interchanges_partner_id"), ["partner_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_interchanges_sha256"), ["sha256"], unique=False)
