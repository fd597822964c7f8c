"""Planning in the gateway: supply state from authoritative events, plan runs with their
inputs, guardrails and the approval queue over HTTP, outbox items, debounced triggers."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from sqlalchemy import select

from gateway.config import Settings
from gateway.partners.profile import load_profiles
from gateway.planning.config import PlanningConfig
from gateway.planning.jobs import due_for_event_run, run_now
from gateway.planning.state import build_state
from gateway.runtime import Runtime
from gateway.storage.db import session_factory
from gateway.storage.models import Event, OutboxItem
from gateway.storage.models_planning import PlanAction, PlanRun
from gateway.storage.repositories import audit_trail, issue_token, upsert_partner
from gateway.web import plans_api
from gateway.web.keys import RUNTIME
from gateway.web.problems import problem_middleware

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = "edg_test_plan_operator_000000000000000000001"
VIEWER = "edg_test_plan_viewer_0000000000000000000002"
NOVA = "edg_demo_nova_plastics_000000000000000003"  # a partner token from the fixtures
# Mid-morning today: the tests move the clock on by minutes, never across midnight (a run
# started just before midnight would otherwise plan one day against the next).
NOW = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
TODAY = NOW.date()
# Small horizon and solver limit: the machine is shared.
SMALL = PlanningConfig(periods=7, time_limit=5, firm_periods=2)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


@pytest.fixture
def runtime(engine, tmp_path):
    settings = Settings(data_dir=str(tmp_path), jobs_enabled=False)
    rt = Runtime(settings=settings, engine=engine, sessions=session_factory(engine))
    with rt.sessions.begin() as s:
        for profile in load_profiles(ROOT / "fixtures" / "partners"):
            upsert_partner(s, profile, now=NOW, actor="test")
        issue_token(s, token=OPERATOR, now=NOW, partner_id=None, role="operator", name="op")
        issue_token(s, token=VIEWER, now=NOW, partner_id=None, role="viewer", name="view")
    yield rt
    rt.stop_threads()


@pytest.fixture
async def client(aiohttp_client, runtime):
    app = web.Application(middlewares=[problem_middleware])
    app[RUNTIME] = runtime
    app[plans_api.PLANNING] = SMALL
    app.add_routes(plans_api.routes)
    return await aiohttp_client(app)


def add_event(runtime: Runtime, event_type: str, data: dict[str, Any], *, partner: str,
              path: str = "api", at: datetime = NOW, ident: str | None = None) -> str:
    event_id = ident or f"{event_type}-{uuid.uuid4().hex[:12]}"
    with runtime.sessions.begin() as s:
        s.add(Event(id=event_id, type=event_type, version=1, partner_id=partner, path=path,
                    source=f"/partners/{partner}", time=at, recorded_at=at,
                    business_key="", envelope={}, data=data))
    return event_id


def network(runtime: Runtime, *, supplier: str = "nova-plastics", price: float = 2.0,
            demand: int = 10, lead_days: int = 1, moq: int = 0,
            capacity: float = 1000) -> list[str]:
    """Demand, stock and supplier terms from the plant's ERP feed: one part, one supplier."""
    return [
        add_event(runtime, "demand", {"site": "STR1", "plan_date": day(0), "lines": [
            {"part": "P-100", "period_start": day(i), "quantity": demand} for i in range(7)]},
            partner="plant-erp"),
        add_event(runtime, "stock", {"site": "STR1", "as_of": NOW.isoformat(),
                                     "items": [{"part": "P-100", "on_hand": 15}]},
                  partner="plant-erp"),
        add_event(runtime, "supplier_capacity", {"supplier": supplier, "as_of": day(0), "items": [
            {"part": "P-100", "period_start": day(i), "capacity": capacity, "unit_price": price,
             "lead_time_days": lead_days, "min_order_qty": moq, "lot_size": 10}
            for i in range(7)]}, partner="plant-erp"),
    ]


def schema_of(event_type: str) -> dict[str, Any]:
    return json.loads((ROOT / "schemas" / "events" / event_type / "v1.json").read_text())


def run(runtime: Runtime, config: PlanningConfig = SMALL, now: datetime = NOW):
    return run_now(runtime, trigger="test", actor="tester", now=now, config=config)


