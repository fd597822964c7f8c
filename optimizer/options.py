"""Planning parameters (stored with every plan so a run can be reproduced)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

SolverName = Literal["highs", "cbc"]
MethodName = Literal["auto", "milp", "decompose", "naive"]


@dataclass(frozen=True)
class PlanOptions:
    """How to plan.

    - ``method``: ``milp`` solves the monolithic PuLP model; ``decompose`` runs the Lagrangian
      decomposition (exact per-part DP, subgradient bound, capacity-aware repair); ``auto``
      picks the MILP for small models (``milp_max_columns``) and the decomposition otherwise;
      ``naive`` adopts the lot-for-lot policy itself (the baseline, e.g. to play a scenario
      under it and compare).
    - ``frozen_periods``: orders placed in periods ``< frozen_periods`` are those of the
      previous plan, unchanged, and no new order may be placed there.
    - ``firm_periods``: schedule lines arriving before this period are firm call-offs
      (862/DELJIT), later ones forecasts (830/DELFOR). Defaults to ``frozen_periods``.
    - ``max_supplier_share``: per part, no supplier may get more than this share of the units
      newly ordered over the horizon (diversification; frozen orders are commitments and do
      not count). Parts with fewer eligible suppliers than ``1/share`` are exempt (the
      constraint would forbid ordering at all).
    - ``change_penalty``: cost per unit of difference from the previous plan's orders outside
      the frozen horizon (damps oscillation between runs).
    - ``line_stop_cost``: what one period with a part short (net stock below zero) costs the
      plant, unless the part states its own. Charged per part and period on top of the
      per-unit backlog penalty.
    - ``service_first``: plan service before cost: each part's period short is charged at
      least one period's worth of that part at its dearest offer (so no plan leaves demand
      unbought to save its price), and the adoption rule never takes a plan with more
      part-periods short than the fallback (naive lot-for-lot or previous plan), whatever it
      saves. With ``False`` the line-stop cost is the only price of a shortage and plans are
      compared on cost alone.
    - ``method="auto"`` runs the decomposition unless the model has at most
      ``milp_max_columns`` columns (measured: the decomposition is better from about 10
      parts; see bench/optimize.py).
    """

    solver: SolverName = "highs"
    method: MethodName = "auto"
    time_limit: float = 60.0
    rel_gap: float = 0.005
    frozen_periods: int = 0
    firm_periods: int | None = None
    max_supplier_share: float | None = None
    change_penalty: float = 0.0
    milp_max_columns: int = 400
    max_iterations: int = 300
    threads: int | None = None
    line_stop_cost: float = 10_000.0
    service_first: bool = True

    def __post_init__(self) -> None:
        if self.solver not in ("highs", "cbc"):
            raise ValueError(f"solver must be 'highs' or 'cbc', got {self.solver!r}")
        if self.method not in ("auto", "milp", "decompose", "naive"):
            raise ValueError(
                f"method must be auto, milp, decompose or naive, got {self.method!r}")
        for name in ("time_limit", "rel_gap", "change_penalty", "line_stop_cost"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                    value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if self.time_limit <= 0:
            raise ValueError("time_limit must be positive")
        if self.line_stop_cost < 0:
            raise ValueError("line_stop_cost must not be negative")
        if not 0 <= self.rel_gap < 1:
            raise ValueError("rel_gap must be in [0, 1)")
        if self.frozen_periods < 0:
            raise ValueError("frozen_periods must not be negative")
        if self.max_supplier_share is not None and not 0 < self.max_supplier_share <= 1:
            raise ValueError("max_supplier_share must be in (0, 1]")
        if self.change_penalty < 0:
            raise ValueError("change_penalty must not be negative")

    @property
    def firm_horizon(self) -> int:
        return self.frozen_periods if self.firm_periods is None else self.firm_periods

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
