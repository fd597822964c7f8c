"""The plans page (alerts panel, lines collapsed per part, pages of parts) and the what-if
page, rendered by the gateway's own handlers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import select

from gateway.storage.models import OutboxItem
from gateway.web import plans_api
from gateway.web.auth import SESSION_COOKIE
from gateway.web.dashboard import plans_pages
from gateway.web.keys import RUNTIME
from gateway.web.problems import problem_middleware
from tests.gateway import test_planning as base
from tests.gateway.test_planning import NOW, OPERATOR, SMALL, add_event, day, network, run

runtime = base.runtime  # the planning suite's fixture


@pytest.fixture
async def page_client(aiohttp_client, runtime):
    app = web.Application(middlewares=[problem_middleware])
    app[RUNTIME] = runtime
    app[plans_api.PLANNING] = SMALL
    app.add_routes(plans_pages.routes)
    client = await aiohttp_client(app)
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    return client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def test_the_plans_page_shows_alerts_and_parts_collapsed(page_client, runtime):
    network(runtime, lead_days=2)  # day 1 runs short: lead time
    add_event(runtime, "demand", {"site": "STR2", "plan_date": day(0), "lines": [
        {"part": "P-999", "period_start": day(i), "quantity": 5} for i in range(7)]},
        partner="plant-erp")
    run(runtime)
    resp = await page_client.get("/dashboard/plans")
    assert resp.status == 200
    html = await resp.text()
    alerts = html[html.index('id="alerts"'):html.index("</table>", html.index('id="alerts"'))]
    assert 'data-kind="unplannable"' in alerts and "P-999: no supplier offers it" in alerts
    assert "lead time" in alerts  # the remaining shortage, by cause
    assert '<details class="part" data-part="P-100">' in html
    assert 'id="pager"' not in html  # one page of parts


async def test_parts_are_paged(page_client, runtime, monkeypatch):
    monkeypatch.setattr(plans_pages, "PARTS_PER_PAGE", 1)
    network(runtime)
    add_event(runtime, "demand", {"site": "STR2", "plan_date": day(0), "lines": [
        {"part": "P-200", "period_start": day(i), "quantity": 5} for i in range(7)]},
        partner="plant-erp")
    add_event(runtime, "supplier_capacity", {"supplier": "ozark-plastics", "items": [
        {"part": "P-200", "period_start": day(i), "capacity": 100, "unit_price": 1.0,
         "lead_time_days": 1} for i in range(7)]}, partner="plant-erp")
    run(runtime)
    first = await (await page_client.get("/dashboard/plans")).text()
    second = await (await page_client.get("/dashboard/plans?page=2")).text()
    assert 'data-part="P-100"' in first and 'data-part="P-200"' not in first
    assert 'data-part="P-200"' in second and "page 2 of 2" in second


async def test_the_what_if_form_compares_and_sends_nothing(page_client, runtime):
    network(runtime, supplier="nova-plastics", price=2.0)
    add_event(runtime, "supplier_capacity", {"supplier": "ozark-plastics", "items": [
        {"part": "P-100", "period_start": day(i), "capacity": 1000, "unit_price": 3.0,
         "lead_time_days": 1, "lot_size": 10} for i in range(7)]}, partner="plant-erp",
        at=NOW + timedelta(seconds=1))
    run(runtime)
    with runtime.sessions() as s:
        before = len(s.scalars(select(OutboxItem)).all())
    form_page = await (await page_client.get("/dashboard/plans/what-if")).text()
    assert '<option value="nova-plastics"' in form_page
    resp = await page_client.post("/dashboard/plans/what-if", data={
        "csrf": csrf_of(form_page), "kind": "outage", "supplier": "nova-plastics",
        "periods": "7"})
    assert resp.status == 200
    html = await resp.text()
    assert 'id="whatif-delta"' in html and 'data-supplier="ozark-plastics"' in html
    assert "Documents sent: 0" in html
    refused = await page_client.post("/dashboard/plans/what-if", data={
        "csrf": csrf_of(form_page), "kind": "outage", "periods": "x"})
    assert refused.status == 400 and "periods must be a whole number" in await refused.text()
    with runtime.sessions() as s:
        assert len(s.scalars(select(OutboxItem)).all()) == before
