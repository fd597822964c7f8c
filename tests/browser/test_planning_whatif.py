"""The what-if page in a real browser against a real gateway process: the plant's feeds and
two suppliers' terms arrive over the events API, a plan is made over HTTP, and an operator
builds a supplier outage in the form and reads the comparison — a chart and a table of the
orders that would change — while the outbox stays exactly as it was. The plans page shows
the planner's alerts and its order lines collapsed per part."""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import call, open_browser
from tests.gateway.live_server import OPERATORS, LiveServer

OPERATOR = next(o for o in tomllib.loads(OPERATORS.read_text())["operators"]
                if o["role"] == "operator")
PLANT = "edg_demo_plant_erp_000000000000000000000015"  # the plant ERP feed's demo token


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("gateway"), extra_env={
        "EDIGATE_JOBS_ENABLED": "false", "EDIGATE_PLANNING_TIME_LIMIT": "10",
        "EDIGATE_PLANNING_PERIODS": "7"})
    server.prepare()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def event(event_type: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/partners/plant-erp",
            "type": event_type, "time": now.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json", "dataschemaversion": 1, "data": data}


def feed_network(server: LiveServer) -> None:
    """One part, 10 a day; nova-plastics cheap, ozark-plastics dearer; a plan made over HTTP."""
    now = datetime.now(UTC)

    def day(i: int) -> str:
        return (now.date() + timedelta(days=i)).isoformat()

    stamp = now.isoformat().replace("+00:00", "Z")

    def terms(supplier: str, price: float) -> dict[str, Any]:
        return {"supplier": supplier, "as_of": stamp, "items": [
            {"part": "P-100", "period_start": day(i), "capacity": 1000, "unit_price": price,
             "lead_time_days": 1, "min_order_qty": 0, "lot_size": 10} for i in range(7)]}

    events = [
        event("demand", {"site": "STR1", "plan_date": day(0), "lines": [
            {"part": "P-100", "period_start": day(i), "quantity": 10} for i in range(7)]}, now),
        event("stock", {"site": "STR1", "as_of": stamp,
                        "items": [{"part": "P-100", "on_hand": 15}]}, now),
        event("supplier_capacity", terms("nova-plastics", 2.0), now),
        event("supplier_capacity", terms("ozark-plastics", 3.0), now),
    ]
    status, body = call(server, "POST", "/api/v1/events", PLANT, events)
    assert status == 201, body.get("errors", body)
    status, body = call(server, "POST", "/api/v1/plans", OPERATOR["token"], {"reason": "test"})
    assert status == 201, body


def login(page: Page, server: LiveServer, path: str) -> None:
    page.goto(server.url + path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=token]", OPERATOR["token"])
    with page.expect_navigation():
        page.click("button:has-text('Log in')")
    expect(page).to_have_url(server.url + path)


def outbox_ids(server: LiveServer) -> list[str]:
    status, body = call(server, "GET", "/api/v1/outbox?limit=1000", OPERATOR["token"])
    assert status == 200, body
    return sorted(item["id"] for item in body["items"])


def test_a_supplier_outage_what_if_shows_the_delta_and_sends_nothing(gateway) -> None:
    feed_network(gateway)
    before = outbox_ids(gateway)
    assert before, "the plan sent today's order"
    with open_browser() as browser:
        context = browser.new_context()
        outside: list[str] = []
        context.on("request", lambda r: outside.append(r.url)
                   if not r.url.startswith(gateway.url + "/") else None)
        errors: list[str] = []
        context.on("weberror", lambda e: errors.append(str(e.error)))
        page = context.new_page()
        # The plans page: alerts panel, a link to the what-if page, lines collapsed per part.
        login(page, gateway, "/dashboard/plans")
        expect(page.locator("table#alerts")).to_be_visible()
        part = page.locator('details.part[data-part="P-100"]')
        expect(part).to_have_count(1)
        expect(part.locator("table")).not_to_be_visible()  # collapsed
        part.locator("summary").click()
        expect(part.locator("table tr").nth(1)).to_contain_text("nova-plastics")
        page.click("a#whatif-link")
        expect(page).to_have_url(gateway.url + "/dashboard/plans/what-if")
        expect(page.locator("h1")).to_have_text("What-if")
        # nova-plastics delivers nothing for the whole week.
        page.select_option("select#kind", "outage")
        page.select_option("select#supplier", "nova-plastics")
        page.fill("input#periods", "7")
        with page.expect_navigation():
            page.click("button#run-whatif")
        expect(page.locator("#whatif-title")).to_contain_text(
            "nova-plastics delivers nothing for 7 periods")
        chart = page.locator("svg#whatif-delta")
        expect(chart).to_be_visible()
        expect(chart.locator('circle.point[data-series="what-if"]').first).to_be_attached()
        changes = page.locator("table#whatif-changes tr[data-supplier]")
        expect(changes.first).to_be_visible()
        assert page.locator('table#whatif-changes tr[data-supplier="ozark-plastics"]').count()
        assert page.locator('table#whatif-changes tr[data-supplier="nova-plastics"]').count()
        expect(page.locator("#whatif-sent")).to_contain_text("Documents sent: 0")
        expect(page.locator("#whatif-sent")).to_contain_text("ozark-plastics")
        # The form keeps what was asked, so the scenario can be adjusted and run again.
        expect(page.locator("input#periods")).to_have_value("7")
        # A scenario naming nobody is refused in words, not with a traceback.
        page.select_option("select#supplier", "")
        with page.expect_navigation():
            page.click("button#run-whatif")
        expect(page.locator("#whatif-error")).to_contain_text("a supplier is required")
        assert outside == [] and errors == []
        context.close()
    assert outbox_ids(gateway) == before  # nothing went anywhere
