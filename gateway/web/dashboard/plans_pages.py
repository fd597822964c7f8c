"""Dashboard: the plan in force, its cost against the naive policy over time, the approval
queue (approve / reject with a reason), and the order lines with why they exist."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.domain.states import PlanRunStatus
from gateway.planning.approvals import DecisionError, approve, queue, reject
from gateway.planning.outbox import settings_enqueuer
from gateway.storage.models_planning import PlanRun
from gateway.web.dashboard.charts import Series, line_chart
from gateway.web.dashboard.render import check_form, operator, render
from gateway.web.keys import RUNTIME
from gateway.web.plans_api import action_json, current_json, latest_adopted

routes = web.RouteTableDef()
RUNS = 30


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


@routes.get("/dashboard/plans")
async def plans_page(request: web.Request) -> web.Response:
    principal = await operator(request)
    runtime = request.app[RUNTIME]

    def load() -> dict[str, Any]:
        with runtime.sessions() as s:
            runs = list(s.scalars(select(PlanRun).order_by(PlanRun.created_at.desc())
                                  .limit(RUNS)))
            current = latest_adopted(s)
            lines = [{"part": ln.part, "supplier": ln.supplier_id,
                      "order_date": ln.order_date.isoformat(),
                      "arrival_date": ln.arrival_date.isoformat(), "quantity": ln.quantity,
                      "value": ln.quantity * ln.unit_price, "firm": ln.firm,
                      "order_number": ln.order_number, "bound_by": list(ln.bound_by)}
                     for ln in (current.lines[:200] if current is not None else [])]
            return {
                "current": current_json(current) if current is not None else None,
                "lines": lines, "chart": cost_chart(runs),
                "runs": [{"id": r.id, "created_at": r.created_at.strftime("%Y-%m-%d %H:%M"),
                          "trigger": r.trigger, "status": r.status, "source": r.source,
                          "cost": r.cost_total, "gap": r.gap} for r in runs[:10]],
                "approvals": [action_json(a) for a in queue(s)],
            }

    return render(request, "plans.html", principal=principal,
                  can_act=principal.has_role("operator"), **(await runtime.run(load)))


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