# --- the supply state -----------------------------------------------------------------------

def test_state_is_built_from_the_feeds_with_provenance(runtime) -> None:
    ids = network(runtime, moq=25, lead_days=2)
    with runtime.sessions() as s:
        built = build_state(s, today=TODAY, now=NOW, config=SMALL)
    state = built.state
    part = state.part("P-100")
    assert part.demand == (10,) * 7 and part.on_hand == 15
    assert part.demand_source.event_ids == (ids[0],)
    assert part.stock_source.event_ids == (ids[1],)
    offer = state.offers_for("P-100")[0]
    assert (offer.supplier, offer.price, offer.moq, offer.multiple, offer.lead_time) == \
        ("nova-plastics", 2.0, 25, 10, 2)
    assert state.supplier("nova-plastics").capacity == (1000.0,) * 7
    # No delivery history: the safety stock comes from demand variability alone (none here).
    assert part.safety_stock == 0
    assert set(state.event_ids()) == set(ids)


def test_only_authoritative_paths_count_per_stage(runtime) -> None:
    """bolt-supply is in stage edi: its API-path confirmation is a shadow and must not count."""
    network(runtime, supplier="bolt-supply")
    with runtime.sessions.begin() as s:
        s.add(PlanAction(
            id="a-1", run_id=_dummy_run(s), created_at=NOW - timedelta(days=3),
            supplier_id="bolt-supply", kind="new", document_type="purchase_order",
            business_id="EG1", order_number="EG1", value=80.0, status="released",
            lines=[{"part": "P-100", "order_date": day(-3), "arrival_date": day(2),
                    "quantity": 40, "previous_quantity": 0, "unit_price": 2.0}], data={}))
    response = {"order_number": "EG1", "status": "accepted_with_changes", "lines": [
        {"line_number": "1", "buyer_part": "P-100", "confirmed_quantity": 30,
         "confirmed_delivery_date": day(3)}]}
    shadow = add_event(runtime, "order_response", {**response, "lines": [
        {"line_number": "1", "buyer_part": "P-100", "confirmed_quantity": 5}]},
        partner="bolt-supply", path="api")
    real = add_event(runtime, "order_response", response, partner="bolt-supply", path="edi",
                     at=NOW - timedelta(hours=1))
    add_event(runtime, "despatch_advice", {
        "shipment_number": "SH1", "despatch_date": day(0), "expected_delivery_date": day(1),
        "items": [{"order_number": "EG1", "line_number": "1", "buyer_part": "P-100",
                   "quantity": 12}]}, partner="bolt-supply", path="edi")
    with runtime.sessions() as s:
        built = build_state(s, today=TODAY, now=NOW, config=SMALL)
    receipts = {(r.kind, r.arrival_period): r for r in built.state.receipts}
    # 30 confirmed for day 3, of which 12 are already in transit for day 1.
    assert receipts[("in_transit", 1)].quantity == 12
    confirmation = receipts[("confirmation", 3)]
    assert confirmation.quantity == 18 and confirmation.source.event_ids == (real,)
    assert shadow not in built.state.event_ids()


def _dummy_run(s) -> str:
    s.add(PlanRun(id="run-0", created_at=NOW - timedelta(days=3), trigger="test",
                  status="adopted", source="optimizer", horizon_start=TODAY - timedelta(days=3),
                  periods=7, period_days=1))
    s.flush()
    return "run-0"


