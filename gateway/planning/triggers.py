"""Disruption-triggered replans: supplier news that breaks the plan gets a replan within a
minute, and the plan names the document that caused it.

Disruptions (read from what is stored, so a restart loses nothing):

- ``order_cut``: an order response (ORDRSP/855) that rejects the order or a line, or confirms
  less than was ordered;
- ``order_late``: an order response confirming a delivery date after the one ordered;
- ``despatch_late``: a despatch advice (DESADV/856) whose expected delivery is after the date
  the order asked for, or already past when it arrives;
- ``order_change``: an order change (ORDCHG/860) received from a partner;
- ``ack_overdue``: a document the plan sent whose acknowledgment is overdue (flagged by the
  acknowledgment sweep).

Kept light (no optimizer import): the pipeline imports this module to call the hook.

Event-driven: when such an event is stored, :func:`on_event_stored` (called by the pipeline in
the same transaction) schedules a one-shot replan job for the sending partner, ``debounce``
after the news; a newer disruption from the same partner moves it (a burst gives one replan),
but never past ``max_wait`` after the first. The job — and the periodic check that also
catches overdue acknowledgments and anything a restart dropped — plans once a partner's
disruptions are due. Every run records the disruptions it answers as its lineage
(``parameters["triggers"]``: event id, kind, partner, why), newest first.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain.states import AckStatus
from gateway.planning.state import iso_date
from gateway.storage.models import Event, OutboxItem
from gateway.storage.models_planning import PlanAction, PlanRun

log = logging.getLogger("edigate.planning")
DISRUPTION_TYPES = ("order_response", "despatch_advice", "order_change")


@dataclass(frozen=True)
class Disruption:
    """One piece of news that calls for a replan (JSON-ready with :meth:`as_dict`)."""

    kind: str  # order_cut | order_late | despatch_late | order_change | ack_overdue
    partner: str
    at: datetime  # when the gateway recorded it
    reason: str
    event_id: str = ""  # the triggering event (none for an overdue acknowledgment)
    outbox_id: str = ""  # the document whose acknowledgment is overdue

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat()
        return out


def aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone=True columns; we always store UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def classify(session: Session, event: Event) -> Disruption | None:
    """The disruption ``event`` is, or ``None`` when it is ordinary news."""
    data = event.data if isinstance(event.data, dict) else {}
    partner = event.partner_id or ""
    at = aware(event.recorded_at or event.time)

    def found(kind: str, reason: str) -> Disruption:
        return Disruption(kind, partner, at, reason, event_id=event.id)

    if event.type == "order_change":
        return found("order_change", f"order change for order {data.get('order_number')}")
    if event.type == "order_response":
        number = str(data.get("order_number") or "")
        ordered = _ordered(session, partner, number)
        if data.get("status") == "rejected":
            return found("order_cut", f"order {number} rejected")
        for line in data.get("lines") or []:
            if not isinstance(line, dict):
                continue
            part = str(line.get("buyer_part") or "")
            if line.get("status") == "rejected":
                return found("order_cut", f"order {number} line {part or '?'} rejected")
            confirmed = _number(line.get("confirmed_quantity"))
            wanted = _number(line.get("ordered_quantity"))
            known = ordered.get(part)
            if wanted is None and known is not None:
                wanted = float(known[0])
            if confirmed is not None and wanted is not None and confirmed < wanted:
                return found("order_cut", f"order {number} {part}: {confirmed:g} confirmed "
                                          f"of {wanted:g}")
            when = iso_date(line.get("confirmed_delivery_date"))
            if when is not None and known is not None and when > known[1]:
                return found("order_late", f"order {number} {part}: confirmed for {when}, "
                                           f"ordered for {known[1]}")
        return None
    if event.type == "despatch_advice":
        expected = iso_date(data.get("expected_delivery_date"))
        if expected is None:
            return None
        shipment = data.get("shipment_number")
        if expected < at.date():
            return found("despatch_late", f"shipment {shipment}: expected {expected}, "
                                          "already past")
        for item in data.get("items") or []:
            if not isinstance(item, dict):
                continue
            number = str(item.get("order_number") or "")
            known = _ordered(session, partner, number).get(str(item.get("buyer_part") or ""))
            if known is not None and expected > known[1]:
                return found("despatch_late", f"shipment {shipment}: expected {expected}, "
                                              f"order {number} needed it by {known[1]}")
    return None


def _ordered(session: Session, supplier: str, number: str) -> dict[str, tuple[int, date]]:
    """What order ``number`` asked ``supplier`` for, per part: (quantity, arrival date)."""
    if not number:
        return {}
    lines = session.scalars(select(PlanAction).where(
        PlanAction.supplier_id == supplier, PlanAction.order_number == number)
        .order_by(PlanAction.created_at, PlanAction.id)).all()
    out: dict[str, tuple[int, date]] = {}
    for action in lines:  # oldest first: the latest word wins
        for item in action.lines:
            try:
                out[str(item["part"])] = (int(item["quantity"]),
                                          date.fromisoformat(item["arrival_date"]))
            except (KeyError, TypeError, ValueError):
                continue
    return out


def last_run_at(session: Session) -> datetime | None:
    last = session.scalar(select(func.max(PlanRun.created_at)))
    return aware(last) if last is not None else None


def pending(session: Session, since: datetime | None = None) -> list[Disruption]:
    """Disruptions recorded after the last plan run (or ``since``), oldest first."""
    since = since if since is not None else last_run_at(session)
    query = select(Event).where(Event.type.in_(DISRUPTION_TYPES))
    if since is not None:
        query = query.where(Event.recorded_at > since)
    out = [d for e in session.scalars(query.order_by(Event.recorded_at, Event.id))
           if (d := classify(session, e)) is not None]
    overdue = select(OutboxItem).where(OutboxItem.ack_status == AckStatus.OVERDUE,
                                       OutboxItem.cause_type == "plan_action")
    if since is not None:
        overdue = overdue.where(OutboxItem.updated_at > since)
    for item in session.scalars(overdue):
        out.append(Disruption("ack_overdue", item.partner_id, aware(item.updated_at),
                              f"{item.document_type} {item.business_id}: acknowledgment "
                              "overdue", outbox_id=item.id))
    return sorted(out, key=lambda d: d.at)


def due(disruptions: list[Disruption], now: datetime, debounce: timedelta,
        max_wait: timedelta) -> list[Disruption]:
    """The disruptions of every partner whose news is due: quiet for ``debounce`` since its
    newest, or its oldest waiting ``max_wait`` (a partner that never goes quiet)."""
    by_partner: dict[str, list[Disruption]] = {}
    for d in disruptions:
        by_partner.setdefault(d.partner, []).append(d)
    out: list[Disruption] = []
    for items in by_partner.values():
        if now - items[-1].at >= debounce or now - items[0].at >= max_wait:
            out += items
    return sorted(out, key=lambda d: d.at, reverse=True)


# --- the hook and the one-shot jobs ---------------------------------------------------------

_LOCK = threading.Lock()
# The process's scheduler and the job that plans (set by gateway.planning.jobs when the
# planning jobs are registered; without them the hook only logs and the periodic check plans).
_SCHEDULE: dict[str, Any] = {}
# Per partner: when its first unplanned disruption arrived (bounds how far a burst defers).
_FIRST: dict[str, datetime] = {}


def register(scheduler: Any, job: Any, args: list[Any], debounce: timedelta,
             max_wait: timedelta) -> None:
    with _LOCK:
        _SCHEDULE.update(scheduler=scheduler, job=job, args=args, debounce=debounce,
                         max_wait=max_wait)


def unregister() -> None:
    with _LOCK:
        _SCHEDULE.clear()
        _FIRST.clear()


def on_event_stored(session: Session, event_id: str, event_type: str) -> Disruption | None:
    """Called where events are stored, in the storing transaction (the event added to
    ``session``): if it is a disruption, schedule its partner's replan once the transaction
    commits. Never raises: a planning hiccup must not lose an inbound document (the periodic
    check catches up)."""
    if event_type not in DISRUPTION_TYPES:
        return None
    try:
        # Still pending when the inbox stores a batch without flushing: found in session.new.
        event = next((o for o in session.new if isinstance(o, Event) and o.id == event_id),
                     None) or session.get(Event, event_id)
        found = classify(session, event) if event is not None else None
    except Exception:  # see the docstring
        log.exception("classifying event %s for a replan failed", event_id)
        return None
    if found is None:
        return None
    log.info("disruption %s from %s (%s): replan scheduled", found.kind, found.partner,
             found.reason)
    with _LOCK:
        if not _SCHEDULE:
            return found
    from sqlalchemy import event as sa_event

    def after_commit(_session: Session) -> None:
        schedule_replan(found.partner, found.at)

    sa_event.listen(session, "after_commit", after_commit, once=True)
    return found


def schedule_replan(partner: str, at: datetime) -> datetime | None:
    """(Re)schedule ``partner``'s one-shot replan ``debounce`` after news recorded ``at``,
    but no later than ``max_wait`` after its first unplanned news; returns the job's (wall
    clock) run time, ``None`` when no scheduler is registered."""
    with _LOCK:
        if not _SCHEDULE:
            return None
        first = _FIRST.setdefault(partner, at)
        delay = min(_SCHEDULE["debounce"], first + _SCHEDULE["max_wait"] - at)
        # The job itself re-checks what is due in the database: a moved or extra run is safe.
        run_date = datetime.now(UTC) + max(delay, timedelta(0)) + timedelta(seconds=1)
        _SCHEDULE["scheduler"].add_job(
            _SCHEDULE["job"], "date", run_date=run_date, args=_SCHEDULE["args"],
            id=f"replan-{partner}", replace_existing=True, misfire_grace_time=60)
    return run_date


def planned(partners: set[str]) -> None:
    """The partners' news has been planned: their next disruption starts a new burst."""
    with _LOCK:
        for partner in partners:
            _FIRST.pop(partner, None)
