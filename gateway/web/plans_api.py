"""Plans over HTTP: run a plan, list and explain plans, and the approval queue.

Reading needs the viewer role, running a plan and deciding an approval the operator role;
runs and decisions are audited with who and why. A plan's detail traces every order line to
its run and the run's input events (and each event to its raw interchange).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.domain.states import PlanRunStatus
from gateway.domain.timestamps import api_timestamp
from gateway.planning.approvals import DecisionError, approve, queue, reject
from gateway.planning.config import PlanningConfig
from gateway.planning.jobs import PlanningBusy, config_for, run_now
from gateway.planning.outbox import settings_enqueuer
from gateway.planning.whatif import what_if_run
from gateway.storage.models import Event
from gateway.storage.models_planning import PlanAction, PlanRun
from gateway.web.auth import require_role
from gateway.web.keys import RUNTIME
from gateway.web.openapi import json_response, path_param, problem_responses, query_param
from gateway.web.problems import Problem
from gateway.web.reasons import MAX_REASON, read_reason
from optimizer import StateError, scenario_from_dict

routes = web.RouteTableDef()
# Optional override of the planning settings for this app (tests, embedding); otherwise they
# come from Settings.planning.
PLANNING = web.AppKey("planning_config", PlanningConfig)


def action_json(a: PlanAction) -> dict[str, Any]:
    return {"id": a.id, "run_id": a.run_id, "created_at": api_timestamp(a.created_at),
            "supplier": a.supplier_id, "kind": a.kind, "document_type": a.document_type,
            "business_id": a.business_id, "order_number": a.order_number, "value": a.value,
            "status": a.status, "reasons": list(a.reasons), "lines": list(a.lines),
            "data": a.data, "decided_by": a.decided_by,
            "decided_at": api_timestamp(a.decided_at),
            "decision_reason": a.decision_reason, "outbox_ids": list(a.outbox_ids)}


def run_json(r: PlanRun) -> dict[str, Any]:
    result = r.result if isinstance(r.result, dict) else {}
    report = result.get("report", {})
    return {"id": r.id, "created_at": api_timestamp(r.created_at), "trigger": r.trigger,
            "actor": r.actor, "status": r.status, "source": r.source,
            "source_detail": result.get("source_detail", ""),
            "horizon_start": r.horizon_start.isoformat(), "periods": r.periods,
            "period_days": r.period_days, "cost": r.cost_total,
            "solver_status": r.solver_status, "gap": r.gap, "bound": report.get("bound"),
            "method": report.get("method"), **service_json(result),
            "alerts": list(result.get("alerts") or []),
            # The disruptions this run answers (event id, kind, partner, why), newest first.
            "triggers": list((r.parameters or {}).get("triggers") or [])}


def service_json(result: dict[str, Any]) -> dict[str, Any]:
    """Part-periods short under the plan and under the naive policy, and the signed
    difference: negative when the plan has more shortages than naive (never hidden as 0)."""
    naive_short, short = result.get("naive_stockouts"), result.get("stockouts")
    avoided = (naive_short - short
               if isinstance(naive_short, int) and isinstance(short, int) else None)
    return {"stockouts": short, "naive_stockouts": naive_short, "stockouts_avoided": avoided,
            "shortages_avoided": avoided}


def run_detail(session: Any, r: PlanRun) -> dict[str, Any]:
    event_ids = [i.event_id for i in r.inputs]
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(event_ids)))} \
        if event_ids else {}
    return {
        **run_json(r),
        "parameters": r.parameters, "result": r.result, "warnings": list(r.warnings),
        "inputs": [{"event_id": eid, "type": events[eid].type if eid in events else None,
                    "partner": events[eid].partner_id if eid in events else None,
                    "interchange_id": events[eid].interchange_id if eid in events else None}
                   for eid in event_ids],
        "lines": [{"part": ln.part, "supplier": ln.supplier_id,
                   "order_date": ln.order_date.isoformat(),
                   "arrival_date": ln.arrival_date.isoformat(), "quantity": ln.quantity,
                   "unit_price": ln.unit_price, "value": ln.quantity * ln.unit_price,
                   "frozen": ln.frozen, "firm": ln.firm, "order_number": ln.order_number,
                   "covers": list(ln.covers), "bound_by": list(ln.bound_by)}
                  for ln in r.lines],
        "actions": [action_json(a) for a in r.actions],
    }


async def _reason(request: web.Request, *, required: bool) -> str:
    return await read_reason(request, required=required,
                             why="say why: a rejection is recorded with its reason")


@routes.post("/api/v1/plans")
async def create_plan(request: web.Request) -> web.Response:
    principal = await require_role(request, "operator")
    reason = await _reason(request, required=False)
    runtime = request.app[RUNTIME]
    try:
        summary = await runtime.run(run_now, runtime, trigger="api", actor=principal.actor,
                                    reason=reason, config=request.app.get(PLANNING))
    except PlanningBusy as exc:
        raise Problem(409, "planning-busy", "Planning busy", str(exc)) from None
    except ValueError as exc:  # planning settings that do not validate
        raise Problem(503, "planning-misconfigured", "Planning misconfigured",
                      str(exc)) from None
    return web.json_response({"id": summary.run_id, "status": summary.status,
                              "source": summary.source, "lines": summary.lines,
                              "held": summary.held, "released": summary.released,
                              "cost": summary.cost, "warnings": list(summary.warnings)},
                             status=201)


@routes.post("/api/v1/plans/what-if")
async def plan_what_if(request: web.Request) -> web.Response:
    """Plan the current state as it is and under the posted scenarios; stores and sends
    nothing (operator: it is CPU work)."""
    await require_role(request, "operator")
    try:
        body = await request.json()
    except ValueError:
        raise Problem(400, "invalid-json", "Invalid JSON", "the body must be JSON") from None
    items = body.get("scenarios") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise Problem(400, "invalid-scenario", "Invalid scenario",
                      'give {"scenarios": [{"kind": "outage", "supplier": ..., '
                      '"periods": N}, ...]}')
    try:
        scenarios = [scenario_from_dict(item) for item in items]
    except StateError as exc:
        raise Problem(400, "invalid-scenario", "Invalid scenario", str(exc)) from None
    runtime = request.app[RUNTIME]
    try:
        config = request.app.get(PLANNING) or config_for(runtime)
    except ValueError as exc:  # planning settings that do not validate
        raise Problem(503, "planning-misconfigured", "Planning misconfigured",
                      str(exc)) from None
    now = datetime.now(UTC)

    def work() -> dict[str, Any]:
        return what_if_run(runtime.sessions, scenarios, now=now, config=config,
                           business_now=runtime.clock())

    try:
        return web.json_response(await runtime.run(work))
    except StateError as exc:  # a scenario naming an unknown supplier or part
        raise Problem(400, "invalid-scenario", "Invalid scenario", str(exc)) from None


@routes.get("/api/v1/plans")
async def list_plans(request: web.Request) -> web.Response:
    await require_role(request, "viewer")
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        raise Problem(400, "invalid-limit", "Invalid limit", "limit must be an integer") from None
    if not 1 <= limit <= 500:
        raise Problem(400, "invalid-limit", "Invalid limit", "limit must be 1..500")
    runtime = request.app[RUNTIME]

    def load() -> list[dict[str, Any]]:
        with runtime.sessions() as s:
            rows = s.scalars(select(PlanRun).order_by(PlanRun.created_at.desc(), PlanRun.id)
                             .limit(limit)).all()
            return [run_json(r) for r in rows]

    return web.json_response({"plans": await runtime.run(load)})


def current_json(r: PlanRun) -> dict[str, Any]:
    """The adopted plan in force, judged against the naive lot-for-lot policy."""
    result = r.result if isinstance(r.result, dict) else {}
    return {**run_json(r), "naive_cost": result.get("naive_cost"),
            "operating_cost": (result.get("cost") or {}).get("operating"),
            "naive_operating_cost": result.get("naive_operating_cost"),
            "shortages": list(result.get("shortages") or []), "lines": len(r.lines)}


def latest_adopted(session: Any) -> PlanRun | None:
    return session.scalars(select(PlanRun).where(PlanRun.status == PlanRunStatus.ADOPTED)
                           .order_by(PlanRun.created_at.desc(), PlanRun.id).limit(1)).first()


@routes.get("/api/v1/plans/current")
async def current_plan(request: web.Request) -> web.Response:
    await require_role(request, "viewer")
    runtime = request.app[RUNTIME]

    def load() -> dict[str, Any] | None:
        with runtime.sessions() as s:
            run = latest_adopted(s)
            return current_json(run) if run is not None else None

    body = await runtime.run(load)
    if body is None:
        raise Problem(404, "no-plan", "No plan yet", "no plan has been adopted yet")
    return web.json_response(body)


@routes.get("/api/v1/plans/{id}")
async def plan_detail(request: web.Request) -> web.Response:
    await require_role(request, "viewer")
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]

    def load() -> dict[str, Any] | None:
        with runtime.sessions() as s:
            run = s.get(PlanRun, ident)
            return run_detail(s, run) if run is not None else None

    body = await runtime.run(load)
    if body is None:
        raise Problem(404, "not-found", "Not Found", f"no plan {ident}")
    return web.json_response(body)


@routes.get("/api/v1/approvals")
async def approval_queue(request: web.Request) -> web.Response:
    await require_role(request, "viewer")
    runtime = request.app[RUNTIME]

    def load() -> list[dict[str, Any]]:
        with runtime.sessions() as s:
            return [action_json(a) for a in queue(s)]

    return web.json_response({"approvals": await runtime.run(load)})


async def _decide(request: web.Request, verdict: str) -> web.Response:
    principal = await require_role(request, "operator")
    reason = await _reason(request, required=verdict == "reject")
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]
    enqueue = settings_enqueuer(runtime.settings)
    now = datetime.now(UTC)

    def act() -> dict[str, Any]:
        with runtime.sessions.begin() as s:
            if verdict == "approve":
                action = approve(s, ident, actor=principal.actor, reason=reason, now=now,
                                 enqueue=enqueue)
            else:
                action = reject(s, ident, actor=principal.actor, reason=reason, now=now)
            return action_json(action)

    try:
        body = await runtime.run(act)
    except DecisionError as exc:
        title = "Not Found" if exc.status == 404 else "Not waiting for approval"
        raise Problem(exc.status, "not-found" if exc.status == 404 else "not-waiting", title,
                      str(exc)) from None
    return web.json_response(body)


@routes.post("/api/v1/approvals/{id}/approve")
async def approve_action(request: web.Request) -> web.Response:
    return await _decide(request, "approve")


@routes.post("/api/v1/approvals/{id}/reject")
async def reject_action(request: web.Request) -> web.Response:
    return await _decide(request, "reject")


_REASON_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": {"reason": {"type": "string", "maxLength": MAX_REASON}}}}}}
_TRIGGER = {
    "type": "object", "description": "a disruption the run answers (its lineage)",
    "properties": {"kind": {"enum": ["order_cut", "order_late", "despatch_late",
                                     "order_change", "ack_overdue"]},
                   "partner": {"type": "string"}, "at": {"type": "string"},
                   "reason": {"type": "string"}, "event_id": {"type": "string"},
                   "outbox_id": {"type": "string"}}}
_ACTION = {"type": "object", "required": ["id", "status", "business_id"],
           "properties": {"id": {"type": "string"}, "status": {"type": "string"},
                          "business_id": {"type": "string"}, "value": {"type": "number"},
                          "reasons": {"type": "array", "items": {"type": "string"}}}}

_ALERT = {"type": "object", "required": ["part", "kind", "demand_at_risk"],
          "properties": {"part": {"type": "string"},
                         "kind": {"enum": ["no_supplier", "lead_time_beyond_horizon",
                                           "no_capacity"]},
                         "demand_at_risk": {"type": "integer"},
                         "first_short_period": {"type": ["integer", "null"]},
                         "message": {"type": "string"}}}

OPENAPI = {
    "/api/v1/plans": {
        "post": {
            "summary": "Run the planner now (operator); returns the run's summary",
            "operationId": "runPlan", "requestBody": _REASON_BODY,
            "responses": {"201": json_response("the plan run", {
                "type": "object", "required": ["id", "status", "held", "released"],
                "properties": {"id": {"type": "string"}, "status": {"type": "string"},
                               "held": {"type": "integer"}, "released": {"type": "integer"}}}),
                **problem_responses(400, 401, 403, 409, 503)}},
        "get": {
            "summary": "Plan runs, newest first (viewer)", "operationId": "listPlans",
            "parameters": [query_param("limit", "at most this many runs",
                                       {"type": "integer", "minimum": 1, "maximum": 500})],
            "responses": {"200": json_response("plan runs", {
                "type": "object", "required": ["plans"],
                "properties": {"plans": {"type": "array", "items": {"type": "object"}}}}),
                **problem_responses(400, 401, 403)}},
    },
    "/api/v1/plans/what-if": {"post": {
        "summary": "Plan the current state as it is and under disruption scenarios, side by "
                   "side; stores and sends nothing (operator)",
        "operationId": "planWhatIf",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["scenarios"],
            "properties": {"scenarios": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["kind"],
                "description": "outage, capacity_drop, lead_time and late_shipment name a "
                               "supplier of the network; demand_spike a part (or *); until "
                               "is not before start. Anything else is a 400 problem.",
                "properties": {
                    "kind": {"enum": ["outage", "capacity_drop", "lead_time", "demand_spike",
                                      "late_shipment"]},
                    "supplier": {"type": "string"}, "part": {"type": "string"},
                    "periods": {"type": "integer", "minimum": 0},
                    "factor": {"type": "number", "minimum": 0},
                    "start": {"type": "integer", "minimum": 0},
                    "until": {"type": ["integer", "null"], "minimum": 0}}}}}}}}},
        "responses": {"200": json_response("both plans side by side", {
            "type": "object", "required": ["current", "what_if", "orders_changed"],
            "properties": {"current": {"type": "object"}, "what_if": {"type": "object"},
                           "orders_changed": {"type": "array", "items": {"type": "object"}},
                           "suppliers_newly_loaded": {"type": "array",
                                                      "items": {"type": "string"}}}}),
            **problem_responses(400, 401, 403)}}},
    "/api/v1/plans/current": {"get": {
        "summary": "The adopted plan in force, with its cost against the naive policy (viewer)",
        "operationId": "currentPlan",
        "responses": {"200": json_response("the current plan", {
            "type": "object", "required": ["id", "cost"],
            "properties": {"id": {"type": "string"}, "cost": {"type": "number"},
                           "naive_cost": {"type": ["number", "null"]},
                           "stockouts": {"type": ["integer", "null"]},
                           "naive_stockouts": {"type": ["integer", "null"]},
                           "stockouts_avoided": {
                               "type": ["integer", "null"],
                               "description": "naive minus plan part-periods short; negative "
                                              "when the plan has more"},
                           "shortages_avoided": {"type": ["integer", "null"]},
                           "alerts": {"type": "array", "items": _ALERT},
                           "triggers": {"type": "array", "items": _TRIGGER}}}),
            **problem_responses(401, 403, 404)}}},
    "/api/v1/plans/{id}": {"get": {
        "summary": "A plan run with its inputs, parameters, result, explained lines and actions",
        "operationId": "getPlan", "parameters": [path_param("id", "plan run id")],
        "responses": {"200": json_response("the plan run"), **problem_responses(401, 403, 404)}}},
    "/api/v1/approvals": {"get": {
        "summary": "Plan actions waiting for approval (viewer)", "operationId": "listApprovals",
        "responses": {"200": json_response("the approval queue", {
            "type": "object", "required": ["approvals"],
            "properties": {"approvals": {"type": "array", "items": _ACTION}}}),
            **problem_responses(401, 403)}}},
    "/api/v1/approvals/{id}/approve": {"post": {
        "summary": "Approve a held plan action and queue its document (operator, audited)",
        "operationId": "approvePlanAction", "parameters": [path_param("id", "plan action id")],
        "requestBody": _REASON_BODY,
        "responses": {"200": json_response("the decided action", _ACTION),
                      **problem_responses(400, 401, 403, 404, 409)}}},
    "/api/v1/approvals/{id}/reject": {"post": {
        "summary": "Reject a held plan action with a reason (operator, audited)",
        "operationId": "rejectPlanAction", "parameters": [path_param("id", "plan action id")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["reason"], "properties": {"reason": {
                "type": "string", "minLength": 1, "maxLength": MAX_REASON,
                "pattern": "\\S"}}}}}},
        "responses": {"200": json_response("the decided action", _ACTION),
                      **problem_responses(400, 401, 403, 404, 409)}}},
}
