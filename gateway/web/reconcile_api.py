"""Reconciliation reports (JSON and CSV) and strangler stage changes over HTTP.

Reads take a partner token (own data only) or an operator token; starting a run and changing a
stage need the operator role, and a stage change needs a reason (it goes to the audit log).
Add ``?format=csv`` (or ``Accept: text/csv``) to any report for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.domain.states import Stage
from gateway.domain.timestamps import api_timestamp
from gateway.reconcile import stages
from gateway.reconcile.service import (
    ReconcileError,
    daily_stats,
    day_window,
    latest_runs,
    open_results,
    partner_report,
    results_json,
    rule_changes,
    rule_overrides,
    run_json,
    run_reconciliation,
    set_field_rule,
)
from gateway.storage.models import Partner
from gateway.storage.models_reconciler import ReconcileResult, ReconcileRun
from gateway.web.auth import require_any, require_role, visible_partner
from gateway.web.keys import RUNTIME
from gateway.web.openapi import (
    REASON_SCHEMA,
    json_response,
    path_param,
    problem_responses,
    query_param,
)
from gateway.web.problems import Problem
from gateway.web.reasons import read_reason
from reconciler import FIELD_RULE_KINDS, Outcome, StageError

routes = web.RouteTableDef()
MAX_LIMIT = 1000
# Optional: what "now" is for runs and gates (tests and replays of past days set it).
CLOCK = web.AppKey("reconcile_clock", Callable[[], datetime])


def _now(request: web.Request) -> datetime:
    clock = request.app.get(CLOCK)
    return clock() if clock is not None else datetime.now(UTC)


def _wants_csv(request: web.Request) -> bool:
    fmt = request.query.get("format", "")
    if fmt not in ("", "json", "csv"):
        raise Problem(400, "bad-format", "Bad format", f"format must be json or csv, not {fmt!r}")
    return fmt == "csv" or (not fmt and "text/csv" in request.headers.get("Accept", ""))


def csv_response(rows: list[dict[str, Any]], columns: list[str], name: str) -> web.Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore",
                            lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else
                         ("" if v is None else v) for k, v in row.items()})
    return web.Response(text=buffer.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _date(request: web.Request, name: str) -> date | None:
    raw = request.query.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Problem(400, "bad-date", "Bad date",
                      f"{name} must be a date like 2024-03-04, not {raw!r}") from None


def _limit(request: web.Request, default: int = 100) -> int:
    raw = request.query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise Problem(400, "bad-limit", "Bad limit", f"limit must be 1..{MAX_LIMIT}")
    return int(raw)


def _outcome(request: web.Request) -> str | None:
    raw = request.query.get("outcome", "")
    if raw and raw not in {o.value for o in Outcome}:
        raise Problem(400, "bad-outcome", "Bad outcome",
                      f"outcome must be one of {', '.join(o.value for o in Outcome)}")
    return raw or None


RUN_COLUMNS = ["id", "partner_id", "trigger", "actor", "status", "as_of", "events",
               "agreement", "counts", "document_types"]
RESULT_COLUMNS = ["id", "run_id", "partner_id", "document_type", "business_key", "day",
                  "outcome", "edi_event_id", "api_event_id", "duplicate_of", "delay_seconds",
                  "note", "differences"]
DIFF_COLUMNS = ["partner_id", "document_type", "business_key", "day", "outcome", "path", "edi",
                "api", "rule", "edi_event_id", "api_event_id", "run_id"]
STATS_COLUMNS = ["partner_id", "document_type", "day", "total", "decided", "agreement",
                 *[o.value for o in Outcome], "top_fields"]


@routes.get("/api/v1/reconciliation/runs")
async def list_runs(request: web.Request) -> web.Response:
    principal = await require_any(request)
    partner = visible_partner(principal, request.query.get("partner") or None)
    limit = _limit(request)
    as_csv = _wants_csv(request)
    runtime = request.app[RUNTIME]

    def load() -> list[dict[str, Any]]:
        with runtime.sessions() as s:
            return [run_json(r) for r in latest_runs(s, partner, limit)]

    runs = await runtime.run(load)
    if as_csv:
        return csv_response([{**r, "as_of": r["as_of"]} for r in runs], RUN_COLUMNS, "runs")
    return web.json_response({"runs": runs})


@routes.post("/api/v1/reconciliation/runs")
async def start_run(request: web.Request) -> web.Response:
    principal = await require_role(request, "operator")
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "invalid-json", "Invalid JSON", "send a JSON object") from None
    if not isinstance(body, dict) or not isinstance(body.get("partner"), str):
        raise Problem(400, "bad-request", "Bad request",
                      'send {"partner": "<id>", "since": "YYYY-MM-DD", "until": "YYYY-MM-DD"}')
    now = _now(request)
    try:
        since = date.fromisoformat(str(body.get("since") or now.date().isoformat()))
        until = date.fromisoformat(str(body.get("until") or now.date().isoformat()))
    except ValueError:
        raise Problem(400, "bad-date", "Bad date",
                      "since/until must be dates like 2024-03-04") from None
    doc_type = body.get("document_type")
    runtime = request.app[RUNTIME]

    def work() -> dict[str, Any]:
        with runtime.sessions.begin() as s:
            run = run_reconciliation(s, body["partner"], day_window(since, until), as_of=now,
                                     trigger="api", actor=principal.actor,
                                     document_type=doc_type if isinstance(doc_type, str)
                                     else None)
            return run_json(run)

    try:
        run = await runtime.run(work)
    except ReconcileError as exc:
        if str(exc).startswith("no partner"):
            raise Problem(404, "not-found", "Not found", str(exc)) from None
        raise Problem(422, "cannot-reconcile", "Cannot reconcile", str(exc)) from None
    return web.json_response(run, status=201)


async def _visible_run(request: web.Request) -> tuple[str, str | None]:
    principal = await require_any(request)
    ident = request.match_info["id"]
    runtime = request.app[RUNTIME]

    def owner() -> str | None:
        with runtime.sessions() as s:
            return s.scalar(select(ReconcileRun.partner_id).where(ReconcileRun.id == ident))

    partner = await runtime.run(owner)
    if partner is None or (principal.partner_id and principal.partner_id != partner):
        raise Problem(404, "not-found", "Not found", f"no reconciliation run {ident}")
    return ident, partner


@routes.get("/api/v1/reconciliation/runs/{id}")
async def get_run(request: web.Request) -> web.Response:
    ident, _ = await _visible_run(request)
    runtime = request.app[RUNTIME]

    def load() -> dict[str, Any]:
        with runtime.sessions() as s:
            run = s.get(ReconcileRun, ident)
            assert run is not None
            return run_json(run)

    return web.json_response(await runtime.run(load))


@routes.get("/api/v1/reconciliation/runs/{id}/results")
async def run_results(request: web.Request) -> web.Response:
    ident, _ = await _visible_run(request)
    outcome = _outcome(request)
    as_csv = _wants_csv(request)
    runtime = request.app[RUNTIME]

    def load() -> list[dict[str, Any]]:
        query = select(ReconcileResult).where(ReconcileResult.run_id == ident) \
            .order_by(ReconcileResult.id)
        if outcome:
            query = query.where(ReconcileResult.outcome == outcome)
        with runtime.sessions() as s:
            return results_json(s, list(s.scalars(query)))

    rows = await runtime.run(load)
    if as_csv:
        return csv_response(rows, RESULT_COLUMNS, f"results-{ident}")
    return web.json_response({"run_id": ident, "results": rows,
                              "note": "matches are counted in the run, not listed"})


@routes.get("/api/v1/reconciliation/differences")
async def differences(request: web.Request) -> web.Response:
    principal = await require_any(request)
    partner = visible_partner(principal, request.query.get("partner") or None)
    as_csv = _wants_csv(request)
    runtime = request.app[RUNTIME]

    def load() -> list[dict[str, Any]]:
        with runtime.sessions() as s:
            return results_json(s, open_results(s, partner))

    results = await runtime.run(load)
    if as_csv:
        flat = [{**r, **d} for r in results for d in (r["differences"] or [
            {"path": "", "edi": None, "api": None, "rule": r["note"]}])]
        return csv_response(flat, DIFF_COLUMNS, "differences")
    return web.json_response({"open": results})


@routes.get("/api/v1/reconciliation/statistics")
async def statistics(request: web.Request) -> web.Response:
    principal = await require_any(request)
    partner = visible_partner(principal, request.query.get("partner") or None)
    doc_type = request.query.get("document_type") or None
    since, until = _date(request, "since"), _date(request, "until")
    as_csv = _wants_csv(request)
    runtime = request.app[RUNTIME]

    def load() -> list[dict[str, Any]]:
        with runtime.sessions() as s:
            return [r.to_dict() for r in daily_stats(s, partner_id=partner,
                                                     document_type=doc_type, since=since,
                                                     until=until)]

    rows = await runtime.run(load)
    if as_csv:
        return csv_response([{**r, **r["counts"]} for r in rows], STATS_COLUMNS, "statistics")
    return web.json_response({"statistics": rows})


@routes.get("/api/v1/reconciliation/report")
async def report(request: web.Request) -> web.Response:
    """One partner's actionable report: classes, fields with examples, coverage, trend,
    and what each document type's gate still needs."""
    principal = await require_any(request)
    partner = visible_partner(principal, request.query.get("partner") or None)
    if not partner:
        raise Problem(400, "bad-request", "Bad request", "partner is required")
    since, until = _date(request, "since"), _date(request, "until")
    runtime = request.app[RUNTIME]
    now = _now(request)

    def load() -> dict[str, Any] | None:
        with runtime.sessions() as s:
            found = s.get(Partner, partner)
            if found is None:
                return None
            out = partner_report(s, partner, since=since, until=until)
            gates: dict[str, Any] = {}
            for row in sorted(found.stages, key=lambda r: r.document_type):
                try:
                    decision = stages.shadow_check(s, partner, row.document_type, now=now) \
                        if row.stage == Stage.API else stages.preview(s, partner,
                                                                  row.document_type, now=now)
                    gates[row.document_type] = {"stage": row.stage, **decision.to_dict()}
                except (StageError, ReconcileError) as exc:
                    gates[row.document_type] = {"stage": row.stage, "allowed": False,
                                                "reasons": [str(exc)], "missing": [str(exc)]}
            out["gates"] = gates
            return out

    found = await runtime.run(load)
    if found is None:
        raise Problem(404, "not-found", "Not found", f"no partner {partner}")
    return web.json_response(found)


