"""Resume interchanges that were committed but not processed (a crash, a failed step).

Safe to run in several processes at once: processing claims each row in its own transaction,
so a row another process already handled is skipped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from gateway.pipeline.process import process_interchange
from gateway.runtime import Runtime
from gateway.storage.models import Interchange

log = logging.getLogger("edigate.jobs.resume")


def pending_interchanges(runtime: Runtime, *, older_than: timedelta, limit: int = 200) -> list[str]:
    cutoff = datetime.now(UTC) - older_than
    with runtime.sessions() as s:
        return list(s.scalars(select(Interchange.id).where(
            Interchange.direction == "in", Interchange.status == "received",
            Interchange.received_at <= cutoff).order_by(Interchange.received_at).limit(limit)))


def resume_inbox(runtime: Runtime, *, older_than: timedelta = timedelta(seconds=0)) -> int:
    done = 0
    for interchange_id in pending_interchanges(runtime, older_than=older_than):
        try:
            with runtime.sessions.begin() as session:
                outcome = process_interchange(session, interchange_id,
                                              data_dir=runtime.settings.data_path)
            if not outcome.already_done:
                done += 1
        except Exception:
            # One poisoned interchange must not block the rest; it stays visible as received
            # with its attempt count, and the next run retries it.
            log.exception("resuming interchange %s failed", interchange_id)
    if done:
        log.info("resumed %d interchange(s)", done)
    return done