def test_bad_feed_items_are_reported_not_fatal(runtime) -> None:
    network(runtime)
    add_event(runtime, "demand", {"site": "STR2", "plan_date": day(0), "lines": [
        {"part": "P-100", "period_start": "tomorrow", "quantity": 5},
        {"part": None, "period_start": day(1), "quantity": 5},
        {"part": "P-100", "period_start": day(1), "quantity": -3},
        {"part": "P-999", "period_start": day(1), "quantity": 5}]}, partner="plant-erp")
    # A supplier may not state another supplier's capacity.
    add_event(runtime, "supplier_capacity", {"supplier": "bolt-supply", "items": [
        {"part": "P-100", "unit_price": 0.01}]}, partner="nova-plastics")
    # ...nor shadow the master data with a newer one of its own making.
    add_event(runtime, "supplier_capacity", {"supplier": "nova-plastics", "items": [
        {"part": "P-100", "unit_price": 0.01}]}, partner="bolt-supply",
        at=NOW + timedelta(hours=1))
    with runtime.sessions() as s:
        built = build_state(s, today=TODAY, now=NOW, config=SMALL)
    text = "\n".join(built.warnings)
    assert text.count("unusable, skipped") == 3
    assert "P-999: demanded but no supplier offers it" in text
    assert "nova-plastics may not report for bolt-supply" in text
    assert [(o.supplier, o.price) for o in built.state.offers] == [("nova-plastics", 2.0)]


# --- plan runs, traceability, outbox --------------------------------------------------------

def test_a_run_stores_its_inputs_and_queues_released_orders(runtime) -> None:
    inputs = network(runtime, supplier="nova-plastics")
    summary = run(runtime)
    assert summary.status == "adopted" and summary.released >= 1 and summary.held == 0
    with runtime.sessions() as s:
        plan_run = s.get(PlanRun, summary.run_id)
        assert {i.event_id for i in plan_run.inputs} == set(inputs)
        assert plan_run.result["report"]["status"]
        first = min(plan_run.lines, key=lambda ln: ln.order_date)
        assert first.order_date == TODAY and first.covers and first.order_number
        items = s.scalars(select(OutboxItem)).all()
        assert items and all(i.status == "pending" and i.channel == "webhook" for i in items)
        # Promise 4: outbox row -> action -> plan run -> input events.
        action = s.get(PlanAction, items[0].cause_id)
        assert action.run_id == plan_run.id and action.document_type == "purchase_order"
        assert items[0].business_id == action.order_number == first.order_number
        jsonschema.validate(items[0].data, schema_of("purchase_order"))
        # Orders placed later in the horizon stay planned: only today's go out.
        assert {ln["order_date"] for a in plan_run.actions for ln in a.lines} == {day(0)}


def test_an_unchanged_plan_sends_nothing_twice(runtime) -> None:
    network(runtime)
    first = run(runtime)
    second = run(runtime, now=NOW + timedelta(minutes=5))
    assert first.released >= 1
    assert second.released == 0 and second.held == 0
    with runtime.sessions() as s:
        assert len(s.scalars(select(OutboxItem)).all()) == first.released


def test_a_change_goes_out_as_an_order_change_with_the_same_order_number(runtime) -> None:
    network(runtime, demand=10)
    run(runtime)
    later = NOW + timedelta(minutes=10)
    add_event(runtime, "demand", {"site": "STR1", "plan_date": day(0), "lines": [
        {"part": "P-100", "period_start": day(i), "quantity": 30} for i in range(7)]},
        partner="plant-erp", at=later)  # a newer feed: demand triples
    summary = run(runtime, now=later + timedelta(minutes=1))
    with runtime.sessions() as s:
        actions = s.scalars(select(PlanAction).where(PlanAction.run_id == summary.run_id)).all()
        first = s.scalars(select(PlanAction).where(PlanAction.kind == "new")).first()
    change = next(a for a in actions if a.kind == "change")
    assert change.order_number == first.order_number
    assert change.business_id == f"{first.order_number}/{summary.run_id[:8].upper()}"
    assert change.lines[0]["quantity"] > change.lines[0]["previous_quantity"]
    jsonschema.validate(change.data, schema_of("order_change"))


def test_schedule_driven_suppliers_get_firm_and_forecast_schedules(runtime) -> None:
    network(runtime, supplier="texan-bearings", capacity=10)  # deliveries every day
    summary = run(runtime, replace(SMALL, value_threshold=None))
    with runtime.sessions() as s:
        actions = s.scalars(select(PlanAction).where(PlanAction.run_id == summary.run_id)).all()
    assert {a.kind for a in actions} == {"firm", "forecast"}
    for action in actions:
        assert action.document_type == "delivery_schedule"
        jsonschema.validate(action.data, schema_of("delivery_schedule"))
        commitments = {p["commitment"] for i in action.data["items"] for p in i["periods"]}
        assert commitments == {action.kind}


