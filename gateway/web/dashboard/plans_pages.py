"""Dashboard: the plan in force, its cost against the naive policy over time, the planner's
alerts, the approval queue (approve / reject with a reason), the order lines with why they
exist (collapsed per part, a page of parts at a time), and the what-if page: build a
disruption scenario, run it against the current state, read the difference as a chart and a
table (nothing is stored or sent)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.domain.states import PlanRunStatus
from gateway.planning.approvals import DecisionError, approve, queue, reject
from gateway.planning.jobs import config_for
from gateway.planning.outbox import settings_enqueuer
from gateway.planning.whatif import what_if_run
from gateway.storage.models import Partner
from gateway.storage.models_planning import PlanRun
from gateway.web.dashboard.charts import Series, line_chart
from gateway.web.dashboard.render import check_form, operator, render
from gateway.web.keys import RUNTIME
from gateway.web.plans_api import (
    PLANNING,
    action_json,
    current_json,
    latest_adopted,
    service_json,
)
from optimizer import StateError, scenario_from_dict
from optimizer.whatif import KINDS

routes = web.RouteTableDef()
RUNS = 30
PARTS_PER_PAGE = 25


def cost_chart(runs: list[PlanRun]) -> str:
    ordered = sorted(runs, key=lambda r: r.created_at)
    labels = [r.created_at.strftime("%m-%d %H:%M") for r in ordered]

    def naive(r: PlanRun) -> float | None:
        value = r.result.get("naive_cost") if isinstance(r.result, dict) else None
        return float(value) if isinstance(value, int | float) else None

    series = [Series("plan", [(x, r.cost_total if r.status == PlanRunStatus.ADOPTED else None)
                              for x, r in zip(labels, ordered, strict=True)]),
              Series("naive lot-for-lot", [(x, naive(r))
                                           for x, r in zip(labels, ordered, strict=True)])]
    return line_chart(series, title=f"Plan cost against the naive policy (last {RUNS} runs)",
                      y_min=0, chart_id="plan-cost", y_format="{:,.0f}")


def alerts_panel(latest: PlanRun | None, current: PlanRun | None) -> list[dict[str, str]]:
    """What a planner must look at, most serious first: parts no order can serve, a run that
    kept the previous plan, more shortages than the naive policy, a deadline hit, remaining
    shortages by cause, the disruptions the last run answered, and what the state builder
    skipped. Each item: ``level`` (alert | warning | info), ``kind``, ``text``."""
    out: list[dict[str, str]] = []
    if latest is None:
        return out
    result = latest.result if isinstance(latest.result, dict) else {}
    for alert in result.get("alerts") or []:
        out.append({"level": "alert", "kind": "unplannable",
                    "text": str(alert.get("message") or alert.get("part"))})
    if latest.status == "kept":
        reasons = result.get("reasons") or []
        out.append({"level": "alert", "kind": "kept",
                    "text": "the latest run kept the previous plan: "
                            + (str(reasons[0]) if reasons else "no new plan")})
    service = service_json(result)
    if isinstance(service["stockouts_avoided"], int) and service["stockouts_avoided"] < 0:
        out.append({"level": "alert", "kind": "shortages",
                    "text": f"the plan has {-service['stockouts_avoided']} more part-days short "
                            f"than the naive policy ({service['stockouts']} against "
                            f"{service['naive_stockouts']})"})
    report = result.get("report") or {}
    status = str(report.get("status") or "")
    wall, limit = result.get("wall_seconds"), result.get("time_limit")
    if "time limit" in status.lower() or (
            isinstance(wall, int | float) and isinstance(limit, int | float) and wall > limit):
        out.append({"level": "warning", "kind": "deadline",
                    "text": f"the planner hit its time limit ({status or 'stopped'}"
                            + (f", {wall:.1f} s of {limit:g} s" if isinstance(wall, int | float)
                               and isinstance(limit, int | float) else "") + ")"})
    causes: dict[str, int] = {}
    for shortage in result.get("shortages") or []:
        reason = str(shortage.get("reason"))
        causes[reason] = causes.get(reason, 0) + len(shortage.get("periods") or [])
    if causes:
        out.append({"level": "warning", "kind": "shortages",
                    "text": "part-days still short, by cause: " + ", ".join(
                        f"{reason.replace('_', ' ')} {n}" for reason, n in sorted(
                            causes.items(), key=lambda kv: -kv[1]))})
    for trigger in (latest.parameters or {}).get("triggers") or []:
        source = trigger.get("event_id") or trigger.get("outbox_id") or ""
        out.append({"level": "info", "kind": str(trigger.get("kind")),
                    "text": f"replanned after {trigger.get('partner')}: "
                            f"{trigger.get('reason')} ({source})"})
    warnings = list(latest.warnings or [])
    for warning in warnings[:8]:
        out.append({"level": "info", "kind": "input", "text": str(warning)})
    if len(warnings) > 8:
        out.append({"level": "info", "kind": "input",
                    "text": f"... and {len(warnings) - 8} more input warnings (see the plan's "
                            "detail in the API)"})
    return out


def lines_by_part(run: PlanRun | None, page: int) -> tuple[list[dict[str, Any]], int]:
    """The current plan's lines collapsed per part, one page of parts; and the page count."""
    if run is None:
        return [], 1
    parts: dict[str, list[Any]] = {}
    for ln in run.lines:
        parts.setdefault(ln.part, []).append(ln)
    names = sorted(parts)
    pages = max(1, -(-len(names) // PARTS_PER_PAGE))
    page = min(max(page, 1), pages)
    out = []
    for part in names[(page - 1) * PARTS_PER_PAGE:page * PARTS_PER_PAGE]:
        rows = sorted(parts[part], key=lambda ln: (ln.order_date, ln.supplier_id))
        out.append({
            "part": part, "orders": len(rows), "units": sum(ln.quantity for ln in rows),
            "value": sum(ln.quantity * ln.unit_price for ln in rows),
            "suppliers": sorted({ln.supplier_id for ln in rows}),
            "bound_by": sorted({b for ln in rows for b in ln.bound_by}),
            "lines": [{"supplier": ln.supplier_id, "order_date": ln.order_date.isoformat(),
                       "arrival_date": ln.arrival_date.isoformat(), "quantity": ln.quantity,
                       "value": ln.quantity * ln.unit_price, "firm": ln.firm,
                       "order_number": ln.order_number, "bound_by": list(ln.bound_by)}
                      for ln in rows]})
    return out, pages


@routes.get("/dashboard/plans")
async def plans_page(request: web.Request) -> web.Response:
    principal = await operator(request)
    runtime = request.app[RUNTIME]
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        page = 1

    def load() -> dict[str, Any]:
        with runtime.sessions() as s:
            runs = list(s.scalars(select(PlanRun).order_by(PlanRun.created_at.desc())
                                  .limit(RUNS)))
            current = latest_adopted(s)
            parts, pages = lines_by_part(current, page)
            return {
                "current": current_json(current) if current is not None else None,
                "parts": parts, "page": min(max(page, 1), pages), "pages": pages,
                "alerts": alerts_panel(runs[0] if runs else None, current),
                "chart": cost_chart(runs),
                "runs": [{"id": r.id, "created_at": r.created_at.strftime("%Y-%m-%d %H:%M"),
                          "trigger": r.trigger, "status": r.status, "source": r.source,
                          "cost": r.cost_total, "gap": r.gap} for r in runs[:10]],
                "approvals": [action_json(a) for a in queue(s)],
            }

    return render(request, "plans.html", principal=principal,
                  can_act=principal.has_role("operator"), **(await runtime.run(load)))


# --- what-if --------------------------------------------------------------------------------

SCENARIO_FIELDS = ("kind", "supplier", "part", "periods", "factor", "start", "until")


def scenario_form(form: dict[str, str]) -> dict[str, Any]:
    """The scenario a form describes (empty fields left out; numbers parsed), as the API's
    JSON: the one parser (scenario_from_dict) then checks it."""
    out: dict[str, Any] = {}
    for name in SCENARIO_FIELDS:
        value = form.get(name, "").strip()
        if not value:
            continue
        if name in ("periods", "start", "until"):
            try:
                out[name] = int(value)
            except ValueError:
                raise StateError(f"{name} must be a whole number, got {value!r}") from None
        elif name == "factor":
            try:
                out[name] = float(value)
            except ValueError:
                raise StateError(f"factor must be a number, got {value!r}") from None
        else:
            out[name] = value
    return out


def delta_chart(view: dict[str, Any]) -> str:
    """Units ordered per order date where the two plans differ: current against what-if."""
    start = view.get("horizon_start")
    days = int(view.get("period_days") or 1)
    current: dict[int, float] = {}
    future: dict[int, float] = {}
    for change in view.get("orders_changed") or []:
        t = int(change["period"])
        current[t] = current.get(t, 0) + change["current"]
        future[t] = future.get(t, 0) + change["what_if"]
    periods = sorted(set(current) | set(future))

    def label(t: int) -> str:
        if not start:
            return f"period {t}"
        return (date.fromisoformat(start) + timedelta(days=t * days)).strftime("%m-%d")

    labels = [label(t) for t in periods]
    return line_chart(
        [Series("current plan", [(x, current.get(t, 0)) for x, t in zip(labels, periods,
                                                                          strict=True)]),
         Series("what-if", [(x, future.get(t, 0)) for x, t in zip(labels, periods,
                                                                   strict=True)])],
        title="Units ordered per order date where the plans differ", y_min=0,
        chart_id="whatif-delta", y_format="{:,.0f}")


async def _whatif_context(request: web.Request) -> dict[str, Any]:
    runtime = request.app[RUNTIME]

    def load() -> dict[str, Any]:
        with runtime.sessions() as s:
            partners = s.scalars(select(Partner).order_by(Partner.id)).all()
            suppliers = [p.id for p in partners
                         if (p.profile or {}).get("role") != "manufacturer"]
            current = latest_adopted(s)
            parts = sorted({ln.part for ln in current.lines}) if current is not None else []
        return {"suppliers": suppliers, "parts": parts}

    return {**(await runtime.run(load)), "kinds": KINDS}


@routes.get("/dashboard/plans/what-if")
async def whatif_page(request: web.Request) -> web.Response:
    principal = await operator(request)
    return render(request, "whatif.html", principal=principal,
                  can_act=principal.has_role("operator"), form={}, result=None, error=None,
                  **(await _whatif_context(request)))


@routes.post("/dashboard/plans/what-if")
async def whatif_run(request: web.Request) -> web.Response:
    principal, form = await check_form(request, "operator")
    runtime = request.app[RUNTIME]
    context = await _whatif_context(request)
    try:
        scenario = scenario_from_dict(scenario_form(form))
        config = request.app.get(PLANNING) or config_for(runtime)
        now = datetime.now(UTC)
        view = await runtime.run(lambda: what_if_run(runtime.sessions, [scenario], now=now,
                                                     config=config,
                                                     business_now=runtime.clock()))
    except (StateError, ValueError) as exc:
        return render(request, "whatif.html", principal=principal, can_act=True, form=form,
                      result=None, error=str(exc), status=400, **context)
    changed = [{**c, "delta": c["what_if"] - c["current"]} for c in view["orders_changed"]]
    return render(request, "whatif.html", principal=principal, can_act=True, form=form,
                  result=view, changed=changed, chart=delta_chart(view), error=None,
                  **context)


@routes.post("/dashboard/approvals/{id}/{verdict:(approve|reject)}")
async def decide(request: web.Request) -> web.Response:
    principal, form = await check_form(request, "operator")
    runtime = request.app[RUNTIME]
    ident, verdict = request.match_info["id"], request.match_info["verdict"]
    reason = form.get("reason", "").strip()
    if verdict == "reject" and not reason:
        raise web.HTTPBadRequest(text="a rejection needs a reason (it goes to the audit log)")
    enqueue = settings_enqueuer(runtime.settings)
    now = datetime.now(UTC)

    def act() -> None:
        with runtime.sessions.begin() as s:
            if verdict == "approve":
                approve(s, ident, actor=principal.actor, reason=reason, now=now, enqueue=enqueue)
            else:
                reject(s, ident, actor=principal.actor, reason=reason, now=now)

    try:
        await runtime.run(act)
    except DecisionError as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    raise web.HTTPSeeOther("/dashboard/plans")
