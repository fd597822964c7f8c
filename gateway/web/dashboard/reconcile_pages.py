"""Dashboard: reconciliation — stages per document type, agreement over time, the last and
next run with "run now", open disagreements each leading to both documents side by side, the
promote / roll back actions with their evidence, and the audit trail of stage changes (who,
when, why)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.states import Stage
from gateway.jobs.scheduler import SCHEDULER
from gateway.reconcile import stages
from gateway.reconcile.service import (
    RULE_ACTION,
    ReconcileError,
    aware,
    daily_stats,
    day_window,
    interchanges_of,
    open_results,
    partner_config,
    reconciled_types,
    result_json,
    rule_overrides,
    run_reconciliation,
    set_field_rule,
)
from gateway.storage.models import AuditEntry, Event, Partner, PartnerStage
from gateway.storage.models_reconciler import ReconcileResult, ReconcileRun
from gateway.storage.repositories import list_partners
from gateway.web.auth import Principal
from gateway.web.dashboard.charts import Series, line_chart
from gateway.web.dashboard.render import check_form, operator, render
from gateway.web.keys import RUNTIME
from reconciler import FIELD_RULE_KINDS, ConfigError, StageError, field_rule

routes = web.RouteTableDef()
DAYS = 30
AUDIT_ROWS = 30  # the latest stage decisions: enough to see how a stage came to be


def agreement_chart(rows: list[Any], today: Any) -> str:
    days = [(today - timedelta(days=DAYS - 1 - i)) for i in range(DAYS)]
    per: dict[str, dict[Any, float | None]] = defaultdict(dict)
    for r in rows:
        per[f"{r.partner_id} {r.document_type}"][r.day] = (
            None if r.agreement is None else round(r.agreement * 100, 2))
    series = [Series(name, [(d.strftime("%m-%d"), values.get(d)) for d in days])
              for name, values in sorted(per.items())] or [
        Series("no data", [(d.strftime("%m-%d"), None) for d in days])]
    return line_chart(series, title=f"Agreement per day, % (last {DAYS} days)", y_min=0,
                      y_max=100, chart_id="agreement", y_format="{:.0f}%")


def stage_audit(session: Session, limit: int = AUDIT_ROWS) -> list[dict[str, Any]]:
    """The latest stage decisions, refusals included: the page shows why a stage is what
    it is without a trip to the audit API."""
    rows = session.scalars(select(AuditEntry).where(
        AuditEntry.action.like("stage.%") | (AuditEntry.action == RULE_ACTION))
        .order_by(AuditEntry.id.desc()).limit(limit))
    return [{"at": aware(a.at).strftime("%Y-%m-%d %H:%M:%S"), "actor": a.actor,
             "action": a.action.removeprefix("stage.").replace(RULE_ACTION, "rule"),
             "partner_id": a.subject_id,
             "document_type": (a.details or {}).get("document_type", ""),
             "from": _rule_text(a, "previous") if a.action == RULE_ACTION
             else (a.details or {}).get("from", ""),
             "to": _rule_text(a, "rule") if a.action == RULE_ACTION
             else (a.details or {}).get("to", ""),
             "reason": a.reason} for a in rows]


def _rule_text(entry: AuditEntry, key: str) -> str:
    details = entry.details or {}
    spec = details.get(key)
    if not spec:
        return "none"
    try:
        return field_rule(str(details.get("field")), spec, "audit").describe()
    except ConfigError:
        return str(spec)


def dashboard_rules(session: Session) -> list[dict[str, Any]]:
    out = []
    for partner_id in sorted(set(session.scalars(select(AuditEntry.subject_id).where(
            AuditEntry.action == RULE_ACTION)))):
        for doc, fields in sorted(rule_overrides(session, partner_id).items()):
            for name, rule in sorted(fields.items()):
                if rule is not None:
                    out.append({"partner_id": partner_id, "document_type": doc, "field": name,
                                "describe": rule.describe()})
    return out


def _when(value: datetime | None) -> str:
    return aware(value).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def last_run(session: Session) -> dict[str, Any] | None:
    run = session.scalars(select(ReconcileRun).order_by(ReconcileRun.started_at.desc(),
                                                        ReconcileRun.id).limit(1)).first()
    if run is None:
        return None
    return {"at": _when(run.started_at), "trigger": run.trigger, "actor": run.actor,
            "partner_id": run.partner_id, "status": run.status}


def next_run(app: web.Application) -> str:
    """When this process's scheduler reconciles next ("" when it does not: jobs disabled,
    or another process runs them)."""
    scheduler = app.get(SCHEDULER)
    job = scheduler.get_job("reconcile") if scheduler is not None else None
    when = getattr(job, "next_run_time", None) if job is not None else None
    return _when(when) if isinstance(when, datetime) else ""


async def _page(request: web.Request, principal: Principal, *, status: int = 200,
                refusal: dict[str, Any] | None = None) -> web.Response:
    runtime = request.app[RUNTIME]
    now = datetime.now(UTC)
    ran = request.query.get("ran")

    def load() -> dict[str, Any]:
        with runtime.sessions() as s:
            rows = daily_stats(s, since=now.date() - timedelta(days=DAYS - 1))
            partners = []
            for p in list_partners(s):
                entries = []
                for st in sorted(p.stages, key=lambda x: x.document_type):
                    try:
                        decide = stages.shadow_check if st.stage == Stage.API else stages.preview
                        gate = decide(s, p.id, st.document_type, now=now).to_dict()
                        if st.stage == Stage.API:
                            gate["to_stage"] = None
                    except (StageError, ReconcileError) as exc:
                        gate = {"allowed": False, "reasons": [str(exc)], "to_stage": None}
                    entries.append({"document_type": st.document_type, "stage": st.stage,
                                    "gate": gate})
                partners.append({"id": p.id, "name": p.name, "stages": entries})
            return {"partners": partners, "chart": agreement_chart(rows, now.date()),
                    "open": [result_json(r) for r in open_results(s)],
                    "audit": stage_audit(s), "rules": dashboard_rules(s),
                    "last_run": last_run(s)}

    return render(request, "reconcile.html", principal=principal, status=status,
                  can_act=principal.has_role("operator"), refusal=refusal,
                  rule_kinds=FIELD_RULE_KINDS, next_run=next_run(request.app),
                  ran=int(ran) if ran and ran.isdigit() else None,
                  **(await runtime.run(load)))


@routes.get("/dashboard/reconciliation")
async def reconciliation_page(request: web.Request) -> web.Response:
    return await _page(request, await operator(request))


@routes.post("/dashboard/reconciliation/{id}/{document_type}/{action:(promote|rollback)}")
async def stage_action(request: web.Request) -> web.Response:
    principal, form = await check_form(request, "operator")
    runtime = request.app[RUNTIME]
    partner_id = request.match_info["id"]
    doc_type, action = request.match_info["document_type"], request.match_info["action"]
    reason = form.get("reason", "").strip()
    if not reason:
        raise web.HTTPBadRequest(text="a reason is required (it goes to the audit log)")
    change_fn = stages.promote if action == "promote" else stages.rollback
    now = datetime.now(UTC)

    def act() -> stages.StageChange:
        with runtime.sessions.begin() as s:
            return change_fn(s, partner_id, doc_type, actor=principal.actor, reason=reason,
                             now=now)

    try:
        change = await runtime.run(act)
    except (StageError, ReconcileError) as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    if not change.changed and change.decision is not None:
        # The page again, with the evidence that stopped the promotion on top: an operator
        # sees why (agreement, counts, the fields that disagree) without leaving the page.
        return await _page(request, principal, status=409, refusal={
            "partner_id": partner_id, "document_type": doc_type, "reason": reason,
            "run_id": change.run_id, **change.decision.to_dict()})
    raise web.HTTPSeeOther("/dashboard/reconciliation")


@routes.post("/dashboard/reconciliation/rules")
async def rule_action(request: web.Request) -> web.Response:
    """Set (or remove) one field rule from the dashboard's form; audited with who and why."""
    principal, form = await check_form(request, "operator")
    runtime = request.app[RUNTIME]
    reason = form.get("reason", "").strip()
    if not reason:
        raise web.HTTPBadRequest(text="a reason is required (it goes to the audit log)")
    partner_id, name = form.get("partner", ""), form.get("field", "").strip()
    doc = form.get("document_type", "").strip() or "*"
    compare = form.get("compare", "")
    spec: dict[str, Any] | None = None
    if compare != "remove":
        spec = {"compare": compare}
        for key, kind in (("abs", float), ("rel", float), ("days", int)):
            raw = form.get(key, "").strip()
            if raw:
                try:
                    spec[key] = kind(raw)
                except ValueError:
                    raise web.HTTPBadRequest(text=f"{key}: expected a number, got {raw!r}") \
                        from None
    now = datetime.now(UTC)

    def act() -> None:
        with runtime.sessions.begin() as s:
            set_field_rule(s, partner_id, doc, name, spec, actor=principal.actor,
                           reason=reason, now=now)

    try:
        await runtime.run(act)
    except ReconcileError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPSeeOther("/dashboard/reconciliation")


