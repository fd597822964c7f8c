"""Reconciliation runs against the database: load a partner's events, run the pure engine,
store the run, its non-matching results and the daily statistics.

Runs cover whole UTC days, so a day's statistics are always complete and the latest run of a
day replaces the earlier one. Document types are reconciled while they are in stage ``dual``
(both paths carry them); a type in ``edi`` has no API copy to compare yet, one in ``api`` no
EDI copy any more.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.storage.models import Event, Partner
from gateway.storage.models_reconciler import ReconcileDaily, ReconcileResult, ReconcileRun
from gateway.storage.repositories import stage_of
from reconciler import (
    ConfigError,
    DayStats,
    EventRecord,
    Outcome,
    ReconcileConfig,
    Reconciler,
    Statistics,
    Window,
)

# How far outside the window a document's other copy may carry its business time.
MARGIN = timedelta(days=1)


class ReconcileError(Exception):
    """A run that cannot start: unknown partner, bad ``[reconcile]`` profile section."""


def aware(value: datetime) -> datetime:
    # SQLite gives naive datetimes back even for timezone=True columns; we store UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def day_window(first: date, last: date) -> Window:
    """Whole UTC days ``first`` .. ``last`` (both included)."""
    if last < first:
        raise ReconcileError(f"the window ends ({last}) before it starts ({first})")
    return Window(datetime.combine(first, time(), UTC),
                  datetime.combine(last + timedelta(days=1), time(), UTC))


def partner_config(partner: Partner) -> ReconcileConfig:
    try:
        return ReconcileConfig.from_table(partner.profile.get("reconcile", {}),
                                          where=f"{partner.id}: reconcile")
    except ConfigError as exc:
        raise ReconcileError(str(exc)) from None


def reconciled_types(session: Session, partner_id: str, types: Sequence[str]) -> list[str]:
    return sorted(t for t in set(types) if stage_of(session, partner_id, t) == "dual")


def load_records(session: Session, partner_id: str, window: Window,
                 types: Sequence[str] | None = None) -> Iterator[EventRecord]:
    query = select(Event.id, Event.type, Event.path, Event.business_key, Event.time,
                   Event.recorded_at, Event.data).where(
        Event.partner_id == partner_id, Event.time >= window.start - MARGIN,
        Event.time < window.end + MARGIN)
    if types is not None:
        query = query.where(Event.type.in_(list(types)))
    for row in session.execute(query.execution_options(yield_per=2000)):
        yield EventRecord(row.id, row.type, row.path, row.business_key, aware(row.time),
                          aware(row.recorded_at), row.data or {}, partner_id)


def run_reconciliation(session: Session, partner_id: str, window: Window, *, as_of: datetime,
                       trigger: str, actor: str = "",
                       document_type: str | None = None) -> ReconcileRun:
    """Reconcile one partner over ``window`` and store everything; the caller commits."""
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise ReconcileError(f"no partner {partner_id!r}")
    config = partner_config(partner)
    present = session.scalars(select(Event.type).where(
        Event.partner_id == partner_id, Event.time >= window.start - MARGIN,
        Event.time < window.end + MARGIN).distinct()).all()
    types = reconciled_types(session, partner_id, present)
    if document_type not in (None, "*"):
        types = [t for t in types if t == document_type]
    run = ReconcileRun(id=str(uuid.uuid4()), partner_id=partner_id, window_start=window.start,
                       window_end=window.end, as_of=as_of, started_at=as_of, trigger=trigger,
                       actor=actor, status="ok", config={"types": types})
    session.add(run)
    stats = Statistics()
    events = 0

    def counted() -> Iterator[EventRecord]:
        nonlocal events
        for record in load_records(session, partner_id, window, types):
            events += 1
            yield record

    if types:
        for result in Reconciler(config).run(counted(), window, as_of=as_of):
            stats.add(result)
            if result.outcome is not Outcome.MATCH:
                session.add(ReconcileResult(
                    run_id=run.id, partner_id=partner_id, document_type=result.document_type,
                    business_key=result.business_key, day=result.day,
                    outcome=result.outcome.value, edi_event_id=result.edi_id,
                    api_event_id=result.api_id, duplicate_of=result.duplicate_of,
                    delay_seconds=None if result.delay is None else result.delay.total_seconds(),
                    differences=[d.to_dict() for d in result.differences], note=result.note))
    rows = stats.rows()
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update({str(k): v for k, v in row.counts.items()})
    decided = sum(totals.values()) - totals[Outcome.PENDING.value]
    run.events = events
    run.counts = {o.value: totals[o.value] for o in Outcome}
    run.agreement = totals[Outcome.MATCH.value] / decided if decided else None
    run.finished_at = as_of
    _store_daily(session, partner_id, types, window, rows, run.id, as_of)
    session.flush()
    return run


def _store_daily(session: Session, partner_id: str, types: Sequence[str], window: Window,
                 rows: Sequence[DayStats], run_id: str, now: datetime) -> None:
    if not types:
        return
    first, last = window.start.date(), (window.end - timedelta(microseconds=1)).date()
    session.execute(delete(ReconcileDaily).where(
        ReconcileDaily.partner_id == partner_id, ReconcileDaily.document_type.in_(list(types)),
        ReconcileDaily.day >= first, ReconcileDaily.day <= last))
    for row in rows:
        session.add(ReconcileDaily(
            partner_id=partner_id, document_type=row.document_type, day=row.day,
            counts={str(k): v for k, v in row.counts.items() if v}, fields=dict(row.fields),
            decided=row.decided, agreement=row.agreement, run_id=run_id, updated_at=now))


def daily_stats(session: Session, *, partner_id: str | None = None,
                document_type: str | None = None, since: date | None = None,
                until: date | None = None) -> list[DayStats]:
    query = select(ReconcileDaily).order_by(ReconcileDaily.partner_id,
                                            ReconcileDaily.document_type, ReconcileDaily.day)
    if partner_id:
        query = query.where(ReconcileDaily.partner_id == partner_id)
    if document_type and document_type != "*":
        query = query.where(ReconcileDaily.document_type == document_type)
    if since:
        query = query.where(ReconcileDaily.day >= since)
    if until:
        query = query.where(ReconcileDaily.day <= until)
    return [DayStats(r.partner_id, r.document_type, r.day, Counter(r.counts), Counter(r.fields))
            for r in session.scalars(query)]


def latest_runs(session: Session, partner_id: str | None = None,
                limit: int = 50) -> Sequence[ReconcileRun]:
    query = select(ReconcileRun).order_by(ReconcileRun.started_at.desc(),
                                          ReconcileRun.id).limit(limit)
    if partner_id:
        query = query.where(ReconcileRun.partner_id == partner_id)
    return session.scalars(query).all()


OPEN = (Outcome.MISMATCH.value, Outcome.LATE.value, Outcome.DUPLICATE.value,
        Outcome.MISSING_API.value, Outcome.MISSING_EDI.value)


def open_results(session: Session, partner_id: str | None = None,
                 limit: int = 500) -> list[ReconcileResult]:
    """Disagreements found by each partner's latest run: what still needs a look."""
    partners = [partner_id] if partner_id else session.scalars(
        select(ReconcileRun.partner_id).distinct()).all()
    found: list[ReconcileResult] = []
    for pid in partners:
        latest = session.scalars(select(ReconcileRun.id).where(
            ReconcileRun.partner_id == pid, ReconcileRun.status == "ok")
            .order_by(ReconcileRun.started_at.desc()).limit(1)).first()
        if latest:
            found.extend(session.scalars(select(ReconcileResult).where(
                ReconcileResult.run_id == latest, ReconcileResult.outcome.in_(OPEN))
                .order_by(ReconcileResult.day.desc(), ReconcileResult.id).limit(limit)))
    return found


def run_json(run: ReconcileRun) -> dict[str, Any]:
    return {"id": run.id, "partner_id": run.partner_id,
            "window": {"start": aware(run.window_start).isoformat(),
                       "end": aware(run.window_end).isoformat()},
            "as_of": aware(run.as_of).isoformat(), "trigger": run.trigger, "actor": run.actor,
            "status": run.status, "events": run.events, "counts": run.counts,
            "agreement": run.agreement, "document_types": run.config.get("types", []),
            "error": run.error}


def result_json(row: ReconcileResult) -> dict[str, Any]:
    return {"id": row.id, "run_id": row.run_id, "partner_id": row.partner_id,
            "document_type": row.document_type, "business_key": row.business_key,
            "day": row.day.isoformat(), "outcome": row.outcome,
            "edi_event_id": row.edi_event_id, "api_event_id": row.api_event_id,
            "duplicate_of": row.duplicate_of, "delay_seconds": row.delay_seconds,
            "differences": row.differences, "note": row.note}
