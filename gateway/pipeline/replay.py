"""Reprocess a stored interchange after a fix (a new grammar overlay, a corrected identity).

The raw bytes never changed, so replay puts the row back to ``received`` and runs the same
pipeline. Events already stored for it keep their ids (event ids derive from interchange and
message position), so a replay adds only what the earlier run rejected.

Acknowledgments: the partner already got one for the earlier outcome. A replay that ends in
the same outcome does not send it again unless asked (``resend_ack``); a different outcome is
acknowledged. The outcome says which (``acknowledgment`` in its JSON).

A replay whose processing raises is quarantined at once with the error (the operator asked
for one attempt and sees its result; no backoff), without a new acknowledgment unless asked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.causes import acknowledgments_of
from gateway.domain.states import InterchangeStatus
from gateway.inbox.poison import RetryPolicy, failed_attempt
from gateway.pipeline.process import Outcome, process_interchange
from gateway.storage.models import Interchange, OutboxItem
from gateway.storage.repositories import append_audit

REPLAYABLE = (InterchangeStatus.QUARANTINED, InterchangeStatus.REJECTED, InterchangeStatus.PARTIAL,
              InterchangeStatus.RECEIVED)


class ReplayError(ValueError):
    pass


def replay(session: Session, interchange_id: str, *, actor: str, reason: str, data_dir: Path,
           now: datetime | None = None, resend_ack: bool = False) -> Outcome:
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
    acked_before = session.scalars(select(OutboxItem.id).where(
        acknowledgments_of(interchange_id)).limit(1)).first() is not None

    def send_acks(status: str) -> bool:
        return resend_ack or not acked_before or status != before

    row.status = InterchangeStatus.RECEIVED
    session.flush()
    append_audit(session, at=now, actor=actor, action="interchange.replay",
                 subject_type="interchange", subject_id=interchange_id, reason=reason,
                 details={"status_before": before, "resend_ack": resend_ack})
    try:
        with session.begin_nested():
            outcome = process_interchange(session, interchange_id, data_dir=data_dir,
                                          now=now, send_acks=send_acks)
    except Exception as exc:
        row = session.get(Interchange, interchange_id)
        assert row is not None
        row.status = InterchangeStatus.RECEIVED
        outcome = failed_attempt(session, row, exc, data_dir=data_dir, now=now,
                                 policy=RetryPolicy(), final=True,
                                 acknowledge=send_acks(InterchangeStatus.QUARANTINED))
    outcome.replay_note = _ack_note(outcome, before=before, acked_before=acked_before,
                                    resend_ack=resend_ack)
    return outcome


def _ack_note(outcome: Outcome, *, before: str, acked_before: bool, resend_ack: bool) -> str:
    if outcome.ack_ids:
        why = ("asked with resend_ack" if resend_ack and outcome.status == before
               else f"the outcome changed from {before}" if acked_before
               else "none was sent before")
        return f"sent: {len(outcome.ack_ids)} acknowledgment(s) ({why})"
    if acked_before and outcome.status == before and not resend_ack:
        return (f"not sent: the partner already has the acknowledgment of this outcome "
                f"({before}); resend_ack sends it again")
    return "not sent: none can be written for this interchange"
