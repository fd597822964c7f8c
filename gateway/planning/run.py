"""One planning run: build the state, plan, store the run, and act on the difference.

The optimizer runs outside any transaction (it is CPU work). Storing the run, its inputs and
lines, the actions, and the outbox rows of the actions that pass the guardrails then commit in
one transaction: the decision and its documents are never half written. A run that keeps the
previous plan (infeasible or failed solve) is stored with its reasons and produces no action.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.domain.states import PlanRunStatus
from gateway.planning.config import PlanningConfig
from gateway.planning.documents import (
    Calendar,
    new_order_number,
    order_line_entry,
    order_payload,
    schedule_line_entry,
    schedule_payload,
)
from gateway.planning.outbox import Enqueue
from gateway.planning.state import BuiltState, build_state
from gateway.storage.models import Event
from gateway.storage.models_planning import (
    HELD,
    RELEASED,
    SUPERSEDED,
    PlanAction,
    PlannedLine,
    PlanRun,
    PlanRunInput,
)
from gateway.storage.repositories import append_audit
from optimizer import (
    OrderLine,
    Plan,
    PlanDiff,
    ScheduleLine,
    diff_plans,
    plan,
    plan_to_dict,
    review,
)

log = logging.getLogger("edigate.planning")
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    status: str
    source: str
    lines: int
    held: int
    released: int
    cost: float
    warnings: tuple[str, ...]
    plan: Plan | None = None


def run_plan(
    sessions: sessionmaker[Session], *, now: datetime, config: PlanningConfig, trigger: str,
    actor: str, enqueue: Enqueue, reason: str = "", buyer: str = "EDIGATE",
    clock: Callable[[], float] = time.perf_counter, progress: Progress | None = None,
    business_now: datetime | None = None, triggers: list[dict[str, Any]] | None = None,
) -> RunSummary:
    """Plan once; ``enqueue`` turns a released action into outbox rows (see planning.outbox).

    ``now`` stamps the run; ``business_now`` (default: ``now``) is the calendar the plan is made
    for: its first day and the age of its inputs (a demo scenario runs ahead of the wall).
    ``triggers``: the disruptions this run answers (its lineage, see planning.triggers)."""
    business_now = business_now or now
    with sessions() as session:
        built = build_state(session, today=business_now.date(), now=now, config=config)
    result = plan(built.state, config.options(), built.previous, now=business_now,
                  freshness=config.freshness(), clock=clock, progress=progress)
    with sessions.begin() as session:
        return store_run(session, built, result, now=now, config=config, trigger=trigger,
                         actor=actor, reason=reason, buyer=buyer, enqueue=enqueue,
                         triggers=triggers)


def store_run(
    session: Session, built: BuiltState, result: Plan, *, now: datetime, config: PlanningConfig,
    trigger: str, actor: str, buyer: str, enqueue: Enqueue, reason: str = "",
    triggers: list[dict[str, Any]] | None = None,
) -> RunSummary:
    state = built.state
    assert state.start is not None
    calendar = Calendar(state.start, state.period_days)
    kept = result.source in ("previous", "none") and not result.report.has_solution
    run = PlanRun(
        id=str(uuid.uuid4()), created_at=now, trigger=trigger, actor=actor,
        status=PlanRunStatus.KEPT if kept else PlanRunStatus.ADOPTED, source=result.source,
        horizon_start=state.start, periods=state.periods, period_days=state.period_days,
        parameters={**result.parameters, "planning": _config_dict(config),
                    "triggers": list(triggers or [])},
        result=_json_safe({k: v for k, v in plan_to_dict(result).items()
                           if k not in ("lines", "inputs")}),
        warnings=list(built.warnings), cost_total=result.cost.total,
        solver_status=result.report.status[:64], gap=_json_safe(result.report.gap),
    )
    session.add(run)
    known = set(session.scalars(select(Event.id).where(Event.id.in_(result.inputs))).all()) \
        if result.inputs else set()
    run.inputs = [PlanRunInput(event_id=eid) for eid in result.inputs if eid in known]
    numbers = dict(built.order_numbers)
    actions = [] if kept else _actions(run, built, result, calendar, config, buyer, now, numbers)
    for line in result.lines:
        number = numbers.get(line.key, "")
        run.lines.append(PlannedLine(
            part=line.part, supplier_id=line.supplier, order_date=calendar.day(line.period),
            arrival_date=calendar.day(line.arrival_period), quantity=line.quantity,
            unit_price=line.unit_price, frozen=line.frozen, firm=line.firm,
            covers=[calendar.day(p).isoformat() for p in line.covers],
            bound_by=list(line.bound_by), order_number=number,
        ))
    held = released = 0
    if not kept:
        # Only the newest plan's queue counts: what an older run still holds is superseded.
        session.execute(update(PlanAction).where(PlanAction.status == HELD).values(
            status=SUPERSEDED, decided_at=now, decision_reason=f"superseded by plan {run.id}"))
        session.add_all(actions)
        session.flush()
        for action in actions:
            if action.status == HELD:
                held += 1
                continue
            released += 1
            enqueue(session, action, now)
    append_audit(session, at=now, actor=actor, action="plan.run", subject_type="plan_run",
                 subject_id=run.id, reason=reason or trigger,
                 details={"status": run.status, "source": run.source, "held": held,
                          "released": released, "cost": result.cost.total,
                          "reasons": list(result.reasons),
                          "triggers": [t.get("event_id") or t.get("outbox_id")
                                       for t in triggers or []]})
    log.info("plan %s: %s (%s), %d lines, %d held, %d released", run.id, run.status,
             run.source, len(run.lines), held, released)
    if result.stockouts is not None and result.naive_stockouts is not None:
        log.info("plan %s: %d part-days short, naive %d (%+d avoided)", run.id,
                 result.stockouts, result.naive_stockouts,
                 result.naive_stockouts - result.stockouts)
    if result.alerts:  # each in full in the stored result and the plans API
        log.info("plan %s: %d planning alert(s): %s", run.id, len(result.alerts),
                 ", ".join(f"{a.part} ({a.kind}, {a.demand_at_risk:,} at risk)"
                           for a in result.alerts))
    return RunSummary(run.id, run.status, run.source, len(run.lines), held, released,
                      result.cost.total, tuple(built.warnings), result)


def _json_safe(value: Any) -> Any:
    """Non-finite numbers (an unproven bound is -inf) become null: JSON has no infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _config_dict(config: PlanningConfig) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(config)


