"""The README's curl tour, request for request, against the real app with the demo partners:
the example documents in docs/examples/ must go through as the README says."""

from __future__ import annotations

from pathlib import Path

from tests.gateway.gateway_app import NOVA, OPERATOR, auth

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
BOLT = "edg_demo_bolt_supply_00000000000000000002"


async def test_the_readme_tour_works_as_written(client) -> None:
    readme = (EXAMPLES.parents[1] / "README.md").read_text(encoding="utf-8")
    for name in ("bolt-supply-856.x12", "nova-plastics-order-response.json", BOLT, NOVA,
                 OPERATOR):
        assert name in readme, f"the README tour no longer uses {name}"
    raw = (EXAMPLES / "bolt-supply-856.x12").read_bytes()
    answer = await client.post("/edi", data=raw, headers=auth(BOLT))
    body = await answer.json()
    assert answer.status == 200 and body["outcome"] == "processed", body
    ident, [event_id] = body["interchange_id"], body["events"]
    ack = await client.get(f"/interchanges/{ident}/ack", headers=auth(BOLT))
    assert ack.status == 200 and (await ack.read()).startswith(b"ISA")
    lineage = await client.get(f"/lineage/{event_id}", headers=auth(OPERATOR))
    trace = await lineage.json()
    assert trace["event"]["type"].endswith("despatch_advice")
    assert trace["interchange"]["id"] == ident
    again = await client.post("/edi", data=raw, headers=auth(BOLT))
    assert (await again.json())["duplicate"] is True

    event = (EXAMPLES / "nova-plastics-order-response.json").read_bytes()
    headers = {**auth(NOVA), "Idempotency-Key": "tour-1",
               "Content-Type": "application/cloudevents+json"}
    posted = await client.post("/api/v1/events", data=event, headers=headers)
    assert posted.status == 201, await posted.text()
    repeated = await client.post("/api/v1/events", data=event, headers=headers)
    assert repeated.status in (200, 201) and (await repeated.json()) == (await posted.json())
    assert (await client.get("/schemas")).status == 200
    assert (await client.get("/openapi.json")).status == 200
