"""The operator's workspace in a real browser: partner health, alerts that appear while the page
is open (no reload) and lead in one click to the row and its fix, search by business number,
and lists that page instead of stopping."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from gateway.config import Settings
from gateway.runtime import Runtime
from gateway.search.refs import index_event
from gateway.storage.db import make_engine, session_factory
from gateway.storage.models import Event, Interchange, OutboxItem
from tests.browser.helpers import live_gateway, open_browser, save_artifact
from tests.browser.test_dashboard import Watch, login
from tests.gateway.live_server import LiveServer

ALERT_WAIT_MS = 5000  # "within 5 s of happening"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_gateway(tmp_path_factory.mktemp("overview")) as server:
        yield server


@pytest.fixture
def runtime(gateway: LiveServer) -> Iterator[Runtime]:
    """The live gateway's own database, written as its pipeline and workers write it."""
    engine = make_engine(f"sqlite:///{gateway.data_dir / 'edigate.db'}")
    rt = Runtime(settings=Settings(data_dir=str(gateway.data_dir)), engine=engine,
                 sessions=session_factory(engine))
    yield rt
    rt.close()


def dead_letter(runtime: Runtime, business_id: str) -> str:
    ident = str(uuid.uuid4())
    now = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        s.add(OutboxItem(id=ident, partner_id="bolt-supply", document_type="purchase_order",
                         channel="sftp", business_id=business_id, status="dead", data={},
                         control_numbers={}, attempts=8, next_attempt_at=now, created_at=now,
                         updated_at=now, last_error="sftp: connection refused (8 attempts)"))
    return ident


def overdue_ack(runtime: Runtime, business_id: str) -> str:
    ident = str(uuid.uuid4())
    now = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        s.add(OutboxItem(id=ident, partner_id="bolt-supply", document_type="purchase_order",
                         channel="sftp", business_id=business_id, status="sent", data={},
                         control_numbers={}, next_attempt_at=now, created_at=now,
                         updated_at=now, ack_status="overdue",
                         ack_due_at=now - timedelta(minutes=30)))
    return ident


def quarantine(runtime: Runtime, when: datetime | None = None, status: str = "quarantined"
               ) -> str:
    ident = str(uuid.uuid4())
    with runtime.sessions.begin() as s:
        s.add(Interchange(id=ident, partner_id="bolt-supply", direction="in", channel="sftp",
                          received_at=when or datetime.now(UTC), sha256=uuid.uuid4().hex * 2,
                          size=3, raw=b"ISA", status=status, standard="x12",
                          status_detail="quarantined after 3 failed processing attempts"))
    return ident


def test_overview_shows_partner_health(gateway: LiveServer, tmp_path: Path) -> None:
    with open_browser() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        watch = Watch(context)
        page = context.new_page()
        login(page, gateway, "/")
        expect(page.locator("h1")).to_contain_text("Overview")
        row = page.locator('#partners tr[data-partner="bolt-supply"]')
        expect(row).to_have_count(1)
        for cell in ("last_in", "last_out", "rejected", "quarantined", "dead", "overdue",
                     "ack_rate"):
            expect(row.locator(f'td[data-cell="{cell}"] a')).to_have_count(1)
        # Every number is a link to the filtered list it counts.
        with page.expect_navigation():
            row.locator('td[data-cell="rejected"] a').click()
        expect(page).to_have_url(re.compile(r"/dashboard/interchanges\?partner=bolt-supply"
                                            r"&status=rejected$"))
        expect(page.locator("select[name=status]")).to_have_value("rejected")
        shot = tmp_path / "overview-health.png"
        page.goto(gateway.url + "/")
        page.screenshot(path=str(shot), full_page=True)
        save_artifact(shot)
        watch.assert_clean(gateway)
        context.close()


