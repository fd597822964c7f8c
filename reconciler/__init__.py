"""Dual-path reconciliation: prove the EDI path and the API path of a partner agree.

Pure: no I/O besides its packaged defaults, no clock (``as_of`` is passed in).

    from reconciler import EventRecord, ReconcileConfig, Reconciler, Statistics, Window
    results = list(Reconciler(config).run(events, Window(start, end), as_of=now))
    rows = Statistics().extend(results).rows()          # agreement per partner/type/day
    decision = decide_promotion("dual", rows, today=now.date(), gate=config.gate_for(t), ...)
"""

from reconciler.compare import Comparator
from reconciler.config import (
    FIELD_RULE_KINDS,
    ConfigError,
    FieldRule,
    GateConfig,
    ReconcileConfig,
    Rules,
    UnitTable,
    field_rule,
)
from reconciler.coverage import Coverage
from reconciler.engine import Reconciler, reconcile
from reconciler.gate import (
    NEXT,
    PREVIOUS,
    STAGES,
    GateDecision,
    StageError,
    authoritative_path,
    decide_promotion,
    gate_window,
    rollback_target,
)
from reconciler.model import (
    API,
    DECIDED,
    EDI,
    MISSING_ON_API,
    MISSING_ON_EDI,
    NOT_COMPARABLE,
    VALUE_DIFFERS,
    EventRecord,
    FieldDifference,
    Outcome,
    Result,
    Window,
    field_name,
)
from reconciler.stats import DayStats, Statistics, summarize

__all__ = [
    "API", "DECIDED", "EDI", "FIELD_RULE_KINDS", "MISSING_ON_API", "MISSING_ON_EDI", "NEXT",
    "NOT_COMPARABLE", "PREVIOUS", "STAGES", "VALUE_DIFFERS", "Comparator", "ConfigError",
    "Coverage", "DayStats", "EventRecord", "FieldDifference", "FieldRule", "GateConfig",
    "GateDecision", "Outcome", "ReconcileConfig", "Reconciler", "Result", "Rules",
    "StageError", "Statistics", "UnitTable", "Window", "authoritative_path",
    "decide_promotion", "field_name", "field_rule", "gate_window", "reconcile",
    "rollback_target", "summarize",
]
