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

from gateway.domain.states import ReconcileRunStatus, Stage
from gateway.storage.models import AuditEntry, Event, Partner
from gateway.storage.models_reconciler import ReconcileDaily, ReconcileResult, ReconcileRun
from gateway.storage.repositories import append_audit, stage_of
from reconciler import (
    EDI,
    ConfigError,
    DayStats,
    EventRecord,
    FieldRule,
    Outcome,
    ReconcileConfig,
    Reconciler,
    Result,
    Statistics,
    Window,
    field_rule,
)
from reconciler.config import packaged_defaults

RULE_ACTION = "reconcile.rule"  # audit action of a field rule set (or removed) by an operator

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


def partner_config(partner: Partner, session: Session | None = None) -> ReconcileConfig:
    """The ``[reconcile]`` section of the profile; with a session, the field rules operators
    set from the dashboard laid over it (they live in the audit log, so a re-import of the
    profile never loses them and every change says who and why)."""
    try:
        config = ReconcileConfig.from_table(partner.profile.get("reconcile", {}),
                                            where=f"{partner.id}: reconcile")
    except ConfigError as exc:
        raise ReconcileError(str(exc)) from None
    if session is not None:
        overrides = rule_overrides(session, partner.id)
        if overrides:
            config = config.with_overrides(overrides)
    return config


def rule_changes(session: Session, partner_id: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.action == RULE_ACTION, AuditEntry.subject_type == "partner",
        AuditEntry.subject_id == partner_id).order_by(AuditEntry.id)))


def rule_overrides(session: Session, partner_id: str
                   ) -> dict[str, dict[str, FieldRule | None]]:
    """Operators' field rules, replayed from the audit log in order (the latest wins)."""
    out: dict[str, dict[str, FieldRule | None]] = {}
    for entry in rule_changes(session, partner_id):
        details = entry.details or {}
        doc, name, spec = details.get("document_type", "*"), details.get("field"), \
            details.get("rule")
        if not isinstance(name, str):
            continue
        try:
            out.setdefault(str(doc), {})[name] = None if spec is None else \
                field_rule(name, spec, f"rule {entry.id}")
        except ConfigError:
            continue  # validated when it was set; a later format change must not break runs
    return out


def set_field_rule(session: Session, partner_id: str, document_type: str, name: str,
                   spec: dict[str, Any] | None, *, actor: str, reason: str,
                   now: datetime) -> FieldRule | None:
    """Set (or with ``spec=None`` remove) one field rule; audited with who and why."""
    if session.get(Partner, partner_id) is None:
        raise ReconcileError(f"no partner {partner_id!r}")
    if not reason.strip():
        raise ReconcileError("a rule change needs a reason; it goes to the audit log")
    rule = None
    if spec is not None:
        try:
            rule = field_rule(name, spec, f"{partner_id}: {document_type}: {name}")
        except ConfigError as exc:
            raise ReconcileError(str(exc)) from None
        spec = {k: v for k, v in rule.to_dict().items() if k not in ("field", "reason")}
    previous = rule_overrides(session, partner_id).get(document_type or "*", {}).get(name)
    append_audit(session, at=now, actor=actor, action=RULE_ACTION, subject_type="partner",
                 subject_id=partner_id, reason=reason,
                 details={"document_type": document_type or "*", "field": name, "rule": spec,
                          "previous": previous.to_dict() if previous else None})
    session.flush()
    return rule


def reconciled_types(session: Session, partner_id: str, types: Sequence[str], *,
                     shadow: bool = False) -> list[str]:
    """The types in ``dual``; with ``shadow``, also those in ``api`` (their EDI copy kept
    running as a shadow after cut-over, so a regression shows)."""
    stages = (Stage.DUAL, Stage.API) if shadow else (Stage.DUAL,)
    edi_only = set(packaged_defaults().get("edi_only_types", ()))
    return sorted(t for t in set(types) if t not in edi_only
                  and stage_of(session, partner_id, t) in stages)


def load_records(session: Session, partner_id: str, window: Window,
                 types: Sequence[str] | None = None) -> Iterator[EventRecord]:
    query = select(Event.id, Event.type, Event.path, Event.business_key, Event.time,
                   Event.recorded_at, Event.data).where(
        Event.partner_id == partner_id, Event.time >= window.start - MARGIN,
        Event.time < window.end + MARGIN).order_by(Event.recorded_at, Event.id)
    if types is not None:
        query = query.where(Event.type.in_(list(types)))
    for row in session.execute(query.execution_options(yield_per=2000)):
        yield EventRecord(row.id, row.type, row.path, row.business_key, aware(row.time),
                          aware(row.recorded_at), row.data or {}, partner_id)


