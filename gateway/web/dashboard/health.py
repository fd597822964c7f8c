"""What the overview shows: partner health, alerts and headline numbers, from one function.

The page renders it and ``/dashboard/overview.json`` serves it for the live refresh, so the
numbers a person sees after a reload and after a poll are the same numbers. Every failure
count is a card of its own and, when non-zero, an alert: nothing in flight may look calm while
rows are dead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain.states import AckStatus, InterchangeStatus, OutboxStatus, Stage
from gateway.storage.models import Event, Interchange, OutboxItem
from gateway.storage.models_planning import HELD, PlanAction, PlanRun
from gateway.storage.models_reconciler import ReconcileRun
from gateway.storage.repositories import list_partners

POISON_PREFIX = "quarantined after "
# Twice the scheduler's default period (gateway.reconcile.jobs, 15 minutes): one missed run is
# noise, two are a stalled job.
STALE_RECONCILIATION = timedelta(minutes=30)
ACK_RATE_WARN, ACK_RATE_BAD = 0.95, 0.8
ALERT_ROWS = 5
ACKED = ("accepted", "accepted_with_errors")


def link(path: str, **query: str) -> str:
    params = {k: v for k, v in query.items() if v}
    return f"{path}?{urlencode(params)}" if params else path


def aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def when(value: datetime | None) -> str:
    """Every time shown with its zone (UTC: one zone for every operator and every log line)."""
    value = aware(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


@dataclass
class Cell:
    value: str
    level: str = ""  # "" | ok | warn | bad
    href: str = ""


@dataclass
class Alert:
    key: str
    level: str  # warn | bad
    title: str
    href: str
    fix: str  # what to do, in words
    items: list[dict[str, str]] = field(default_factory=list)  # {"text", "href"}


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _grouped(session: Session, column: Any, *where: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in session.execute(
        select(column, func.count()).where(*where).group_by(column)).all()}


def _level(count: int, bad: bool = True) -> str:
    return ("bad" if bad else "warn") if count else "ok"


def overview_state(session: Session, now: datetime) -> dict[str, Any]:
    partners = list_partners(session)
    rejected = _grouped(session, Interchange.partner_id,
                        Interchange.status == InterchangeStatus.REJECTED)
    quarantined = _grouped(session, Interchange.partner_id,
                           Interchange.status == InterchangeStatus.QUARANTINED)
    dead = _grouped(session, OutboxItem.partner_id, OutboxItem.status == OutboxStatus.DEAD)
    overdue = _grouped(session, OutboxItem.partner_id, OutboxItem.ack_status == AckStatus.OVERDUE)
    acked = _grouped(session, OutboxItem.partner_id, OutboxItem.ack_status.in_(ACKED))
    # Of the acknowledgments that are decided: one still inside its window ("expected") is
    # neither good nor bad yet.
    asked = _grouped(session, OutboxItem.partner_id,
                     OutboxItem.ack_status.in_((*ACKED, "rejected", "overdue")))
    last = {(str(p), str(d)): aware(t) for p, d, t in session.execute(
        select(Interchange.partner_id, Interchange.direction, func.max(Interchange.received_at))
        .group_by(Interchange.partner_id, Interchange.direction)).all()}

    rows = []
    for p in partners:
        n_rej, n_quar = rejected.get(p.id, 0), quarantined.get(p.id, 0)
        n_dead, n_over = dead.get(p.id, 0), overdue.get(p.id, 0)
        n_asked, n_acked = asked.get(p.id, 0), acked.get(p.id, 0)
        rate = n_acked / n_asked if n_asked else None
        rate_level = "" if rate is None else ("ok" if rate >= ACK_RATE_WARN else
                                               "warn" if rate >= ACK_RATE_BAD else "bad")
        last_in, last_out = last.get((p.id, "in")), last.get((p.id, "out"))
        rows.append({
            "id": p.id, "name": p.name, "standard": f"{p.standard} {p.version}".strip(),
            "channels": sorted(p.profile.get("channels", {})),
            "stages": sorted((st.document_type, st.stage) for st in p.stages),
            "cells": {
                "last_in": Cell(when(last_in) if last_in else "never", "",
                                link("/dashboard/interchanges", partner=p.id, direction="in")),
                "last_out": Cell(when(last_out) if last_out else "never", "",
                                 link("/dashboard/interchanges", partner=p.id,
                                      direction="out")),
                "rejected": Cell(str(n_rej), _level(n_rej),
                                 link("/dashboard/interchanges", partner=p.id,
                                      status=InterchangeStatus.REJECTED)),
                "quarantined": Cell(str(n_quar), _level(n_quar),
                                    link("/dashboard/interchanges", partner=p.id,
                                         status=InterchangeStatus.QUARANTINED)),
                "dead": Cell(str(n_dead), _level(n_dead),
                             link("/dashboard/outbox", partner=p.id, status=OutboxStatus.DEAD)),
                "overdue": Cell(str(n_over), _level(n_over, bad=False),
                                link("/dashboard/outbox", partner=p.id, ack="overdue")),
                "ack_rate": Cell("—" if rate is None else f"{rate:.0%}", rate_level,
                                 link("/dashboard/outbox", partner=p.id)),
            },
        })

    total_dead, total_over = sum(dead.values()), sum(overdue.values())
    total_quar, total_rej = sum(quarantined.values()), sum(rejected.values())
    in_flight = _count(session, OutboxItem,
                       OutboxItem.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
    failed = _count(session, OutboxItem, OutboxItem.status == OutboxStatus.FAILED)
    backlog = _count(session, Interchange, Interchange.status == InterchangeStatus.RECEIVED)
    retrying = _count(session, Interchange, Interchange.status == InterchangeStatus.RECEIVED,
                      Interchange.next_attempt_at.is_not(None))
    poison = _count(session, Interchange, Interchange.status == InterchangeStatus.QUARANTINED,
                    Interchange.status_detail.like(f"{POISON_PREFIX}%"))
    day = _count(session, Interchange, Interchange.direction == "in",
                 Interchange.received_at >= now - timedelta(hours=24))
    held = _count(session, PlanAction, PlanAction.status == HELD)
    cards = {
        "partners": Cell(str(len(partners)), "", "#partners"),
        "documents_24h": Cell(str(day), "", link("/dashboard/interchanges", direction="in")),
        "events": Cell(str(_count(session, Event)), "", "/api/v1/events"),
        "inbox_backlog": Cell(str(backlog), _level(backlog, bad=False),
                              link("/dashboard/interchanges", status=InterchangeStatus.RECEIVED)),
        "retrying": Cell(str(retrying), _level(retrying, bad=False),
                         link("/dashboard/interchanges", status=InterchangeStatus.RECEIVED)),
        "rejected": Cell(str(total_rej), _level(total_rej),
                         link("/dashboard/interchanges", status=InterchangeStatus.REJECTED)),
        "quarantined": Cell(str(total_quar), _level(total_quar),
                            link("/dashboard/interchanges", status=InterchangeStatus.QUARANTINED)),
        "poison": Cell(str(poison), _level(poison),
                       link("/dashboard/interchanges", status=InterchangeStatus.QUARANTINED)),
        "outbox_in_flight": Cell(str(in_flight), "",
                                 link("/dashboard/outbox", status=OutboxStatus.PENDING)),
        "outbox_failed": Cell(str(failed), _level(failed, bad=False),
                              link("/dashboard/outbox", status=OutboxStatus.FAILED)),
        "dead_letters": Cell(str(total_dead), _level(total_dead),
                             link("/dashboard/outbox", status=OutboxStatus.DEAD)),
        "acks_overdue": Cell(str(total_over), _level(total_over, bad=False),
                             link("/dashboard/outbox", ack="overdue")),
        "plan_held": Cell(str(held), _level(held, bad=False), "/dashboard/plans"),
    }
    return {"generated_at": when(now), "cards": cards,
            "alerts": _alerts(session, now, total_dead, total_over, total_quar, held),
            "partners": rows}


def _alerts(session: Session, now: datetime, dead: int, overdue: int, quarantined: int,
            held: int) -> list[Alert]:
    alerts: list[Alert] = []
    if dead:
        rows = session.scalars(select(OutboxItem).where(OutboxItem.status == OutboxStatus.DEAD)
                               .order_by(OutboxItem.updated_at.desc()).limit(ALERT_ROWS))
        alerts.append(Alert(
            "dead", "bad", f"{dead} outbox row(s) dead-lettered: never delivered",
            link("/dashboard/outbox", status=OutboxStatus.DEAD),
            "retry or cancel them on the outbox page",
            [{"text": f"{r.partner_id} {r.document_type} {r.business_id}: "
                      f"{(r.last_error or 'no error recorded')[:80]}",
              "href": f"/dashboard/outbox?id={r.id}#row-{r.id}"} for r in rows]))
    if quarantined:
        held_back = session.scalars(select(Interchange).where(
            Interchange.status == InterchangeStatus.QUARANTINED)
            .order_by(Interchange.received_at.desc())
            .limit(ALERT_ROWS))
        alerts.append(Alert(
            "quarantined", "bad", f"{quarantined} interchange(s) quarantined",
            link("/dashboard/interchanges", status=InterchangeStatus.QUARANTINED),
            "read the reason, fix the cause, replay",
            [{"text": f"{r.partner_id or 'unknown sender'} {when(r.received_at)}: "
                      f"{'POISON ' if r.status_detail.startswith(POISON_PREFIX) else ''}"
                      f"{r.status_detail[:80]}",
              "href": f"/dashboard/interchanges/{r.id}#replay"} for r in held_back]))
    if overdue:
        rows = session.scalars(select(OutboxItem).where(OutboxItem.ack_status == AckStatus.OVERDUE)
                               .order_by(OutboxItem.ack_due_at).limit(ALERT_ROWS))
        alerts.append(Alert(
            "overdue", "warn", f"{overdue} acknowledgment(s) overdue",
            link("/dashboard/outbox", ack="overdue"),
            "ask the partner, or resend the document",
            [{"text": f"{r.partner_id} {r.document_type} {r.business_id}: due "
                      f"{when(r.ack_due_at)}",
              "href": f"/dashboard/outbox?id={r.id}#row-{r.id}"} for r in rows]))
    latest = session.scalars(select(PlanRun).order_by(PlanRun.created_at.desc()).limit(1)).first()
    if latest is not None and latest.warnings:
        alerts.append(Alert(
            "planner", "warn", f"the latest plan run has {len(latest.warnings)} warning(s)",
            "/dashboard/plans", "check the parts the planner could not cover",
            [{"text": str(w)[:120], "href": "/dashboard/plans"}
             for w in latest.warnings[:ALERT_ROWS]]))
    if held:
        alerts.append(Alert("held", "warn", f"{held} plan action(s) wait for approval",
                            "/dashboard/plans", "approve or reject them on the plans page"))
    stale = []
    for p in list_partners(session):
        if not any(st.stage == Stage.DUAL for st in p.stages):
            continue
        finished = aware(session.scalar(select(func.max(ReconcileRun.finished_at)).where(
            ReconcileRun.partner_id == p.id)))
        if finished is None or now - finished > STALE_RECONCILIATION:
            stale.append({"text": f"{p.id}: last run {when(finished) if finished else 'never'}",
                          "href": f"/dashboard/reconciliation?partner={p.id}"})
    if stale:
        alerts.append(Alert(
            "reconciliation", "warn",
            f"reconciliation stale for {len(stale)} partner(s) in dual",
            "/dashboard/reconciliation", "run it now on the reconciliation page", stale))
    return alerts


def as_json(state: dict[str, Any]) -> dict[str, Any]:
    return {"generated_at": state["generated_at"],
            "cards": {k: asdict(v) for k, v in state["cards"].items()},
            "alerts": [asdict(a) for a in state["alerts"]],
            "partners": {p["id"]: {k: asdict(v) for k, v in p["cells"].items()}
                         for p in state["partners"]}}
