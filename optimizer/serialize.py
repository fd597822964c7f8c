"""JSON (de)serialization of a :class:`SupplyState`; bad input gets a precise error path."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

from optimizer.state import (
    Offer,
    Part,
    Provenance,
    Receipt,
    SourcingShare,
    StateError,
    Supplier,
    SupplyState,
)

FORMAT = "edigate.supply-state/1"


def state_to_dict(state: SupplyState) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "periods": state.periods,
        "start": state.start.isoformat() if state.start else None,
        "period_days": state.period_days,
        "budget": list(state.budget) if state.budget is not None else None,
        "parts": [
            {
                "id": p.id, "demand": list(p.demand), "on_hand": p.on_hand,
                "holding_cost": p.holding_cost, "backlog_penalty": p.backlog_penalty,
                "safety_stock": p.safety_stock, "shortfall_penalty": p.shortfall_penalty,
                "line_stop_cost": p.line_stop_cost,
                "backlog": p.backlog, "demand_source": _prov_out(p.demand_source),
                "stock_source": _prov_out(p.stock_source),
            }
            for p in state.parts
        ],
        "suppliers": [
            {
                "id": s.id,
                "capacity": None if s.capacity is None else [
                    None if math.isinf(c) else c for c in s.capacity
                ],
                "schedule_driven": s.schedule_driven, "source": _prov_out(s.source),
            }
            for s in state.suppliers
        ],
        "offers": [
            {
                "part": o.part, "supplier": o.supplier, "price": o.price, "moq": o.moq,
                "multiple": o.multiple, "lead_time": o.lead_time, "fixed_cost": o.fixed_cost,
                "source": _prov_out(o.source),
            }
            for o in state.offers
        ],
        "receipts": [
            {
                "part": r.part, "supplier": r.supplier, "quantity": r.quantity,
                "arrival_period": r.arrival_period, "kind": r.kind, "order_ref": r.order_ref,
                "source": _prov_out(r.source),
            }
            for r in state.receipts
        ],
        "shares": [
            {"part": r.part, "supplier": r.supplier, "min_share": r.min_share,
             "max_share": r.max_share}
            for r in state.shares
        ],
    }


def dumps(state: SupplyState) -> str:
    return json.dumps(state_to_dict(state), indent=1)


def loads(text: str | bytes) -> SupplyState:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StateError(f"not JSON: {exc}") from exc
    return state_from_dict(data)


def state_from_dict(data: Any) -> SupplyState:
    r = _Reader(data, "$")
    fmt = r.get("format", str, FORMAT)
    if fmt != FORMAT:
        raise StateError(f"$.format: expected {FORMAT!r}, got {fmt!r}")
    budget = r.get("budget", list, None)
    start = r.get("start", str, None)
    try:
        start_date = date.fromisoformat(start) if start else None
    except ValueError as exc:
        raise StateError(f"$.start: {exc}") from exc
    return SupplyState(
        periods=r.get("periods", int),
        period_days=r.get("period_days", int, 1),
        start=start_date,
        budget=None if budget is None else tuple(
            _number(v, f"$.budget[{i}]") for i, v in enumerate(budget)
        ),
        parts=tuple(_part(item) for item in r.items("parts")),
        suppliers=tuple(_supplier(item) for item in r.items("suppliers")),
        offers=tuple(_offer(item) for item in r.items("offers")),
        receipts=tuple(_receipt(item) for item in r.items("receipts", required=False)),
        shares=tuple(_share(item) for item in r.items("shares", required=False)),
    )


class _Reader:
    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise StateError(f"{path}: expected an object, got {type(data).__name__}")
        self.data, self.path = data, path

    _MISSING = object()

    def get(self, key: str, kind: type, default: Any = _MISSING) -> Any:
        where = f"{self.path}.{key}"
        if key not in self.data or self.data[key] is None:
            if default is _Reader._MISSING:
                raise StateError(f"{where}: missing")
            return default
        value = self.data[key]
        if kind is float:
            return _number(value, where)
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise StateError(f"{where}: expected an integer, got {value!r}")
            return value
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise StateError(f"{where}: expected {kind.__name__}, got {value!r}")
        return value

    def items(self, key: str, required: bool = True) -> list[_Reader]:
        values = self.get(key, list, None if not required else _Reader._MISSING)
        return [_Reader(v, f"{self.path}.{key}[{i}]") for i, v in enumerate(values or [])]

    def ints(self, key: str) -> tuple[int, ...]:
        values = self.get(key, list)
        out = []
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int):
                raise StateError(f"{self.path}.{key}[{i}]: expected an integer, got {v!r}")
            out.append(v)
        return tuple(out)

    def provenance(self, key: str) -> Provenance:
        raw = self.data.get(key)
        if raw is None:
            return Provenance()
        sub = _Reader(raw, f"{self.path}.{key}")
        ids = sub.get("event_ids", list, [])
        if not all(isinstance(i, str) for i in ids):
            raise StateError(f"{sub.path}.event_ids: expected strings")
        as_of = sub.get("as_of", str, None)
        try:
            stamp = datetime.fromisoformat(as_of) if as_of else None
        except ValueError as exc:
            raise StateError(f"{sub.path}.as_of: {exc}") from exc
        return Provenance(tuple(ids), stamp)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StateError(f"{where}: expected a number, got {value!r}")
    if not math.isfinite(value):
        raise StateError(f"{where}: {value} is not a usable number (use null for unlimited)")
    return float(value)


def _part(r: _Reader) -> Part:
    penalty = r.get("shortfall_penalty", float, None)
    return Part(
        id=r.get("id", str), demand=r.ints("demand"), on_hand=r.get("on_hand", int, 0),
        holding_cost=r.get("holding_cost", float, 0.1),
        backlog_penalty=r.get("backlog_penalty", float, 100.0),
        safety_stock=r.get("safety_stock", int, 0), shortfall_penalty=penalty,
        backlog=r.get("backlog", int, 0),
        line_stop_cost=r.get("line_stop_cost", float, None),
        demand_source=r.provenance("demand_source"),
        stock_source=r.provenance("stock_source"),
    )


def _supplier(r: _Reader) -> Supplier:
    raw = r.get("capacity", list, None)
    capacity = None
    if raw is not None:
        capacity = tuple(
            math.inf if v is None else _number(v, f"{r.path}.capacity[{i}]")
            for i, v in enumerate(raw)
        )
    return Supplier(
        id=r.get("id", str), capacity=capacity,
        schedule_driven=r.get("schedule_driven", bool, False), source=r.provenance("source"),
    )


def _offer(r: _Reader) -> Offer:
    return Offer(
        part=r.get("part", str), supplier=r.get("supplier", str), price=r.get("price", float),
        moq=r.get("moq", int, 0), multiple=r.get("multiple", int, 1),
        lead_time=r.get("lead_time", int, 0), fixed_cost=r.get("fixed_cost", float, 0.0),
        source=r.provenance("source"),
    )


def _receipt(r: _Reader) -> Receipt:
    return Receipt(
        part=r.get("part", str), supplier=r.get("supplier", str),
        quantity=r.get("quantity", int), arrival_period=r.get("arrival_period", int),
        kind=r.get("kind", str, "open_order"), order_ref=r.get("order_ref", str, ""),
        source=r.provenance("source"),
    )


def _share(r: _Reader) -> SourcingShare:
    return SourcingShare(
        part=r.get("part", str), supplier=r.get("supplier", str),
        min_share=r.get("min_share", float, 0.0), max_share=r.get("max_share", float, 1.0),
    )


def _prov_out(p: Provenance) -> dict[str, Any] | None:
    if not p.event_ids and p.as_of is None:
        return None
    return {"event_ids": list(p.event_ids), "as_of": p.as_of.isoformat() if p.as_of else None}
