"""Everything the gateway holds about one business number, as one time-ordered list.

A number is looked up in ``business_refs`` (events, outbox rows, plan actions) and among the
interchanges' control numbers; then each hit brings its neighbours that carry no number of their
own: an event its interchange and the acknowledgment we sent for it, an outbox row the
interchange it became and the partner's acknowledgment of it, a plan action its outbox rows.
Results of one number are small, so filters and paging run over the merged list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.search.paging import BadPage, decode, encode
from gateway.storage.models import Event, Interchange, OutboxItem
from gateway.storage.models_planning import PlanAction
from gateway.storage.models_search import BusinessRef

# More references than this for one number means the number is not a business number (a
# partner id, a year): the answer says it is incomplete instead of loading them all.
REF_BOUND = 5000
KINDS = ("event", "interchange", "outbox", "acknowledgment", "plan_action")
TYPE_PREFIX = "com.edigate."


class BadCursor(ValueError):
    pass


@dataclass
class Hit:
    kind: str  # one of KINDS
    id: str
    at: datetime
    partner: str
    type: str
    status: str
    summary: str
    matched: list[str] = field(default_factory=list)  # "po=4500012345": why it is listed
    # An event is shown on the page of the interchange that carried it (the raw bytes, the
    # errors, the acknowledgment); one without falls back to its lineage.
    interchange_id: str | None = None

    @property
    def href(self) -> str:
        if self.kind == "event" and self.interchange_id:
            return f"/dashboard/interchanges/{self.interchange_id}"
        return {"event": f"/lineage/{self.id}",
                "interchange": f"/dashboard/interchanges/{self.id}",
                "acknowledgment": f"/dashboard/interchanges/{self.id}"
                if not self.id.startswith("outbox:") else
                f"/dashboard/outbox?id={self.id.removeprefix('outbox:')}",
                "outbox": f"/dashboard/outbox?id={self.id}",
                "plan_action": f"/dashboard/plans?action={self.id}"}[self.kind]

    def json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "at": self.at.isoformat(),
                "partner": self.partner, "type": self.type, "status": self.status,
                "summary": self.summary, "matched": self.matched, "href": self.href,
                "lineage": f"/lineage/{self.id}" if self.kind == "event" else None}


@dataclass
class Filters:
    partner: str | None = None
    type: str | None = None
    status: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def keep(self, hit: Hit) -> bool:
        return ((not self.partner or hit.partner == self.partner)
                and (not self.type or hit.type == short_type(self.type))
                and (not self.status or hit.status == self.status)
                and (not self.kind or hit.kind == self.kind)
                and (not self.since or hit.at >= self.since)
                and (not self.until or hit.at < self.until))


@dataclass
class Page:
    hits: list[Hit]
    next: str | None
    total: int
    complete: bool


def short_type(value: str) -> str:
    # EDI-path events are stored as com.edigate.<type>, API-path ones as sent: one name here.
    return value.removeprefix(TYPE_PREFIX)


def aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they are stored as UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cursor_of(hit: Hit) -> str:
    return encode(hit.at, hit.id)


def _parse_cursor(value: str) -> tuple[datetime, str]:
    try:
        return decode(value)
    except BadPage as exc:
        raise BadCursor(str(exc)) from None


def search(session: Session, q: str, filters: Filters | None = None, *, limit: int = 50,
           after: str | None = None) -> Page:
    """One page of everything about ``q``, newest first; ``after`` is the previous page's
    ``next``."""
    filters = filters or Filters()
    q = q.strip()
    values = {q, q.upper()}
    refs = session.execute(select(BusinessRef).where(BusinessRef.value.in_(values))
                           .limit(REF_BOUND + 1)).scalars().all()
    complete = len(refs) <= REF_BOUND
    matched: dict[str, list[str]] = {}
    event_ids: set[str] = set()
    outbox_ids: set[str] = set()
    action_ids: set[str] = set()
    for ref in refs[:REF_BOUND]:
        why = f"{ref.kind}={ref.value}"
        for ident, bucket in ((ref.event_id, event_ids), (ref.outbox_id, outbox_ids),
                              (ref.plan_action_id, action_ids)):
            if ident:
                bucket.add(ident)
                matched.setdefault(ident, [])
                if why not in matched[ident]:
                    matched[ident].append(why)

    hits: dict[str, Hit] = {}
    interchange_ids: dict[str, str] = {}  # id -> why it is listed

    actions = session.scalars(select(PlanAction).where(PlanAction.id.in_(action_ids))).all() \
        if action_ids else []
    for a in actions:
        outbox_ids.update(str(i) for i in (a.outbox_ids or []))
        hits[a.id] = Hit("plan_action", a.id, aware(a.created_at), a.supplier_id,
                         a.document_type, a.status,
                         f"plan {a.kind} {a.business_id} value {a.value:.2f}",
                         matched.get(a.id, []))

    events = session.scalars(select(Event).where(Event.id.in_(event_ids))).all() \
        if event_ids else []
    for e in events:
        hits[e.id] = Hit("event", e.id, aware(e.time), e.partner_id or "", short_type(e.type),
                         e.path, f"{short_type(e.type)} {e.business_key}",
                         matched.get(e.id, []), e.interchange_id)
        if e.interchange_id:
            interchange_ids.setdefault(e.interchange_id, f"carries event {e.business_key}")

    rows = session.scalars(select(OutboxItem).where(OutboxItem.id.in_(outbox_ids))).all() \
        if outbox_ids else []
    ack_of_ours: dict[str, str] = {}
    for o in rows:
        hits[o.id] = Hit("outbox", o.id, aware(o.created_at), o.partner_id, o.document_type,
                         o.status, f"{o.document_type} {o.business_id} via {o.channel}, "
                         f"ack {o.ack_status}", matched.get(o.id, []))
        if o.interchange_id:
            interchange_ids.setdefault(o.interchange_id, f"sent {o.business_id}")
        if o.ack_interchange_id:
            ack_of_ours[o.ack_interchange_id] = f"acknowledges {o.business_id}"

    direct = session.execute(select(Interchange.id).where(
        Interchange.control_number.in_(values)).limit(REF_BOUND + 1)).scalars().all()
    complete = complete and len(direct) <= REF_BOUND
    for ident in direct[:REF_BOUND]:
        interchange_ids.setdefault(ident, f"control={q}")

    wanted = set(interchange_ids) | set(ack_of_ours)
    if wanted:
        for i in session.scalars(select(Interchange).where(Interchange.id.in_(wanted))):
            kind = "acknowledgment" if i.id in ack_of_ours else "interchange"
            why = ack_of_ours.get(i.id) or interchange_ids[i.id]
            summary = f"{i.channel} {i.direction}" + (
                f", control {i.control_number}" if i.control_number else "") + (
                f": {i.status_detail[:80]}" if i.status_detail else "")
            hits[i.id] = Hit(kind, i.id, aware(i.received_at), i.partner_id or "",
                             f"{i.standard or 'api'} {i.direction}", i.status, summary, [why])
        # Our acknowledgments of their interchanges (997/999/CONTRL rows) and the events of
        # their acknowledgments of ours.
        inbound = [i for i, h in hits.items() if h.kind == "interchange"]
        for chunk in _chunks(inbound):
            for o in session.scalars(select(OutboxItem).where(
                    OutboxItem.business_id.in_([f"ack:{i}" for i in chunk]))):
                answered = o.business_id.removeprefix("ack:")
                hits[f"outbox:{o.id}"] = Hit(
                    "acknowledgment", f"outbox:{o.id}", aware(o.created_at), o.partner_id,
                    str((o.data or {}).get("kind") or o.document_type), o.status,
                    f"our {(o.data or {}).get('kind') or 'acknowledgment'} of interchange "
                    f"{answered[:8]}", [f"answers {answered[:8]}"])
        for chunk in _chunks(list(ack_of_ours)):
            for e in session.scalars(select(Event).where(Event.interchange_id.in_(chunk))):
                hits.setdefault(e.id, Hit(
                    "event", e.id, aware(e.time), e.partner_id or "", short_type(e.type),
                    e.path, f"{short_type(e.type)} {e.business_key}",
                    [ack_of_ours[e.interchange_id or ""]], e.interchange_id))

    ordered = sorted((h for h in hits.values() if filters.keep(h)),
                     key=lambda h: (h.at, h.id), reverse=True)
    total = len(ordered)
    if after:
        at, ident = _parse_cursor(after)
        ordered = [h for h in ordered if (h.at, h.id) < (at, ident)]
    page = ordered[:limit]
    more = len(ordered) > limit
    return Page(page, cursor_of(page[-1]) if more and page else None, total, complete)


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
