"""One simulated Tier-2 supplier: reads our orders, acknowledges them, confirms, ships, invoices.

Time is the scenario's: ``step(day)`` is called a few times per simulated day. Everything random
comes from the supplier's own generator (seeded from the scenario seed and the supplier id), so
the same seed replays the same documents whatever order the suppliers run in. A failing channel
never raises out of ``step``: the document stays queued and is retried on the next step.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from gateway.domain.states import Stage
from gateway.simulate.channels import ChannelError, RestApi
from gateway.simulate.documents import Dialect, build_document
from gateway.simulate.network import Network, Scenario
from gateway.simulate.reading import acknowledgments_for, read_interchange
from schemas import default_registry

log = logging.getLogger("edigate.simulate")
EVENT_NAMESPACE = uuid.UUID("0b0c6a0e-5f7e-4c55-9a51-3d0c2f6e7a21")
ORDER_TYPES = ("purchase_order", "order_change", "delivery_schedule")


class EdiChannel(Protocol):
    async def send(self, name: str, raw: bytes, standard: str) -> dict[str, Any]: ...


class Fetcher(Protocol):
    async def fetch(self) -> list[tuple[str, bytes]]: ...


@dataclass
class Stats:
    """What the network did, for the demo summary: documents by channel, type and outcome."""

    sent: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    received: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    dual: dict[str, Counter[str]] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    stockout_part_days: int = 0

    def record(self, partner: str, channel: str, doc: str, outcome: str) -> None:
        self.sent[(partner, channel, doc, outcome)] += 1

    def by_channel(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = {}
        for (_, channel, _, outcome), n in self.sent.items():
            out.setdefault(channel, Counter())[outcome] += n
        return out


@dataclass
class SupplierSetup:
    """Everything a supplier needs to know about itself, read from its partner profile."""

    partner_id: str
    name: str
    standard: str  # edifact | x12 | api
    version: str
    stages: dict[str, str]
    dialect: Dialect | None
    edi: EdiChannel | None  # where it sends EDI (AS2, SFTP or HTTP)
    edi_channel: str  # as2 | sftp | http
    fetchers: list[Fetcher]  # where it finds what we sent (SFTP outbound, HTTP pick-up)
    rest: RestApi | None
    publish: Callable[[dict[str, Any]], None] | None = None  # API partner polled by us
    code: str = "SUP"
    # Document types promoted to ``api`` whose EDI copy still goes out, as a shadow the
    # gateway keeps reconciling (a regression after cut-over shows, and can be rolled back).
    shadow: set[str] = field(default_factory=set)

    def stage_for(self, document_type: str) -> str:
        if self.standard == "api":
            return "api"
        return self.stages.get(document_type, self.stages.get("*", Stage.EDI))


@dataclass(order=True)
class _Action:
    due: float
    seq: int
    kind: str = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


class Supplier:
    def __init__(self, setup: SupplierSetup, network: Network, scenario: Scenario, stats: Stats,
                 *, start: date, next_control: Callable[[str], int],
                 on_shipment: Callable[[str, int, date], None] | None = None) -> None:
        self.s = setup
        self.network = network
        self.scenario = scenario
        self.stats = stats
        self.start = start
        self.next_control = next_control
        self.on_shipment = on_shipment
        self.rng = random.Random(f"{scenario.seed}:{setup.partner_id}")
        self.actions: list[_Action] = []
        self._seq = 0
        self.orders: dict[str, dict[str, Any]] = {}
        self.numbers: Counter[str] = Counter()
        self.webhook_inbox: list[dict[str, Any]] = []
        self._in_outage = False
        self.capacity_used: Counter[int] = Counter()

    # -- helpers -------------------------------------------------------------------------------
    def _date(self, day: float) -> date:
        return self.start + timedelta(days=int(day))

    def _when(self, day: float) -> datetime:
        base = datetime.combine(self._date(day), time(8, 0), tzinfo=UTC)
        return base + timedelta(hours=10 * (day - int(day)))

    def _number(self, kind: str) -> str:
        self.numbers[kind] += 1
        return f"{self.s.code}-{kind}{self.scenario.seed % 1000:03d}{self.numbers[kind]:05d}"

    def _schedule(self, due: float, kind: str, data: dict[str, Any]) -> None:
        self._seq += 1
        heapq.heappush(self.actions, _Action(due, self._seq, kind, data))

    def _sscc(self) -> str:
        body = f"3{40123450:08d}{self.rng.randrange(10**8):08d}"
        total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
        return body + str((10 - total % 10) % 10)

    # -- the day's work ------------------------------------------------------------------------
    async def step(self, day: float) -> None:
        outage = self.scenario.outage(self.s.partner_id, int(day))
        if outage != self._in_outage:
            self._in_outage = outage
            log.warning("supplier %s %s", self.s.partner_id,
                        "is down (injected outage)" if outage else "is back")
        if outage:
            return
        await self._collect(day)
        while self.actions and self.actions[0].due <= day:
            action = heapq.heappop(self.actions)
            try:
                await self._perform(action, day)
            except ChannelError as exc:
                self.stats.failures[self.s.partner_id] += 1
                log.warning("supplier %s: %s failed (%s); retrying later", self.s.partner_id,
                            action.kind, exc)
                self._schedule(day + 0.25, action.kind, action.data)
                break

    async def _collect(self, day: float) -> None:
        # Everything that arrived since the last step, then accepted in an order of its
        # content: file names, pick-up ids and order numbers are random (a plan run's id
        # is in every order number), so the order of arrival is not the same on two runs of
        # a seed, and each accepted order draws from the supplier's generator.
        arrived: list[tuple[str, dict[str, Any]]] = []
        for fetcher in self.s.fetchers:
            try:
                documents = await fetcher.fetch()
            except ChannelError as exc:
                self.stats.failures[self.s.partner_id] += 1
                log.warning("supplier %s cannot fetch: %s", self.s.partner_id, exc)
                continue
            for name, raw in documents:
                arrived.extend(await self._read_edi(name, raw, day))
        inbox, self.webhook_inbox = self.webhook_inbox, []
        for envelope in inbox:
            doc_type = str(envelope.get("type", ""))
            self.stats.received[(self.s.partner_id, "webhook", doc_type)] += 1
            if doc_type in ORDER_TYPES and isinstance(envelope.get("data"), dict):
                arrived.append((doc_type, envelope["data"]))
        for doc_type, data in sorted(arrived, key=_content_order):
            self._accept_order(doc_type, data, day)

    async def _read_edi(self, name: str, raw: bytes, day: float
                        ) -> list[tuple[str, dict[str, Any]]]:
        """The orders in one interchange (their acknowledgment is scheduled at once)."""
        try:
            found, result = read_interchange(raw)
        except Exception as exc:  # a document we cannot read is reported, never fatal
            log.warning("supplier %s cannot read %s: %s", self.s.partner_id, name, exc)
            return []
        orders: list[tuple[str, dict[str, Any]]] = []
        for doc in found:
            self.stats.received[(self.s.partner_id, self.s.edi_channel, doc.event_type)] += 1
            if doc.event_type in ORDER_TYPES:
                orders.append((doc.event_type, doc.data))
        if orders:
            for ack in acknowledgments_for(result, next_control=self.next_control,
                                           now=self._when(day)):
                self._schedule(day, "ack", {"raw": ack})
        return orders

    def _accept_order(self, doc_type: str, data: dict[str, Any], day: float) -> None:
        if doc_type == "delivery_schedule":
            if data.get("schedule_type") != "firm":
                return
            data = _schedule_as_order(data)
        number = str(data.get("order_number", ""))
        if not number:
            return
        if doc_type == "order_change" and number in self.orders:
            self.orders[number] = {**self.orders[number], "changed": True}
            return
        if number in self.orders:  # dual: the same order by EDI and by webhook
            return
        self.orders[number] = data
        self._schedule(day + self.rng.uniform(0.1, 0.6), "order_response", {"order": number})

    async def _perform(self, action: _Action, day: float) -> None:
        if action.kind == "ack":
            await self._send_edi("functional_ack", action.data["raw"], day)
        elif action.kind == "order_response":
            await self._confirm(self.orders[action.data["order"]], day)
        elif action.kind == "despatch_advice":
            await self._send("despatch_advice", action.data, day)
            if self.on_shipment is not None:
                for item in action.data.get("items", []):
                    self.on_shipment(str(item.get("buyer_part", "")), int(item["quantity"]),
                                     date.fromisoformat(action.data["expected_delivery_date"]))
            self._schedule(day + self.rng.uniform(0.1, 0.5), "invoice",
                           _invoice_for(action.data, self))
        elif action.kind in ("invoice", "inventory_report", "supplier_capacity"):
            await self._send(action.kind, action.data, day)
        elif action.kind == "api_copy":
            await self._post_api(action.data["type"], action.data["data"], day)

    # -- documents -----------------------------------------------------------------------------
    async def _confirm(self, order: dict[str, Any], day: float) -> None:
        today = self._date(day)
        factor = self.scenario.capacity_factor(self.s.partner_id, int(day))
        lines: list[dict[str, Any]] = []
        changed = False
        latest = today
        for line in order.get("lines", []):
            offer = self.network.offer(self.s.partner_id, str(line.get("buyer_part", ""))) or \
                self.network.by_supplier_part(self.s.partner_id,
                                              str(line.get("supplier_part", "")))
            quantity = float(line.get("quantity") or 0)
            confirmed = quantity
            if factor < 1 or self.rng.random() < self.scenario.rate("short_confirmation",
                                                                     self.s.partner_id):
                cut = factor if factor < 1 else self.rng.uniform(0.6, 0.95)
                multiple = offer.multiple if offer else 1
                confirmed = max(0, int(quantity * cut) // multiple * multiple)
            lead = offer.lead_time_days if offer else 7
            promised = today + timedelta(days=lead)
            latest = max(latest, promised)
            status = "accepted" if confirmed == quantity else "changed"
            changed |= status != "accepted"
            lines.append({"line_number": line.get("line_number"),
                          "status": status, "buyer_part": line.get("buyer_part"),
                          "supplier_part": (offer.supplier_part if offer
                                            else line.get("supplier_part")),
                          "ordered_quantity": _int(quantity), "confirmed_quantity":
                          _int(confirmed), "unit": line.get("unit") or "EA",
                          "unit_price": line.get("unit_price") or
                          (offer.unit_price if offer else None),
                          "confirmed_delivery_date": promised.isoformat()})
        response = {"order_number": order["order_number"],
                    "response_number": self._number("R"), "response_date": today.isoformat(),
                    "status": "accepted_with_changes" if changed else "accepted",
                    "lines": lines}
        if order.get("order_date"):
            response["order_date"] = order["order_date"]
        await self._send("order_response", response, day)
        # Ship what was confirmed, a day before the promised date (late now and then).
        shipping = [ln for ln in lines if ln["confirmed_quantity"]]
        if shipping:
            delay = self.rng.randint(1, 3) if \
                self.rng.random() < self.scenario.rate("late_shipment", self.s.partner_id) else 0
            lead_days = (latest - today).days
            ship_day = day + max(0.5, lead_days - 1 + delay)
            self._schedule(ship_day, "despatch_advice",
                           self._despatch(order["order_number"], shipping,
                                          self._date(ship_day), transit=1))

    def _despatch(self, order_number: str, lines: list[dict[str, Any]], ship: date,
                  transit: int) -> dict[str, Any]:
        items = [{"line_number": ln["line_number"], "buyer_part": ln["buyer_part"],
                  "supplier_part": ln["supplier_part"], "quantity": ln["confirmed_quantity"],
                  "unit": ln["unit"], "unit_price": ln.get("unit_price")} for ln in lines]
        packs = [{"pack_id": self._sscc(), "package_type": "CT",
                  "items": [{k: v for k, v in i.items() if k != "unit_price"}]} for i in items]
        return {"shipment_number": self._number("S"), "despatch_date": ship.isoformat(),
                "expected_delivery_date": (ship + timedelta(days=transit)).isoformat(),
                "carrier": self.rng.choice(["DHL", "UPS", "DSV", "SCHENKER"]),
                "tracking_number": f"TRK{self.rng.randrange(10**9):09d}",
                "orders": [{"order_number": order_number, "packs": packs}],
                "items": [{"order_number": order_number,
                           **{k: v for k, v in i.items() if k != "unit_price"}}
                          for i in items],
                "_prices": [i.get("unit_price") for i in items]}

    def inventory(self, day: float) -> None:
        """The daily stock report (846/INVRPT or inventory_report + supplier_capacity)."""
        if self.scenario.outage(self.s.partner_id, int(day)):
            return
        today = self._date(day)
        factor = self.scenario.capacity_factor(self.s.partner_id, int(day))
        offers = self.network.offers.get(self.s.partner_id, [])
        terms = self.network.suppliers.get(self.s.partner_id)
        per_part = (terms.daily_capacity if terms else 1000) / max(len(offers), 1)
        picked = self.rng.sample(offers, min(len(offers), 25))
        items = [{"buyer_part": o.part, "supplier_part": o.supplier_part,
                  "quantities": [{"kind": "available", "unit": self.network.parts[o.part].unit,
                                  "quantity": int(per_part * 7 * factor *
                                                  self.rng.uniform(0.6, 1.4))}]}
                 for o in sorted(picked, key=lambda o: o.part)]
        self._schedule(day, "inventory_report", {
            "report_number": self._number("IR"), "report_date": today.isoformat(),
            "items": items})
        if self.s.standard == "api":
            self._schedule(day, "supplier_capacity", {
                "supplier": self.s.partner_id, "as_of": self._when(day).isoformat(),
                "items": [{"part": o.part, "period_start": today.isoformat(),
                           "capacity": int(per_part * 7 * factor), "unit":
                           self.network.parts[o.part].unit, "lead_time_days": o.lead_time_days,
                           "min_order_qty": o.moq, "lot_size": o.multiple,
                           "unit_price": o.unit_price} for o in picked]})

    async def _send(self, doc_type: str, data: dict[str, Any], day: float) -> None:
        data = {k: v for k, v in data.items() if not k.startswith("_")}
        stage = self.s.stage_for(doc_type)
        api_only = doc_type == "supplier_capacity"
        shadow = stage == Stage.API and (doc_type in self.s.shadow or "*" in self.s.shadow)
        if (stage in (Stage.EDI, Stage.DUAL) or shadow) and not api_only and \
                self.s.dialect is not None:
            corrupt = self.rng.random() < self.scenario.rate("malformed", self.s.partner_id)
            raw = build_document(doc_type, data, dialect=self.s.dialect,
                                 control=self.next_control(
                                     "isa" if self.s.standard == "x12" else "unb"),
                                 now=self._when(day), corrupt=corrupt)
            await self._send_edi(doc_type, raw, day)
        if (stage == Stage.API and not shadow) or api_only or self.s.dialect is None:
            await self._post_api(doc_type, data, day)
        elif stage == Stage.DUAL or shadow:
            self._dual_copy(doc_type, data, day)

    def _dual_copy(self, doc_type: str, data: dict[str, Any], day: float) -> None:
        """The API copy of a document a `dual` supplier also sent by EDI, with the scenario's
        rate of the discrepancies migrations really show (the supplier's own rates when the
        scenario gives it some). Whether a copy differs is drawn from a generator seeded by
        the document itself, so it does not depend on how many documents came before."""
        tally = self.stats.dual.setdefault(self.s.partner_id, Counter())
        tally["documents"] += 1
        pid = self.s.partner_id
        # The supplier's own document number (its sequence replays with the seed); an order
        # number would not do: a plan run's random id is part of it.
        own = next((str(data[k]) for k in ("response_number", "shipment_number",
                                           "invoice_number", "report_number") if data.get(k)),
                   _business_key(doc_type, data, pid))
        rng = random.Random(f"{self.scenario.seed}:{pid}:{doc_type}:{own}")
        roll = rng.random()
        missing = self.scenario.rate("dual_missing_api", pid)
        changed = missing + self.scenario.rate("dual_changed_quantity", pid)
        late = changed + self.scenario.rate("dual_late_api", pid)
        copy = _deep_copy(data)
        regression = self.scenario.regression(pid, int(day))
        if regression and rng.random() < regression and _change_a_quantity(copy, rng):
            tally["regression"] += 1
            self._schedule(day, "api_copy", {"type": doc_type, "data": copy})
            return
        if roll < missing:
            tally["missing_api"] += 1
            return
        due = day
        if roll < changed and _change_a_quantity(copy, rng):
            tally["changed_quantity"] += 1
        elif roll < late:
            tally["late_api"] += 1
            due = day + rng.uniform(1.5, 3.0)
        else:
            tally["same"] += 1
        self._schedule(due, "api_copy", {"type": doc_type, "data": copy})

    async def _send_edi(self, doc_type: str, raw: bytes, day: float) -> None:
        assert self.s.edi is not None
        self.numbers["file"] += 1  # a stable name: a replay of the seed sends the same files
        name = f"{doc_type}-{self.s.partner_id}-{self.scenario.seed}-" \
               f"{self.numbers['file']:06d}.edi"
        answer = await self.s.edi.send(name, raw, self.s.standard)
        status = int(answer.get("http_status", 200))
        outcome = str(answer.get("status", "sent")) if status < 400 else f"rejected ({status})"
        self.stats.record(self.s.partner_id, self.s.edi_channel, doc_type, outcome)

    async def _post_api(self, doc_type: str, data: dict[str, Any], day: float) -> None:
        # The business dates inside ``data`` follow the scenario's calendar; the event's own
        # time is when it really happens, as on the EDI path (the gateway stamps the EDI copy
        # when it processes it), so both copies fall into the same reconciliation window even
        # when the scenario runs days ahead of the wall clock (make run, edigate demo).
        sent = datetime.now(UTC)
        key = _business_key(doc_type, data, self.s.partner_id)
        event_id = str(uuid.uuid5(EVENT_NAMESPACE, f"{self.s.partner_id}:{doc_type}:{key}"))
        if self.s.publish is not None:
            self.s.publish({"specversion": "1.0", "id": event_id,
                            "source": f"/partners/{self.s.partner_id}", "type": doc_type,
                            "time": sent.isoformat().replace("+00:00", "Z"),
                            "subject": key,
                            "dataschemaversion": default_registry().latest(doc_type),
                            "data": data})
            self.stats.record(self.s.partner_id, "api_pull", doc_type, "published")
            return
        if self.s.rest is None:
            return
        event = self.s.rest.event(doc_type, data, subject=key, event_id=event_id, when=sent)
        answer = await self.s.rest.post([event], key=event_id)
        status = int(answer.get("http_status", 0))
        self.stats.record(self.s.partner_id, "rest", doc_type,
                          "accepted" if status < 300 else f"rejected ({status})")
        if status >= 400:
            log.warning("supplier %s: %s event refused: %s", self.s.partner_id, doc_type,
                        str(answer.get("detail", answer))[:300])


def _content_order(item: tuple[str, dict[str, Any]]) -> tuple[str, str, str, str]:
    """What an order says (type, date, parts and quantities), its number last."""
    doc_type, data = item
    rows = data.get("lines") or data.get("items") or []
    what = json.dumps([[str(r.get(k, "")) for k in ("buyer_part", "supplier_part", "quantity",
                                                     "requested_delivery_date")]
                       + [json.dumps(r.get("periods", []), sort_keys=True, default=str)]
                       for r in rows if isinstance(r, dict)], default=str)
    when = str(data.get("order_date") or data.get("schedule_date") or
               data.get("issue_date") or "")
    number = str(data.get("order_number") or data.get("schedule_number") or "")
    return doc_type, when, what, number


def _int(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def _change_a_quantity(data: dict[str, Any], rng: random.Random) -> bool:
    for key, field_name in (("lines", "confirmed_quantity"), ("items", "quantity"),
                            ("lines", "quantity")):
        rows = [r for r in data.get(key, []) if isinstance(r.get(field_name), int | float)]
        if rows:
            row = rng.choice(rows)
            row[field_name] = max(0, row[field_name] + rng.choice([-10, -5, -1, 1, 5, 10]))
            for order in data.get("orders", []):  # keep the nested view consistent
                for pack in order.get("packs", []):
                    for item in pack.get("items", []):
                        if item.get("line_number") == row.get("line_number"):
                            item["quantity"] = row[field_name]
            return True
    return False


_KEY_FIELDS = {"order_response": "order_number", "despatch_advice": "shipment_number",
               "invoice": "invoice_number", "inventory_report": "report_number"}


def _business_key(doc_type: str, data: dict[str, Any], partner: str) -> str:
    if doc_type == "supplier_capacity":
        return f"{partner}:{data.get('as_of', '')}"
    return str(data.get(_KEY_FIELDS.get(doc_type, ""), "") or data.get("report_date", ""))


def _schedule_as_order(data: dict[str, Any]) -> dict[str, Any]:
    lines = []
    for index, item in enumerate(data.get("items", []), start=1):
        quantity = sum(float(p.get("quantity") or 0) for p in item.get("periods", [])[:1])
        if quantity:
            lines.append({"line_number": str(index), "buyer_part": item.get("buyer_part"),
                          "supplier_part": item.get("supplier_part"), "quantity": quantity,
                          "unit": item.get("unit") or "EA"})
    return {"order_number": data.get("schedule_number"), "lines": lines}


def _invoice_for(despatch: dict[str, Any], supplier: Supplier) -> dict[str, Any]:
    prices = despatch.get("_prices", [])
    lines = []
    for index, item in enumerate(despatch.get("items", [])):
        price = prices[index] if index < len(prices) and prices[index] is not None else 1.0
        lines.append({"line_number": item["line_number"], "buyer_part": item["buyer_part"],
                      "supplier_part": item["supplier_part"], "quantity": item["quantity"],
                      "unit": item["unit"], "unit_price": price,
                      "amount": round(float(price) * float(item["quantity"]), 2)})
    total = round(sum(ln["amount"] for ln in lines), 2)
    return {"invoice_number": supplier._number("INV"),
            "invoice_date": despatch["despatch_date"],
            "order_number": despatch["orders"][0]["order_number"],
            "currency": "USD" if supplier.s.standard == "x12" else "EUR", "lines": lines,
            "total_amount": total, "tax_amount": round(total * 0.19, 2)}
