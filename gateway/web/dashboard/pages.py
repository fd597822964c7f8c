"""Dashboard pages: login, overview, interchanges (list, detail, replay)."""

from __future__ import annotations

import time
import weakref
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.domain.causes import acknowledgments_of
from gateway.domain.states import InterchangeStatus, values
from gateway.inbox.store import raw_bytes
from gateway.pipeline.replay import REPLAYABLE, ReplayError, replay
from gateway.search.paging import BadPage, decode, newest_first, split
from gateway.search.query import KINDS
from gateway.storage.models import Event, Interchange, OutboxItem, Partner
from gateway.storage.repositories import authenticate_token
from gateway.web.auth import SESSION_COOKIE
from gateway.web.dashboard.charts import Series, line_chart
from gateway.web.dashboard.health import as_json, overview_state
from gateway.web.dashboard.highlight import highlight, standard_code
from gateway.web.dashboard.render import HERE, check_form, flash_redirect, operator, render
from gateway.web.keys import RUNTIME
from gateway.web.problems import Problem
from gateway.web.search_api import run_search

routes = web.RouteTableDef()
routes.static("/static", HERE / "static")
STATUSES = values(InterchangeStatus)
PAGE = 100
# Ten open overviews polling every 2 s cost one computation per second, not five.
LIVE_TTL = 1.0
_LIVE: weakref.WeakKeyDictionary[Any, tuple[float, dict[str, Any]]] = \
    weakref.WeakKeyDictionary()  # database engine -> (computed at, body)
CARD_LABELS = [("dead_letters", "dead letters"), ("quarantined", "quarantined"),
               ("poison", "poison (processing failed)"),
               ("rejected", "rejected"), ("acks_overdue", "acks overdue"),
               ("outbox_failed", "outbox failed, retrying"),
               ("outbox_in_flight", "outbox in flight"),
               ("inbox_backlog", "inbox backlog"), ("retrying", "inbound retrying"),
               ("plan_held", "plan actions held"), ("documents_24h", "documents (24 h)"),
               ("events", "events"), ("partners", "partners")]


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
            state = overview_state(s, now)
            recent = s.execute(select(Interchange.received_at, Interchange.channel).where(
                Interchange.direction == "in",
                Interchange.received_at >= now - timedelta(hours=24))).all()
            latest = s.scalars(select(Interchange).order_by(Interchange.received_at.desc())
                               .limit(15)).all()
        return {**state, "interchanges": latest,
                "traffic_chart": _hourly_traffic([(r[0], r[1]) for r in recent], now)}

    return render(request, "overview.html", principal=principal, card_labels=CARD_LABELS,
                  **(await runtime.run(load)))


@routes.get("/dashboard/overview.json")
async def overview_json(request: web.Request) -> web.Response:
    """The overview's numbers for the live refresh (polled every few seconds by the page)."""
    await operator(request)
    runtime = request.app[RUNTIME]
    cached = _LIVE.get(runtime.engine)
    if cached is not None and time.monotonic() - cached[0] < LIVE_TTL:
        body = cached[1]
    else:
        def load() -> dict[str, Any]:
            with runtime.reads() as s:
                return as_json(overview_state(s, datetime.now(UTC)))

        body = await runtime.run(load)
        _LIVE[runtime.engine] = (time.monotonic(), body)
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def page_links(request: web.Request, cursor: str | None) -> dict[str, str | None]:
    """Links to the first and the next page; the cursor keeps the filters of the query."""
    first = str(request.rel_url.with_query(
        [(k, v) for k, v in request.query.items() if k != "after"]))
    return {"next": str(request.rel_url.update_query(after=cursor)) if cursor else None,
            "first": first if request.query.get("after") else None}


def cursor_param(request: web.Request) -> str | None:
    after = request.query.get("after") or None
    if after:
        try:
            decode(after)
        except BadPage as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
    return after


@routes.get("/dashboard/interchanges")
async def interchanges(request: web.Request) -> web.Response:
    principal = await operator(request)
    runtime = request.app[RUNTIME]
    status = request.query.get("status", "")
    partner = request.query.get("partner", "")
    direction = request.query.get("direction", "")
    after = cursor_param(request)

    def load() -> dict[str, Any]:
        query = select(Interchange)
        if status:
            query = query.where(Interchange.status == status)
        if partner:
            query = query.where(Interchange.partner_id == partner)
        if direction in ("in", "out"):
            query = query.where(Interchange.direction == direction)
        query = newest_first(query, Interchange.received_at, Interchange.id, after, PAGE)
        with runtime.sessions() as s:
            rows, cursor = split(list(s.scalars(query)), PAGE, lambda r: (r.received_at, r.id))
            return {"interchanges": rows, "pages": page_links(request, cursor),
                    "partner_ids": s.scalars(select(Partner.id).order_by(Partner.id)).all()}

    return render(request, "interchanges.html", principal=principal, statuses=STATUSES,
                  status_filter=status, partner=partner, direction=direction,
                  **(await runtime.run(load)))


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
            return {"row": row, "acks": acks,
                    "errors": [{**e, "standard_code": standard_code(e, row.standard)}
                               for e in errors if isinstance(e, dict)],
                    "events": s.scalars(select(Event).where(Event.interchange_id == ident)
                                        .order_by(Event.id)).all(),
                    "raw_chunks": highlight(raw, errors),
                    "raw_more": len(raw) > 8192,
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
        raise flash_redirect(f"/dashboard/interchanges/{ident}", f"Replay refused: {exc}",
                             level="bad") from None
    raise flash_redirect(f"/dashboard/interchanges/{ident}",
                         f"Interchange {ident[:8]} queued for replay (audited: {reason}).")


@routes.get("/dashboard/search")
async def search_page(request: web.Request) -> web.Response:
    principal = await operator(request)
    try:
        q, page = await run_search(request, principal)
    except Problem as exc:
        raise web.HTTPBadRequest(text=exc.detail) from None
    return render(request, "search.html", principal=principal, search_q=q, page=page,
                  kinds=KINDS, query=request.query,
                  pages=page_links(request, page.next))
