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
