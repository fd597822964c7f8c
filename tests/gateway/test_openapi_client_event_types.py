"""Event types in one spelling on both paths: what a REST producer sends as ``order_response``
is stored, listed and published as ``com.edigate.order_response``, like an EDI-path event;
``?type=`` finds both paths under either spelling; migration 0007 fixes rows stored before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from gateway.storage.migrate import current_revision, downgrade, head_revision, upgrade
from gateway.storage.models import Event
from gateway.web.events import EXAMPLE_EVENT
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import ADMIN, BOLT, NOVA, auth, make_runtime


def _event(event_id: str, spelled: str, **extra: Any) -> dict[str, Any]:
    return {**EXAMPLE_EVENT, "id": event_id, "type": spelled, **extra}


async def test_every_spelling_is_stored_canonical_and_found_by_either(client) -> None:
    spellings = {"t-bare": "order_response", "t-prefixed": "com.edigate.order_response",
                 "t-versioned": "com.edigate.order_response.v2", "t-short-v": "order_response.v2"}
    events = [_event(i, t) for i, t in spellings.items()]
    events[0].pop("dataschemaversion")  # no version named: the latest
    resp = await client.post("/api/v1/events", json=events, headers=auth(NOVA))
    assert resp.status == 201, await resp.text()
    edi = await client.post("/edi", data=x12_850(901), headers=auth(BOLT))
    assert edi.status == 200, await edi.text()

    async def listed(spelled: str) -> dict[str, str]:
        page = await client.get("/api/v1/events", params={"type": spelled, "limit": "100"},
                                headers=auth(ADMIN))
        assert page.status == 200, await page.text()
        return {e["id"]: e["type"] for e in (await page.json())["events"]}

    for spelled in ("order_response", "com.edigate.order_response",
                    "com.edigate.order_response.v2"):
        found = await listed(spelled)
        assert found == {i: "com.edigate.order_response" for i in spellings}, spelled
    # The EDI path's events are found under both spellings too, with the same canonical type.
    bare, prefixed = await listed("purchase_order"), await listed("com.edigate.purchase_order")
    assert bare == prefixed and len(bare) == 1
    assert set(bare.values()) == {"com.edigate.purchase_order"}

    detail = await client.get("/lineage/t-bare", headers=auth(ADMIN))
    event = (await detail.json())["event"]
    assert (event["type"], event["dataschema"]) == (
        "com.edigate.order_response", "https://edigate.dev/schemas/order_response/v2.json")


def test_migration_0007_rewrites_api_path_types(engine: Engine, tmp_path) -> None:
    runtime = make_runtime(engine, tmp_path)
    now = datetime.now(UTC)

    def row(event_id: str, type_: str, path: str, envelope: dict[str, Any]) -> Event:
        return Event(id=event_id, type=type_, version=1, partner_id="nova-plastics", path=path,
                     source="/partners/nova-plastics", subject="PO-1", time=now,
                     recorded_at=now, business_key="PO-1", envelope=envelope,
                     data={"order_number": "PO-1"})

    downgrade(engine, "0004")
    try:
        with runtime.sessions.begin() as session:
            session.add_all([
                row("m-api-bare", "order_response", "api",
                    {"type": "order_response", "id": "m-api-bare", "dataschemaversion": 1}),
                row("m-api-odd", "com.edigate.order_response.v1", "api",
                    {"type": "com.edigate.order_response.v1"}),
                row("m-edi", "order_response", "edi",
                    {"type": "com.edigate.order_response",
                     "dataschema": "https://edigate.dev/schemas/order_response/v1.json"}),
            ])
    finally:
        upgrade(engine)
    assert current_revision(engine) == head_revision()
    try:
        with runtime.sessions() as session:
            rows = {e.id: e for e in session.scalars(select(Event).where(
                Event.id.in_(["m-api-bare", "m-api-odd", "m-edi"])))}
            for event in rows.values():
                assert event.type == "order_response", event.id
                assert event.envelope["type"] == "com.edigate.order_response", event.id
                assert event.envelope["dataschema"] == \
                    "https://edigate.dev/schemas/order_response/v1.json", event.id
            # Other attributes are kept as they were.
            assert rows["m-api-bare"].envelope["dataschemaversion"] == 1
            assert rows["m-api-bare"].envelope["id"] == "m-api-bare"
    finally:
        with runtime.sessions.begin() as session:
            for event in session.scalars(select(Event)).all():
                session.delete(event)
        runtime.stop_threads()