def reconcile_now(session: Session, *, partner_id: str | None, actor: str,
                  now: datetime) -> list[str]:
    """One run per partner with a type in ``dual`` (or in ``api`` with its EDI shadow), over
    its gate window up to today; returns the run ids."""
    query = select(PartnerStage.partner_id).where(PartnerStage.stage.in_((Stage.DUAL, Stage.API)))
    if partner_id:
        query = query.where(PartnerStage.partner_id == partner_id)
    runs = []
    for pid in sorted(set(session.scalars(query))):
        partner = session.get(Partner, pid)
        if partner is None:
            continue
        config = partner_config(partner, session)
        types = {st.document_type for st in partner.stages}
        if not reconciled_types(session, pid, sorted(types), shadow=True):
            continue
        days = max([config.gate.window_days,
                    *(g.window_days for g in config.gate_per_type.values())])
        window = day_window(now.date() - timedelta(days=days - 1), now.date())
        runs.append(run_reconciliation(session, pid, window, as_of=now, trigger="manual",
                                       actor=actor, shadow=True).id)
    return runs


@routes.post("/dashboard/reconciliation/run")
async def run_now(request: web.Request) -> web.Response:
    """"Run now": reconcile every partner being compared (or the one chosen), then back to
    the page with how many runs were made (post/redirect/get: a reload does not run again)."""
    principal, form = await check_form(request, "operator")
    runtime = request.app[RUNTIME]
    partner_id = form.get("partner", "").strip() or None
    now = datetime.now(UTC)

    def act() -> list[str]:
        with runtime.sessions.begin() as s:
            return reconcile_now(s, partner_id=partner_id, actor=principal.actor, now=now)

    try:
        runs = await runtime.run(act)
    except ReconcileError as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    raise web.HTTPSeeOther(f"/dashboard/reconciliation?ran={len(runs)}")


