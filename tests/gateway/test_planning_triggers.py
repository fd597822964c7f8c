"""Disruption-triggered replans: a cut confirmation, a late despatch, an overdue
acknowledgment or an order change schedules a replan within a minute, debounced per partner,
and the plan names the document that triggered it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from gateway.planning import triggers
from gateway.planning.jobs import disruption_run
from gateway.storage.models import Event, OutboxItem
from gateway.storage.models_planning import PlanAction, PlanRun
from tests.gateway import test_planning as base
from tests.gateway.test_planning import NOW, TODAY, add_event, day, network, run

runtime = base.runtime  # the planning suite's fixture


class FakeScheduler:
    """Records the one-shot jobs the storing hook asks for."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}

    def add_job(self, func: Any, trigger: str, **kwargs: Any) -> None:
        assert trigger == "date" and kwargs["replace_existing"]
        self.jobs[kwargs["id"]] = kwargs


@pytest.fixture
def scheduler():
    fake = FakeScheduler()
    triggers.register(fake, disruption_run, [], timedelta(seconds=30), timedelta(seconds=60))
    yield fake
    triggers.unregister()


def store(runtime, event_type: str, data: dict[str, Any], *, partner: str, at) -> str:
    """Store an event the way the pipeline does: added, then the hook, in one transaction."""
    event_id = f"{event_type}-{uuid.uuid4().hex[:12]}"
    with runtime.sessions.begin() as s:
        s.add(Event(id=event_id, type=event_type, version=1, partner_id=partner, path="api",
                    source=f"/partners/{partner}", time=at, recorded_at=at, business_key="",
                    envelope={}, data=data))
        triggers.on_event_stored(s, event_id, event_type)
    return event_id


def two_suppliers(runtime) -> None:
    network(runtime, supplier="nova-plastics", price=2.0)  # A: cheap
    add_event(runtime, "supplier_capacity", {"supplier": "ozark-plastics", "items": [
        {"part": "P-100", "period_start": day(i), "capacity": 1000, "unit_price": 3.0,
         "lead_time_days": 1, "lot_size": 10} for i in range(7)]}, partner="plant-erp")


def sent_order(runtime, supplier: str) -> PlanAction:
    with runtime.sessions() as s:
        return s.scalars(select(PlanAction).where(PlanAction.supplier_id == supplier,
                                                  PlanAction.kind == "new")).one()


def test_a_supplier_outage_replans_to_the_alternative_supplier(runtime, scheduler) -> None:
    two_suppliers(runtime)
    first = run(runtime)
    assert {ln.supplier for ln in first.plan.lines} == {"nova-plastics"}
    order = sent_order(runtime, "nova-plastics")
    # Supplier A confirms nothing of today's order.
    at = NOW + timedelta(minutes=10)
    wall = datetime.now(UTC)
    ordrsp = store(runtime, "order_response", {
        "order_number": order.order_number, "status": "rejected", "lines": [
            {"line_number": "1", "buyer_part": "P-100", "status": "rejected",
             "ordered_quantity": order.lines[0]["quantity"], "confirmed_quantity": 0}]},
        partner="nova-plastics", at=at)
    # The hook scheduled A's replan within a minute of the news.
    job = scheduler.jobs["replan-nova-plastics"]
    assert timedelta(0) < job["run_date"] - wall <= timedelta(seconds=61)
    assert disruption_run(runtime, now=at + timedelta(seconds=5)) is None  # still debouncing
    summary = disruption_run(runtime, now=at + timedelta(seconds=31))
    assert summary is not None and summary.status == "adopted"
    # Day 1 was nova's; nothing of P-100 is expected from it before day 2 any more, so
    # today's order for day 1 goes to ozark.
    rescue = [ln for ln in summary.plan.lines if ln.supplier == "ozark-plastics"]
    assert rescue and rescue[0].period == 0 and 1 in rescue[0].covers
    assert all(ln.arrival_period >= 2 for ln in summary.plan.lines
               if ln.supplier == "nova-plastics")
    with runtime.sessions() as s:
        plan_run = s.get(PlanRun, summary.run_id)
        assert plan_run.trigger == "disruption"
        lineage = plan_run.parameters["triggers"]
        assert lineage[0]["event_id"] == ordrsp and lineage[0]["kind"] == "order_cut"
        assert lineage[0]["partner"] == "nova-plastics"
        kinds = {(a.supplier_id, a.kind) for a in plan_run.actions}
        assert ("ozark-plastics", "new") in kinds
        # The new order reaches the alternative supplier over its channel, traced back to
        # the plan that names the rejection.
        item = s.scalars(select(OutboxItem).where(
            OutboxItem.partner_id == "ozark-plastics")).one()
        assert s.get(PlanAction, item.cause_id).run_id == plan_run.id
        assert any(ordrsp in w and "P-100/nova-plastics" in w for w in plan_run.warnings)
    # Planned: the news is not due again.
    assert disruption_run(runtime, now=at + timedelta(minutes=5)) is None