def declared_coverage(partner: Partner, types: Sequence[str]
                      ) -> dict[str, dict[str, frozenset[str]]]:
    """Per document type, the fields the partner's EDI maps (less its guides' "not used")
    can fill: what the EDI path cannot carry is not comparable from the first document on."""
    from gateway.reconcile.maps import cached_edi_fields

    guides = tuple(str(g) for g in (partner.profile or {}).get("guides", ()))
    out: dict[str, dict[str, frozenset[str]]] = {}
    for doc in types:
        fields = cached_edi_fields(partner.standard, doc, guides)
        if fields is not None:
            out[doc] = {EDI: fields}
    return out


def run_reconciliation(session: Session, partner_id: str, window: Window, *, as_of: datetime,
                       trigger: str, actor: str = "", document_type: str | None = None,
                       keep: list[Result] | None = None,
                       shadow: bool = False) -> ReconcileRun:
    """Reconcile one partner over ``window`` and store everything; the caller commits."""
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise ReconcileError(f"no partner {partner_id!r}")
    config = partner_config(partner, session)
    present = session.scalars(select(Event.type).where(
        Event.partner_id == partner_id, Event.time >= window.start - MARGIN,
        Event.time < window.end + MARGIN).distinct()).all()
    types = reconciled_types(session, partner_id, present, shadow=shadow)
    if document_type not in (None, "*"):
        types = [t for t in types if t == document_type]
    run = ReconcileRun(id=str(uuid.uuid4()), partner_id=partner_id, window_start=window.start,
                       window_end=window.end, as_of=as_of, started_at=as_of, trigger=trigger,
                       actor=actor, status=ReconcileRunStatus.OK, config={"types": types})
    session.add(run)
    stats = Statistics()
    events = 0

    def counted() -> Iterator[EventRecord]:
        nonlocal events
        for record in load_records(session, partner_id, window, types):
            events += 1
            yield record

    engine = Reconciler(config, declared=declared_coverage(partner, types))
    if types:
        for result in engine.run(counted(), window, as_of=as_of):
            stats.add(result)
            if keep is not None:
                keep.append(result)
            if result.outcome is not Outcome.MATCH:
                session.add(ReconcileResult(
                    run_id=run.id, partner_id=partner_id, document_type=result.document_type,
                    business_key=result.business_key, day=result.day,
                    outcome=result.outcome.value, edi_event_id=result.edi_id,
                    api_event_id=result.api_id, duplicate_of=result.duplicate_of,
                    delay_seconds=None if result.delay is None else result.delay.total_seconds(),
                    differences=[d.to_dict() for d in result.differences],
                    note=_note(result)))
    rows = stats.rows()
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update({str(k): v for k, v in row.counts.items()})
    decided = sum(totals.values()) - totals[Outcome.PENDING.value]
    run.events = events
    run.counts = {o.value: totals[o.value] for o in Outcome}
    run.agreement = totals[Outcome.MATCH.value] / decided if decided else None
    run.finished_at = as_of
    run.config = {"types": types, "detail": {f"{r.document_type}|{r.day.isoformat()}": {
        "not_comparable": dict(r.uncompared), "kinds": dict(r.kinds),
        "examples": r.examples} for r in rows if r.uncompared or r.kinds},
        "coverage": {doc: [cov.describe(name) for name in sorted(
            {n for r in rows if r.document_type == doc for n in r.uncompared})]
            for doc, cov in sorted(engine.coverage.items())}}
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
    found = list(session.scalars(query))
    runs = {run_id: config or {} for run_id, config in session.execute(
        select(ReconcileRun.id, ReconcileRun.config).where(
            ReconcileRun.id.in_({r.run_id for r in found})))} if found else {}
    out = []
    for r in found:
        detail = (runs.get(r.run_id, {}).get("detail") or {}).get(
            f"{r.document_type}|{r.day.isoformat()}", {})
        out.append(DayStats(r.partner_id, r.document_type, r.day, Counter(r.counts),
                            Counter(r.fields), Counter(detail.get("not_comparable") or {}),
                            Counter(detail.get("kinds") or {}),
                            dict(detail.get("examples") or {})))
    return out


def _note(result: Result) -> str:
    if not result.uncompared:
        return result.note
    left = f"not comparable (one path only): {', '.join(result.uncompared)}"
    return f"{result.note}; {left}" if result.note else left


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
            ReconcileRun.partner_id == pid, ReconcileRun.status == ReconcileRunStatus.OK)
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
            "coverage": run.config.get("coverage", {}), "error": run.error}


def result_json(row: ReconcileResult,
                interchanges: dict[str, str | None] | None = None) -> dict[str, Any]:
    """One result; ``interchanges`` (event id -> interchange id, see :func:`interchanges_of`)
    adds the EDI copy's interchange, so a pair leads to both documents and the raw bytes."""
    return {"id": row.id, "run_id": row.run_id, "partner_id": row.partner_id,
            "document_type": row.document_type, "business_key": row.business_key,
            "day": row.day.isoformat(), "outcome": row.outcome,
            "edi_event_id": row.edi_event_id, "api_event_id": row.api_event_id,
            "edi_interchange_id": (interchanges or {}).get(row.edi_event_id or ""),
            "links": _links(row.edi_event_id, row.api_event_id, interchanges),
            "duplicate_of": row.duplicate_of, "delay_seconds": row.delay_seconds,
            "differences": row.differences, "note": row.note}


