"""Build the optimizer's SupplyState from the authoritative events.

Sources (payload shapes in the event schemas):

- ``demand`` and ``stock``: the manufacturer's own feed (partners whose profile says
  ``role = "manufacturer"``); the latest event per site counts, sites are added up.
- ``supplier_capacity``: prices, MOQ, lot size, lead time and capacity per part and period;
  from the manufacturer's master data or from the supplier itself (for itself only). Capacity
  per period is shared by all the supplier's parts: an item for part ``"*"`` states it
  directly, otherwise the part capacities of that period are added up.
- ``inventory_report`` (supplier): the total quantity it reports ``available`` caps its capacity
  in periods that ``supplier_capacity`` leaves open.
- orders already sent (see :mod:`gateway.planning.baseline`), netted with the supplier's
  ``order_response`` (confirmed quantity and date; a rejection cancels) and
  ``despatch_advice`` (quantities in transit with their expected delivery date).

Dual sourcing is the plant's policy: a ``[sourcing]`` table in the manufacturer's partner
profile gives, per part and supplier, ``min_share`` and/or ``max_share`` of the part's newly
ordered units (``[sourcing."P-100"]`` ``nova-plastics = { min_share = 0.3 }``).

Only authoritative events count: per partner and document type, the EDI path while the partner
is in stage ``edi`` or ``dual`` and the API path in stage ``api``. Every item carries the ids of
the events it came from and their time, for traceability and the freshness check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.planning.baseline import CommittedLine, committed_lines
from gateway.planning.config import PlanningConfig
from gateway.storage.models import Event, Partner
from gateway.storage.repositories import stage_of
from optimizer import (
    Delivery,
    LeadTimeStats,
    Offer,
    OrderLine,
    Part,
    Provenance,
    Receipt,
    SourcingShare,
    Supplier,
    SupplyState,
    lead_time_stats,
    safety_stocks,
)

INTERNAL_FEEDS = ("demand", "stock", "supplier_capacity")
# How far back supplier documents are read (confirmations, despatches, lead-time history).
HISTORY = timedelta(days=180)


@dataclass
class BuiltState:
    state: SupplyState
    previous: tuple[OrderLine, ...]
    order_numbers: dict[tuple[str, str, int], str]  # (part, supplier, period) -> order number
    schedule_driven: set[str]
    lead_times: dict[str, int]  # "part/supplier" -> periods
    warnings: list[str] = field(default_factory=list)
    # Schedule lines sent earlier whose order date has passed but whose delivery is still
    # ahead: not plannable any more, yet part of every schedule sent again (830 replaces 830).
    scheduled_ahead: tuple[OrderLine, ...] = ()


def aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone=True columns; we always store UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def iso_date(value: Any) -> date | None:
    """The date at the start of an ISO string (an event field), or None."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


class _Events:
    """Authoritative events by type, newest first."""

    def __init__(self, session: Session, since: datetime) -> None:
        self.session = session
        self.since = since
        self._stages: dict[tuple[str, str], str] = {}

    def authoritative(self, event: Event) -> bool:
        if event.partner_id is None:
            return False
        key = (event.partner_id, event.type)
        if key not in self._stages:
            self._stages[key] = stage_of(self.session, event.partner_id, event.type)
        wanted = "api" if self._stages[key] == "api" else "edi"
        return event.path == wanted

    def of_type(self, event_type: str, *, recent_only: bool = False) -> list[Event]:
        query = select(Event).where(Event.type == event_type)
        if recent_only:
            query = query.where(Event.time >= self.since)
        rows = self.session.scalars(query.order_by(Event.time.desc(), Event.id.desc())).all()
        return [e for e in rows if self.authoritative(e) and isinstance(e.data, dict)]


