"""Template environment, login guard and CSRF helpers shared by every dashboard page."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
from aiohttp import web

from gateway.web.auth import SESSION_COOKIE, Principal, principal_of
from gateway.web.dashboard.charts import bar_chart, line_chart
from gateway.web.dashboard.health import when

HERE = Path(__file__).resolve().parent
ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(("html",)),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.globals.update(line_chart=line_chart, bar_chart=bar_chart)
ENV.filters["when"] = when
FLASH_COOKIE = "edigate_flash"

# (path, label): feature modules append their pages.
NAV: list[tuple[str, str]] = [("/", "Overview"), ("/dashboard/interchanges", "Interchanges"),
                              ("/dashboard/reconciliation", "Reconciliation"),
                              ("/dashboard/plans", "Plans"), ("/dashboard/suppliers", "Suppliers"),
                              ("/dashboard/outbox", "Outbox")]


class LoginRequired(Exception):
    pass


def csrf_token(request: web.Request) -> str:
    token = request.cookies.get(SESSION_COOKIE, "")
    return hmac.new(token.encode(), b"edigate-csrf", hashlib.sha256).hexdigest()[:32]


async def operator(request: web.Request, minimum: str = "viewer") -> Principal:
    principal = await principal_of(request)
    if principal is None or principal.partner_id is not None:
        # Quoted: a page with filters (?status=x&partner=y) must come back with all of them.
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='/')}")
    if not principal.has_role(minimum):
        raise web.HTTPForbidden(text=f"this page needs the {minimum} role")
    return principal


async def check_form(request: web.Request, minimum: str) -> tuple[Principal, dict[str, str]]:
    """A state-changing dashboard form: role, CSRF token and same-origin checks."""
    principal = await operator(request, minimum)
    form = dict(await request.post())
    expected = csrf_token(request)
    if not hmac.compare_digest(str(form.get("csrf", "")), expected):
        raise web.HTTPForbidden(text="missing or wrong CSRF token; reload the page")
    origin = request.headers.get("Origin")
    if origin and origin.split("://", 1)[-1] != request.host:
        raise web.HTTPForbidden(text="cross-origin form post refused")
    return principal, {k: str(v) for k, v in form.items()}


def flash_redirect(location: str, text: str, *, level: str = "ok") -> web.HTTPSeeOther:
    """Post/redirect/get with a confirmation: the next page shows ``text`` once; a reload of
    that page resubmits nothing."""
    response = web.HTTPSeeOther(location)
    response.set_cookie(FLASH_COOKIE, quote(f"{level}|{text}"[:600]), httponly=True,
                        samesite="Strict", path="/", max_age=60)
    return response


def _take_flash(request: web.Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    level, _, text = unquote(raw).partition("|")
    return {"level": level if level in ("ok", "bad") else "ok", "text": text}


def render(request: web.Request, template: str, *, principal: Principal | None,
           status: int = 200, **context: Any) -> web.Response:
    flash = _take_flash(request)
    html = ENV.get_template(template).render(
        nav=NAV, path=request.path, principal=principal, csrf=csrf_token(request),
        flash=flash, **context)
    response = web.Response(text=html, content_type="text/html", status=status,
                            headers={"Cache-Control": "no-store",
                                     "Content-Security-Policy": "default-src 'self'; "
                                     "style-src 'self'; img-src 'self' data:; "
                                     "frame-ancestors 'none'"})
    if flash:
        response.del_cookie(FLASH_COOKIE, path="/")
    return response
