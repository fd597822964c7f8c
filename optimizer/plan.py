"""What the optimizer produces: order lines, their cost, and how the plan was reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PlanSource = Literal["optimizer", "naive", "previous", "none"]
ShortageReason = Literal["no_supplier", "lead_time", "capacity", "budget", "not_avoided"]
AlertKind = Literal["no_supplier", "lead_time_beyond_horizon", "no_capacity"]


@dataclass(frozen=True)
class Shortage:
    """Periods a part runs short in the adopted plan, with why they could not be avoided.

    ``reason``: ``no_supplier`` (nobody offers the part), ``lead_time`` (no order placed now
    arrives in time), ``capacity`` / ``budget`` (every supplier that could deliver in time is
    full, or the money is spent), ``not_avoided`` (room was left: the solver did not find a
    way within its limits). ``units`` is the deepest shortfall over those periods.
    """

    part: str
    periods: tuple[int, ...]
    units: int
    reason: ShortageReason


@dataclass(frozen=True)
class PlanningAlert:
    """A part the plan cannot serve at all: it needs a buyer, not a solver."""

    part: str
    kind: AlertKind
    demand_at_risk: int  # units of demand not covered by stock and receipts over the horizon
    first_short_period: int | None
    message: str


@dataclass(frozen=True)
class OrderLine:
    """One order: ``quantity`` of ``part`` from ``supplier``, placed in ``period``.

    ``covers`` lists the demand periods this arrival serves (first in, first out) and
    ``bound_by`` names the constraints that shaped it (capacity, moq, multiple, lead_time,
    budget, share, frozen). ``firm`` lines fall inside the firm horizon.
    """

    part: str
    supplier: str
    period: int
    arrival_period: int
    quantity: int
    unit_price: float
    fixed_cost: float = 0.0
    frozen: bool = False
    firm: bool = False
    covers: tuple[int, ...] = ()
    bound_by: tuple[str, ...] = ()

    @property
    def value(self) -> float:
        return self.quantity * self.unit_price

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.part, self.supplier, self.period)


@dataclass(frozen=True)
class CostBreakdown:
    """The plan's cost under the one cost function shared by every method (see costs.py)."""

    purchase: float = 0.0
    ordering: float = 0.0
    holding: float = 0.0
    backlog: float = 0.0
    shortfall: float = 0.0
    change: float = 0.0
    line_stop: float = 0.0  # the service stage: each part-period short at its line-stop charge

    @property
    def total(self) -> float:
        return self.operating + self.line_stop

    @property
    def operating(self) -> float:
        """Everything but the line-stop charge: what the plan costs when it runs as planned."""
        return (
            self.purchase + self.ordering + self.holding + self.backlog + self.shortfall
            + self.change
        )


@dataclass(frozen=True)
class SolveReport:
    """What the solving method itself said, read from the solver rather than from PuLP.

    ``status`` is the solver's own wording (e.g. HiGHS "Time limit reached", CBC "Stopped on
    time"); ``bound`` is a proven lower bound on the optimal cost (``None`` if none was proven)
    and ``gap`` is ``(objective - bound) / objective`` of the *adopted* plan.
    """

    method: str
    solver: str
    status: str
    has_solution: bool
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    iterations: int = 0
    message: str = ""


