"""Reprocess a stored interchange after a fix (a new grammar overlay, a corrected identity).

The raw bytes never changed, so replay puts the row back to ``received`` and runs the same
pipeline. Events already stored for it keep their ids (event ids derive from interchange and
message position), so a replay adds only what the earlier run rejected.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from gateway.pipeline.process import Outcome, process_interchange
from gateway.storage.models import Interchange
from gateway.storage.repositories import append_audit

REPLAYABLE = ("quarantined", "rejected", "partial", "received")


class ReplayError(ValueError):
    pass


def replay(session: Session, interchange_id: str, *, actor: str, reason: str, data_dir: Path,
           now: datetime | None = None) -> Outcome:
    now = now or datetime.now(UTC)
    row = session.get(Interchange, interchange_id)
    if row is None:
        raise ReplayError(f"no interchange {interchange_id}")
    if row.direction != "in":
        raise ReplayError(f"interchange {interchange_id} is outbound; only inbound replays")
    if row.status not in REPLAYABLE:
        raise ReplayError(f"interchange {interchange_id} is {row.status}; replay takes "
                          f"{', '.join(REPLAYABLE)}")
    before = row.status
    row.status = "received"
    session.flush()
    append_audit(session, at=now, actor=actor, action="interchange.replay",
                 subject_type="interchange", subject_id=interchange_id, reason=reason,
                 details={"status_before": before})
    return process_interchange(session, interchange_id, data_dir=data_dir, now=now)