def _rule_json(partner_id: str, doc: str, name: str, rule: Any) -> dict[str, Any]:
    return {"partner_id": partner_id, "document_type": doc, "field": name,
            "rule": rule.to_dict() if rule is not None else None}


@routes.get("/api/v1/reconciliation/rules")
async def list_rules(request: web.Request) -> web.Response:
    """The field rules operators set (the profile's own are in its ``[reconcile]`` section),
    with the audited history of changes."""
    principal = await require_any(request)
    partner = visible_partner(principal, request.query.get("partner") or None)
    if not partner:
        raise Problem(400, "bad-request", "Bad request", "partner is required")
    runtime = request.app[RUNTIME]

    def load() -> dict[str, Any]:
        with runtime.sessions() as s:
            rules = [_rule_json(partner, doc, name, rule)
                     for doc, fields in sorted(rule_overrides(s, partner).items())
                     for name, rule in sorted(fields.items()) if rule is not None]
            history = [{"at": api_timestamp(a.at), "actor": a.actor, "reason": a.reason,
                        **(a.details or {})} for a in rule_changes(s, partner)]
            return {"partner_id": partner, "rules": rules, "history": history}

    return web.json_response(await runtime.run(load))


@routes.post("/api/v1/reconciliation/rules")
async def set_rule(request: web.Request) -> web.Response:
    """Set or remove (``"rule": null``) one field rule; operator only, reason required."""
    principal = await require_role(request, "operator")
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "invalid-json", "Invalid JSON", "send a JSON object") from None
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body.get(k)
                                             for k in ("partner", "field", "reason")):
        raise Problem(400, "bad-request", "Bad request",
                      'send {"partner": "<id>", "document_type": "invoice", "field": '
                      '"lines.amount", "rule": {"compare": "number", "abs": 0.01}, '
                      '"reason": "..."}')
    rule = body.get("rule")
    if rule is not None and not isinstance(rule, dict | str):
        raise Problem(400, "bad-request", "Bad request", "rule: a table or null")
    doc = str(body.get("document_type") or "*")
    runtime = request.app[RUNTIME]
    now = _now(request)

    def work() -> dict[str, Any]:
        with runtime.sessions.begin() as s:
            found = set_field_rule(s, body["partner"], doc, body["field"], rule,
                                   actor=principal.actor, reason=body["reason"], now=now)
            return _rule_json(body["partner"], doc, body["field"], found)

    try:
        return web.json_response(await runtime.run(work))
    except ReconcileError as exc:
        if str(exc).startswith("no partner"):
            raise Problem(404, "not-found", "Not found", str(exc)) from None
        raise Problem(422, "bad-rule", "Rule not accepted", str(exc)) from None


