"""The demo network's data (``fixtures/network/*.csv``) and scenario (``fixtures/scenarios``).

Pure data loading: parts, who supplies them on which terms, weekly demand, opening stock, and
the scenario's seed, discrepancy rates and injected events (outages, capacity drops).
"""

from __future__ import annotations

import csv
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
EVENT_KINDS = ("outage", "capacity_drop", "api_regression")


class NetworkError(ValueError):
    """A network or scenario file that cannot be used; the message names file and field."""


@dataclass(frozen=True)
class Part:
    part: str
    description: str
    category: str
    unit: str
    unit_cost: float
    gtin: str
    on_hand: int
    safety_stock: int


@dataclass(frozen=True)
class Offer:
    part: str
    supplier: str
    supplier_part: str
    unit_price: float
    moq: int
    multiple: int
    lead_time_days: int
    order_cost: float


@dataclass(frozen=True)
class SupplierTerms:
    supplier: str
    lead_time_days: int
    daily_capacity: int
    on_time_rate: float
    code: str


@dataclass(frozen=True)
class Network:
    parts: dict[str, Part]
    offers: dict[str, list[Offer]]  # by supplier
    suppliers: dict[str, SupplierTerms]
    demand: dict[str, list[int]]  # part -> quantity per week
    weeks_start: date

    def offer(self, supplier: str, part: str) -> Offer | None:
        return next((o for o in self.offers.get(supplier, []) if o.part == part), None)

    def by_supplier_part(self, supplier: str, supplier_part: str) -> Offer | None:
        return next((o for o in self.offers.get(supplier, [])
                     if o.supplier_part == supplier_part), None)

    def weekly_demand(self, part: str, week: int) -> int:
        series = self.demand.get(part, [])
        return series[week % len(series)] if series else 0


@dataclass(frozen=True)
class ScenarioEvent:
    kind: str
    supplier: str
    from_day: int
    to_day: int
    factor: float = 1.0

    def active(self, day: int) -> bool:
        return self.from_day <= day <= self.to_day


