"""List APIs page with cursors and never cut silently: a page size above the maximum is
refused with a problem naming it, a longer list carries a next link."""

from __future__ import annotations

from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, OPERATOR, auth


async def _walk(client, link: str, key: str) -> list[str]:
    ids: list[str] = []
    while link:
        resp = await client.get(link, headers=auth(OPERATOR))
        body = await resp.json()
        assert resp.status == 200, body
        assert len(body[key]) <= 2
        ids += [row["id"] for row in body[key]]
        link = body["next"]
    return ids


async def test_outbox_and_interchange_lists_page_and_refuse_oversized_pages(client) -> None:
    for control in range(201, 206):  # five 850s: five inbound interchanges, five 997 rows
        resp = await client.post("/edi", data=x12_850(control), headers=auth(BOLT))
        assert resp.status == 200
    too_big = await client.get("/api/v1/outbox?limit=5000", headers=auth(OPERATOR))
    problem = await too_big.json()
    assert too_big.status == 400 and "1-1000" in problem["detail"]
    assert too_big.content_type == "application/problem+json"
    rows = await _walk(client, "/api/v1/outbox?limit=2", "items")
    assert len(rows) == len(set(rows)) == 5
    inbound = await _walk(client, "/api/v1/interchanges?direction=in&limit=2", "interchanges")
    assert len(inbound) == len(set(inbound)) == 5
    one = await (await client.get("/api/v1/interchanges?control_number=000000203",
                                  headers=auth(OPERATOR))).json()
    assert [i["control_number"] for i in one["interchanges"]] == ["000000203"]
    assert one["next"] is None
    bad = await client.get("/api/v1/interchanges?after=nonsense", headers=auth(OPERATOR))
    assert bad.status == 400
