"""The PuLP synchronization engine: supply state -> plan (pure: no I/O, no wall clock).

Entry points: :func:`plan` (one planning run with the adoption rule), :func:`diff_plans` and
:func:`review` (what to send, what waits for approval), the state dataclasses and their JSON
form, lead-time statistics and safety stock, the freshness check, what-if scenarios, and a seeded
generator.
"""

from optimizer.costs import Evaluation, evaluate
from optimizer.diff import OrderChange, PlanDiff, ScheduleLine, diff_plans
from optimizer.freshness import FreshnessPolicy, StaleInput, apply_freshness
from optimizer.generator import generate
from optimizer.guardrails import Decision, GuardrailPolicy, Review, review
from optimizer.leadtime import (
    Delivery,
    LeadTimeStats,
    lead_time_stats,
    safety_stock,
    safety_stocks,
    service_z,
)
from optimizer.options import PlanOptions
from optimizer.plan import (
    CostBreakdown,
    OrderLine,
    Plan,
    PlanningAlert,
    Shortage,
    SolveReport,
    lines_from_dicts,
    plan_to_dict,
)
from optimizer.planner import plan
from optimizer.serialize import dumps, loads, state_from_dict, state_to_dict
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
from optimizer.whatif import Scenario, apply_scenario, parse_scenario, scenario_from_dict, what_if

__all__ = [
    "CostBreakdown",
    "Decision",
    "Delivery",
    "Evaluation",
    "FreshnessPolicy",
    "GuardrailPolicy",
    "LeadTimeStats",
    "Offer",
    "OrderChange",
    "OrderLine",
    "Part",
    "Plan",
    "PlanDiff",
    "PlanOptions",
    "PlanningAlert",
    "Provenance",
    "Receipt",
    "Review",
    "Scenario",
    "ScheduleLine",
    "Shortage",
    "SolveReport",
    "SourcingShare",
    "StaleInput",
    "StateError",
    "Supplier",
    "SupplyState",
    "apply_freshness",
    "apply_scenario",
    "diff_plans",
    "dumps",
    "evaluate",
    "generate",
    "lead_time_stats",
    "lines_from_dicts",
    "loads",
    "parse_scenario",
    "plan",
    "plan_to_dict",
    "review",
    "safety_stock",
    "safety_stocks",
    "scenario_from_dict",
    "service_z",
    "state_from_dict",
    "state_to_dict",
    "what_if",
]
