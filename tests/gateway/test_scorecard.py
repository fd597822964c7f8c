"""Supplier scorecard: the pure scoring rules, then plan -> orders -> despatch advices on both
paths -> GET /api/v1/suppliers/scorecard and the dashboard page."""

from __future__ import annotations

from datetime import date, timedelta

from gateway.planning.scorecard import OrderedLine, ShippedLine, score
from gateway.storage.models_planning import PlanAction
from tests.gateway.gateway_app import VIEWER, app_for, auth, make_runtime
from tests.gateway.test_planning import NOW, TODAY, add_event, network, run

D0 = date(2026, 3, 2)


def _o(number: str, part: str, qty: float, requested: int, supplier: str = "s1") -> OrderedLine:
    return OrderedLine(supplier, number, part, qty, D0, D0 + timedelta(days=requested))


def _s(number: str, part: str, qty: float, arrives: int, supplier: str = "s1") -> ShippedLine:
    return ShippedLine(supplier, number, part, qty, D0 + timedelta(days=arrives))


def test_on_time_fill_rate_and_lead_time_spread() -> None:
    ordered = [_o("PO1", "A", 100, 3), _o("PO2", "B", 50, 4), _o("PO3", "C", 10, 30)]
    shipped = [_s("PO1", "A", 100, 3),  # on time, full
               _s("PO2", "B", 20, 6),  # late and short
               _s("PO9", "Z", 5, 1)]  # not an order of ours: ignored
    [s] = [x.to_json() for x in score(ordered, shipped, today=D0 + timedelta(days=10))]
    assert s["order_lines"] == 3 and s["due_lines"] == 2 and s["shipped_lines"] == 2
    assert s["on_time_rate"] == 0.5
    assert s["fill_rate"] == round(120 / 150, 4)  # PO3 is not due yet: not short
    assert s["lead_time_mean_days"] == 4.5 and s["lead_time_spread_days"] == 2.12


def test_over_shipment_does_not_lift_the_fill_rate_above_the_order() -> None:
    [s] = score([_o("PO1", "A", 10, 1)], [_s("PO1", "A", 25, 1)], today=D0 + timedelta(days=5))
    assert s.to_json()["fill_rate"] == 1.0


def test_nothing_due_means_no_rate_rather_than_zero() -> None:
    [s] = score([_o("PO1", "A", 10, 9)], [], today=D0)
    body = s.to_json()
    assert body["fill_rate"] is None and body["on_time_rate"] is None


async def test_scorecard_from_a_real_plan_and_despatches_on_both_paths(aiohttp_client, engine,
                                                                       tmp_path) -> None:
    runtime = make_runtime(engine, tmp_path)
    network(runtime, supplier="nova-plastics")
    summary = run(runtime)
    assert summary.released >= 1
    with runtime.sessions() as s:
        action = s.query(PlanAction).filter_by(supplier_id="nova-plastics").first()
        line = action.lines[0]
    despatch = {"shipment_number": "SH-1", "despatch_date": TODAY.isoformat(),
                "expected_delivery_date": line["arrival_date"],
                "items": [{"line_number": "1", "order_number": action.order_number,
                           "buyer_part": line["part"], "quantity": line["quantity"] / 2}]}
    for path in ("edi", "api"):  # the same shipment on both paths counts once
        add_event(runtime, "despatch_advice", despatch, partner="nova-plastics", path=path,
                  at=NOW)
    client = await aiohttp_client(app_for(runtime))
    resp = await client.get("/api/v1/suppliers/scorecard", headers=auth(VIEWER))
    assert resp.status == 200
    rows = {r["supplier"]: r for r in (await resp.json())["suppliers"]}
    nova = rows["nova-plastics"]
    assert nova["shipped_lines"] == 1 and nova["on_time_rate"] == 1.0
    assert nova["lead_time_mean_days"] == float(
        (date.fromisoformat(line["arrival_date"]) - date.fromisoformat(line["order_date"])).days)
    assert (await client.get("/api/v1/suppliers/scorecard")).status == 401
    page = await client.get("/dashboard/suppliers", headers=auth(VIEWER))
    assert page.status == 200
    html = await page.text()
    assert 'id="on-time"' in html and 'data-supplier="nova-plastics"' in html
    runtime.stop_threads()


async def test_the_scorecard_is_as_of_the_business_calendar(client, runtime) -> None:
    from datetime import UTC, datetime

    from tests.gateway.gateway_app import VIEWER, auth

    runtime.clock = lambda: datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    resp = await client.get("/api/v1/suppliers/scorecard", headers=auth(VIEWER))
    assert resp.status == 200
    assert (await resp.json())["as_of"] == "2030-01-01"