def test_an_infeasible_plan_keeps_the_previous_one_and_sends_nothing(runtime) -> None:
    network(runtime)
    first = run(runtime)
    assert first.released >= 1
    # The supplier now says it can deliver almost nothing, but today's order is frozen.
    later = NOW + timedelta(minutes=10)
    add_event(runtime, "supplier_capacity", {"supplier": "nova-plastics", "items": [
        {"part": "P-100", "period_start": day(i), "capacity": 1, "unit_price": 2.0,
         "lead_time_days": 1, "lot_size": 10} for i in range(7)]}, partner="plant-erp", at=later)
    summary = run(runtime, replace(SMALL, frozen_periods=1), now=later + timedelta(minutes=1))
    assert (summary.status, summary.released, summary.held) == ("kept", 0, 0)
    with runtime.sessions() as s:
        kept = s.get(PlanRun, summary.run_id)
        assert kept.result["reasons"][0].startswith("infeasible")
        assert len(s.scalars(select(OutboxItem)).all()) == first.released


# --- the approval gate over HTTP ------------------------------------------------------------

async def test_unplannable_parts_and_signed_shortages_reach_the_plans_api(client, runtime):
    network(runtime, lead_days=2)  # 15 on hand, 10 a day, two days' lead: day 1 runs short
    add_event(runtime, "demand", {"site": "STR2", "plan_date": day(0), "lines": [
        {"part": "P-999", "period_start": day(i), "quantity": 5} for i in range(7)]},
        partner="plant-erp")
    resp = await client.post("/api/v1/plans", json={"reason": "test"}, headers=auth(OPERATOR))
    assert resp.status == 201, await resp.text()
    body = await (await client.get("/api/v1/plans/current", headers=auth(VIEWER))).json()
    assert body["alerts"] == [{
        "part": "P-999", "kind": "no_supplier", "demand_at_risk": 35, "first_short_period": 0,
        "message": "part P-999: no supplier offers it; 35 units of demand at risk from period 0",
    }]
    assert body["stockouts_avoided"] == body["naive_stockouts"] - body["stockouts"]
    assert body["shortages_avoided"] == body["stockouts_avoided"]
    reasons = {(s["part"], s["reason"]) for s in body["shortages"]}
    assert ("P-999", "no_supplier") in reasons and ("P-100", "lead_time") in reasons
    assert body["source_detail"]
    detail = await (await client.get(f"/api/v1/plans/{body['id']}",
                                     headers=auth(VIEWER))).json()
    assert detail["alerts"] == body["alerts"]
    assert detail["result"]["alerts"][0]["demand_at_risk"] == 35


async def test_what_if_compares_plans_and_sends_nothing(client, runtime):
    network(runtime, capacity=15)
    add_event(runtime, "supplier_capacity", {"supplier": "bolt-supply", "as_of": day(0),
                                             "items": [
        {"part": "P-100", "period_start": day(i), "capacity": 1000, "unit_price": 10.0,
         "lead_time_days": 1, "lot_size": 10} for i in range(7)]}, partner="plant-erp")
    scenario = {"scenarios": [{"kind": "outage", "supplier": "nova-plastics", "periods": 7}]}
    denied = await client.post("/api/v1/plans/what-if", json=scenario, headers=auth(VIEWER))
    assert denied.status == 403
    resp = await client.post("/api/v1/plans/what-if", json=scenario, headers=auth(OPERATOR))
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["current"]["shortages"] is not None and body["what_if"]["shortages"] is not None
    assert body["what_if"]["operating_cost"] > body["current"]["operating_cost"]
    assert body["suppliers_newly_loaded"] == ["bolt-supply"]
    assert body["orders_changed"] and body["sent"] == 0
    assert body["scenarios"][0]["description"].startswith("nova-plastics delivers nothing")
    with runtime.sessions() as s:
        assert s.scalars(select(OutboxItem)).all() == []  # nothing sent...
        assert s.scalars(select(PlanRun)).all() == []  # ...and nothing stored
    for bad, message in [({"scenarios": [{"kind": "flood"}]}, "scenario kind must be one of"),
                         ({"scenarios": [{"kind": "outage", "supplier": "nobody",
                                          "periods": 1}]}, "unknown supplier 'nobody'"),
                         ({"scenarios": []}, "scenarios")]:
        resp = await client.post("/api/v1/plans/what-if", json=bad, headers=auth(OPERATOR))
        assert resp.status == 400 and message in (await resp.json())["detail"]


