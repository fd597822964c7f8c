"""What-if: the supply state changed by a disruption scenario, and the two plans side by side.

Scenarios (periods count from the start of the horizon; ``until`` is exclusive):

- ``outage``: a supplier delivers nothing for ``periods`` periods from ``start``;
- ``capacity_drop``: a supplier's capacity times ``factor`` from ``start`` until ``until``;
- ``lead_time``: a supplier's lead times (every part, or one ``part``) grow by ``periods``;
- ``demand_spike``: demand of a ``part`` (``*``: every part) times ``factor`` from ``start``
  until ``until``;
- ``late_shipment``: goods on their way from a supplier (every part, or one ``part``) arrive
  ``periods`` later.

Pure: the state is copied, never changed, and nothing is sent anywhere.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from optimizer.freshness import FreshnessPolicy
from optimizer.options import PlanOptions
from optimizer.plan import OrderLine, Plan
from optimizer.state import StateError, Supplier, SupplyState

KINDS = ("outage", "capacity_drop", "lead_time", "demand_spike", "late_shipment")


@dataclass(frozen=True)
class Scenario:
    kind: str
    supplier: str = ""
    part: str = ""
    periods: int = 0
    factor: float = 1.0
    start: int = 0
    until: int | None = None

    def describe(self) -> str:
        window = f"periods {self.start}-{'end' if self.until is None else self.until - 1}"
        return {
            "outage": f"{self.supplier} delivers nothing for {self.periods} periods from "
                      f"period {self.start}",
            "capacity_drop": f"{self.supplier} capacity x{self.factor:g} in {window}",
            "lead_time": f"{self.supplier} lead time +{self.periods} periods"
                         + (f" for {self.part}" if self.part else ""),
            "demand_spike": f"demand of {self.part or '*'} x{self.factor:g} in {window}",
            "late_shipment": f"shipments from {self.supplier} arrive {self.periods} periods "
                             "late" + (f" ({self.part})" if self.part else ""),
        }[self.kind]


def scenario_from_dict(data: Any) -> Scenario:
    """A scenario from JSON (``{"kind": "outage", "supplier": "S01", "periods": 3}``)."""
    if not isinstance(data, dict):
        raise StateError(f"a scenario is an object, got {data!r}")
    unknown = set(data) - {"kind", "supplier", "part", "periods", "factor", "start", "until"}
    if unknown:
        raise StateError(f"scenario: unknown field(s) {', '.join(sorted(unknown))}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise StateError(f"scenario kind must be one of {', '.join(KINDS)}, got {kind!r}")
    values: dict[str, Any] = {"kind": kind}
    for name in ("supplier", "part"):
        if name in data:
            if not isinstance(data[name], str):
                raise StateError(f"scenario {kind}: {name} must be a string")
            values[name] = data[name]
    for name in ("periods", "start", "until"):
        if name in data and data[name] is not None:
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise StateError(f"scenario {kind}: {name} must be a whole number >= 0, "
                                 f"got {value!r}")
            values[name] = value
    if "factor" in data:
        factor = data["factor"]
        if (isinstance(factor, bool) or not isinstance(factor, int | float)
                or not math.isfinite(factor) or factor < 0):
            raise StateError(f"scenario {kind}: factor must be a finite number >= 0, "
                             f"got {factor!r}")
        values["factor"] = float(factor)
    scenario = Scenario(**values)
    _check(scenario)
    return scenario


def parse_scenario(text: str) -> Scenario:
    """The command-line form: ``outage:SUPPLIER:PERIODS[:START]``,
    ``capacity_drop:SUPPLIER:FACTOR[:START-UNTIL]``, ``lead_time:SUPPLIER:PERIODS[:PART]``,
    ``demand_spike:PART:FACTOR[:START-UNTIL]``, ``late_shipment:SUPPLIER:PERIODS[:PART]``."""
    fields = text.split(":")
    kind = fields[0]
    try:
        if kind == "outage" and len(fields) in (3, 4):
            return _made(Scenario(kind, supplier=fields[1], periods=int(fields[2]),
                                  start=int(fields[3]) if len(fields) == 4 else 0))
        if kind in ("capacity_drop", "demand_spike") and len(fields) in (3, 4):
            start, until = _window(fields[3]) if len(fields) == 4 else (0, None)
            supplier, part = (fields[1], "") if kind == "capacity_drop" else ("", fields[1])
            return _made(Scenario(kind, supplier=supplier, part=part, factor=float(fields[2]),
                                  start=start, until=until))
        if kind in ("lead_time", "late_shipment") and len(fields) in (3, 4):
            return _made(Scenario(kind, supplier=fields[1], periods=int(fields[2]),
                                  part=fields[3] if len(fields) == 4 else ""))
    except ValueError as exc:
        raise StateError(f"what-if {text!r}: {exc}") from None
    raise StateError(
        f"what-if {text!r}: expected outage:SUPPLIER:PERIODS[:START], "
        "capacity_drop:SUPPLIER:FACTOR[:START-UNTIL], lead_time:SUPPLIER:PERIODS[:PART], "
        "demand_spike:PART:FACTOR[:START-UNTIL] or late_shipment:SUPPLIER:PERIODS[:PART]"
    )


def _window(text: str) -> tuple[int, int | None]:
    start, _, until = text.partition("-")
    return int(start), int(until) if until else None


def _made(scenario: Scenario) -> Scenario:
    _check(scenario)
    return scenario


def _check(s: Scenario) -> None:
    if s.kind in ("outage", "capacity_drop", "lead_time", "late_shipment") and not s.supplier:
        raise StateError(f"scenario {s.kind}: a supplier is required")
    if s.kind == "demand_spike" and not s.part:
        raise StateError("scenario demand_spike: a part (or *) is required")
    if s.periods < 0 or s.start < 0 or not math.isfinite(s.factor) or s.factor < 0:
        raise StateError(f"scenario {s.kind}: periods, start and factor must not be negative")
    if s.until is not None and s.until < s.start:
        raise StateError(f"scenario {s.kind}: until {s.until} is before start {s.start}")


def apply_scenario(state: SupplyState, scenario: Scenario) -> SupplyState:
    """A copy of ``state`` as it would be under ``scenario`` (unknown ids are refused)."""
    s = scenario
    T = state.periods
    if s.supplier and s.supplier not in {x.id for x in state.suppliers}:
        raise StateError(f"scenario {s.kind}: unknown supplier {s.supplier!r}")
    if s.part and s.part != "*" and s.part not in {p.id for p in state.parts}:
        raise StateError(f"scenario {s.kind}: unknown part {s.part!r}")
    until = T if s.until is None else min(s.until, T)
    if s.kind in ("outage", "capacity_drop"):
        end = min(s.start + s.periods, T) if s.kind == "outage" else until
        factor = 0.0 if s.kind == "outage" else s.factor
        suppliers = []
        for sup in state.suppliers:
            if sup.id == s.supplier:
                cap = [sup.capacity_at(t) for t in range(T)]
                for t in range(s.start, end):
                    cap[t] = cap[t] * factor if math.isfinite(cap[t]) else (
                        0.0 if factor == 0 else cap[t])
                sup = Supplier(sup.id, tuple(math.floor(c) if math.isfinite(c) else c
                                             for c in cap), sup.schedule_driven, sup.source)
            suppliers.append(sup)
        return replace(state, suppliers=tuple(suppliers))
    if s.kind == "lead_time":
        offers = tuple(
            replace(o, lead_time=o.lead_time + s.periods)
            if o.supplier == s.supplier and (not s.part or o.part == s.part) else o
            for o in state.offers
        )
        return replace(state, offers=offers)
    if s.kind == "demand_spike":
        parts = tuple(
            replace(p, demand=tuple(
                math.ceil(d * s.factor - 1e-9) if s.start <= t < until else d
                for t, d in enumerate(p.demand)))
            if s.part in ("*", p.id) else p
            for p in state.parts
        )
        return replace(state, parts=parts)
    receipts = tuple(
        replace(r, arrival_period=r.arrival_period + s.periods)
        if r.supplier == s.supplier and (not s.part or r.part == s.part) else r
        for r in state.receipts
    )
    return replace(state, receipts=receipts)


def compare(current: Plan, what_if: Plan) -> dict[str, Any]:
    """The two plans side by side: cost, shortages, the orders that would change and the
    suppliers that would newly get orders."""
    before = {ln.key: ln.quantity for ln in current.lines}
    after = {ln.key: ln.quantity for ln in what_if.lines}
    changed = [
        {"part": k[0], "supplier": k[1], "period": k[2], "current": before.get(k, 0),
         "what_if": after.get(k, 0)}
        for k in sorted(set(before) | set(after)) if before.get(k, 0) != after.get(k, 0)
    ]
    loaded_before = {ln.supplier for ln in current.lines}
    newly = sorted({ln.supplier for ln in what_if.lines} - loaded_before)

    def side(p: Plan) -> dict[str, Any]:
        return {"source": p.source, "source_detail": p.source_detail,
                "operating_cost": p.cost.operating, "cost": p.cost.total,
                "shortages": p.stockouts, "naive_shortages": p.naive_stockouts,
                "order_lines": len(p.lines), "value": p.total_value,
                "alerts": [a.message for a in p.alerts], "gap": p.report.gap,
                "wall_seconds": p.wall_seconds}

    return {"current": side(current), "what_if": side(what_if),
            "orders_changed": changed, "suppliers_newly_loaded": newly}


def what_if(
    state: SupplyState, scenarios: Sequence[Scenario], options: PlanOptions | None = None,
    previous: Sequence[OrderLine] = (), *, clock: Callable[[], float] = time.perf_counter,
    now: datetime | None = None, freshness: FreshnessPolicy | None = None,
) -> tuple[Plan, Plan, dict[str, Any]]:
    """Plan the state as it is and as the scenarios would make it (each within the options'
    time limit); returns both plans and :func:`compare`'s side-by-side view."""
    from optimizer.planner import plan

    changed = state
    for scenario in scenarios:
        changed = apply_scenario(changed, scenario)
    current = plan(state, options, previous, clock=clock, now=now, freshness=freshness)
    future = plan(changed, options, previous, clock=clock, now=now, freshness=freshness)
    view = compare(current, future)
    view["scenarios"] = [{"kind": s.kind, "description": s.describe()} for s in scenarios]
    return current, future, view