@dataclass(frozen=True)
class Plan:
    """An adopted plan with everything needed to trace it: inputs, parameters, result."""

    lines: tuple[OrderLine, ...]
    cost: CostBreakdown
    source: PlanSource
    report: SolveReport
    fallback_cost: float | None = None
    reasons: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    stale: tuple[str, ...] = ()
    # The naive lot-for-lot policy under the same cost function, and part-periods short of
    # stock (net position below zero) under each: what the plan is judged against.
    naive_cost: float | None = None
    naive_stockouts: int | None = None
    stockouts: int | None = None
    # What was adopted and why, in one line (e.g. the time limit returned the warm start).
    source_detail: str = ""
    shortages: tuple[Shortage, ...] = ()
    alerts: tuple[PlanningAlert, ...] = ()
    naive_operating_cost: float | None = None
    # The time limit asked for and the wall time the call took (model build included).
    time_limit: float | None = None
    wall_seconds: float | None = None

    @property
    def total_value(self) -> float:
        return sum(line.value for line in self.lines)

    @property
    def shortages_avoided(self) -> int | None:
        """Naive's part-periods short minus the plan's: negative when the plan has more."""
        if self.naive_stockouts is None or self.stockouts is None:
            return None
        return self.naive_stockouts - self.stockouts


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """A JSON-ready dict of the plan (what the gateway stores with each plan run)."""
    return {
        "source": plan.source,
        "lines": [
            {
                "part": ln.part, "supplier": ln.supplier, "period": ln.period,
                "arrival_period": ln.arrival_period, "quantity": ln.quantity,
                "unit_price": ln.unit_price, "fixed_cost": ln.fixed_cost, "frozen": ln.frozen,
                "firm": ln.firm, "covers": list(ln.covers), "bound_by": list(ln.bound_by),
            }
            for ln in plan.lines
        ],
        "cost": {
            "purchase": plan.cost.purchase, "ordering": plan.cost.ordering,
            "holding": plan.cost.holding, "backlog": plan.cost.backlog,
            "shortfall": plan.cost.shortfall, "change": plan.cost.change,
            "line_stop": plan.cost.line_stop, "operating": plan.cost.operating,
            "total": plan.cost.total,
        },
        "report": {
            "method": plan.report.method, "solver": plan.report.solver,
            "status": plan.report.status, "has_solution": plan.report.has_solution,
            "objective": plan.report.objective, "bound": plan.report.bound,
            "gap": plan.report.gap, "build_seconds": plan.report.build_seconds,
            "solve_seconds": plan.report.solve_seconds, "iterations": plan.report.iterations,
            "message": plan.report.message,
        },
        "fallback_cost": plan.fallback_cost,
        "naive_cost": plan.naive_cost,
        "naive_operating_cost": plan.naive_operating_cost,
        "naive_stockouts": plan.naive_stockouts,
        "stockouts": plan.stockouts,
        "shortages_avoided": plan.shortages_avoided,
        "shortages": [
            {"part": s.part, "periods": list(s.periods), "units": s.units, "reason": s.reason}
            for s in plan.shortages
        ],
        "alerts": [
            {"part": a.part, "kind": a.kind, "demand_at_risk": a.demand_at_risk,
             "first_short_period": a.first_short_period, "message": a.message}
            for a in plan.alerts
        ],
        "source_detail": plan.source_detail,
        "time_limit": plan.time_limit,
        "wall_seconds": plan.wall_seconds,
        "reasons": list(plan.reasons),
        "inputs": list(plan.inputs),
        "parameters": dict(plan.parameters),
        "stale": list(plan.stale),
    }


def lines_from_dicts(items: list[dict[str, Any]]) -> tuple[OrderLine, ...]:
    """Order lines back from :func:`plan_to_dict` output (e.g. the stored previous plan)."""
    lines = []
    for item in items:
        try:
            lines.append(
                OrderLine(
                    part=str(item["part"]), supplier=str(item["supplier"]),
                    period=int(item["period"]), arrival_period=int(item["arrival_period"]),
                    quantity=int(item["quantity"]), unit_price=float(item["unit_price"]),
                    fixed_cost=float(item.get("fixed_cost", 0.0)),
                    frozen=bool(item.get("frozen", False)), firm=bool(item.get("firm", False)),
                    covers=tuple(int(c) for c in item.get("covers", ())),
                    bound_by=tuple(str(b) for b in item.get("bound_by", ())),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"order line {len(lines)}: {exc!r}") from exc
    return tuple(lines)