async def test_the_approval_gate_holds_a_high_value_order_until_approved(client, runtime):
    network(runtime, price=5_000.0, demand=20)  # a day's 20 units: 100,000 > 50,000
    resp = await client.post("/api/v1/plans", json={"reason": "weekly"}, headers=auth(OPERATOR))
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["held"] >= 1 and body["released"] == 0
    with runtime.sessions() as s:
        assert s.scalars(select(OutboxItem)).all() == []  # nothing leaves while held

    queue = await (await client.get("/api/v1/approvals", headers=auth(VIEWER))).json()
    held = [a for a in queue["approvals"] if a["run_id"] == body["id"]]
    assert held and "above 50,000.00" in held[0]["reasons"][0]
    target = held[0]["id"]

    denied = await client.post(f"/api/v1/approvals/{target}/approve", headers=auth(VIEWER))
    assert denied.status == 403
    denied = await client.post(f"/api/v1/approvals/{target}/approve", headers=auth(NOVA))
    assert denied.status == 403
    with runtime.sessions() as s:
        assert s.scalars(select(OutboxItem)).all() == []

    ok = await client.post(f"/api/v1/approvals/{target}/approve",
                           json={"reason": "budget signed off"}, headers=auth(OPERATOR))
    assert ok.status == 200, await ok.text()
    decided = await ok.json()
    assert decided["status"] == "approved" and decided["decided_by"] == "operator:op"
    with runtime.sessions() as s:
        items = s.scalars(select(OutboxItem)).all()
        assert [i.cause_id for i in items] == [target]
        assert items[0].business_id == decided["business_id"] and items[0].status == "pending"
        trail = audit_trail(s, "plan_action", target)
        assert [(e.action, e.actor, e.reason) for e in trail] == \
            [("plan_action.approve", "operator:op", "budget signed off")]
    again = await client.post(f"/api/v1/approvals/{target}/approve", headers=auth(OPERATOR))
    assert again.status == 409

    detail = await (await client.get(f"/api/v1/plans/{body['id']}", headers=auth(VIEWER))).json()
    assert {i["type"] for i in detail["inputs"]} == {"demand", "stock", "supplier_capacity"}
    assert any(line["covers"] for line in detail["lines"])
    listed = await (await client.get("/api/v1/plans", headers=auth(VIEWER))).json()
    assert listed["plans"][0]["id"] == body["id"]


async def test_a_rejection_needs_a_reason_and_is_never_sent(client, runtime):
    network(runtime, price=5_000.0, demand=20)
    body = await (await client.post("/api/v1/plans", headers=auth(OPERATOR))).json()
    queue = await (await client.get("/api/v1/approvals", headers=auth(OPERATOR))).json()
    target = queue["approvals"][0]["id"]
    missing = await client.post(f"/api/v1/approvals/{target}/reject", json={},
                                headers=auth(OPERATOR))
    assert missing.status == 400
    garbage = await client.post(f"/api/v1/approvals/{target}/reject", data=b"\xff{",
                                headers=auth(OPERATOR))
    assert garbage.status == 400
    ok = await client.post(f"/api/v1/approvals/{target}/reject",
                           json={"reason": "wrong part"}, headers=auth(OPERATOR))
    assert (await ok.json())["status"] == "rejected"
    with runtime.sessions() as s:
        assert s.scalars(select(OutboxItem)).all() == []
    assert body["held"] >= 1