def test_what_counts_as_a_disruption(runtime) -> None:
    two_suppliers(runtime)
    run(runtime)
    order = sent_order(runtime, "nova-plastics")
    ordered_for = date.fromisoformat(order.lines[0]["arrival_date"])
    qty = order.lines[0]["quantity"]
    at = NOW + timedelta(minutes=1)

    def kind(event_type: str, data: dict[str, Any], when=at) -> str | None:
        event_id = store(runtime, event_type, data, partner="nova-plastics", at=when)
        with runtime.sessions() as s:
            found = triggers.classify(s, s.get(Event, event_id))
        return found.kind if found else None

    number = order.order_number
    line = {"line_number": "1", "buyer_part": "P-100"}
    assert kind("order_response", {"order_number": number, "status": "accepted", "lines": [
        {**line, "status": "accepted", "confirmed_quantity": qty}]}) is None
    assert kind("order_response", {"order_number": number, "lines": [
        {**line, "confirmed_quantity": qty - 5}]}) == "order_cut"  # ordered qty from the plan
    assert kind("order_response", {"order_number": number, "lines": [
        {**line, "confirmed_quantity": qty, "confirmed_delivery_date":
         (ordered_for + timedelta(days=2)).isoformat()}]}) == "order_late"
    assert kind("despatch_advice", {"shipment_number": "S1", "expected_delivery_date":
                                    ordered_for.isoformat(), "items": [
        {"order_number": number, "buyer_part": "P-100", "quantity": qty}]}) is None
    assert kind("despatch_advice", {"shipment_number": "S2", "expected_delivery_date":
                                    (ordered_for + timedelta(days=3)).isoformat(), "items": [
        {"order_number": number, "buyer_part": "P-100", "quantity": qty}]}) == "despatch_late"
    assert kind("despatch_advice", {"shipment_number": "S3", "expected_delivery_date":
                                    (TODAY - timedelta(days=1)).isoformat()}) == "despatch_late"
    assert kind("order_change", {"order_number": number}) == "order_change"
    with runtime.sessions() as s:
        assert sorted(d.kind for d in triggers.pending(s)) == [
            "despatch_late", "despatch_late", "order_change", "order_cut", "order_late"]


def test_an_overdue_acknowledgment_triggers_a_replan(runtime) -> None:
    two_suppliers(runtime)
    run(runtime)
    flagged = NOW + timedelta(hours=2)
    with runtime.sessions.begin() as s:
        item = s.scalars(select(OutboxItem)).first()
        # (as the dispatcher and the overdue job move it: awaited once sent, then overdue)
        item.ack_status = "expected"
        s.flush()
        item.ack_status, item.updated_at = "overdue", flagged
    summary = disruption_run(runtime, now=flagged + timedelta(seconds=31))
    assert summary is not None
    with runtime.sessions() as s:
        lineage = s.get(PlanRun, summary.run_id).parameters["triggers"]
    assert [(t["kind"], t["outbox_id"], t["event_id"]) for t in lineage] == [
        ("ack_overdue", item.id, "")]


def test_replans_are_debounced_per_partner() -> None:
    def news(partner: str, seconds: int) -> triggers.Disruption:
        return triggers.Disruption("order_cut", partner, NOW + timedelta(seconds=seconds),
                                   "cut", event_id=f"{partner}-{seconds}")

    debounce, max_wait = timedelta(seconds=30), timedelta(seconds=60)
    burst = [news("a", 0), news("b", 0), news("a", 20), news("b", 35)]
    now = NOW + timedelta(seconds=51)  # a quiet for 31 s, b for 16 s
    assert [d.event_id for d in triggers.due(burst, now, debounce, max_wait)] == ["a-20", "a-0"]
    # b never goes quiet, yet its oldest news is planned once it has waited max_wait.
    steady = [news("b", s) for s in range(0, 70, 10)]
    assert triggers.due(steady, NOW + timedelta(seconds=55), debounce, max_wait) == []
    assert len(triggers.due(steady, NOW + timedelta(seconds=61), debounce, max_wait)) == 7


async def test_the_events_api_hook_schedules_the_replan(aiohttp_client, runtime, scheduler):
    """The hook where API events are stored: a rejection posted by the supplier schedules
    its replan (and an ordinary acceptance does not)."""
    from aiohttp import web

    from gateway.web import events as events_api
    from gateway.web.keys import RUNTIME
    from gateway.web.problems import problem_middleware
    from tests.gateway.test_planning import NOVA, auth

    two_suppliers(runtime)
    run(runtime)
    order = sent_order(runtime, "nova-plastics")
    app = web.Application(middlewares=[problem_middleware])
    app[RUNTIME] = runtime
    app.add_routes(events_api.routes)
    client = await aiohttp_client(app)

    def cloud(status: str) -> dict[str, Any]:
        return {"specversion": "1.0", "id": str(uuid.uuid4()),
                "source": "/partners/nova-plastics", "type": "order_response",
                "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "datacontenttype": "application/json", "dataschemaversion": 1,
                "data": {"order_number": order.order_number, "status": status}}

    resp = await client.post("/api/v1/events", json=[cloud("accepted")], headers=auth(NOVA))
    assert resp.status == 201, await resp.text()
    assert scheduler.jobs == {}
    resp = await client.post("/api/v1/events", json=[cloud("rejected")], headers=auth(NOVA))
    assert resp.status == 201, await resp.text()
    assert set(scheduler.jobs) == {"replan-nova-plastics"}
