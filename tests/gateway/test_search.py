"""Search by business number: one PO number finds the whole life of the order, across the EDI
and API paths, the outbox, the acknowledgments and the planner; pages never overlap or stop."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gateway.search.refs import index_event, references
from gateway.storage.models import Event, Interchange, OutboxItem, Partner
from gateway.storage.models_planning import PlanAction, PlanRun
from gateway.storage.models_search import BusinessRef
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, NOVA, OPERATOR, auth
from tests.schemas.samples import event, sample

PO = "PO0000101"  # the order number x12_850(101) carries


def test_a_despatch_advice_indexes_every_order_it_ships() -> None:
    data = sample("despatch_advice")
    data["orders"].append({"order_number": "PO-2002", "packs": []})
    refs = references(data, business_key="S-77")
    assert ("key", "S-77") in refs and ("asn", "S-77") in refs
    assert ("po", "PO-1001") in refs and ("po", "PO-2002") in refs
    assert ("tracking", "TRK000123") in refs
    assert refs.count(("po", "PO-1001")) == 1  # named in orders[] and items[]: one row


def _api_event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return event(kind, data, id=f"{kind}-{uuid.uuid4()}", source="/partners/nova-plastics",
                 time=datetime.now(UTC).isoformat())


def _plan_and_outbox(runtime, now: datetime) -> tuple[str, str, str]:
    """A released plan action for PO, the outbox row it became, and the supplier's 997 of it
    (stored as the pipeline stores an inbound acknowledgment)."""
    run_id, action_id, row_id, ack_id = (str(uuid.uuid4()) for _ in range(4))
    with runtime.sessions.begin() as s:
        s.add(PlanRun(id=run_id, created_at=now, trigger="api", status="adopted",
                      source="optimizer", horizon_start=date.today(), periods=7))
        s.flush()
        s.add(PlanAction(id=action_id, run_id=run_id, created_at=now, supplier_id="bolt-supply",
                         kind="new", document_type="purchase_order", business_id=PO,
                         order_number=PO, status="released", data={"order_number": PO},
                         outbox_ids=[row_id]))
        s.add(Interchange(id=ack_id, partner_id="bolt-supply", direction="in", channel="http",
                          received_at=now + timedelta(minutes=5), sha256=uuid.uuid4().hex * 2,
                          size=10, raw=b"ISA*997", standard="x12", control_number="000000555",
                          status="processed"))
        s.flush()
        s.add(OutboxItem(id=row_id, partner_id="bolt-supply", document_type="purchase_order",
                         channel="sftp", business_id=PO, status="sent", data={"order_number": PO},
                         control_numbers={"interchange": "000000777"}, next_attempt_at=now,
                         created_at=now, updated_at=now, cause_type="plan_action",
                         cause_id=action_id, ack_status="accepted", ack_interchange_id=ack_id))
        ack = Event(id=f"ack-{ack_id}", type="functional_ack", version=1,
                    partner_id="bolt-supply", path="edi", source="/partners/bolt-supply/edi",
                    time=now + timedelta(minutes=5), recorded_at=now, business_key="997/777",
                    interchange_id=ack_id, envelope={}, data={
                        "ack_type": "997", "acknowledged_interchange": "000000777",
                        "acknowledged_group": "777", "status": "accepted", "messages": []})
        s.add(ack)
        index_event(s, ack)
    return action_id, row_id, ack_id


async def _the_life_of_an_order(client, runtime) -> dict[str, str]:
    now = datetime.now(UTC)
    order = await (await client.post("/edi", data=x12_850(101), headers=auth(BOLT))).json()
    assert order["status"] == "processed", order
    action_id, row_id, ack_id = _plan_and_outbox(runtime, now)
    change = sample("order_change") | {"order_number": PO}
    response = sample("order_response") | {"order_number": PO}
    desadv = sample("despatch_advice")
    desadv["orders"][0]["order_number"] = PO
    desadv["items"][0]["order_number"] = PO
    invoice = sample("invoice") | {"order_number": PO}
    other = sample("invoice") | {"invoice_number": "INV-OTHER", "order_number": "PO-9999"}
    posted = await client.post("/api/v1/events", headers=auth(NOVA), json=[
        _api_event("order_change", change), _api_event("order_response", response),
        _api_event("despatch_advice", desadv), _api_event("invoice", invoice),
        _api_event("invoice", other)])
    assert posted.status == 201, await posted.text()
    return {"order_interchange": order["interchange_id"], "action": action_id,
            "outbox": row_id, "their_ack": ack_id}


async def test_a_po_number_finds_the_whole_life_of_the_order(client, runtime) -> None:
    ids = await _the_life_of_an_order(client, runtime)
    resp = await client.get(f"/api/v1/search?q={PO}", headers=auth(OPERATOR))
    body = await resp.json()
    assert resp.status == 200, body
    assert body["complete"] is True and body["next"] is None
    results = body["results"]
    events = {r["type"] for r in results if r["kind"] == "event"}
    assert {"purchase_order", "order_change", "order_response", "despatch_advice", "invoice",
            "functional_ack"} <= events
    by_id = {r["id"]: r for r in results}
    assert by_id[ids["order_interchange"]]["kind"] == "interchange"
    assert by_id[ids["action"]]["kind"] == "plan_action"
    assert by_id[ids["outbox"]]["kind"] == "outbox"
    assert by_id[ids["their_ack"]]["kind"] == "acknowledgment"  # their 997 of our order
    ours = [r for r in results if r["kind"] == "acknowledgment" and r["type"] == "997"]
    assert ours and ours[0]["summary"].startswith("our 997")  # our 997 of their 850
    despatch = next(r for r in results if r["type"] == "despatch_advice")
    assert f"po={PO}" in despatch["matched"]
    assert not any("INV-OTHER" in r["summary"] for r in results)
    times = [r["at"] for r in results]
    assert times == sorted(times, reverse=True)
    assert all(r["href"].startswith("/") for r in results)


async def test_search_pages_with_next_links_and_never_repeats(client, runtime) -> None:
    await _the_life_of_an_order(client, runtime)
    everything = (await (await client.get(f"/api/v1/search?q={PO}",
                                          headers=auth(OPERATOR))).json())["results"]
    seen: list[str] = []
    link: str | None = f"/api/v1/search?q={PO}&limit=3"
    while link:
        page = await (await client.get(link, headers=auth(OPERATOR))).json()
        assert len(page["results"]) <= 3
        seen += [r["id"] for r in page["results"]]
        link = page["next"]
    assert seen == [r["id"] for r in everything] and len(seen) > 6
    too_many = await client.get(f"/api/v1/search?q={PO}&limit=5000", headers=auth(OPERATOR))
    problem = await too_many.json()
    assert too_many.status == 400 and "1-500" in problem["detail"]


async def test_search_filters_and_partner_isolation(client, runtime) -> None:
    await _the_life_of_an_order(client, runtime)
    invoices = await (await client.get(f"/api/v1/search?q={PO}&type=invoice",
                                       headers=auth(OPERATOR))).json()
    assert [r["type"] for r in invoices["results"]] == ["invoice"]
    asn = await (await client.get("/api/v1/search?q=s-77", headers=auth(OPERATOR))).json()
    assert {r["type"] for r in asn["results"] if r["kind"] == "event"} == {"despatch_advice"}
    nova = await (await client.get(f"/api/v1/search?q={PO}", headers=auth(NOVA))).json()
    assert nova["results"] and {r["partner"] for r in nova["results"]} == {"nova-plastics"}
    other = await client.get(f"/api/v1/search?q={PO}&partner=bolt-supply", headers=auth(NOVA))
    assert other.status == 403
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    late = await (await client.get(f"/api/v1/search?q={PO}&since={future}",
                                   headers=auth(OPERATOR))).json()
    assert late["results"] == []
    naive = await client.get(f"/api/v1/search?q={PO}&since=2026-01-01T00:00:00",
                             headers=auth(OPERATOR))
    assert naive.status == 400


async def test_every_stored_event_is_indexed_where_it_is_written(client, runtime) -> None:
    await _the_life_of_an_order(client, runtime)
    with runtime.sessions() as s:
        indexed = set(s.scalars(select(BusinessRef.event_id).where(
            BusinessRef.event_id.is_not(None))))
        stored = set(s.scalars(select(Event.id)))
    assert stored and stored == indexed


def test_the_migration_backfills_what_was_stored_before_it(engine) -> None:
    from sqlalchemy import insert

    from gateway.storage.db import session_factory
    from gateway.storage.migrate import downgrade, upgrade

    downgrade(engine, "0004")
    now = datetime.now(UTC)
    try:
        with session_factory(engine).begin() as s:
            s.execute(insert(Event.__table__).values(
                id="old-desadv", type="despatch_advice", version=3, partner_id=None,
                path="api", source="/partners/x", subject="S-77", time=now, recorded_at=now,
                business_key="S-77", message_ref="", envelope={},
                data=sample("despatch_advice")))
            s.execute(insert(Partner.__table__).values(
                id="old-partner", name="Old", standard="x12", version="", profile={},
                active=True, created_at=now, updated_at=now))
            s.execute(insert(OutboxItem.__table__).values(
                id="old-row", partner_id="old-partner", document_type="purchase_order",
                channel="webhook", business_id="PO-1001", status="sent", data={},
                control_numbers={}, attempts=0, next_attempt_at=now, last_error="",
                claimed_by="", created_at=now, updated_at=now, cause_type="", cause_id="",
                ack_status="none", ack_detail={}))
    finally:
        upgrade(engine)
    with session_factory(engine)() as s:
        rows = s.execute(select(BusinessRef.kind, BusinessRef.event_id, BusinessRef.outbox_id)
                         .where(BusinessRef.value == "PO-1001")).all()
    assert ("po", "old-desadv", None) in rows and ("key", None, "old-row") in rows