def _links(edi: str | None, api: str | None,
           interchanges: dict[str, str | None] | None) -> dict[str, str]:
    links = {}
    if edi:
        links["edi_event"] = f"/lineage/{edi}"
        interchange = (interchanges or {}).get(edi)
        if interchange:
            links["edi_interchange"] = f"/interchanges/{interchange}"
    if api:
        links["api_event"] = f"/lineage/{api}"
    return links


def interchanges_of(session: Session, event_ids: Sequence[str | None]) -> dict[str, str | None]:
    """The interchange each (EDI) event came from."""
    wanted = sorted({e for e in event_ids if e})
    found: dict[str, str | None] = {}
    for start in range(0, len(wanted), 500):
        for ident, interchange in session.execute(select(Event.id, Event.interchange_id).where(
                Event.id.in_(wanted[start:start + 500]))):
            found[ident] = interchange
    return found


def results_json(session: Session, rows: Sequence[ReconcileResult]) -> list[dict[str, Any]]:
    links = interchanges_of(session, [r.edi_event_id for r in rows])
    return [result_json(r, links) for r in rows]


def pair_json(result: Result, interchanges: dict[str, str | None] | None = None
              ) -> dict[str, Any]:
    """A result straight from the engine (matches included), with links to both copies."""
    out = result.to_dict()
    out["edi_interchange_id"] = (interchanges or {}).get(result.edi_id or "")
    out["links"] = _links(result.edi_id, result.api_id, interchanges)
    return out


CLASSES = ("value_differs", "missing_on_api", "missing_on_edi", "late", "duplicate",
           "not_comparable")


def partner_report(session: Session, partner_id: str, *, since: date | None = None,
                   until: date | None = None) -> dict[str, Any]:
    """What a team acts on, for one partner: documents by class (value differs, missing on
    API / EDI, late with the delay, duplicate, not comparable), per field the count, its kinds
    and an example pair, the fields only one path carries with their coverage, and the trend
    per day."""
    from reconciler import summarize

    rows = daily_stats(session, partner_id=partner_id, since=since, until=until)
    types: dict[str, Any] = {}
    for doc in sorted({r.document_type for r in rows}):
        mine = [r for r in rows if r.document_type == doc]
        total = summarize(mine, partner_id=partner_id, document_type=doc)
        types[doc] = {
            "decided": total.decided, "agreement": total.agreement,
            "counts": {o.value: total.counts[o.value] for o in Outcome},
            "fields": total.field_report(),
            "not_comparable": dict(sorted(total.uncompared.items())),
            "trend": [{"day": r.day.isoformat(), "decided": r.decided,
                       "agreement": r.agreement,
                       "counts": {k: v for k, v in r.counts.items() if v},
                       "fields": dict(r.fields)} for r in mine]}
    latest = latest_runs(session, partner_id, limit=1)
    run = latest[0] if latest else None
    classes: dict[str, Any] = {c: {"documents": 0, "examples": []} for c in CLASSES}
    if run is not None:
        found = list(session.scalars(select(ReconcileResult).where(
            ReconcileResult.run_id == run.id).order_by(ReconcileResult.id)))
        links = interchanges_of(session, [r.edi_event_id for r in found])
        for row in found:
            kinds = _classes(row)
            for kind in kinds:
                entry = classes[kind]
                entry["documents"] += 1
                if len(entry["examples"]) < 3:
                    entry["examples"].append(result_json(row, links))
        late = [r.delay_seconds for r in found if r.outcome == "late" and r.delay_seconds]
        if late:
            classes["late"]["max_delay_seconds"] = max(late)
        for doc, fields in (run.config or {}).get("coverage", {}).items():
            types.setdefault(doc, {})["coverage"] = fields
            classes["not_comparable"]["fields"] = classes["not_comparable"].get(
                "fields", []) + [{**f, "document_type": doc} for f in fields]
    # Every pair with a field only one path carries (matches included, which are counted in
    # the statistics, not stored one by one).
    classes["not_comparable"]["documents"] = sum(
        max(t.get("not_comparable", {}).values(), default=0) for t in types.values())
    return {"partner_id": partner_id, "run": run_json(run) if run else None,
            "classes": classes, "document_types": types}


def _classes(row: ReconcileResult) -> list[str]:
    if row.outcome == "missing_api":
        return ["missing_on_api"]
    if row.outcome == "missing_edi":
        return ["missing_on_edi"]
    if row.outcome in ("late", "duplicate"):
        return [row.outcome]
    return sorted({d.get("kind", "value_differs") for d in row.differences or []
                   if isinstance(d, dict)})