@routes.get("/api/v1/partners/{id}/stages")
async def partner_stages(request: web.Request) -> web.Response:
    principal = await require_any(request)
    partner_id = visible_partner(principal, request.match_info["id"]) or ""
    runtime = request.app[RUNTIME]
    now = _now(request)

    def load() -> dict[str, Any] | None:
        with runtime.sessions() as s:
            partner = s.get(Partner, partner_id)
            if partner is None:
                return None
            out: dict[str, Any] = {}
            for row in sorted(partner.stages, key=lambda r: r.document_type):
                entry: dict[str, Any] = {"stage": row.stage,
                                         "changed_at": api_timestamp(row.changed_at),
                                         "changed_by": row.changed_by}
                try:
                    entry["promotion"] = stages.preview(s, partner_id, row.document_type,
                                                        now=now).to_dict()
                except (StageError, ReconcileError) as exc:
                    entry["promotion"] = {"allowed": False, "reasons": [str(exc)]}
                out[row.document_type] = entry
            return {"partner_id": partner_id, "stages": out}

    found = await runtime.run(load)
    if found is None:
        raise Problem(404, "not-found", "Not found", f"no partner {partner_id}")
    return web.json_response(found)


async def _stage_change(request: web.Request, action: str) -> web.Response:
    principal = await require_role(request, "operator")
    partner_id, doc_type = request.match_info["id"], request.match_info["document_type"]
    reason = await read_reason(request, required=True,
                               why="a stage change needs a reason; it goes to the audit log")
    runtime = request.app[RUNTIME]
    now = _now(request)
    change_fn = stages.promote if action == "promote" else stages.rollback

    def work() -> stages.StageChange:
        with runtime.sessions.begin() as s:
            return change_fn(s, partner_id, doc_type, actor=principal.actor, reason=reason,
                             now=now)

    try:
        change = await runtime.run(work)
    except ReconcileError as exc:
        raise Problem(404, "not-found", "Not found", str(exc)) from None
    except StageError as exc:
        raise Problem(409, "stage-conflict", "Stage change not possible", str(exc)) from None
    if not change.changed:
        decision = change.decision
        raise Problem(409, "gate-refused", "Promotion refused by the cut-over gate",
                      "; ".join(decision.reasons) if decision else "",
                      evidence=decision.to_dict() if decision else None,
                      run_id=change.run_id)
    return web.json_response(change.to_dict())


