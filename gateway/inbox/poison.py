"""Bounded processing: no interchange stays ``received`` forever (no poison message).

Processing an interchange runs in one transaction; when it raises, that transaction rolled
back and the row is still ``received``. :func:`record_failure` then writes, in a transaction
of its own, one more attempt with the error and the time of the next try (exponential
backoff). Once ``max_attempts`` failures are counted the interchange is **quarantined** with the
error (a final state), counted in ``edigate_interchanges_quarantined_total{reason="poison"}``
and answered to the partner with the most specific negative acknowledgment that can still be
written: every message of the interchange rejected. When even that cannot be built, the
interchange is quarantined without an acknowledgment and its report says so.

Failures of the database itself (a lost connection, a lock timeout, a deadlock) are retried
with the same backoff but never count towards quarantine: they say nothing about the document.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from gateway.domain.states import InterchangeStatus
from gateway.inbox.store import raw_bytes
from gateway.observability import metrics
from gateway.storage.models import Interchange, Partner

if TYPE_CHECKING:
    from gateway.pipeline.process import Outcome

log = logging.getLogger("edigate.inbox")

QUARANTINED = InterchangeStatus.QUARANTINED
# How many failures are listed in the report (the count itself is kept in full).
KEEP_FAILURES = 10
ERROR_CHARS = 500


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon a failed interchange is tried again."""

    max_attempts: int = 5
    base_seconds: float = 15.0
    cap_seconds: float = 3600.0

    def delay(self, failures: int) -> timedelta:
        seconds = self.base_seconds * (2 ** max(0, min(failures - 1, 30)))
        return timedelta(seconds=min(seconds, self.cap_seconds))

    @classmethod
    def from_settings(cls, settings: Any) -> RetryPolicy:
        """Read ``inbox.max_attempts`` / ``inbox.retry_base_seconds`` where the configuration
        has them; the defaults otherwise."""
        default = cls()
        return cls(max_attempts=max(1, int(getattr(settings, "inbox_max_attempts",
                                                   default.max_attempts))),
                   base_seconds=max(0.0, float(getattr(settings, "inbox_retry_base_seconds",
                                                       default.base_seconds))),
                   cap_seconds=default.cap_seconds)


_default_policy = RetryPolicy()


def default_policy() -> RetryPolicy:
    return _default_policy


def set_default_policy(policy: RetryPolicy) -> None:
    """The policy of callers that pass none (set once at process start from the settings)."""
    global _default_policy
    _default_policy = policy


def is_transient(exc: BaseException) -> bool:
    """A failure of the database, not of the document: retried, never counted as poison."""
    if isinstance(exc, OperationalError | DisconnectionError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def clean_text(text: str, limit: int = ERROR_CHARS) -> str:
    """Printable, bounded text: safe in a log line, a PostgreSQL text column (no NUL) and
    JSON. Partner data inside an exception message is never echoed raw."""
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit} more characters)"
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256
                   else f"\\u{ord(ch):04x}" for ch in text)


def describe(exc: BaseException) -> str:
    return clean_text(f"{type(exc).__name__}: {exc}")