async def test_a_newer_run_supersedes_what_waits(client, runtime):
    network(runtime, price=5_000.0, demand=20)
    await client.post("/api/v1/plans", headers=auth(OPERATOR))
    old = (await (await client.get("/api/v1/approvals", headers=auth(OPERATOR))).json())
    await client.post("/api/v1/plans", headers=auth(OPERATOR))
    stale_id = old["approvals"][0]["id"]
    resp = await client.post(f"/api/v1/approvals/{stale_id}/approve", headers=auth(OPERATOR))
    assert resp.status == 409 and "superseded" in (await resp.json())["detail"]


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/v1/plans"), ("get", "/api/v1/plans"), ("get", "/api/v1/approvals"),
    ("post", "/api/v1/approvals/x/approve")])
async def test_partners_cannot_use_planning_routes(client, method, path):
    resp = await getattr(client, method)(path, headers=auth(NOVA))
    assert resp.status == 403
    resp = await getattr(client, method)(path)
    assert resp.status == 401


async def test_unknown_plan_and_action_are_404(client):
    assert (await client.get("/api/v1/plans/nope", headers=auth(VIEWER))).status == 404
    resp = await client.post("/api/v1/approvals/nope/approve", headers=auth(OPERATOR))
    assert resp.status == 404
    assert (await client.get("/api/v1/plans?limit=0", headers=auth(VIEWER))).status == 400


def test_openapi_fragment_describes_every_route():
    described = {(m.upper(), p) for p, ops in plans_api.OPENAPI.items() for m in ops}
    served = {(r.method, r.path) for r in plans_api.routes}  # type: ignore[attr-defined]
    assert described == served


# --- scheduling -----------------------------------------------------------------------------

def test_event_runs_are_debounced(runtime) -> None:
    debounce = timedelta(seconds=30)
    assert not due_for_event_run(runtime, NOW, debounce)  # nothing arrived
    network(runtime)
    run(runtime, now=NOW + timedelta(seconds=1))
    assert not due_for_event_run(runtime, NOW + timedelta(minutes=5), debounce)
    arrived = NOW + timedelta(minutes=10)
    add_event(runtime, "despatch_advice", {"shipment_number": "S9", "items": []},
              partner="nova-plastics", at=arrived)
    assert not due_for_event_run(runtime, arrived + timedelta(seconds=5), debounce)  # quiet?
    assert due_for_event_run(runtime, arrived + timedelta(seconds=31), debounce)


def test_the_first_plan_does_not_wait_for_quiet(runtime) -> None:
    debounce, max_wait = timedelta(seconds=30), timedelta(seconds=60)
    inputs = network(runtime)
    assert inputs
    # News keeps arriving (never quiet for 30 s), yet with no plan at all the first one is
    # made once the oldest news has waited ten seconds, not a whole minute.
    add_event(runtime, "stock", {"site": "STR1", "as_of": NOW.isoformat(), "items": [
        {"part": "P-100", "on_hand": 15}]}, partner="plant-erp", at=NOW + timedelta(seconds=9))
    assert not due_for_event_run(runtime, NOW + timedelta(seconds=9), debounce, max_wait)
    assert due_for_event_run(runtime, NOW + timedelta(seconds=11), debounce, max_wait)


def test_a_steady_stream_of_news_still_gets_planned(runtime) -> None:
    """Debouncing alone would starve: news every 10 s is never quiet for 30 s."""
    debounce, max_wait = timedelta(seconds=30), timedelta(seconds=60)
    network(runtime)
    run(runtime, now=NOW + timedelta(seconds=1))
    start = NOW + timedelta(minutes=10)
    for i in range(7):  # one despatch every 10 s for a minute
        at = start + timedelta(seconds=10 * i)
        add_event(runtime, "despatch_advice", {"shipment_number": f"S{i}", "items": []},
                  partner="nova-plastics", at=at)
        assert not due_for_event_run(runtime, at + timedelta(seconds=5), debounce)
    last = start + timedelta(seconds=60)
    assert not due_for_event_run(runtime, last + timedelta(seconds=5), debounce)
    assert due_for_event_run(runtime, last + timedelta(seconds=5), debounce, max_wait)


def test_planning_config_rejects_unknown_and_bad_settings() -> None:
    with pytest.raises(ValueError, match="unknown planning setting"):
        PlanningConfig.from_mapping({"horizon": 3})
    with pytest.raises(ValueError, match="service_level"):
        PlanningConfig(service_level=1.5)
    with pytest.raises(ValueError, match="solver"):
        PlanningConfig(solver="gurobi")
    assert PlanningConfig.from_mapping({"periods": 14}).periods == 14
    assert date.fromisoformat(day(0)) == TODAY