@routes.post("/api/v1/partners/{id}/stages/{document_type}/promote")
async def promote(request: web.Request) -> web.Response:
    return await _stage_change(request, "promote")


@routes.post("/api/v1/partners/{id}/stages/{document_type}/rollback")
async def rollback(request: web.Request) -> web.Response:
    return await _stage_change(request, "rollback")


_CSV = {"text/csv": {"schema": {"type": "string"}}}
_FORMAT = query_param("format", "json (default) or csv", {"type": "string",
                                                          "enum": ["json", "csv"]})
_PARTNER = query_param("partner", "partner id (a partner token sees only itself)",
                       {"type": "string"})
_FIELD_NAME = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[^\[\]]+$",
               "description": "a field name without element keys, like lines.amount"}
_RULE_REASON = {"type": "string", "maxLength": 500}
_RULE_SCHEMA = {"description": "the rule, its compare kind alone, or null to remove it",
                "oneOf": [
    {"type": "null"},
    {"type": "string", "enum": list(FIELD_RULE_KINDS)},
    {"type": "object", "additionalProperties": False, "required": ["compare"],
     "properties": {"compare": {"const": "number"},
                    "abs": {"type": "number", "minimum": 0, "maximum": 1e12},
                    "rel": {"type": "number", "minimum": 0, "maximum": 1},
                    "reason": _RULE_REASON}},
    {"type": "object", "additionalProperties": False, "required": ["compare"],
     "properties": {"compare": {"const": "date"},
                    "days": {"type": "integer", "minimum": 0, "maximum": 366},
                    "reason": _RULE_REASON}},
    {"type": "object", "additionalProperties": False, "required": ["compare"],
     "properties": {"compare": {"enum": ["ignore", "text", "set"]},
                    "reason": _RULE_REASON}}]}
_REQUIRED_PARTNER = {**query_param("partner", "partner id (a partner token: its own)",
                                   {"type": "string", "minLength": 1}), "required": True}
_REASON_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["reason"],
    "properties": {"reason": REASON_SCHEMA}}}}}


def _report(summary: str, op: str, params: list[dict[str, Any]],
            codes: tuple[int, ...] = (400, 401, 403)) -> dict[str, Any]:
    ok = json_response(summary)
    ok["content"].update(_CSV)
    return {"get": {"summary": summary, "operationId": op, "parameters": params,
                    "responses": {"200": ok, **problem_responses(*codes)}}}


