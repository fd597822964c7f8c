"""Dashboard: the outbox — what we owe partners, how delivery and acknowledgments stand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from gateway.domain.states import OutboxStatus
from gateway.storage.models import OutboxItem
from gateway.storage.repositories import append_audit
from gateway.web.dashboard.charts import bar_chart
from gateway.web.dashboard.render import check_form, operator, render
from gateway.web.keys import RUNTIME
from gateway.web.outbox_api import STATUSES

routes = web.RouteTableDef()
ACK_STATES = ("expected", "accepted", "accepted_with_errors", "rejected", "overdue")


@routes.get("/dashboard/outbox")
async def outbox_page(request: web.Request) -> web.Response:
    principal = await operator(request)
    runtime = request.app[RUNTIME]
    status = request.query.get("status", "")

    def load() -> dict[str, Any]:
        with runtime.sessions() as s:
            by_status = dict(s.execute(select(OutboxItem.status, func.count())
                                       .group_by(OutboxItem.status)).all())
            by_ack = dict(s.execute(select(OutboxItem.ack_status, func.count())
                                    .group_by(OutboxItem.ack_status)).all())
            query = select(OutboxItem).order_by(OutboxItem.updated_at.desc()).limit(200)
            if status:
                query = query.where(OutboxItem.status == status)
            rows = s.scalars(query).all()
        return {
            "rows": rows,
            "status_chart": bar_chart([(k, by_status.get(k, 0)) for k in STATUSES],
                                      title="Outbox rows by status", chart_id="outbox-status"),
            "ack_chart": bar_chart([(k, by_ack.get(k, 0)) for k in ACK_STATES],
                                   title="Acknowledgments of what we sent",
                                   chart_id="outbox-acks"),
        }

    return render(request, "outbox.html", principal=principal, statuses=STATUSES,
                  status_filter=status, can_act=principal.has_role("operator"),
                  **(await runtime.run(load)))


@routes.post("/dashboard/outbox/{id}/{action:(retry|cancel)}")
async def outbox_action(request: web.Request) -> web.Response:
    principal, form = await check_form(request, "operator")
    runtime = request.app[RUNTIME]
    ident, action = request.match_info["id"], request.match_info["action"]
    reason = form.get("reason", "").strip()
    if not reason:
        raise web.HTTPBadRequest(text="a reason is required (it goes to the audit log)")
    allowed = ((OutboxStatus.DEAD, OutboxStatus.FAILED, OutboxStatus.CANCELLED)
               if action == "retry" else
               (OutboxStatus.PENDING, OutboxStatus.DEAD, OutboxStatus.FAILED))
    to = OutboxStatus.PENDING if action == "retry" else OutboxStatus.CANCELLED
    now = datetime.now(UTC)

    def act() -> str | None:
        with runtime.sessions.begin() as s:
            row = s.get(OutboxItem, ident)
            if row is None or row.status not in allowed:
                return f"row {ident} cannot be set to {to}"
            row.status, row.updated_at = to, now
            if to == "pending":
                row.attempts, row.next_attempt_at = 0, now
            append_audit(s, at=now, actor=principal.actor, action=f"outbox.{to}",
                         subject_type="outbox", subject_id=ident, reason=reason)
            return None

    problem = await runtime.run(act)
    if problem:
        raise web.HTTPConflict(text=problem)
    raise web.HTTPSeeOther("/dashboard/outbox")