def test_edi_suppliers_get_a_rendered_order_on_their_edi_channel(runtime) -> None:
    network(runtime, supplier="bolt-supply")  # X12 004010, stage edi, SFTP mailbox
    summary = run(runtime)
    with runtime.sessions() as s:
        actions = s.scalars(select(PlanAction).where(PlanAction.run_id == summary.run_id)).all()
        assert actions and all(a.status == "released" for a in actions), \
            [a.decision_reason for a in actions]
        item = s.scalars(select(OutboxItem)).one()
    assert item.channel == "sftp" and item.payload is not None
    assert item.payload.startswith(b"ISA") and b"BEG*00*" in item.payload
    assert actions[0].order_number.encode() in item.payload


def test_cli_plans_from_the_gateway_database(runtime, tmp_path) -> None:
    from click.testing import CliRunner

    from gateway.cli import cli
    from optimizer import loads

    network(runtime)
    env = {"EDIGATE_DATABASE_URL": runtime.engine.url.render_as_string(hide_password=False),
           "EDIGATE_SERVER_DATA_DIR": str(tmp_path)}
    exported = tmp_path / "state.json"
    result = CliRunner().invoke(cli, ["plan", "--export-state", str(exported)], env=env)
    assert result.exit_code == 0, result.output
    assert loads(exported.read_text()).part("P-100").demand == (10,) * 7 + (0,) * 21
    result = CliRunner().invoke(cli, ["plan", "--time-limit", "5"], env=env)
    assert result.exit_code == 0, result.output
    assert "Plan run" in result.output and "sent to the outbox" in result.output
    with runtime.sessions() as s:
        assert s.scalars(select(PlanRun)).one().trigger == "cli"


def test_a_resent_schedule_keeps_deliveries_already_called_off(runtime) -> None:
    """830 replaces 830: lines ordered earlier but still to arrive must be in the new one."""
    network(runtime, supplier="texan-bearings", capacity=10)
    config = replace(SMALL, value_threshold=None, firm_change_share=None)
    run(runtime, config)
    with runtime.sessions() as s:
        sent = {(ln["part"], ln["arrival_date"]): ln["quantity"]
                for a in s.scalars(select(PlanAction)).all() for ln in a.lines}
    tomorrow = NOW + timedelta(days=1)
    add_event(runtime, "demand", {"site": "STR1", "plan_date": day(1), "lines": [
        {"part": "P-100", "period_start": day(i), "quantity": 15} for i in range(1, 8)]},
        partner="plant-erp", at=tomorrow)
    add_event(runtime, "stock", {"site": "STR1", "as_of": tomorrow.isoformat(),
                                 "items": [{"part": "P-100", "on_hand": 5}]},
              partner="plant-erp", at=tomorrow)
    summary = run(runtime, config, now=tomorrow + timedelta(minutes=1))
    with runtime.sessions() as s:
        resent = [a for a in s.scalars(select(PlanAction)).all() if a.run_id == summary.run_id]
    assert resent, "more demand must change the schedule"
    now_sent = {}
    for action in resent:
        for ln in action.lines:
            key = (ln["part"], ln["arrival_date"])
            now_sent[key] = now_sent.get(key, 0) + ln["quantity"]
    for (part, arrival), qty in sent.items():
        if arrival >= day(1) and qty:
            assert now_sent.get((part, arrival), 0) >= qty, (arrival, qty, now_sent)