@dataclass(frozen=True)
class Migration:
    """The demo operator starts comparing a supplier's document type (edi -> dual) that day."""

    supplier: str
    document_type: str
    dual_from_day: int


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    rates: dict[str, float]
    events: tuple[ScenarioEvent, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    supplier_rates: dict[str, dict[str, float]] = field(default_factory=dict)
    start: date | None = None  # the scenario's first day (edigate demo plays from it)
    migrations: tuple[Migration, ...] = ()

    def rate(self, name: str, supplier: str | None = None) -> float:
        """The scenario's rate, or the supplier's own (``[suppliers.ID]``) when it has one."""
        own = self.supplier_rates.get(supplier or "", {})
        return float(own[name]) if name in own else float(self.rates.get(name, 0.0))

    def regression(self, supplier: str, day: int) -> float:
        """Share of API copies an injected regression changes on ``day`` (0: none)."""
        return max((e.factor for e in self.events if e.kind == "api_regression"
                    and e.supplier == supplier and e.active(day)), default=0.0)

    def outage(self, supplier: str, day: int) -> bool:
        return any(e.kind == "outage" and e.supplier == supplier and e.active(day)
                   for e in self.events)

    def capacity_factor(self, supplier: str, day: int) -> float:
        factor = 1.0
        for e in self.events:
            if e.kind == "capacity_drop" and e.supplier == supplier and e.active(day):
                factor *= e.factor
        return factor

    def with_events(self, extra: list[ScenarioEvent]) -> Scenario:
        return replace(self, events=self.events + tuple(extra))


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise NetworkError(f"{path}: {exc.strerror}") from None


def _num(row: dict[str, str], key: str, where: str, kind: type = float) -> Any:
    try:
        return kind(row[key])
    except (KeyError, ValueError):
        raise NetworkError(f"{where}: {key}: expected a {kind.__name__}, got "
                           f"{row.get(key)!r}") from None


def load_network(directory: Path | None = None) -> Network:
    base = directory or FIXTURES / "network"
    stock = {r["part"]: r for r in _rows(base / "stock.csv")}
    parts: dict[str, Part] = {}
    for i, r in enumerate(_rows(base / "parts.csv"), start=2):
        where = f"parts.csv line {i}"
        s = stock.get(r["part"], {})
        parts[r["part"]] = Part(r["part"], r["description"], r["category"], r["unit"] or "EA",
                                _num(r, "unit_cost", where), r.get("gtin", ""),
                                int(s.get("on_hand", 0) or 0), int(s.get("safety_stock", 0) or 0))
    offers: dict[str, list[Offer]] = defaultdict(list)
    for i, r in enumerate(_rows(base / "offers.csv"), start=2):
        where = f"offers.csv line {i}"
        if r["part"] not in parts:
            raise NetworkError(f"{where}: part {r['part']!r} is not in parts.csv")
        offers[r["supplier"]].append(Offer(
            r["part"], r["supplier"], r["supplier_part"], _num(r, "unit_price", where),
            _num(r, "moq", where, int), _num(r, "multiple", where, int),
            _num(r, "lead_time_days", where, int), _num(r, "order_cost", where)))
    suppliers = {r["supplier"]: SupplierTerms(
        r["supplier"], int(r["lead_time_days"]), int(r["daily_capacity"]),
        float(r["on_time_rate"]), r["code"]) for r in _rows(base / "suppliers.csv")}
    demand: dict[str, list[int]] = defaultdict(list)
    first: date | None = None
    for r in _rows(base / "demand.csv"):
        week = date.fromisoformat(r["week_start"])
        first = week if first is None or week < first else first
        demand[r["part"]].append(int(r["quantity"]))
    if first is None:
        raise NetworkError(f"{base / 'demand.csv'}: no rows")
    return Network(parts, dict(offers), suppliers, dict(demand), first)


def load_scenario(path: Path | None = None, *, seed: int | None = None) -> Scenario:
    file = path or FIXTURES / "scenarios" / "default.toml"
    try:
        table = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NetworkError(f"{file}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise NetworkError(f"{file}: not valid TOML: {exc}") from None
    events: list[ScenarioEvent] = []
    for i, e in enumerate(table.get("events", [])):
        where = f"{file.name}: events[{i}]"
        if e.get("kind") not in EVENT_KINDS:
            raise NetworkError(f"{where}.kind: expected one of {', '.join(EVENT_KINDS)}, "
                               f"got {e.get('kind')!r}")
        try:
            events.append(ScenarioEvent(str(e["kind"]), str(e["supplier"]),
                                        int(e["from_day"]), int(e.get("to_day", e["from_day"])),
                                        float(e.get("factor", 1.0))))
        except (KeyError, ValueError, TypeError) as exc:
            raise NetworkError(f"{where}: {exc}") from None
    rates = _rates(table.get("rates", {}), f"{file.name}: rates")
    supplier_rates = {str(k): _rates(v, f"{file.name}: suppliers.{k}")
                      for k, v in table.get("suppliers", {}).items()}
    start = table.get("start")
    if isinstance(start, str):
        try:
            start = date.fromisoformat(start)
        except ValueError:
            raise NetworkError(f"{file.name}: start: expected a date, got {start!r}") from None
    if start is not None and not isinstance(start, date):
        raise NetworkError(f"{file.name}: start: expected a date, got {start!r}")
    migrations: list[Migration] = []
    for i, m in enumerate(table.get("migrations", [])):
        try:
            migrations.append(Migration(str(m["supplier"]), str(m["document_type"]),
                                        int(m.get("dual_from_day", 0))))
        except (KeyError, ValueError, TypeError) as exc:
            raise NetworkError(f"{file.name}: migrations[{i}]: {exc}") from None
    return Scenario(str(table.get("name", file.stem)),
                    int(seed if seed is not None else table.get("seed", 42)), rates,
                    tuple(events), supplier_rates=supplier_rates, start=start,
                    migrations=tuple(migrations))


def _rates(table: Any, where: str) -> dict[str, float]:
    if not isinstance(table, dict):
        raise NetworkError(f"{where}: expected a table of name = rate")
    rates: dict[str, float] = {}
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise NetworkError(f"{where}.{name}: expected 0..1, got {value!r}")
        rates[str(name)] = float(value)
    return rates


def parse_injection(text: str) -> ScenarioEvent:
    """``outage:SUPPLIER:FROM-TO``, ``capacity_drop:SUPPLIER:FROM-TO:FACTOR`` or
    ``api_regression:SUPPLIER:FROM-TO:SHARE`` (CLI flags)."""
    bits = text.split(":")
    if len(bits) < 3 or bits[0] not in EVENT_KINDS:
        raise NetworkError(f"{text!r}: expected outage:SUPPLIER:DAY[-DAY], "
                           "capacity_drop:SUPPLIER:DAY[-DAY]:FACTOR or "
                           "api_regression:SUPPLIER:DAY[-DAY]:SHARE")
    first, _, last = bits[2].partition("-")
    try:
        factor = float(bits[3]) if len(bits) > 3 else (0.5 if bits[0] == "capacity_drop" else 1)
        return ScenarioEvent(bits[0], bits[1], int(first), int(last or first), factor)
    except ValueError:
        raise NetworkError(f"{text!r}: days must be integers and the factor a number") from None