def test_a_dead_letter_an_overdue_ack_and_a_quarantine_alert_within_5s(
        gateway: LiveServer, runtime: Runtime) -> None:
    with open_browser() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        watch = Watch(context)
        page = context.new_page()
        login(page, gateway, "/")
        dead_card = page.locator('a[data-card="dead_letters"] .n')
        before = int(dead_card.inner_text())

        # It happens while the page is open; nobody reloads.
        row_id = dead_letter(runtime, "PO-ALERT-1")
        poisoned = quarantine(runtime)
        late = overdue_ack(runtime, "PO-LATE-ACK")
        alert = page.locator('#alerts [data-alert="dead"]')
        expect(alert).to_be_visible(timeout=ALERT_WAIT_MS)
        expect(page.locator('#alerts [data-alert="quarantined"]')).to_be_visible(
            timeout=ALERT_WAIT_MS)
        overdue = page.locator('#alerts [data-alert="overdue"]')
        expect(overdue).to_be_visible(timeout=ALERT_WAIT_MS)
        expect(overdue.locator(f'a[href="/dashboard/outbox?id={late}#row-{late}"]')
               ).to_contain_text("PO-LATE-ACK")
        expect(dead_card).to_have_text(str(before + 1), timeout=ALERT_WAIT_MS)
        expect(page.locator('a[data-card="dead_letters"]')).to_have_class(re.compile("bad"))

        # One click to the row, its retry there; the action confirms after a redirect.
        with page.expect_navigation():
            alert.locator("li a", has_text="PO-ALERT-1").click()
        target = page.locator(f"#row-{row_id}")
        expect(target).to_have_class(re.compile("target"))
        retry = target.locator("form[action$='/retry']")
        retry.locator("input[name=reason]").fill("partner's SFTP server is back")
        with page.expect_navigation() as done:
            retry.locator("button").click()
        assert done.value is not None and done.value.status == 200
        expect(page.locator("#flash")).to_contain_text("retry done")
        expect(page.locator(f"#row-{row_id} .badge").first).to_have_text("pending")
        page.reload()
        expect(page.locator("#flash")).to_have_count(0)  # shown once, nothing resubmitted

        page.goto(gateway.url + "/")
        with page.expect_navigation():
            page.locator('#alerts [data-alert="overdue"] li a', has_text="PO-LATE-ACK").click()
        expect(page.locator(f"#row-{late} form[action$='/resend'] button")).to_be_visible()

        page.goto(gateway.url + "/")
        with page.expect_navigation():
            page.locator('#alerts [data-alert="quarantined"] li a').first.click()
        expect(page).to_have_url(re.compile(f"/dashboard/interchanges/{poisoned}#replay$"))
        expect(page.locator("form#replay button")).to_have_text("Replay")
        watch.assert_clean(gateway)
        context.close()


def test_search_box_finds_every_document_of_a_po(gateway: LiveServer,
                                                 runtime: Runtime) -> None:
    number = f"PO-B{uuid.uuid4().hex[:6].upper()}"
    now = datetime.now(UTC)
    documents = {
        "purchase_order": {"order_number": number},
        "order_response": {"order_number": number, "response_number": "R1"},
        "despatch_advice": {"shipment_number": f"ASN-{number}",
                            "orders": [{"order_number": number}]},
        "invoice": {"invoice_number": f"INV-{number}", "order_number": number},
    }
    with runtime.sessions.begin() as s:
        for n, (kind, data) in enumerate(documents.items()):
            row = Event(id=f"{kind}-{number}", type=kind, version=1, partner_id="bolt-supply",
                        path="api", source="/partners/bolt-supply",
                        time=now - timedelta(minutes=n), recorded_at=now,
                        business_key=next(iter(data.values())), envelope={}, data=data)
            s.add(row)
            index_event(s, row)
    dead_letter(runtime, number)
    with open_browser() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        watch = Watch(context)
        page = context.new_page()
        login(page, gateway, "/dashboard/outbox")
        box = page.locator("header form.search input[name=q]")
        box.fill(number.lower())  # typed as people type it
        with page.expect_navigation():
            box.press("Enter")
        expect(page.locator("h1")).to_have_text("Search")
        rows = page.locator("#results tr[data-kind]")
        expect(rows).to_have_count(5)
        types = {rows.nth(i).get_attribute("data-type") for i in range(5)}
        assert types == {*documents, "purchase_order"}
        expect(page.locator('#results tr[data-kind="outbox"]')).to_have_count(1)
        with page.expect_navigation():
            page.locator('#results tr[data-kind="outbox"] a').first.click()
        expect(page).to_have_url(re.compile(r"/dashboard/outbox\?id="))
        watch.assert_clean(gateway)
        context.close()


def test_the_interchange_list_pages_instead_of_stopping(gateway: LiveServer,
                                                        runtime: Runtime) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)  # older than anything else in the list
    for n in range(130):
        quarantine(runtime, start + timedelta(minutes=n), status="rejected")
    with open_browser() as browser:
        context = browser.new_context()
        watch = Watch(context)
        page = context.new_page()
        login(page, gateway, "/dashboard/interchanges?status=rejected&partner=bolt-supply")
        rows = page.locator("#interchanges tr:has(td a)")
        expect(rows).to_have_count(100)
        first_page = set(rows.evaluate_all("rs => rs.map(r => r.querySelector('a').href)"))
        with page.expect_navigation():
            page.click("#next-page")
        expect(rows).to_have_count(30)
        second_page = set(rows.evaluate_all("rs => rs.map(r => r.querySelector('a').href)"))
        assert not first_page & second_page
        expect(page.locator(".pager")).to_contain_text("end of list")
        expect(page.locator("select[name=status]")).to_have_value("rejected")
        expect(rows.first).to_contain_text("2020-01-01 00:29:00 UTC")
        watch.assert_clean(gateway)
        context.close()
