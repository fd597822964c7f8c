"""The operator's overview: failures are never hidden, every number is a link to its rows, the
live endpoint serves the same numbers, actions confirm after a redirect, errors show their
standard code and the faulty bytes are marked."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from gateway.storage.models import Interchange, OutboxItem
from gateway.web.auth import SESSION_COOKIE
from gateway.web.dashboard.highlight import highlight, standard_code
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, OPERATOR, auth


def _outbox(runtime, status: str, *, ack: str = "none", business_id: str = "PO-1") -> str:
    ident = str(uuid.uuid4())
    now = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        s.add(OutboxItem(id=ident, partner_id="bolt-supply", document_type="purchase_order",
                         channel="sftp", business_id=business_id, status=status, data={},
                         control_numbers={}, next_attempt_at=now, created_at=now,
                         updated_at=now, last_error="connection refused", ack_status=ack,
                         ack_due_at=now - timedelta(hours=1) if ack == "overdue" else None))
    return ident


def _quarantine(runtime) -> str:
    ident = str(uuid.uuid4())
    with runtime.sessions.begin() as s:
        s.add(Interchange(id=ident, partner_id="bolt-supply", direction="in", channel="sftp",
                          received_at=datetime.now(UTC), sha256=uuid.uuid4().hex * 2, size=3,
                          raw=b"ISA", status="quarantined",
                          status_detail="quarantined after 3 failed processing attempts"))
    return ident


async def test_failures_show_as_alerts_cards_and_health_cells(client, runtime) -> None:
    for n in range(3):
        _outbox(runtime, "dead", business_id=f"PO-DEAD-{n}")
    _outbox(runtime, "pending")
    late = _outbox(runtime, "sent", ack="overdue")
    poisoned = _quarantine(runtime)
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    html = await (await client.get("/")).text()
    alerts = html[html.index('id="alerts"'):html.index('class="cards"')]
    assert "3 outbox row(s) dead-lettered" in alerts and "PO-DEAD-2" in alerts
    assert f"/dashboard/interchanges/{poisoned}#replay" in alerts
    assert f"/dashboard/outbox?id={late}#row-{late}" in alerts
    dead_card = re.search(r'<a class="card bad" href="([^"]+)" data-card="dead_letters"[^>]*>'
                          r'<div class="n">(\d+)</div>', html)
    assert dead_card and dead_card.group(2) == "3"
    assert dead_card.group(1) == "/dashboard/outbox?status=dead"
    # In flight and dead side by side: the one can never hide the other.
    assert re.search(r'data-card="outbox_in_flight"[^>]*><div class="n">1</div>', html)
    row = html[html.index('data-partner="bolt-supply"'):]
    row = row[:row.index("</tr>")]
    assert ('class="num cell bad" data-cell="dead"><a href="/dashboard/outbox?'
            'partner=bolt-supply&amp;status=dead"') in row
    assert 'data-cell="overdue"' in row and ">1</a>" in row
    assert " UTC" in html  # times carry their zone

    live = await (await client.get("/dashboard/overview.json")).json()
    assert live["cards"]["dead_letters"] == {"value": "3", "level": "bad",
                                             "href": "/dashboard/outbox?status=dead"}
    assert live["partners"]["bolt-supply"]["quarantined"]["value"] == "1"
    assert [a["key"] for a in live["alerts"]][:3] == ["dead", "quarantined", "overdue"]


async def test_overview_json_needs_an_operator_session(client) -> None:
    resp = await client.get("/dashboard/overview.json", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def _csrf(client, path: str) -> str:
    html = await (await client.get(path)).text()
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


async def test_bulk_retry_and_cancel_confirm_after_a_redirect(client, runtime) -> None:
    dead = [_outbox(runtime, "dead", business_id=f"PO-B{n}") for n in range(2)]
    sent = _outbox(runtime, "sent")
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    csrf = await _csrf(client, "/dashboard/outbox?status=dead")
    resp = await client.post("/dashboard/outbox/bulk", data=[
        ("csrf", csrf), ("action", "retry"), ("reason", "partner fixed its server"),
        ("back", "/dashboard/outbox?status=dead"), ("ids", dead[0]), ("ids", dead[1]),
        ("ids", sent)], allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/dashboard/outbox?status=dead"
    page = await (await client.get(resp.headers["Location"])).text()
    assert "retry: 2 of 3 row(s) done" in page and "1 skipped" in page
    again = await (await client.get("/dashboard/outbox?status=dead")).text()
    assert 'id="flash"' not in again  # shown once
    with runtime.sessions() as s:
        assert {s.get(OutboxItem, i).status for i in dead} == {"pending"}
        assert s.get(OutboxItem, sent).status == "sent"
    doomed = _outbox(runtime, "dead", business_id="PO-GONE")
    resp = await client.post(f"/dashboard/outbox/{doomed}/cancel", data={
        "csrf": csrf, "reason": "order withdrawn"})
    assert resp.status == 200 and "cancel done" in await resp.text()
    with runtime.sessions() as s:
        assert s.get(OutboxItem, doomed).status == "cancelled"


async def test_outbox_page_filters_by_partner_and_type_and_pages(client, runtime) -> None:
    for n in range(3):
        _outbox(runtime, "sent", business_id=f"PO-F{n}")
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    page = await (await client.get(
        "/dashboard/outbox?partner=bolt-supply&document_type=purchase_order")).text()
    assert page.count('data-status="sent"') == 3
    none = await (await client.get("/dashboard/outbox?partner=nova-plastics")).text()
    assert 'data-status="sent"' not in none


async def test_interchange_page_names_codes_and_marks_the_faulty_element(client,
                                                                         runtime) -> None:
    bad = x12_850(301).replace(b"PO1*1*100*EA", b"PO1*1*1X0*EA")
    body = await (await client.post("/edi", data=bad, headers=auth(BOLT))).json()
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    html = await (await client.get(f"/dashboard/interchanges/{body['interchange_id']}")).text()
    errors = html[html.index('id="errors"'):html.index("</table>", html.index('id="errors"'))]
    assert "AK403" in errors, errors
    assert re.search(r'<mark class="hl-el"[^>]*>1X0</mark>', html), html[-3000:]


def test_highlight_marks_segment_and_element() -> None:
    raw = b"ISA*00*" + b"x" * 98 + b"~GS*PO~ST*850*0001~BEG*00*ZZ*PO1~SE*3*0001~"
    start = raw.index(b"BEG")
    chunks = highlight(raw, [{"offset": start, "element_position": 2, "segment_tag": "BEG"}])
    marked = [(c["cls"], c["text"]) for c in chunks if c["cls"]]
    assert marked == [("hl-seg", "BEG*00*"), ("hl-el", "ZZ"), ("hl-seg", "*PO1~")]
    assert "".join(c["text"] for c in chunks) == raw.decode()
    assert standard_code({"codes": {"x12_ak4": "7", "edifact": "12"}}, "x12") == "AK403 7"
    assert standard_code({"codes": {"x12_ak4": "7", "edifact": "12"}}, "edifact") == "CONTRL 12"


async def test_an_overdue_acknowledgment_can_be_resent_and_nothing_else_can(client,
                                                                           runtime) -> None:
    late = _outbox(runtime, "sent", ack="overdue")
    fine = _outbox(runtime, "sent", ack="expected")
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    csrf = await _csrf(client, "/dashboard/outbox")
    for ident in (late, fine):
        await client.post(f"/dashboard/outbox/{ident}/resend",
                          data={"csrf": csrf, "reason": "partner lost it"})
    with runtime.sessions() as s:
        assert s.get(OutboxItem, late).status == "pending"
        assert s.get(OutboxItem, fine).status == "sent"
