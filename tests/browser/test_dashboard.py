"""The dashboard in a real browser against a real gateway process.

A partner in migration is put in ``dual`` through the HTTP API; its EDI-path events are stored
as the EDI pipeline stores them (their arrival times back-dated, which no live channel can do),
its API-path events are posted to ``POST /api/v1/events``, and a reconciliation is started over
HTTP. Then Chromium logs in as an operator and checks what a person would: the agreement chart,
the disagreements side by side, a promotion the gate refuses with its evidence, a rollback with
a reason, and the audit trail — and that no page talks to any host but the gateway.
"""

from __future__ import annotations

import re
import struct
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, expect
from sqlalchemy import Engine

from gateway.config import Settings
from gateway.runtime import Runtime
from gateway.storage.db import make_engine, session_factory
from tests.browser.helpers import call, chromium_path, live_gateway, open_browser, save_artifact
from tests.gateway.live_server import OPERATORS, LiveServer
from tests.gateway.reconcile_helpers import (
    MINUTE,
    PARTNER,
    PARTNER_TOKEN,
    cloud_event,
    order,
    store_edi,
)

STAGE = f"/api/v1/partners/{PARTNER}/stages/purchase_order"
# The demo operator of fixtures/operators.toml: the token `make run` imports for people.
OPERATOR = next(o for o in tomllib.loads(OPERATORS.read_text())["operators"]
                if o["role"] == "operator")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_gateway(tmp_path_factory.mktemp("gateway")) as server:
        yield server


class Watch:
    """Everything the pages of one browser context ask for and complain about."""

    def __init__(self, context: BrowserContext) -> None:
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        # Errors a test provokes on purpose (a refused form answers 409), as (url, status).
        # The browser's own /favicon.ico probe is tolerated until the base template names an
        # icon; it is the only error a page may cause without asking.
        self.expected: list[tuple[str, int]] = [("/favicon.ico", 404)]
        context.on("request", self._request)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = str(message.location.get("url", ""))
        if any(url.endswith(suffix) and f"status of {status} " in message.text
               for suffix, status in self.expected):
            return
        self.console_errors.append(f"{message.text} at {url}")

    def expect_error(self, url_suffix: str, status: int) -> None:
        self.expected.append((url_suffix, status))

    def assert_clean(self, server: LiveServer) -> None:
        # Charts are server-drawn SVG and the stylesheet is ours: nothing may leave the box.
        outside = [url for url in self.requests if not url.startswith(server.url + "/")]
        assert outside == [], f"requests to other hosts: {outside}"
        assert self.console_errors == [], self.console_errors
        assert self.page_errors == [], self.page_errors


