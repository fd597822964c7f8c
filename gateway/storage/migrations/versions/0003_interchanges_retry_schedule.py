"""interchanges: when a failed processing attempt is tried again

Processing that raises is retried a bounded number of times with exponential backoff, then
quarantined. ``next_attempt_at`` holds when the resume job may try again (NULL: now); the
count of attempts is the existing ``attempts`` column.

The envelope columns already hold what the standards allow (sender/receiver ids 64 >= 35 for
UNB and 15 for ISA, control numbers 32 >= 14): longer values are refused by the pipeline as
a validation error before any insert, the same on SQLite and PostgreSQL.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interchanges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interchanges", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
