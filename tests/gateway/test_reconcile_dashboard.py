"""The reconciliation dashboard page: chart, stages with evidence, open disagreements."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from gateway.reconcile.service import day_window, run_reconciliation
from gateway.storage.models import Event, PartnerStage
from gateway.web.auth import SESSION_COOKIE
from gateway.web.dashboard import reconcile_pages
from tests.gateway.reconcile_helpers import (
    OPERATOR,
    PARTNER,
    make_runtime,
    order,
    reconcile_app,
    store_edi,
)


async def test_page_shows_chart_stages_and_side_by_side_differences(
        engine: Engine, tmp_path: Path, aiohttp_client) -> None:
    runtime = make_runtime(engine, tmp_path)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        s.add(PartnerStage(partner_id=PARTNER, document_type="purchase_order", stage="dual",
                           changed_at=now, changed_by="test"))
    store_edi(runtime, order("PO-1"), time=now, recorded_at=now)
    a = order("PO-1", quantity=480)
    with runtime.sessions.begin() as s:
        s.add(Event(id="api-1", type="purchase_order", version=1, partner_id=PARTNER,
                    path="api", source="x", time=now, recorded_at=now, business_key="PO-1",
                    data=a))
    with runtime.sessions.begin() as s:
        run_reconciliation(s, PARTNER, day_window(now.date(), now.date()), as_of=now,
                           trigger="test")
    app = reconcile_app(runtime)
    app.add_routes(reconcile_pages.routes)
    client = await aiohttp_client(app)
    anonymous = await client.get("/dashboard/reconciliation", allow_redirects=False)
    assert anonymous.status == 303
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    page = await client.get("/dashboard/reconciliation")
    html = await page.text()
    assert page.status == 200
    assert 'id="agreement"' in html and 'data-y="0.0"' in html  # 0 % agreement today
    assert 'data-outcome="mismatch" data-key="PO-1"' in html
    assert '<td class="edi">500</td>' in html and '<td class="api">480</td>' in html
    assert "agreement 0.0% &lt; 99.0%" in html and "Promote to api" in html


async def test_rule_form_sets_an_audited_rule_that_the_next_run_applies(
        engine: Engine, tmp_path: Path, aiohttp_client) -> None:
    import re

    from gateway.reconcile.service import daily_stats
    from gateway.storage.repositories import audit_trail

    runtime = make_runtime(engine, tmp_path)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        s.add(PartnerStage(partner_id=PARTNER, document_type="purchase_order", stage="dual",
                           changed_at=now, changed_by="test"))
    store_edi(runtime, order("PO-1"), time=now, recorded_at=now)
    with runtime.sessions.begin() as s:
        s.add(Event(id="api-1", type="purchase_order", version=1, partner_id=PARTNER,
                    path="api", source="x", time=now, recorded_at=now, business_key="PO-1",
                    data=order("PO-1", quantity=498)))
    app = reconcile_app(runtime)
    app.add_routes(reconcile_pages.routes)
    client = await aiohttp_client(app)
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    html = await (await client.get("/dashboard/reconciliation")).text()
    assert 'id="rule-form"' in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    form = {"csrf": csrf, "partner": PARTNER, "document_type": "purchase_order",
            "field": "lines.quantity", "compare": "number", "abs": "5", "rel": "", "days": "",
            "reason": "supplier rounds to cartons of 5"}
    no_reason = await client.post("/dashboard/reconciliation/rules",
                                  data={**form, "reason": ""}, allow_redirects=False)
    assert no_reason.status == 400
    wrong = await client.post("/dashboard/reconciliation/rules",
                              data={**form, "compare": "date"}, allow_redirects=False)
    assert wrong.status == 400 and "does not apply" in await wrong.text()
    done = await client.post("/dashboard/reconciliation/rules", data=form,
                             allow_redirects=False)
    assert done.status == 303
    with runtime.sessions() as s:
        [entry] = [a for a in audit_trail(s, "partner", PARTNER)
                   if a.action == "reconcile.rule"]
        assert entry.reason == "supplier rounds to cartons of 5"
    with runtime.sessions.begin() as s:
        run_reconciliation(s, PARTNER, day_window(now.date(), now.date()), as_of=now,
                           trigger="test")
    with runtime.sessions() as s:
        [row] = daily_stats(s, partner_id=PARTNER)
        assert row.agreement == 1.0  # 500 vs 498 is within the operator's tolerance
    html = await (await client.get("/dashboard/reconciliation")).text()
    assert "lines.quantity |Δ| ≤ 5" in html and "supplier rounds to cartons of 5" in html


def _mismatch(runtime, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with runtime.sessions.begin() as s:
        s.add(PartnerStage(partner_id=PARTNER, document_type="purchase_order", stage="dual",
                           changed_at=now, changed_by="test"))
    store_edi(runtime, order("PO-1"), time=now, recorded_at=now)
    with runtime.sessions.begin() as s:
        s.add(Event(id="api-1", type="purchase_order", version=1, partner_id=PARTNER,
                    path="api", source="x", time=now, recorded_at=now, business_key="PO-1",
                    data=order("PO-1", quantity=480)))


async def test_run_now_reconciles_for_an_operator_with_csrf_and_shows_last_run(
        engine: Engine, tmp_path: Path, aiohttp_client) -> None:
    import re

    from sqlalchemy import select

    from gateway.storage.models_reconciler import ReconcileRun
    from tests.gateway.reconcile_helpers import VIEWER

    runtime = make_runtime(engine, tmp_path)
    _mismatch(runtime, datetime.now(UTC))
    app = reconcile_app(runtime)
    app.add_routes(reconcile_pages.routes)
    client = await aiohttp_client(app)
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    html = await (await client.get("/dashboard/reconciliation")).text()
    assert '<span id="last-run">never</span>' in html
    # No scheduler in this app: the page says so instead of inventing a time.
    assert '<span id="next-run">not scheduled in this process</span>' in html
    assert 'id="run-now"' in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]

    refused = await client.post("/dashboard/reconciliation/run", data={"partner": ""},
                                allow_redirects=False)
    assert refused.status == 403  # no CSRF token
    done = await client.post("/dashboard/reconciliation/run",
                             data={"csrf": csrf, "partner": ""}, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/dashboard/reconciliation?ran=1"
    with runtime.sessions() as s:
        runs = s.scalars(select(ReconcileRun)).all()
    assert [(r.partner_id, r.trigger, r.actor) for r in runs] == [
        (PARTNER, "manual", "operator:ops")]
    html = await (await client.get(done.headers["Location"])).text()
    assert 'id="ran"' in html and "1 run(s)" in html
    assert re.search(r'<span id="last-run">[0-9-]+ [0-9:]+ UTC</span> \(manual by operator:ops, '
                     + PARTNER, html)
    assert 'data-outcome="mismatch" data-key="PO-1"' in html

    # A viewer sees the page but has no button, and a forged post is refused.
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: VIEWER})
    viewer_html = await (await client.get("/dashboard/reconciliation")).text()
    assert 'id="run-now"' not in viewer_html
    forbidden = await client.post("/dashboard/reconciliation/run",
                                  data={"csrf": csrf, "partner": ""}, allow_redirects=False)
    assert forbidden.status == 403


async def test_each_mismatch_links_to_both_documents_side_by_side(
        engine: Engine, tmp_path: Path, aiohttp_client) -> None:
    import re

    runtime = make_runtime(engine, tmp_path)
    now = datetime.now(UTC)
    _mismatch(runtime, now)
    with runtime.sessions.begin() as s:
        run_reconciliation(s, PARTNER, day_window(now.date(), now.date()), as_of=now,
                           trigger="test")
    app = reconcile_app(runtime)
    app.add_routes(reconcile_pages.routes)
    client = await aiohttp_client(app)
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    html = await (await client.get("/dashboard/reconciliation")).text()
    link = re.search(r'href="(/dashboard/reconciliation/results/\d+)"[^>]*>purchase_order '
                     r'PO-1</a>', html)
    assert link is not None
    pair = await client.get(link.group(1))
    body = await pair.text()
    assert pair.status == 200
    # Both copies, each leading on to its lineage; the flagged field first, both values.
    assert 'data-side="edi"' in body and 'data-side="api"' in body
    assert 'href="/lineage/api-1"' in body
    first = re.search(r'<tr data-path="([^"]+)" class="flagged" data-flag="([^"]+)">\s*'
                      r'<td><code>[^<]+</code></td>\s*<td class="edi">([^<]+)</td>\s*'
                      r'<td class="api">([^<]+)</td>', body)
    assert first is not None
    # The reconciler's path names the line by its number (10), as the difference says.
    assert first.groups() == ("lines[10].quantity", "value_differs", "500", "480")
    # Then both whole documents, field by field: the agreeing ones unflagged.
    assert re.search(r'<tr data-path="order_number">\s*<td><code>order_number</code></td>'
                     r'\s*<td class="edi">PO-1</td>\s*<td class="api">PO-1</td>', body)
    assert '<tr data-path="lines[0].quantity" class="flagged" data-flag="differs">' in body
    missing = await client.get("/dashboard/reconciliation/results/999999")
    assert missing.status == 404