def _flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """Leaf paths as the reconciler names them (``lines[2].quantity``) -> value."""
    found: dict[str, Any] = {} if out is None else out
    if isinstance(value, dict):
        for key in sorted(value):
            _flatten(value[key], f"{prefix}.{key}" if prefix else str(key), found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", found)
    else:
        found[prefix] = value
    return found


def side_by_side(edi: dict[str, Any] | None, api: dict[str, Any] | None,
                 differences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """First the reconciler's differences (its paths name list elements by their key,
    ``lines[10]`` = line number 10, with both values as compared), then every leaf field of
    either copy by position, so the whole of both documents can be read across."""
    rows = [{"path": str(d.get("path", "")), "edi": d.get("edi"), "api": d.get("api"),
             "in_edi": d.get("edi") is not None, "in_api": d.get("api") is not None,
             "flag": str(d.get("kind") or d.get("rule") or "difference")}
            for d in differences]
    left, right = _flatten(edi or {}), _flatten(api or {})
    for path in sorted(set(left) | set(right)):
        rows.append({"path": path, "edi": left.get(path), "api": right.get(path),
                     "in_edi": path in left, "in_api": path in right,
                     "flag": "" if left.get(path) == right.get(path) or path not in left
                     or path not in right else "differs"})
    return rows


@routes.get("/dashboard/reconciliation/results/{id:\\d+}")
async def result_page(request: web.Request) -> web.Response:
    """One disagreement: the EDI and the API copy side by side, each linking on to its
    lineage (and the EDI copy to its interchange and raw bytes)."""
    principal = await operator(request)
    runtime = request.app[RUNTIME]
    result_id = int(request.match_info["id"])

    def load() -> dict[str, Any] | None:
        with runtime.sessions() as s:
            row = s.get(ReconcileResult, result_id)
            if row is None:
                return None
            result = result_json(row, interchanges_of(s, [row.edi_event_id]))
            copies: dict[str, dict[str, Any] | None] = {}
            data: dict[str, dict[str, Any] | None] = {}
            for side, event_id in (("edi", row.edi_event_id), ("api", row.api_event_id)):
                event = s.get(Event, event_id) if event_id else None
                data[side] = None if event is None else (event.data or {})
                copies[side] = None if event is None else {
                    "id": event.id, "time": _when(event.time),
                    "recorded_at": _when(event.recorded_at)}
            return {"result": result, "copies": copies, "rows": side_by_side(
                data["edi"], data["api"], list(row.differences or []))}

    found = await runtime.run(load)
    if found is None:
        raise web.HTTPNotFound(text=f"no reconciliation result {result_id}")
    return render(request, "reconcile_pair.html", principal=principal, **found)