OPENAPI = {
    "/api/v1/reconciliation/runs": {
        **_report("Reconciliation runs, newest first", "listReconcileRuns",
                  [_PARTNER, _FORMAT, query_param("limit", "at most this many",
                                                  {"type": "integer", "minimum": 1,
                                                   "maximum": MAX_LIMIT})]),
        "post": {
            "summary": "Reconcile one partner over whole UTC days now (operator)",
            "operationId": "startReconcileRun",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["partner"],
                "properties": {"partner": {"type": "string"},
                               "since": {"type": "string", "format": "date"},
                               "until": {"type": "string", "format": "date"},
                               "document_type": {"type": "string"}}}}}},
            "responses": {"201": json_response("the stored run"),
                          **problem_responses(400, 401, 403, 404, 422)}},
    },
    "/api/v1/reconciliation/runs/{id}": {"get": {
        "summary": "One reconciliation run with its counts", "operationId": "getReconcileRun",
        "parameters": [path_param("id", "run id")],
        "responses": {"200": json_response("the run"), **problem_responses(401, 404)}}},
    "/api/v1/reconciliation/runs/{id}/results": _report(
        "The run's results that are not plain matches", "getReconcileResults",
        [path_param("id", "run id"), _FORMAT,
         query_param("outcome", "only this outcome", {"type": "string",
                                                       "enum": [o.value for o in Outcome]})],
        (400, 401, 404)),
    "/api/v1/reconciliation/differences": _report(
        "Open disagreements of each partner's latest run, with field differences",
        "getReconcileDifferences", [_PARTNER, _FORMAT]),
    "/api/v1/reconciliation/statistics": _report(
        "Agreement per partner, document type and day", "getReconcileStatistics",
        [_PARTNER, _FORMAT, query_param("document_type", "one document type",
                                        {"type": "string"}),
         query_param("since", "first day", {"type": "string", "format": "date"}),
         query_param("until", "last day", {"type": "string", "format": "date"})]),
    "/api/v1/reconciliation/report": {"get": {
        "summary": "One partner's actionable report: classes, fields with example pairs, "
                   "coverage per path, trend per day, and what each gate still needs",
        "operationId": "getReconcileReport",
        "parameters": [_REQUIRED_PARTNER,
                       query_param("since", "first day", {"type": "string", "format": "date"}),
                       query_param("until", "last day", {"type": "string", "format": "date"})],
        "responses": {"200": json_response("the report"),
                      **problem_responses(400, 401, 403, 404)}}},
    "/api/v1/reconciliation/rules": {
        "get": {"summary": "Field rules set by operators, with their audited history",
                "operationId": "listReconcileRules",
                "parameters": [_REQUIRED_PARTNER],
                "responses": {"200": json_response("rules and history"),
                              **problem_responses(400, 401, 403)}},
        "post": {"summary": "Set or remove one field rule (operator; audited with the reason)",
                 "operationId": "setReconcileRule",
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object",
                                "required": ["partner", "field", "reason"],
                                "properties": {
                                    "partner": {"type": "string", "minLength": 1},
                                    "document_type": {"type": "string"},
                                    "field": _FIELD_NAME,
                                    "rule": _RULE_SCHEMA,
                                    "reason": REASON_SCHEMA}}}}},
                 "responses": {"200": json_response("the rule now in force"),
                               **problem_responses(400, 401, 403, 404, 422)}}},
    "/api/v1/partners/{id}/stages": {"get": {
        "summary": "Stages per document type with what a promotion would decide now",
        "operationId": "getPartnerStages", "parameters": [path_param("id", "partner id")],
        "responses": {"200": json_response("stages and gate previews"),
                      **problem_responses(401, 403, 404)}}},
    "/api/v1/partners/{id}/stages/{document_type}/promote": {"post": {
        "summary": "Promote one stage (edi -> dual -> api); dual -> api must pass the gate",
        "operationId": "promoteStage",
        "parameters": [path_param("id", "partner id"),
                       path_param("document_type", "document type or *")],
        "requestBody": _REASON_BODY,
        "responses": {"200": json_response("promoted, with the gate evidence"),
                      **problem_responses(400, 401, 403, 404, 409)}}},
    "/api/v1/partners/{id}/stages/{document_type}/rollback": {"post": {
        "summary": "Roll back one stage; always allowed, always audited",
        "operationId": "rollbackStage",
        "parameters": [path_param("id", "partner id"),
                       path_param("document_type", "document type or *")],
        "requestBody": _REASON_BODY,
        "responses": {"200": json_response("rolled back"),
                      **problem_responses(400, 401, 403, 404, 409)}}},
}