def _latest_per(events: Iterable[Event], key: str, *, per_partner: bool = False) -> list[Event]:
    """The newest event per value of ``data[key]`` (and per sender, if ``per_partner``)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for event in events:  # newest first
        value = (event.partner_id or "" if per_partner else "", str(event.data.get(key, "")))
        if value not in seen:
            seen.add(value)
            out.append(event)
    return out


@dataclass
class _OfferTerms:
    price: float | None = None
    moq: int = 0
    multiple: int = 1
    lead_days: float = 0.0
    event: Event | None = None


def build_state(session: Session, *, today: date, now: datetime,
                config: PlanningConfig) -> BuiltState:
    """The supply state for a horizon starting ``today``, with what was skipped and why."""
    T, days = config.periods, config.period_days
    warnings: list[str] = []
    events = _Events(session, now - HISTORY)
    partners = {p.id: p for p in session.scalars(select(Partner)).all()}
    manufacturers = {pid for pid, p in partners.items()
                     if (p.profile or {}).get("role") == "manufacturer"}

    def period_of(day: date) -> int:
        return (day - today).days // days

    def internal(event: Event) -> bool:
        return event.partner_id in manufacturers

    # Demand: latest event per site, added up per part and period.
    demand: dict[str, list[float]] = {}
    demand_ids: dict[str, list[Event]] = {}
    for event in _latest_per(filter(internal, events.of_type("demand")), "site"):
        for i, line in enumerate(event.data.get("lines") or []):
            part, start = line.get("part"), iso_date(line.get("period_start"))
            qty = _number(line.get("quantity"))
            if not isinstance(part, str) or start is None or qty is None or qty < 0:
                warnings.append(f"demand event {event.id} line {i}: unusable, skipped")
                continue
            t = period_of(start)
            if 0 <= t < T:
                demand.setdefault(part, [0.0] * T)[t] += qty
                demand_ids.setdefault(part, [])
                if event not in demand_ids[part]:
                    demand_ids[part].append(event)

    # Stock: latest event per site.
    on_hand: dict[str, float] = {}
    safety_override: dict[str, int] = {}
    stock_src: dict[str, list[Event]] = {}
    stock_as_of: dict[str, datetime] = {}
    for event in _latest_per(filter(internal, events.of_type("stock")), "site"):
        as_of = _datetime(event.data.get("as_of")) or aware(event.time)
        for i, item in enumerate(event.data.get("items") or []):
            part, qty = item.get("part"), _number(item.get("on_hand"))
            if not isinstance(part, str) or qty is None:
                warnings.append(f"stock event {event.id} item {i}: unusable, skipped")
                continue
            on_hand[part] = on_hand.get(part, 0.0) + qty
            safety = _number(item.get("safety_stock"))
            if safety is not None and safety >= 0:
                safety_override[part] = safety_override.get(part, 0) + math.ceil(safety)
            stock_src.setdefault(part, []).append(event)
            stock_as_of[part] = min(stock_as_of.get(part, as_of), as_of)

    # Supplier terms and capacity: latest event per supplier.
    terms: dict[tuple[str, str], _OfferTerms] = {}
    capacity: dict[str, list[float | None]] = {}
    shared: dict[str, list[float | None]] = {}
    capacity_event: dict[str, Event] = {}
    def may_report(event: Event) -> bool:
        supplier = event.data.get("supplier")
        if not isinstance(supplier, str) or supplier not in partners:
            warnings.append(f"supplier_capacity event {event.id}: unknown supplier "
                            f"{supplier!r}, skipped")
            return False
        if not internal(event) and event.partner_id != supplier:
            warnings.append(f"supplier_capacity event {event.id}: {event.partner_id} may not "
                            f"report for {supplier}, skipped")
            return False
        return True

    for event in _latest_per(filter(may_report, events.of_type("supplier_capacity")),
                             "supplier"):
        supplier = str(event.data["supplier"])
        capacity_event[supplier] = event
        for i, item in enumerate(event.data.get("items") or []):
            part = item.get("part")
            if not isinstance(part, str):
                warnings.append(f"supplier_capacity event {event.id} item {i}: no part")
                continue
            start, cap = iso_date(item.get("period_start")), _number(item.get("capacity"))
            if start is not None and cap is not None and cap >= 0 and 0 <= period_of(start) < T:
                table = shared if part == "*" else capacity
                row = table.setdefault(supplier, [None] * T)
                t = period_of(start)
                row[t] = (row[t] or 0.0) + cap
            if part == "*":
                continue
            offer = terms.setdefault((part, supplier), _OfferTerms(event=event))
            price = _number(item.get("unit_price"))
            if price is not None and price >= 0 and offer.price is None:
                offer.price = price
            moq, lot = _number(item.get("min_order_qty")), _number(item.get("lot_size"))
            lead = _number(item.get("lead_time_days"))
            if moq is not None and moq > 0:
                offer.moq = max(offer.moq, math.ceil(moq))
            if lot is not None and lot >= 1:
                offer.multiple = max(offer.multiple, math.ceil(lot))
            if lead is not None and lead >= 0:
                offer.lead_days = max(offer.lead_days, lead)

    available = _available_by_supplier(events, {s for _, s in terms})

    committed = committed_lines(session)
    schedule_driven = {pid for pid, p in partners.items()
                       if (p.profile or {}).get("schedule_driven")}

    # Parts: demanded or stocked, with at least one priced offer.
    part_ids = sorted(set(demand) | set(on_hand))
    offers: list[Offer] = []
    lead_times: dict[str, int] = {}
    planned_parts: list[str] = []
    unplannable: list[str] = []
    outages = _outages(events, committed, today=today, days=days)
    for part in part_ids:
        mine = [(s, o) for (p, s), o in sorted(terms.items()) if p == part]
        priced = [(s, o) for s, o in mine if o.price is not None]
        warnings += [f"offer {part}/{s}: no unit price, not used"
                     for s, o in mine if o.price is None]
        if not priced:
            if demand.get(part) and any(demand[part]):
                # Kept in the state with no offer: the plan raises it as a planning alert
                # with the demand at risk, and counts its periods short like any other part.
                warnings.append(f"part {part}: demanded but no supplier offers it; not planned")
                unplannable.append(part)
            continue
        planned_parts.append(part)
        for supplier, o in priced:
            lead = math.ceil(o.lead_days / days - 1e-9)
            lead_times[f"{part}/{supplier}"] = lead
            assert o.price is not None and o.event is not None
            sources = [o.event]
            until, refusal = outages.get((supplier, part), (-1, None))
            if refusal is not None and lead <= until < T - 1:
                # It refused an order due in period ``until``: nothing of this part from it
                # arrives before ``until + 1``, so the plan buys what is needed by then
                # elsewhere (its other parts and later deliveries are untouched).
                warnings.append(f"offer {part}/{supplier}: it confirmed none of an order due "
                                f"in period {until} (event {refusal.id}); nothing from it "
                                "assumed before the period after")
                lead, sources = until + 1, [o.event, refusal]
            offers.append(Offer(
                part=part, supplier=supplier, price=o.price, moq=o.moq, multiple=o.multiple,
                lead_time=lead, fixed_cost=config.fixed_order_cost,
                source=Provenance(tuple(e.id for e in sources),
                                  min(aware(e.time) for e in sources)),
            ))
    supplier_ids = sorted({o.supplier for o in offers})
    suppliers = []
    for sid in supplier_ids:
        row: list[float] = []
        for t in range(T):
            value = (shared.get(sid) or [None] * T)[t]
            if value is None:
                value = (capacity.get(sid) or [None] * T)[t]
            if value is None and sid in available:
                value = available[sid][0]
            row.append(math.inf if value is None else value)
        src_events = [e for e in (capacity_event.get(sid), available.get(sid, (0, None))[1])
                      if e is not None]
        suppliers.append(Supplier(
            sid, None if all(math.isinf(c) for c in row) else tuple(row),
            schedule_driven=sid in schedule_driven,
            source=Provenance(tuple(e.id for e in src_events),
                              min((aware(e.time) for e in src_events), default=None)),
        ))

    receipts, previous, order_numbers, history = _orders(
        events, committed, today=today, days=days, T=T, parts=set(planned_parts),
        suppliers=set(supplier_ids), stock_as_of=stock_as_of, lead_times=lead_times,
    )
    scheduled_ahead = tuple(
        OrderLine(ln.part, ln.supplier, (ln.order_date - today).days // days,
                  (ln.arrival_date - today).days // days, ln.quantity, ln.unit_price)
        for ln in committed
        if ln.supplier in schedule_driven and not ln.order_number and ln.order_date < today
        and today <= ln.arrival_date and ln.part in planned_parts
    )

    # Safety stock: the standard formula from demand and lead-time variability, unless the
    # stock feed states it. Parts with no delivery history use their offers' lead time.
    stats = lead_time_stats(history, days)
    for o in offers:
        stats.setdefault((o.part, o.supplier), LeadTimeStats(1, float(o.lead_time), 0.0))
    safety = safety_stocks({p: demand.get(p, [0.0] * T) for p in planned_parts}, stats,
                           config.service_level, safety_override)

    parts = []
    for pid in unplannable:
        stock = math.floor(on_hand.get(pid, 0.0))
        d_events = demand_ids.get(pid, [])
        parts.append(Part(
            id=pid, demand=tuple(math.ceil(q - 1e-9) for q in demand.get(pid, [0.0] * T)),
            on_hand=max(stock, 0), backlog=max(-stock, 0), holding_cost=0.0,
            backlog_penalty=0.0, line_stop_cost=config.line_stop_cost,
            demand_source=Provenance(tuple(e.id for e in d_events),
                                     min((aware(e.time) for e in d_events), default=None)),
        ))
    for pid in planned_parts:
        prices = [o.price for o in offers if o.part == pid]
        d_events = demand_ids.get(pid, [])
        s_events = stock_src.get(pid, [])
        stock = math.floor(on_hand.get(pid, 0.0))
        parts.append(Part(
            id=pid, demand=tuple(math.ceil(q - 1e-9) for q in demand.get(pid, [0.0] * T)),
            on_hand=max(stock, 0), backlog=max(-stock, 0),
            holding_cost=config.holding_rate * min(prices) * days,
            backlog_penalty=config.backlog_factor * max(prices) * days,
            safety_stock=safety.get(pid, 0),
            demand_source=Provenance(tuple(e.id for e in d_events),
                                     min((aware(e.time) for e in d_events), default=None)),
            stock_source=Provenance(tuple(e.id for e in s_events), stock_as_of.get(pid)),
        ))
    shares = sourcing_policy([partners[m] for m in sorted(manufacturers)],
                             {(o.part, o.supplier) for o in offers}, warnings)
    state = SupplyState(periods=T, parts=tuple(parts), suppliers=tuple(suppliers),
                        offers=tuple(offers), receipts=tuple(receipts), start=today,
                        period_days=days, shares=tuple(shares))
    return BuiltState(state, tuple(previous), order_numbers, schedule_driven, lead_times,
                      warnings, scheduled_ahead)


def sourcing_policy(manufacturers: list[Partner], offered: set[tuple[str, str]],
                    warnings: list[str]) -> list[SourcingShare]:
    """The share rules of the manufacturers' ``[sourcing]`` tables that can apply: a rule for
    a supplier with no priced offer for the part, or a part whose rules contradict each other,
    is skipped with a warning (the plan goes on without it)."""
    by_part: dict[str, dict[str, SourcingShare]] = {}
    for partner in manufacturers:
        table = (partner.profile or {}).get("sourcing")
        if table is None:
            continue
        if not isinstance(table, dict):
            warnings.append(f"sourcing policy of {partner.id}: not a table, ignored")
            continue
        for part, rules in sorted(table.items()):
            if not isinstance(rules, dict):
                warnings.append(f"sourcing policy for {part}: not a table, ignored")
                continue
            for supplier, bounds in sorted(rules.items()):
                where = f"sourcing policy {part}/{supplier}"
                if not isinstance(bounds, dict) or set(bounds) - {"min_share", "max_share"}:
                    warnings.append(f"{where}: give min_share and/or max_share, ignored")
                    continue
                lo, hi = _number(bounds.get("min_share", 0.0)), _number(bounds.get("max_share",
                                                                                   1.0))
                if lo is None or hi is None or not 0 <= lo <= hi <= 1:
                    warnings.append(f"{where}: shares must satisfy 0 <= min <= max <= 1, "
                                    "ignored")
                    continue
                if (part, supplier) not in offered:
                    warnings.append(f"{where}: no priced offer from that supplier, ignored")
                    continue
                by_part.setdefault(part, {})[supplier] = SourcingShare(part, supplier, lo, hi)
    out: list[SourcingShare] = []
    for part, rules in sorted(by_part.items()):
        if sum(r.min_share for r in rules.values()) > 1 + 1e-9:
            warnings.append(f"sourcing policy for {part}: minimum shares add up to more than "
                            "1, ignored")
            continue
        out += [rules[s] for s in sorted(rules)]
    return out


def _outages(events: _Events, committed: list[CommittedLine], *, today: date,
             days: int) -> dict[tuple[str, str], tuple[int, Event]]:
    """Per (supplier, part): the latest period of an order the supplier's latest response
    confirms none of (rejected, or the part's line at zero), with that response. A supplier
    that cannot deliver a part it was asked for is not counted on for it until then."""
    due: dict[tuple[str, str], dict[str, date]] = {}
    for line in committed:
        if line.order_number:
            parts = due.setdefault((line.supplier, line.order_number), {})
            parts[line.part] = max(parts.get(line.part, line.arrival_date), line.arrival_date)
    out: dict[tuple[str, str], tuple[int, Event]] = {}
    for event in _latest_per(events.of_type("order_response", recent_only=True),
                             "order_number", per_partner=True):
        supplier = event.partner_id or ""
        ordered = due.get((supplier, str(event.data.get("order_number", ""))))
        if not ordered:
            continue
        lines = {str(ln.get("buyer_part")): ln for ln in event.data.get("lines") or []
                 if isinstance(ln, dict)}
        for part, arrival in ordered.items():
            line = lines.get(part) or (next(iter(lines.values())) if len(lines) == 1
                                       else None)
            nothing = event.data.get("status") == "rejected" or (line is not None and (
                line.get("status") == "rejected"
                or _number(line.get("confirmed_quantity")) == 0))
            period = (arrival - today).days // days
            if nothing and period >= 0 and period > out.get((supplier, part), (-1, event))[0]:
                out[(supplier, part)] = (period, event)
    return out


def _available_by_supplier(events: _Events, suppliers: set[str]) -> dict[str, tuple[float, Event]]:
    """Total quantity each supplier last reported available (inventory_report)."""
    out: dict[str, tuple[float, Event]] = {}
    for event in events.of_type("inventory_report", recent_only=True):
        sid = event.partner_id
        if sid is None or sid not in suppliers or sid in out:
            continue
        total = 0.0
        for item in event.data.get("items") or []:
            for q in item.get("quantities") or []:
                value = _number(q.get("quantity"))
                if q.get("kind") == "available" and value is not None and value > 0:
                    total += value
        out[sid] = (total, event)
    return out


@dataclass
class _Open:
    line: CommittedLine
    quantity: int
    arrival: date
    kind: str
    event_ids: list[str]
    as_of: datetime


def _orders(
    events: _Events, committed: list[CommittedLine], *, today: date, days: int, T: int,
    parts: set[str], suppliers: set[str], stock_as_of: dict[str, datetime],
    lead_times: dict[str, int],
) -> tuple[list[Receipt], list[OrderLine], dict[tuple[str, str, int], str], list[Delivery]]:
    """Open orders (netted), in-transit goods, the previous plan and lead-time history."""
    previous: list[OrderLine] = []
    order_numbers: dict[tuple[str, str, int], str] = {}
    open_orders: dict[tuple[str, str], list[_Open]] = {}  # (supplier, part) -> oldest first
    by_number: dict[tuple[str, str], list[_Open]] = {}  # (supplier, order number)
    ordered_on: dict[tuple[str, str], date] = {}
    for line in sorted(committed, key=lambda ln: (ln.arrival_date, ln.order_date)):
        period = (line.order_date - today).days // days
        if line.part not in parts or line.supplier not in suppliers:
            continue
        if period >= 0:
            arrival = (line.arrival_date - today).days // days
            previous.append(OrderLine(line.part, line.supplier, period, arrival, line.quantity,
                                      line.unit_price))
            if line.order_number:
                order_numbers[(line.part, line.supplier, period)] = line.order_number
            continue
        item = _Open(line, line.quantity, line.arrival_date, "open_order", [],
                     aware(line.sent_at))
        open_orders.setdefault((line.supplier, line.part), []).append(item)
        if line.order_number:
            by_number.setdefault((line.supplier, line.order_number), []).append(item)
            ordered_on[(line.supplier, line.order_number)] = line.order_date

    # Confirmations: the latest response per order.
    for event in _latest_per(events.of_type("order_response", recent_only=True),
                             "order_number", per_partner=True):
        key = (event.partner_id or "", str(event.data.get("order_number", "")))
        items = by_number.get(key)
        if not items:
            continue
        rejected = event.data.get("status") == "rejected"
        lines = {str(ln.get("buyer_part")): ln for ln in event.data.get("lines") or []
                 if isinstance(ln, dict)}
        for item in items:
            item.kind, item.event_ids, item.as_of = "confirmation", [event.id], aware(event.time)
            line = lines.get(item.line.part) or (next(iter(lines.values())) if len(lines) == 1
                                                 else None)
            if rejected or (line is not None and line.get("status") == "rejected"):
                item.quantity = 0
                continue
            if line is None:
                continue
            confirmed = _number(line.get("confirmed_quantity"))
            if confirmed is not None and confirmed >= 0:
                item.quantity = math.floor(confirmed)
            when = iso_date(line.get("confirmed_delivery_date"))
            if when is not None:
                item.arrival = when

    # Despatches: in transit until their expected delivery; netted off the open orders.
    receipts: list[Receipt] = []
    history: list[Delivery] = []
    for event in events.of_type("despatch_advice", recent_only=True)[::-1]:  # oldest first
        supplier = event.partner_id or ""
        expected = iso_date(event.data.get("expected_delivery_date"))
        shipped = iso_date(event.data.get("despatch_date")) or aware(event.time).date()
        for item in event.data.get("items") or []:
            part, qty = item.get("buyer_part"), _number(item.get("quantity"))
            if not isinstance(part, str) or qty is None or qty <= 0:
                continue
            number = str(item.get("order_number") or "")
            if (supplier, number) in ordered_on:
                history.append(Delivery(part, supplier, ordered_on[(supplier, number)],
                                        expected or shipped))
            candidates = [o for o in by_number.get((supplier, number), [])
                          if o.line.part == part] or open_orders.get((supplier, part), [])
            remaining = math.floor(qty)
            for o in candidates:
                take = min(o.quantity, remaining)
                o.quantity -= take
                remaining -= take
            arrival = expected or (shipped + timedelta(days=lead_times.get(
                f"{part}/{supplier}", 0) * days))
            received_by = stock_as_of.get(part)
            if received_by is not None and arrival < received_by.date():
                continue  # delivered before the stock count: already on hand
            if part in parts and supplier in suppliers:
                receipts.append(Receipt(
                    part, supplier, math.floor(qty), (arrival - today).days // days,
                    "in_transit", number, Provenance((event.id,), aware(event.time)),
                ))
    for items in open_orders.values():
        for o in items:
            if o.quantity <= 0:
                continue
            period = (o.arrival - today).days // days
            if period >= T:
                continue
            receipts.append(Receipt(
                o.line.part, o.line.supplier, o.quantity, period,
                o.kind,  # type: ignore[arg-type]
                o.line.order_number, Provenance(tuple(o.event_ids), o.as_of),
            ))
    return receipts, previous, order_numbers, history
