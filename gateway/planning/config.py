"""Planning settings with safe defaults.

``Settings`` may carry a ``planning`` mapping (from the ``[planning]`` table of the config
file); anything it does not set keeps the default here, so the planner works out of the box.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any

from optimizer import FreshnessPolicy, GuardrailPolicy, PlanOptions


@dataclass(frozen=True)
class PlanningConfig:
    """How the gateway plans.

    - ``periods`` x ``period_days``: the horizon, starting today.
    - ``release_periods``: purchase orders placed before this period are sent now; later ones
      stay planned (visible in the plan) and are sent by a later run. Schedule-driven suppliers
      always get the whole horizon (firm call-offs plus forecast).
    - ``holding_rate``: holding cost per unit and day as a share of the cheapest unit price;
      ``backlog_factor``: backlog penalty per unit and day as a multiple of the dearest price.
    - ``service_level``: target for the safety-stock formula (a stock event's
      ``safety_stock`` overrides it per part).
    - ``value_threshold`` / ``firm_change_share``: the guardrails (see optimizer.guardrails).
    - ``interval_minutes``: the scheduled run; ``debounce_seconds``: how long new inventory,
      confirmation or despatch events are collected before an event-triggered run;
      ``max_wait_seconds``: the longest news waits when it never stops arriving.
    - ``line_stop_cost``: what the plant loses per part and period short (a line stop);
      ``service_first``: plan service before cost (see optimizer.PlanOptions).
    """

    periods: int = 28
    period_days: int = 1
    release_periods: int = 1
    solver: str = "highs"
    method: str = "auto"
    time_limit: float = 60.0
    rel_gap: float = 0.005
    frozen_periods: int = 0
    firm_periods: int = 7
    max_supplier_share: float | None = None
    change_penalty: float = 0.01
    holding_rate: float = 0.001
    backlog_factor: float = 2.0
    fixed_order_cost: float = 25.0
    service_level: float = 0.95
    value_threshold: float | None = 50_000.0
    firm_change_share: float | None = 0.2
    interval_minutes: float = 60.0
    debounce_seconds: float = 30.0
    max_wait_seconds: float = 60.0
    freshness_days: dict[str, float] | None = None
    line_stop_cost: float = 10_000.0
    service_first: bool = True

    def __post_init__(self) -> None:
        if self.periods < 1 or self.period_days < 1:
            raise ValueError("planning periods and period_days must be at least 1")
        if self.release_periods < 1:
            raise ValueError("planning release_periods must be at least 1")
        if not 0 < self.service_level < 1:
            raise ValueError("planning service_level must be strictly between 0 and 1")
        self.options()  # validates the solver options early
        self.guardrails()

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> PlanningConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values or {}) - known)
        if unknown:
            raise ValueError(f"unknown planning setting(s): {', '.join(unknown)}")
        return replace(cls(), **(values or {}))

    @classmethod
    def from_settings(cls, settings: Any) -> PlanningConfig:
        return cls.from_mapping(getattr(settings, "planning", None))

    def options(self) -> PlanOptions:
        return PlanOptions(
            solver=self.solver, method=self.method,  # type: ignore[arg-type]
            time_limit=self.time_limit, rel_gap=self.rel_gap,
            frozen_periods=self.frozen_periods, firm_periods=self.firm_periods,
            max_supplier_share=self.max_supplier_share, change_penalty=self.change_penalty,
            line_stop_cost=self.line_stop_cost, service_first=self.service_first,
        )

    def guardrails(self) -> GuardrailPolicy:
        return GuardrailPolicy(self.value_threshold, self.firm_change_share)

    def freshness(self) -> FreshnessPolicy:
        policy = FreshnessPolicy()
        if not self.freshness_days:
            return policy
        budgets = dict(policy.budgets)
        for kind, days in self.freshness_days.items():
            if kind not in budgets:
                raise ValueError(f"planning freshness_days: unknown source kind {kind!r}")
            budgets[kind] = timedelta(days=days)
        return replace(policy, budgets=budgets)
