"""event types in one spelling: envelopes of API-path events say com.edigate.<type>

Events that came through the REST API kept the ``type`` (and ``dataschema``) their producer
sent, ``order_response`` beside the EDI path's ``com.edigate.order_response``, so filtering and
consumers saw two spellings of one type. The type column holds the bare name on both paths;
a row that holds a prefixed or versioned name is corrected too.

Revision ID: 0007
Revises: 0004
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PREFIX = "com.edigate."
SCHEMA_BASE = "https://edigate.dev/schemas"
BATCH = 500
_SUFFIX = re.compile(r"\.v[0-9]+$")

events = sa.table("events", sa.column("id", sa.String), sa.column("type", sa.String),
                  sa.column("version", sa.Integer), sa.column("path", sa.String),
                  sa.column("envelope", sa.JSON))


def _name(value: str) -> str:
    return _SUFFIX.sub("", value.removeprefix(PREFIX))


def upgrade() -> None:
    bind = op.get_bind()
    after = ""
    while True:
        # Keyset pages: a large events table is rewritten without holding it all in memory.
        rows = bind.execute(sa.select(events.c.id, events.c.type, events.c.version,
                                      events.c.envelope)
                            .where(events.c.path == "api", events.c.id > after)
                            .order_by(events.c.id).limit(BATCH)).all()
        if not rows:
            break
        after = rows[-1].id
        for row in rows:
            name = _name(row.type)
            envelope: dict[str, Any] = dict(row.envelope or {})
            wanted = {"type": PREFIX + name,
                      "dataschema": f"{SCHEMA_BASE}/{name}/v{row.version}.json"}
            if name == row.type and all(envelope.get(k) == v for k, v in wanted.items()):
                continue
            envelope.update(wanted)
            bind.execute(events.update().where(events.c.id == row.id)
                         .values(type=name, envelope=envelope))
    # EDI-path rows always stored the bare name; any that did not is corrected the same way.
    for row in bind.execute(sa.select(events.c.id, events.c.type).where(
            events.c.path != "api", events.c.type.like(PREFIX + "%"))).all():
        bind.execute(events.update().where(events.c.id == row.id)
                     .values(type=_name(row.type)))


def downgrade() -> None:
    # The producers' original spellings are not kept; the canonical one is valid input for
    # every earlier version, so there is nothing to undo.
    pass
