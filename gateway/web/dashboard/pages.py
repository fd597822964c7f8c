"""Dashboard pages: login, overview, interchanges (list, detail, replay)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from gateway.domain.causes import acknowledgments_of
from gateway.domain.states import InterchangeStatus, OutboxStatus, values
from gateway.inbox.store import raw_bytes
from gateway.pipeline.replay import REPLAYABLE, ReplayError, replay
from gateway.storage.models import Event, Interchange, OutboxItem, Partner
from gateway.storage.repositories import authenticate_token, list_partners
from gateway.web.auth import SESSION_COOKIE
from gateway.web.dashboard.charts import Series, line_chart
from gateway.web.dashboard.render import HERE, check_form, operator, render
from gateway.web.keys import RUNTIME

routes = web.RouteTableDef()
routes.static("/static", HERE / "static")
POISON_PREFIX = "quarantined after "
STATUSES = values(InterchangeStatus)


def _safe_next(target: str) -> str:
    # Only same-site paths: an open redirect after login would be a phishing aid.
    return target if target.startswith("/") and not target.startswith("//") else "/"


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    return render(request, "login.html", principal=None, error="",
                  next=_safe_next(request.query.get("next", "/")))


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    token = str(form.get("token", "")).strip()
    target = _safe_next(str(form.get("next", "/")))
    runtime = request.app[RUNTIME]

    def check() -> bool:
        with runtime.sessions() as s:
            cred = authenticate_token(s, token, now=datetime.now(UTC))
            return cred is not None and cred.role is not None

    if not token or not await runtime.run(check):
        return render(request, "login.html", principal=None, status=401, next=target,
                      error="That token is not a valid operator token.")
    response = web.HTTPSeeOther(target)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict",
                        secure=request.secure, max_age=12 * 3600, path="/")
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    await check_form(request, "viewer")
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def _hourly_traffic(rows: list[tuple[datetime, str]], now: datetime) -> str:
    """Documents per channel over the last 24 h, per hour; while everything received is less
    than two hours old (a fresh gateway, the demo), per five minutes over the last two hours."""
    stamps = [(r if r.tzinfo else r.replace(tzinfo=UTC), ch) for r, ch in rows]
    recent = bool(stamps) and min(at for at, _ in stamps) >= now - timedelta(hours=2)
    if recent:
        step, count = timedelta(minutes=5), 24
        end = now.replace(second=0, microsecond=0)
        end -= timedelta(minutes=end.minute % 5)
        label, title = "%H:%M", "Documents received per 5 minutes (last 2 h)"
    else:
        step, count = timedelta(hours=1), 24
        end = now.replace(minute=0, second=0, microsecond=0)
        label, title = "%H:00", "Documents received per hour (last 24 h)"
    start = end - step * (count - 1)
    buckets = [start + step * i for i in range(count)]
    counts: Counter[tuple[str, datetime]] = Counter()
    channels: set[str] = set()
    for at, channel in stamps:
        index = int((at - start) / step)
        if 0 <= index < count:
            counts[(channel, buckets[index])] += 1
            channels.add(channel)
    series = [Series(ch, [(b.strftime(label), float(counts[(ch, b)])) for b in buckets])
              for ch in sorted(channels)] or [Series("documents", [(b.strftime(label), 0.0)
                                                                    for b in buckets])]
    return line_chart(series, title=title, y_min=0, chart_id="traffic")


@routes.get("/")
async def overview(request: web.Request) -> web.Response:
    principal = await operator(request)
    runtime = request.app[RUNTIME]
    now = datetime.now(UTC)

    def load() -> dict[str, Any]:
        with runtime.sessions() as s:
            per_partner = dict(s.execute(select(Interchange.partner_id, func.count())
                                         .group_by(Interchange.partner_id)).all())
            quarantined = dict(s.execute(select(Interchange.partner_id, func.count()).where(
                Interchange.status.in_((InterchangeStatus.QUARANTINED, InterchangeStatus.REJECTED)))
                .group_by(Interchange.partner_id)).all())
            partners = [{
                "id": p.id, "name": p.name, "standard": p.standard, "version": p.version,
                "channels": sorted(p.profile.get("channels", {})),
                "stages": sorted((st.document_type, st.stage) for st in p.stages),
                "total": per_partner.get(p.id, 0), "quarantined": quarantined.get(p.id, 0),
            } for p in list_partners(s)]
            recent = s.execute(select(Interchange.received_at, Interchange.channel).where(
                Interchange.direction == "in",
                Interchange.received_at >= now - timedelta(hours=24))).all()
            latest = s.scalars(select(Interchange).order_by(Interchange.received_at.desc())
                               .limit(15)).all()
            backlog = s.scalar(select(func.count()).select_from(Interchange).where(
                Interchange.status == InterchangeStatus.RECEIVED))
            events = s.scalar(select(func.count()).select_from(Event))
            outbox = s.scalar(select(func.count()).select_from(OutboxItem).where(
                OutboxItem.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))))
            bad = sum(quarantined.values())
            # Poison: processing raised on every attempt (gateway.inbox.poison); retrying: a
            # failed attempt waits for its next try.
            poison = s.scalar(select(func.count()).select_from(Interchange).where(
                Interchange.status == InterchangeStatus.QUARANTINED,
                Interchange.status_detail.like(f"{POISON_PREFIX}%")))
            retrying = s.scalar(select(func.count()).select_from(Interchange).where(
                Interchange.status == InterchangeStatus.RECEIVED,
                Interchange.next_attempt_at.is_not(None)))
        return {
            "partners": partners, "interchanges": latest,
            "traffic_chart": _hourly_traffic([tuple(r) for r in recent], now),
            "cards": [("partners", len(partners)), ("documents (24 h)", len(recent)),
                      ("events", events), ("inbox backlog", backlog),
                      ("quarantined / rejected", bad),
                      ("poison (processing failed)", poison),
                      ("failed, retrying", retrying), ("outbox in flight", outbox)],
        }

    return render(request, "overview.html", principal=principal, **(await runtime.run(load)))


@routes.get("/dashboard/interchanges")
async def interchanges(request: web.Request) -> web.Response:
    principal = await operator(request)
    runtime = request.app[RUNTIME]
    status = request.query.get("status", "")
    partner = request.query.get("partner", "")

    def load() -> dict[str, Any]:
        query = select(Interchange).order_by(Interchange.received_at.desc()).limit(200)
        if status:
            query = query.where(Interchange.status == status)
        if partner:
            query = query.where(Interchange.partner_id == partner)
        with runtime.sessions() as s:
            return {"interchanges": s.scalars(query).all(),
                    "partner_ids": s.scalars(select(Partner.id).order_by(Partner.id)).all()}

    return render(request, "interchanges.html", principal=principal, statuses=STATUSES,
                  status_filter=status, partner=partner, **(await runtime.run(load)))


@routes.get("/dashboard/interchanges/{id}")
async def interchange(request: web.Request) -> web.Response:
    principal = await operator(request)
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]

    def load() -> dict[str, Any] | None:
        with runtime.sessions() as s:
            row = s.get(Interchange, ident)
            if row is None:
                return None
            report = (row.error_report or {}).get("report") or {}
            errors = report.get("errors", []) if isinstance(report, dict) else []
            raw = raw_bytes(row, runtime.settings.data_path)
            acks = [{"kind": a.data.get("kind", ""), "status": a.status,
                     "text": (a.payload or b"").decode("latin-1")}
                    for a in s.scalars(select(OutboxItem).where(
                        acknowledgments_of(row.id)))]
            return {"row": row, "errors": errors, "acks": acks,
                    "events": s.scalars(select(Event).where(Event.interchange_id == ident)
                                        .order_by(Event.id)).all(),
                    "raw_preview": raw[:8192].decode("latin-1")
                    + ("\n…" if len(raw) > 8192 else ""),
                    "can_replay": principal.has_role("operator") and row.direction == "in"
                    and row.status in REPLAYABLE}

    context = await runtime.run(load)
    if context is None:
        raise web.HTTPNotFound(text=f"no interchange {ident}")
    return render(request, "interchange.html", principal=principal, **context)


@routes.post("/dashboard/interchanges/{id}/replay")
async def replay_action(request: web.Request) -> web.Response:
    principal, form = await check_form(request, "operator")
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]
    reason = form.get("reason", "").strip()
    if not reason:
        raise web.HTTPBadRequest(text="a reason is required (it goes to the audit log)")

    def act() -> None:
        with runtime.sessions.begin() as s:
            replay(s, ident, actor=principal.actor, reason=reason,
                   data_dir=runtime.settings.data_path,
                   resend_ack=form.get("resend_ack", "") in ("on", "true", "1"))

    try:
        await runtime.run(act)
    except ReplayError as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    raise web.HTTPSeeOther(f"/dashboard/interchanges/{ident}")