def _lock(session: Session, interchange_id: str) -> Interchange | None:
    query = select(Interchange).where(Interchange.id == interchange_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


def record_failure(sessions: sessionmaker[Session], interchange_id: str, exc: BaseException,
                   *, data_dir: Path, now: datetime | None = None,
                   policy: RetryPolicy | None = None) -> Outcome:
    """Count a failed attempt of a ``received`` interchange; quarantine it after the last.

    Raises ``exc`` again when the interchange does not exist; returns the stored outcome when
    another process finished it meanwhile."""
    from gateway.pipeline.process import outcome_of

    now = now or datetime.now(UTC)
    policy = policy or _default_policy
    with sessions.begin() as session:
        row = _lock(session, interchange_id)
        if row is None:
            raise exc
        if row.status != InterchangeStatus.RECEIVED or row.direction != "in":
            return outcome_of(session, row)
        return failed_attempt(session, row, exc, data_dir=data_dir, now=now, policy=policy)


def failed_attempt(session: Session, row: Interchange, exc: BaseException, *, data_dir: Path,
                   now: datetime, policy: RetryPolicy, final: bool = False,
                   acknowledge: bool = True) -> Outcome:
    """Write one failed attempt on ``row`` (locked, in ``session``); ``final`` quarantines it
    whatever the count (an operator's replay does not wait for backoff)."""
    from gateway.pipeline.process import Outcome

    transient = is_transient(exc)
    stored: dict[str, Any] = dict(row.error_report or {})
    failures = list(stored.get("failures", []))
    row.attempts = (row.attempts or 0) + 1
    counted = int(stored.get("failed_attempts", 0)) + (0 if transient else 1)
    error = describe(exc)
    failures.append({"at": now.isoformat(), "attempt": row.attempts, "error": error,
                     "transient": transient})
    stored.update(failures=failures[-KEEP_FAILURES:], failed_attempts=counted)
    if final or counted >= policy.max_attempts:
        return quarantine(session, row, error, stored, data_dir=data_dir, now=now,
                          counted=counted, acknowledge=acknowledge)
    delay = policy.delay(counted if not transient else max(1, len(failures)))
    row.next_attempt_at = now + delay
    row.error_report = stored
    row.status_detail = (f"processing failed (failure {counted} of {policy.max_attempts}"
                         f"{', database' if transient else ''}): {error}; "
                         f"next attempt after {row.next_attempt_at.isoformat()}")
    if len(failures) == 1:
        log.warning("processing interchange %s failed; retried after %s", row.id,
                    row.next_attempt_at.isoformat(), exc_info=exc,
                    extra={"partner": row.partner_id})
    else:
        log.warning("processing interchange %s failed again (attempt %d): %s", row.id,
                    row.attempts, error, extra={"partner": row.partner_id})
    return Outcome(interchange_id=row.id, status=InterchangeStatus.RECEIVED,
                   detail=row.status_detail, http_status=202, error_report=stored.get("report"))


def quarantine(session: Session, row: Interchange, error: str, stored: dict[str, Any], *,
               data_dir: Path, now: datetime, counted: int, acknowledge: bool = True) -> Outcome:
    from gateway.pipeline.process import Outcome

    if acknowledge:
        ack_ids, ack_note = negative_acknowledgment(session, row, data_dir=data_dir, now=now)
    else:
        ack_ids, ack_note = [], "no new acknowledgment: the partner already has one"
    detail = (f"quarantined after {counted} failed processing attempt(s): {error}"
              if counted else f"quarantined: {error}")
    report = {"ok": False, "error_count": 1, "warning_count": 0,
              "errors": [{"code": "processing-failed", "level": "interchange",
                          "severity": "error", "message": detail}]}
    stored.update(report=report, messages=[], http_status=422, poison=True,
                  acknowledgment=ack_note)
    row.status = QUARANTINED
    row.status_detail = detail
    row.processed_at = now
    row.next_attempt_at = None
    row.error_report = stored
    metrics.interchanges_quarantined.labels(reason="poison").inc()
    log.error("interchange %s quarantined after %d failed attempt(s): %s; %s", row.id,
              row.attempts, error, ack_note, extra={"partner": row.partner_id})
    return Outcome(interchange_id=row.id, status=QUARANTINED, detail=detail, http_status=422,
                   ack_ids=ack_ids, error_report=report)


def negative_acknowledgment(session: Session, row: Interchange, *, data_dir: Path,
                            now: datetime) -> tuple[list[str], str]:
    """Queue the acknowledgments of ``row`` with every message rejected; (ids, what was done).

    Inside a savepoint: if the interchange cannot be translated or the acknowledgment cannot be
    built or stored, nothing of it remains and the note says why."""
    from gateway.pipeline.overlays import overlays_for
    from gateway.pipeline.process import _queue_acknowledgments
    from translators import translate

    partner = session.get(Partner, row.partner_id) if row.partner_id else None
    if partner is None:
        return [], "no acknowledgment: the interchange has no partner"
    try:
        with session.begin_nested():
            result = translate(raw_bytes(row, data_dir), overlays=overlays_for(partner),
                               lenient=True)
            if not result.interchanges:
                return [], "no acknowledgment: no interchange header could be read"
            rejected = dataclasses.replace(result, messages=[
                dataclasses.replace(m, status="rejected") for m in result.messages])
            ids = _queue_acknowledgments(session, row, partner, rejected, now)
            session.flush()
    except Exception as exc:
        note = f"no acknowledgment could be written: {describe(exc)}"
        log.warning("interchange %s: %s", row.id, note, extra={"partner": row.partner_id})
        return [], note
    if not ids:
        return [], "no acknowledgment: the interchange asks for none"
    return ids, f"negative acknowledgment queued ({len(ids)} document(s), every message rejected)"
