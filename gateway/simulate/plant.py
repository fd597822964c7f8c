"""Our own plant's ERP feed: demand, stock and the purchasing master data, through the REST API.

The planner plans from events, so the manufacturer's side arrives the same way as the
suppliers' (partner ``plant-erp``): ``demand`` (weekly buckets over the horizon, with the
scenario's seasonality and promotion from ``fixtures/network/demand.csv``), ``stock`` (the
plant's on-hand, consumed by demand and replenished by the suppliers' shipments) and one
``supplier_capacity`` per supplier (the contracted prices, MOQs, lot sizes and lead times).
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from gateway.simulate.channels import ChannelError, RestApi
from gateway.simulate.network import Network, Scenario
from gateway.simulate.supplier import Stats

log = logging.getLogger("edigate.simulate")
NAMESPACE = uuid.UUID("7d3f2b1a-8c4e-4f6a-9b2d-1e5c7a9f0b13")
HORIZON_WEEKS = 8


class Plant:
    def __init__(self, rest: RestApi | None, network: Network, scenario: Scenario, stats: Stats,
                 *, start: date, site: str = "STR1") -> None:
        self.rest = rest
        self.network = network
        self.scenario = scenario
        self.stats = stats
        self.start = start
        self.site = site
        self.on_hand: dict[str, float] = {p: float(x.on_hand) for p, x in network.parts.items()}
        self.arrivals: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.pending: list[tuple[str, dict[str, Any]]] = []
        self.last_day = -1

    def receive(self, part: str, quantity: int, when: date) -> None:
        """A supplier shipped ``quantity`` of ``part``, arriving ``when``."""
        self.arrivals[when][part] += quantity

    def _week(self, day: int) -> int:
        return day // 7

    def advance(self, day: int) -> None:
        """Consume one day of demand and book the day's arrivals (once per simulated day)."""
        while self.last_day < day:
            self.last_day += 1
            today = self.start + timedelta(days=self.last_day)
            for part, quantity in self.arrivals.pop(today, {}).items():
                if part in self.on_hand:
                    self.on_hand[part] += quantity
            for part in self.on_hand:
                need = self.network.weekly_demand(part, self._week(self.last_day)) / 7
                if need > self.on_hand[part] + 1e-9:
                    self.stats.stockout_part_days += 1
                self.on_hand[part] = max(0.0, self.on_hand[part] - need)
            self._queue_feeds(self.last_day)

    def _queue_feeds(self, day: int) -> None:
        today = self.start + timedelta(days=day)
        as_of = datetime.combine(today, time(6, 0), tzinfo=UTC).isoformat()
        week0 = today - timedelta(days=today.weekday())
        self.pending.append(("stock", {"site": self.site, "as_of": as_of, "items": [
            {"part": p, "on_hand": int(q), "unit": self.network.parts[p].unit,
             "safety_stock": self.network.parts[p].safety_stock}
            for p, q in sorted(self.on_hand.items())]}))
        if day % 7 == 0:
            lines = [{"part": p, "period_start": (week0 + timedelta(weeks=w)).isoformat(),
                      "quantity": self.network.weekly_demand(p, self._week(day) + w),
                      "unit": self.network.parts[p].unit}
                     for p in sorted(self.network.parts) for w in range(HORIZON_WEEKS)]
            self.pending.append(("demand", {"site": self.site, "plan_date": today.isoformat(),
                                            "lines": lines}))
            for supplier, offers in sorted(self.network.offers.items()):
                terms = self.network.suppliers.get(supplier)
                weekly = (terms.daily_capacity if terms else 1000) * 7 / max(len(offers), 1)
                factor = self.scenario.capacity_factor(supplier, day)
                self.pending.append(("supplier_capacity", {
                    "supplier": supplier, "as_of": as_of, "items": [
                        {"part": o.part, "period_start": (week0 + timedelta(weeks=w)).isoformat(),
                         "capacity": int(weekly * (factor if w < 3 else 1.0)),
                         "unit": self.network.parts[o.part].unit,
                         "lead_time_days": o.lead_time_days, "min_order_qty": o.moq,
                         "lot_size": o.multiple, "unit_price": o.unit_price}
                        for o in offers for w in range(4)]}))

    async def flush(self) -> None:
        """Post what is queued; on a failure keep it (and everything after it) for next time."""
        if self.rest is None:
            self.pending.clear()
            return
        while self.pending:
            kind, data = self.pending[0]
            key = data.get("plan_date") or f"{data.get('supplier', self.site)}:{data['as_of']}"
            event_id = str(uuid.uuid5(NAMESPACE, f"{kind}:{key}:{self.scenario.seed}"))
            event = self.rest.event(kind, data, subject=str(key), event_id=event_id,
                                    when=datetime.now(UTC))
            try:
                answer = await self.rest.post([event], key=event_id)
            except ChannelError as exc:
                self.stats.failures["plant-erp"] += 1
                log.warning("plant feed %s not sent (%s); retrying later", kind, exc)
                return
            status = int(answer.get("http_status", 0))
            self.stats.record("plant-erp", "rest", kind,
                              "accepted" if status < 300 else f"rejected ({status})")
            if status >= 400:
                log.warning("plant feed %s refused: %s", kind,
                            str(answer.get("detail", answer))[:300])
            self.pending.pop(0)
