"""POST /edi and POST /api/v1/events on the real app: durable, exactly once, isolated, and a
clear answer for every bad input."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from gateway.storage.models import Event, Interchange, OutboxItem
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import (
    BOLT,
    NOVA,
    OPERATOR,
    VIEWER,
    app_for,
    auth,
    make_runtime,
)


def _count(runtime, model, *where) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def test_an_850_becomes_an_event_and_a_997(client, runtime) -> None:
    resp = await client.post("/edi", data=x12_850(101, lines=2), headers=auth(BOLT))
    body = await resp.json()
    assert resp.status == 200, body
    assert body["status"] == "processed" and body["duplicate"] is False
    assert len(body["events"]) == 1 and len(body["acknowledgments"]) == 1
    event = await (await client.get("/api/v1/events?type=purchase_order",
                                    headers=auth(BOLT))).json()
    (stored,) = event["events"]
    assert stored["data"]["order_number"] == "PO0000101"
    assert [line["quantity"] for line in stored["data"]["lines"]] == [100, 100]
    assert stored["partner"] == "bolt-supply" and stored["path"] == "edi"
    ack = await client.get(f"/interchanges/{body['interchange_id']}/ack", headers=auth(BOLT))
    text = (await ack.read()).decode()
    assert ack.status == 200 and "ST*997*" in text and "AK1*PO*101" in text
    assert "AK9*A*1*1*1" in text
    lineage = await (await client.get(f"/lineage/{stored['id']}", headers=auth(BOLT))).json()
    assert lineage["interchange"]["id"] == body["interchange_id"]
    raw = await client.get(lineage["interchange"]["links"]["raw"], headers=auth(BOLT))
    assert await raw.read() == x12_850(101, lines=2)


async def test_a_resend_has_no_second_effect(client, runtime) -> None:
    first = await (await client.post("/edi", data=x12_850(7), headers=auth(BOLT))).json()
    again = await client.post("/edi", data=x12_850(7), headers=auth(BOLT))
    body = await again.json()
    assert again.status == 200 and body["duplicate"] is True
    assert body["events"] == first["events"] and body["interchange_id"] == first["interchange_id"]
    assert _count(runtime, Interchange, Interchange.direction == "in") == 1
    assert _count(runtime, Event) == 1
    assert _count(runtime, OutboxItem) == 1


async def test_same_control_number_with_other_bytes_is_flagged(client, runtime) -> None:
    await client.post("/edi", data=x12_850(8), headers=auth(BOLT))
    other = await client.post("/edi", data=x12_850(8, quantity=5), headers=auth(BOLT))
    body = await other.json()
    assert other.status == 409, body
    assert "control number 000000008" in body["detail"] or "control number 8" in body["detail"]
    assert _count(runtime, Event) == 1  # nothing of the second one was processed


async def test_a_sender_that_is_not_the_caller_is_refused(client, runtime) -> None:
    resp = await client.post("/edi", data=x12_850(9, sender="SOMEONEELSE"), headers=auth(BOLT))
    body = await resp.json()
    assert resp.status == 403 and "SOMEONEELSE" in body["detail"]
    assert _count(runtime, Event) == 0
    with runtime.sessions() as s:
        row = s.scalars(select(Interchange)).one()
        assert row.status == "quarantined"  # kept for the record, never processed


@pytest.mark.parametrize("token, status", [(None, 401), ("edg_not_a_real_token_0000000000", 401),
                                           (OPERATOR, 403)])
async def test_only_partner_tokens_post_edi(client, token, status) -> None:
    headers = auth(token) if token else {}
    resp = await client.post("/edi", data=x12_850(1), headers=headers)
    assert resp.status == status
    assert resp.content_type == "application/problem+json"


async def test_broken_edi_is_rejected_precisely_and_kept(client, runtime) -> None:
    truncated = x12_850(11)[:-40]
    resp = await client.post("/edi", data=truncated, headers=auth(BOLT))
    body = await resp.json()
    assert resp.status in (200, 422), body
    assert body["outcome"] in ("rejected", "partial", "quarantined")
    assert body["errors"]["errors"], "the error report lists the faults"
    first = body["errors"]["errors"][0]
    assert first.get("line") is not None and first.get("message")
    with runtime.sessions() as s:
        row = s.get(Interchange, body["interchange_id"])
        assert row.raw == truncated  # kept byte-exact for replay


@pytest.mark.parametrize("payload, slug", [
    (b"", "empty-body"),
    (b"hello, this is not EDI at all", None),
    (b"\x00\xff" * 100, None),
])
async def test_garbage_gets_a_clear_answer(client, payload, slug) -> None:
    resp = await client.post("/edi", data=payload, headers=auth(BOLT))
    assert 400 <= resp.status < 500
    body = await resp.json()
    assert body.get("detail")
    if slug:
        assert body["type"].endswith(slug)


async def test_oversized_bodies_get_413(aiohttp_client, engine, tmp_path) -> None:
    runtime = make_runtime(engine, tmp_path, max_body_bytes=4096)
    client = await aiohttp_client(app_for(runtime))
    resp = await client.post("/edi", data=x12_850(1, lines=400), headers=auth(BOLT))
    assert resp.status == 413
    assert "exceeds" in (await resp.json())["detail"]
    runtime.stop_threads()


def _purchase_order_event(number: str, **over) -> dict:
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/partners/nova-plastics",
             "type": "purchase_order", "time": "2026-11-22T08:00:00Z",
             "data": {"order_number": number, "lines": [
                 {"line_number": "1", "buyer_part": "P-1", "quantity": 5, "unit": "EA"}]}}
    event.update(over)
    return event


async def test_rest_events_with_idempotency_key(client, runtime) -> None:
    event = _purchase_order_event("API-1")
    headers = {**auth(NOVA), "Idempotency-Key": "k-1"}
    first = await client.post("/api/v1/events", json=event, headers=headers)
    assert first.status == 201, await first.text()
    again = await client.post("/api/v1/events", json=event, headers=headers)
    assert again.status == 201 and await again.json() == await first.json()
    assert _count(runtime, Event) == 1
    listed = await (await client.get("/api/v1/events?path=api", headers=auth(NOVA))).json()
    assert [e["data"]["order_number"] for e in listed["events"]] == ["API-1"]


async def test_invalid_rest_events_name_the_pointer(client) -> None:
    bad = _purchase_order_event("API-2")
    bad["data"]["lines"][0]["quantity"] = "lots"
    resp = await client.post("/api/v1/events", json=[_purchase_order_event("ok"), bad],
                             headers={**auth(NOVA), "Idempotency-Key": "k-2"})
    body = await resp.json()
    assert resp.status == 422, body
    assert any(e["index"] == 1 and e["pointer"].endswith("/lines/0/quantity")
               for e in body["errors"])


async def test_rest_event_source_must_be_the_caller(client, runtime) -> None:
    event = _purchase_order_event("API-3", source="/partners/bolt-supply")
    resp = await client.post("/api/v1/events", json=event,
                             headers={**auth(NOVA), "Idempotency-Key": "k-3"})
    assert resp.status == 403
    assert _count(runtime, Event) == 0


async def test_partners_read_only_their_own(client) -> None:
    posted = await (await client.post("/edi", data=x12_850(21), headers=auth(BOLT))).json()
    mine = await client.get(f"/interchanges/{posted['interchange_id']}", headers=auth(BOLT))
    theirs = await client.get(f"/interchanges/{posted['interchange_id']}", headers=auth(NOVA))
    assert mine.status == 200 and theirs.status == 404
    none = await (await client.get("/api/v1/events", headers=auth(NOVA))).json()
    assert none["events"] == []
    viewer = await client.get(f"/interchanges/{posted['interchange_id']}", headers=auth(VIEWER))
    assert viewer.status == 200
