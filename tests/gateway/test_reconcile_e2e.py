"""A partner through edi -> dual (with discrepancies) -> refused -> clean window -> api -> rollback,
all through the HTTP API; EDI-path events stored as the EDI pipeline stores them, API-path
events posted to ``POST /api/v1/events``."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from gateway.storage.repositories import audit_trail, stage_of
from tests.gateway.reconcile_helpers import (
    MINUTE,
    OPERATOR,
    PARTNER,
    PARTNER_TOKEN,
    VIEWER,
    auth,
    cloud_event,
    make_runtime,
    order,
    reconcile_app,
    store_edi,
)

STAGE = f"/api/v1/partners/{PARTNER}/stages/purchase_order"


async def post_api(client, data, *, time):
    response = await client.post("/api/v1/events", json=[cloud_event(data, time=time)],
                                 headers=auth(PARTNER_TOKEN))
    assert response.status == 201, await response.text()
    return (await response.json())["events"][0]


async def test_partner_migration_through_the_http_api(engine: Engine, tmp_path: Path,
                                                      aiohttp_client) -> None:
    runtime = make_runtime(engine, tmp_path)
    real_now = datetime.now(UTC)
    clock = [real_now]
    client = await aiohttp_client(reconcile_app(runtime, clock))

    # edi -> dual: starting the comparison needs no evidence, only an operator and a reason.
    refused = await client.post(f"{STAGE}/promote", json={"reason": "x"}, headers=auth(VIEWER))
    assert refused.status == 403
    no_reason = await client.post(f"{STAGE}/promote", json={}, headers=auth(OPERATOR))
    assert no_reason.status == 400
    started = await client.post(f"{STAGE}/promote", json={"reason": "API go-live pilot"},
                                headers=auth(OPERATOR))
    assert started.status == 200, await started.text()
    assert (await started.json())["to_stage"] == "dual"

    # Dual: four clean pairs and four discrepancies, business time today.
    t = real_now - 5 * MINUTE
    for n in range(4):
        store_edi(runtime, order(f"PO-OK-{n}"), time=t, recorded_at=t)
        await post_api(client, order(f"PO-OK-{n}"), time=t)
    store_edi(runtime, order("PO-QTY"), time=t, recorded_at=t)
    await post_api(client, order("PO-QTY", quantity=480), time=t)  # changed quantity
    store_edi(runtime, order("PO-GONE"), time=t - 2 * 60 * MINUTE,
              recorded_at=t - 2 * 60 * MINUTE)  # the API never sends it
    store_edi(runtime, order("PO-LATE"), time=t - 3 * 60 * MINUTE,
              recorded_at=t - 3 * 60 * MINUTE)
    await post_api(client, order("PO-LATE"), time=t - 3 * 60 * MINUTE)  # 3 h later
    store_edi(runtime, order("PO-TWICE"), time=t, recorded_at=t)
    await post_api(client, order("PO-TWICE"), time=t)
    await post_api(client, order("PO-TWICE"), time=t)  # a second API copy

    refusal = await client.post(f"{STAGE}/promote", json={"reason": "looks good to me"},
                                headers=auth(OPERATOR))
    assert refusal.status == 409
    problem = await refusal.json()
    assert problem["type"].endswith("/gate-refused")
    counts = problem["evidence"]["counts"]
    assert {k: counts[k] for k in ("match", "mismatch", "missing_api", "late", "duplicate")} \
        == {"match": 5, "mismatch": 1, "missing_api": 1, "late": 1, "duplicate": 1}
    assert problem["detail"].startswith(
        "agreement 55.6% < 99.0%: 1 document(s) differ in lines.quantity (1 differing value(s), "
        "e.g. lines[10].quantity: EDI 500 vs API 480); 1 missing API copy; 1 late copy")
    assert {"field": "lines.quantity", "documents": 1} in problem["evidence"]["top_fields"]
    with runtime.sessions() as s:
        assert stage_of(s, PARTNER, "purchase_order") == "dual"

    # The reports show the same run: JSON differences side by side, and CSV.
    diffs = await (await client.get("/api/v1/reconciliation/differences",
                                     headers=auth(VIEWER))).json()
    by_key = {r["business_key"]: r for r in diffs["open"]}
    assert set(by_key) == {"PO-QTY", "PO-GONE", "PO-LATE", "PO-TWICE"}
    assert by_key["PO-QTY"]["differences"] == [
        {"path": "lines[10].quantity", "field": "lines.quantity", "kind": "value_differs",
         "edi": 500, "api": 480, "rule": "quantity equal (6 decimals)"}]
    csv_text = await (await client.get("/api/v1/reconciliation/differences?format=csv",
                                       headers=auth(VIEWER))).text()
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    qty = next(r for r in rows if r["business_key"] == "PO-QTY")
    assert (qty["path"], qty["edi"], qty["api"]) == ("lines[10].quantity", "500", "480")
    runs = await (await client.get("/api/v1/reconciliation/runs", headers=auth(PARTNER_TOKEN))
                  ).json()
    assert runs["runs"][0]["trigger"] == "gate"
    other = await client.get("/api/v1/reconciliation/runs?partner=someone-else",
                             headers=auth(PARTNER_TOKEN))
    assert other.status == 403
    stats = await (await client.get(
        f"/api/v1/reconciliation/statistics?partner={PARTNER}&format=csv",
        headers=auth(VIEWER))).text()
    assert "mismatch" in stats.splitlines()[0] and len(stats.splitlines()) >= 2

    # A clean window three days on (the 2-day gate window no longer sees the bad day):
    # only agreeing pairs, so the gate opens.
    clock[0] = real_now + timedelta(days=3)
    later = clock[0] - 30 * MINUTE
    for n in range(5):
        store_edi(runtime, order(f"PO-CLEAN-{n}"), time=later, recorded_at=real_now)
        await post_api(client, order(f"PO-CLEAN-{n}"), time=later)
    promoted = await client.post(f"{STAGE}/promote", json={"reason": "clean day, 5/5 agree"},
                                 headers=auth(OPERATOR))
    assert promoted.status == 200, await promoted.text()
    body = await promoted.json()
    assert (body["from_stage"], body["to_stage"]) == ("dual", "api")
    assert body["evidence"]["allowed"] and body["evidence"]["agreement"] == 1.0
    assert body["evidence"]["documents"] == 5

    # Rollback: no gate, always allowed, audited.
    rolled = await client.post(f"{STAGE}/rollback", json={"reason": "ERP outage on API side"},
                               headers=auth(OPERATOR))
    assert rolled.status == 200
    assert (await rolled.json())["to_stage"] == "dual"
    with runtime.sessions() as s:
        assert stage_of(s, PARTNER, "purchase_order") == "dual"
        trail = [(a.action, a.actor, a.reason) for a in audit_trail(s, "partner", PARTNER)
                 if a.action.startswith("stage.")]
    assert trail == [("stage.promote", "operator:ops", "API go-live pilot"),
                     ("stage.promote_refused", "operator:ops", "looks good to me"),
                     ("stage.promote", "operator:ops", "clean day, 5/5 agree"),
                     ("stage.rollback", "operator:ops", "ERP outage on API side")]