def test_safety_stock_comes_from_lead_time_history_unless_stated(runtime) -> None:
    from optimizer import LeadTimeStats, safety_stock

    network(runtime)
    add_event(runtime, "demand", {"site": "STR1", "plan_date": day(0), "lines": [
        {"part": "P-100", "period_start": day(i), "quantity": 5 if i % 2 else 15}
        for i in range(7)]}, partner="plant-erp", at=NOW + timedelta(seconds=1))
    with runtime.sessions.begin() as s:
        run_id = _dummy_run(s)
        for n, ordered in enumerate([-20, -15, -10]):
            s.add(PlanAction(
                id=f"h-{n}", run_id=run_id, created_at=NOW + timedelta(days=ordered),
                supplier_id="nova-plastics", kind="new", document_type="purchase_order",
                business_id=f"H{n}", order_number=f"H{n}", value=20.0, status="released",
                lines=[{"part": "P-100", "order_date": day(ordered),
                        "arrival_date": day(ordered + 1), "quantity": 10,
                        "previous_quantity": 0, "unit_price": 2.0}], data={}))
    for n, (ordered, lead) in enumerate([(-20, 2), (-15, 4), (-10, 3)]):
        add_event(runtime, "despatch_advice", {
            "shipment_number": f"S{n}", "despatch_date": day(ordered + 1),
            "expected_delivery_date": day(ordered + lead),
            "items": [{"order_number": f"H{n}", "buyer_part": "P-100", "quantity": 10}]},
            partner="nova-plastics", at=NOW + timedelta(days=ordered + 1))
    with runtime.sessions() as s:
        built = build_state(s, today=TODAY, now=NOW, config=SMALL)
    expected = safety_stock([15, 5, 15, 5, 15, 5, 15], LeadTimeStats(3, 3.0, 1.0), 0.95)
    assert expected > 0 and built.state.part("P-100").safety_stock == expected
    # All three deliveries arrived before the stock count: nothing is left in transit.
    assert built.state.receipts == ()
    add_event(runtime, "stock", {"site": "STR1", "as_of": NOW.isoformat(), "items": [
        {"part": "P-100", "on_hand": 15, "safety_stock": 4}]}, partner="plant-erp",
        at=NOW + timedelta(seconds=2))
    with runtime.sessions() as s:
        built = build_state(s, today=TODAY, now=NOW, config=SMALL)
    assert built.state.part("P-100").safety_stock == 4


def test_stale_stock_is_flagged_and_counted_conservatively(runtime) -> None:
    network(runtime)
    old = NOW - timedelta(days=5)  # the stock budget is 2 days
    add_event(runtime, "stock", {"site": "STR1", "as_of": old.isoformat(),
                                 "items": [{"part": "P-100", "on_hand": 100}]},
              partner="plant-erp", at=NOW + timedelta(seconds=1))
    summary = run(runtime)
    with runtime.sessions() as s:
        stale = s.get(PlanRun, summary.run_id).result["stale"]
    assert len(stale) == 1 and stale[0].startswith("stock P-100")
    assert "on hand 100 counted as 90" in stale[0]


async def test_one_planning_run_at_a_time(client, runtime):
    from gateway.planning.jobs import planning_lock

    with planning_lock(runtime):
        resp = await client.post("/api/v1/plans", headers=auth(OPERATOR))
    assert resp.status == 409 and "already in progress" in (await resp.json())["detail"]
    assert (await client.post("/api/v1/plans", headers=auth(OPERATOR))).status == 201


# --- the business calendar (a demo scenario runs ahead of the wall clock) -------------------

def test_a_run_without_an_explicit_time_plans_on_the_runtime_calendar(runtime) -> None:
    network(runtime)
    ahead = NOW + timedelta(days=3)
    runtime.clock = lambda: ahead
    summary = run_now(runtime, trigger="test", actor="tester", config=SMALL)
    with runtime.sessions() as s:
        stored = s.get(PlanRun, summary.run_id)
        assert stored.horizon_start == ahead.date()
        # The run itself is stamped with the wall clock (what happened when).
        assert abs((datetime.now(UTC) - stored.created_at.replace(tzinfo=UTC)).total_seconds()) < 60


def test_the_simulation_clock_runs_a_day_per_ticks_per_day(tmp_path) -> None:
    from gateway.simulate.engine import Options, Simulation
    from tests.gateway.live_server import refused_port

    sim = Simulation(Options(base_url=f"http://127.0.0.1:{refused_port()}", data_dir=tmp_path,
                             start=date(2030, 1, 1), ticks_per_day=4))
    first = sim.business_now()
    assert first.date() == date(2030, 1, 1)
    sim.ticks = 6
    assert sim.business_now() - first == timedelta(days=1.5)