def _releasable(lines: tuple[OrderLine, ...] | list[OrderLine], built: BuiltState,
                release: int) -> list[OrderLine]:
    """Schedule suppliers see the whole horizon; purchase orders go out only when due."""
    return [ln for ln in lines
            if ln.supplier in built.schedule_driven or ln.period < release]


def _actions(run: PlanRun, built: BuiltState, result: Plan, calendar: Calendar,
             config: PlanningConfig, buyer: str, now: datetime,
             numbers: dict[tuple[str, str, int], str]) -> list[PlanAction]:
    """The documents the difference calls for; new order numbers are added to ``numbers``."""
    release = config.release_periods
    ahead = list(built.scheduled_ahead)
    diff: PlanDiff = diff_plans(
        _releasable(built.previous, built, release) + ahead,
        _releasable(result.lines, built, release) + ahead,
        schedule_driven=built.schedule_driven, firm_periods=config.options().firm_horizon,
    )
    decided = review(diff, config.guardrails())
    reasons: dict[int, tuple[str, ...]] = {id(d.item): d.reasons for d in decided.held}
    actions: list[PlanAction] = []
    change_number = run.id[:8].upper()
    for change in diff.orders:
        key = (change.part, change.supplier, change.period)
        number = numbers.get(key) or new_order_number(
            run.id, change.supplier, change.part, calendar.day(change.period))
        numbers[key] = number
        document_type, data = order_payload(change, number, change_number, calendar, buyer)
        why = reasons.get(id(change), ())
        business_id = number if change.kind == "new" else f"{number}/{change_number}"
        actions.append(PlanAction(
            id=str(uuid.uuid4()), run_id=run.id, created_at=now, supplier_id=change.supplier,
            kind=change.kind, document_type=document_type, business_id=business_id,
            order_number=number, value=change.value, status=HELD if why else RELEASED,
            reasons=list(why), lines=[order_line_entry(change, calendar)], data=data,
        ))
    groups: dict[tuple[str, str], list[ScheduleLine]] = {}
    for line in diff.schedules:
        groups.setdefault((line.supplier, line.kind), []).append(line)
    for (supplier, kind), lines in sorted(groups.items()):
        why = [f"{ln.part}@{calendar.day(ln.arrival_period)}: {r}"
               for ln in lines for r in reasons.get(id(ln), ())]
        number = f"DS{calendar.start:%y%m%d}{kind[:2].upper()}{run.id[:8].upper()}"
        actions.append(PlanAction(
            id=str(uuid.uuid4()), run_id=run.id, created_at=now, supplier_id=supplier,
            kind=kind, document_type="delivery_schedule", business_id=number,
            order_number="", value=sum(ln.value for ln in lines),
            status=HELD if why else RELEASED, reasons=why,
            lines=[schedule_line_entry(ln, calendar,
                                       built.lead_times.get(f"{ln.part}/{supplier}", 0))
                   for ln in lines],
            data=schedule_payload(supplier, kind, lines, number, calendar,
                                  built.state.periods, buyer),
        ))
    return actions