def login(page: Page, server: LiveServer, path: str) -> None:
    """Open ``path`` anonymously, get sent to the login form, log in, land on ``path``."""
    page.goto(server.url + path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("h1")).to_have_text("Log in")
    page.fill("input[name=token]", OPERATOR["token"])
    with page.expect_navigation():
        page.click("button:has-text('Log in')")
    expect(page).to_have_url(server.url + path)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def inject_dual_path(server: LiveServer, now: datetime) -> None:
    """Four agreeing documents and four kinds of disagreement, all on today's UTC date."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    t = max(now - 5 * MINUTE, midnight)  # business time today, whatever the hour
    engine: Engine = make_engine(f"sqlite:///{server.data_dir / 'edigate.db'}")
    runtime = Runtime(settings=Settings(data_dir=str(server.data_dir)), engine=engine,
                      sessions=session_factory(engine))

    def post_api(number: str, quantity: float = 500) -> None:
        status, body = call(server, "POST", "/api/v1/events", PARTNER_TOKEN,
                            [cloud_event(order(number, quantity), time=t)])
        assert status == 201, body

    try:
        for n in range(4):
            store_edi(runtime, order(f"PO-OK-{n}"), time=t, recorded_at=now)
            post_api(f"PO-OK-{n}")
        store_edi(runtime, order("PO-QTY"), time=t, recorded_at=now)
        post_api("PO-QTY", quantity=480)  # a changed quantity
        store_edi(runtime, order("PO-GONE"), time=t, recorded_at=now - 120 * MINUTE)
        # ... whose API copy never comes (the grace is 1 h)
        store_edi(runtime, order("PO-LATE"), time=t, recorded_at=now - 180 * MINUTE)
        post_api("PO-LATE")  # 3 h after its EDI copy
        store_edi(runtime, order("PO-TWICE"), time=t, recorded_at=now)
        post_api("PO-TWICE")
        post_api("PO-TWICE")  # a second API copy
    finally:
        runtime.close()


def test_reconciliation_page_shows_disagreements_refuses_promotion_and_rolls_back(
        gateway: LiveServer, tmp_path: Path) -> None:
    server = gateway
    now = datetime.now(UTC)
    today = now.date().isoformat()
    status, body = call(server, "POST", f"{STAGE}/promote", OPERATOR["token"],
                        {"reason": "API go-live pilot"})
    assert status == 200 and body["to_stage"] == "dual", body
    inject_dual_path(server, now)
    status, run = call(server, "POST", "/api/v1/reconciliation/runs", OPERATOR["token"],
                       {"partner": PARTNER, "since": today, "until": today})
    assert status == 201, run
    assert {k: run["counts"][k] for k in ("match", "mismatch", "missing_api", "late",
                                          "duplicate")} == \
        {"match": 5, "mismatch": 1, "missing_api": 1, "late": 1, "duplicate": 1}

    with open_browser() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        watch = Watch(context)
        page = context.new_page()
        login(page, server, "/dashboard/reconciliation")
        expect(page.locator("h1")).to_have_text("Reconciliation")

        # The agreement chart: today's point for the partner, 5 of 9 decided documents agree.
        points = page.locator(f'svg#agreement circle.point[data-series="{PARTNER} '
                              'purchase_order"]')
        expect(points).to_have_count(1)
        assert points.get_attribute("data-x") == now.strftime("%m-%d")
        assert points.get_attribute("data-y") == "55.56"

        # The disagreements, EDI beside API; the agreeing documents are not listed.
        table = page.locator("#mismatches")
        qty = table.locator('tr[data-outcome="mismatch"][data-key="PO-QTY"]')
        expect(qty).to_have_count(1)
        expect(qty.locator("td.edi")).to_have_text("500")
        expect(qty.locator("td.api")).to_have_text("480")
        expect(qty).to_contain_text("lines[10].quantity")
        for outcome, key, note in (("missing_api", "PO-GONE", "no API copy"),
                                   ("late", "PO-LATE", "API copy 3.0 h after the other"),
                                   ("duplicate", "PO-TWICE", "identical second API copy")):
            row = table.locator(f'tr[data-outcome="{outcome}"][data-key="{key}"]')
            expect(row).to_have_count(1)
            expect(row).to_contain_text(note)
        expect(table.locator('tr[data-key^="PO-OK-"]')).to_have_count(0)

        # The stage and what the gate would say, before anyone tries.
        stage_row = page.locator(f'#stages tr[data-partner="{PARTNER}"]'
                                 '[data-document-type="purchase_order"]')
        expect(stage_row.locator(".badge")).to_have_text("dual")
        expect(stage_row.locator(".evidence")).to_contain_text("agreement 55.6% < 99.0%")

        # A promotion the gate refuses: the page comes back (409) with the evidence on top.
        promote = stage_row.locator("form[action$='/promote']")
        promote.locator("input[name=reason]").fill("looks good to me")
        watch.expect_error("/purchase_order/promote", 409)  # the refusal page's own status
        with page.expect_navigation() as refused:
            promote.locator("button").click()
        assert refused.value is not None and refused.value.status == 409
        refusal = page.locator("#refusal")
        expect(refusal).to_contain_text("refused by the cut-over gate")
        expect(refusal).to_contain_text(
            "agreement 55.6% < 99.0%: 1 document(s) differ in lines.quantity")
        expect(refusal.locator("td.agreement")).to_have_text("55.56%")
        for outcome in ("mismatch", "missing_api", "late", "duplicate"):
            expect(refusal.locator(f'[data-outcome="{outcome}"]')).to_have_attribute(
                "data-count", "1")
        expect(refusal).to_contain_text("lines.quantity")
        expect(stage_row.locator(".badge")).to_have_text("dual")
        refused_audit = page.locator(f'#audit tr[data-partner="{PARTNER}"]'
                                     '[data-action="promote_refused"]')
        expect(refused_audit).to_contain_text("looks good to me")
        expect(refused_audit).to_contain_text(f"operator:{OPERATOR['name']}")
        refused_shot = tmp_path / "dashboard-reconciliation-refused.png"
        page.screenshot(path=str(refused_shot), full_page=True)
        save_artifact(refused_shot)

        # Roll back with a reason: always allowed, the badge and the trail change.
        rollback = stage_row.locator("form[action$='/rollback']")
        rollback.locator("input[name=reason]").fill("ERP outage on API side")
        with page.expect_navigation() as rolled:
            rollback.locator("button").click()
        assert rolled.value is not None and rolled.value.status == 200
        expect(page).to_have_url(server.url + "/dashboard/reconciliation")
        expect(page.locator("#refusal")).to_have_count(0)
        expect(stage_row.locator(".badge")).to_have_text("edi")
        expect(stage_row.locator("form[action$='/rollback']")).to_have_count(0)
        trail = page.locator(f'#audit tr[data-partner="{PARTNER}"]')
        assert [trail.nth(i).get_attribute("data-action") for i in range(trail.count())] == \
            ["rollback", "promote_refused", "promote"]
        expect(trail.first).to_contain_text("ERP outage on API side")
        expect(trail.first).to_contain_text("dual → edi")

        shot = tmp_path / "dashboard-reconciliation.png"
        page.screenshot(path=str(shot), full_page=True)
        copy = save_artifact(shot)
        width, height = png_size(copy)
        assert width == 1280 and height > 900  # the whole page, not just the viewport
        watch.assert_clean(server)
        context.close()

    # The API tells the same story as the page.
    status, stages = call(server, "GET", f"/api/v1/partners/{PARTNER}/stages",
                          OPERATOR["token"])
    assert status == 200 and stages["stages"]["purchase_order"]["stage"] == "edi"


@pytest.mark.parametrize("path,heading,marker", [
    ("/", "Overview", "svg#traffic"),
    ("/dashboard/interchanges", "Interchanges", "main"),
    ("/dashboard/plans", "Plans", "main"),
    ("/dashboard/outbox", "Outbox", "svg#outbox-status"),
    ("/dashboard/reconciliation", "Reconciliation", "svg#agreement"),
])
def test_dashboard_page_renders_from_the_gateway_alone(gateway: LiveServer, path: str,
                                                       heading: str, marker: str) -> None:
    with open_browser() as browser:
        context = browser.new_context()
        watch = Watch(context)
        page = context.new_page()
        login(page, gateway, path)
        response = page.reload()
        assert response is not None and response.status == 200
        expect(page.locator("h1")).to_have_text(heading)
        expect(page.locator(marker).first).to_be_visible()
        expect(page.locator(f'header nav a[href="{path}"]')).to_have_class("active")
        # The stylesheet arrived (a broken static route would leave the page unstyled).
        assert page.evaluate("getComputedStyle(document.querySelector('header'))"
                             ".backgroundColor") == "rgb(17, 24, 39)"
        watch.assert_clean(gateway)
        context.close()


def test_a_missing_chromium_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("EDIGATE_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"scripts/ensure-system-deps\.sh"):
        chromium_path()
