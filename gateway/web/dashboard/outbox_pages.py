"""Dashboard: the outbox — what we owe partners, how delivery and acknowledgments stand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from gateway.domain.states import AckStatus
from gateway.search.paging import newest_first, split
from gateway.storage.models import OutboxItem, Partner
from gateway.storage.repositories import append_audit
from gateway.web.dashboard.charts import bar_chart
from gateway.web.dashboard.pages import cursor_param, page_links
from gateway.web.dashboard.render import check_form, flash_redirect, operator, render
from gateway.web.keys import RUNTIME
from gateway.web.outbox_api import STATUSES

routes = web.RouteTableDef()
ACK_STATES = ("expected", "accepted", "accepted_with_errors", "rejected", "overdue")
PAGE = 100
# Bars coloured by meaning, not by position: delivered/accepted green, failures red, waiting
# grey or amber.
GREEN, RED, AMBER, GREY = "#16a34a", "#dc2626", "#d97706", "#9ca3af"
STATUS_COLOURS = {"pending": GREY, "sending": AMBER, "sent": GREEN, "failed": AMBER,
                  "dead": RED, "cancelled": GREY}
ACK_COLOURS = {"expected": GREY, "accepted": GREEN, "accepted_with_errors": AMBER,
               "rejected": RED, "overdue": RED}
# What each action may change, from which statuses.
ACTIONS = {"retry": (("dead", "failed", "cancelled"), "pending"),
           "cancel": (("pending", "dead", "failed"), "cancelled"),
           # Sent but its acknowledgment is overdue: send the same bytes again (the dispatcher
           # expects a new acknowledgment when it sends).
           "resend": (("sent",), "pending")}
FILTERS = ("status", "partner", "document_type", "ack", "id")


@routes.get("/dashboard/outbox")
async def outbox_page(request: web.Request) -> web.Response:
    principal = await operator(request)
    runtime = request.app[RUNTIME]
    chosen = {k: request.query.get(k, "") for k in FILTERS}
    after = cursor_param(request)

    def load() -> dict[str, Any]:
        with runtime.sessions() as s:
            by_status = dict(s.execute(select(OutboxItem.status, func.count())
                                       .group_by(OutboxItem.status)).all())
            by_ack = dict(s.execute(select(OutboxItem.ack_status, func.count())
                                    .group_by(OutboxItem.ack_status)).all())
            query = select(OutboxItem)
            for column, key in ((OutboxItem.status, "status"),
                                (OutboxItem.partner_id, "partner"),
                                (OutboxItem.document_type, "document_type"),
                                (OutboxItem.ack_status, "ack"), (OutboxItem.id, "id")):
                if chosen[key]:
                    query = query.where(column == chosen[key])
            query = newest_first(query, OutboxItem.created_at, OutboxItem.id, after, PAGE)
            rows, cursor = split(list(s.scalars(query)), PAGE, lambda r: (r.created_at, r.id))
            types = s.scalars(select(OutboxItem.document_type).distinct()
                              .order_by(OutboxItem.document_type)).all()
            partners = s.scalars(select(Partner.id).order_by(Partner.id)).all()
        return {
            "rows": rows, "pages": page_links(request, cursor), "types": types,
            "partner_ids": partners,
            "status_chart": bar_chart([(k, by_status.get(k, 0)) for k in STATUSES],
                                      title="Outbox rows by status", chart_id="outbox-status",
                                      colours=[STATUS_COLOURS[k] for k in STATUSES]),
            "ack_chart": bar_chart([(k, by_ack.get(k, 0)) for k in ACK_STATES],
                                   title="Acknowledgments of what we sent",
                                   chart_id="outbox-acks",
                                   colours=[ACK_COLOURS[k] for k in ACK_STATES]),
        }

    return render(request, "outbox.html", principal=principal, statuses=STATUSES,
                  request_path_qs=request.path_qs,
                  ack_states=ACK_STATES, chosen=chosen, can_act=principal.has_role("operator"),
                  **(await runtime.run(load)))


def _apply(runtime: Any, ids: list[str], action: str, actor: str, reason: str) -> list[str]:
    """Change each row that may change; the ids that could not (wrong status, gone)."""
    allowed, to = ACTIONS[action]
    now = datetime.now(UTC)
    refused: list[str] = []
    with runtime.sessions.begin() as s:
        for ident in ids:
            row = s.get(OutboxItem, ident)
            if row is None or row.status not in allowed or (
                    action == "resend" and row.ack_status != AckStatus.OVERDUE):
                refused.append(ident)
                continue
            row.status, row.updated_at = to, now
            if to == "pending":
                row.attempts, row.next_attempt_at = 0, now
            append_audit(s, at=now, actor=actor, action=f"outbox.{to}",
                         subject_type="outbox", subject_id=ident, reason=reason)
    return refused


def _back(form: dict[str, str]) -> str:
    target = form.get("back", "")
    return target if target.startswith("/dashboard/outbox") else "/dashboard/outbox"


@routes.post("/dashboard/outbox/{id}/{action:(retry|cancel|resend)}")
async def outbox_action(request: web.Request) -> web.Response:
    principal, form = await check_form(request, "operator")
    runtime = request.app[RUNTIME]
    ident, action = request.match_info["id"], request.match_info["action"]
    reason = form.get("reason", "").strip()
    if not reason:
        raise web.HTTPBadRequest(text="a reason is required (it goes to the audit log)")
    refused = await runtime.run(_apply, runtime, [ident], action, principal.actor, reason)
    if refused:
        raise flash_redirect(_back(form), f"Row {ident[:8]} cannot be set to "
                             f"{ACTIONS[action][1]}: its status changed meanwhile.",
                             level="bad")
    raise flash_redirect(_back(form), f"Row {ident[:8]}: {action} done (audited: {reason}).")


@routes.post("/dashboard/outbox/bulk")
async def outbox_bulk(request: web.Request) -> web.Response:
    principal, form = await check_form(request, "operator")
    runtime = request.app[RUNTIME]
    data = await request.post()
    ids = [str(v) for v in data.getall("ids", [])]
    action = form.get("action", "")
    reason = form.get("reason", "").strip()
    if action not in ACTIONS or not ids or not reason:
        raise flash_redirect(_back(form), "Choose rows, an action and a reason.", level="bad")
    refused = await runtime.run(_apply, runtime, ids, action, principal.actor, reason)
    done = len(ids) - len(refused)
    text = f"{action}: {done} of {len(ids)} row(s) done (audited: {reason})."
    if refused:
        text += f" {len(refused)} skipped: their status does not allow it."
    raise flash_redirect(_back(form), text, level="bad" if refused and not done else "ok")
