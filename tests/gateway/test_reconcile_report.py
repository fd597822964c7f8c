"""Reconciliation data a team acts on: the partner report (classes, fields with an example
pair, coverage, trend), field rules set over HTTP (audited, applied to the next run), the
auto-promote policy, and ``edigate reconcile --format json|csv``."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from gateway.cli import cli as cli_main
from gateway.reconcile import stages
from gateway.reconcile.service import day_window, run_reconciliation
from gateway.storage.db import make_engine
from gateway.storage.migrate import upgrade
from gateway.storage.models import Partner, PartnerStage
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


def set_dual(runtime) -> None:  # type: ignore[no-untyped-def]
    with runtime.sessions.begin() as s:
        s.add(PartnerStage(partner_id=PARTNER, document_type="purchase_order", stage="dual",
                           changed_at=datetime.now(UTC), changed_by="test"))


def edi_subset(data: dict) -> dict:  # type: ignore[type-arg]
    """The partner's EDI subset never carries the currency; the API copy does."""
    return {k: v for k, v in data.items() if k != "currency"}


async def post_api(client, data, *, time):  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/events", json=[cloud_event(data, time=time)],
                                 headers=auth(PARTNER_TOKEN))
    assert response.status == 201, await response.text()
    return (await response.json())["events"][0]


async def test_report_rules_and_links(engine: Engine, tmp_path: Path, aiohttp_client) -> None:
    runtime = make_runtime(engine, tmp_path)
    set_dual(runtime)
    now = datetime.now(UTC)
    client = await aiohttp_client(reconcile_app(runtime, [now]))
    t = now - 5 * MINUTE
    for n in range(4):
        store_edi(runtime, edi_subset(order(f"PO-{n}")), time=t, recorded_at=t)
        await post_api(client, order(f"PO-{n}"), time=t)
    edi_id = store_edi(runtime, edi_subset(order("PO-QTY")), time=t, recorded_at=t)
    await post_api(client, order("PO-QTY", quantity=502), time=t)
    run = await client.post("/api/v1/reconciliation/runs", json={"partner": PARTNER},
                            headers=auth(OPERATOR))
    assert run.status == 201, await run.text()

    report = await (await client.get(f"/api/v1/reconciliation/report?partner={PARTNER}",
                                     headers=auth(VIEWER))).json()
    doc = report["document_types"]["purchase_order"]
    assert doc["decided"] == 5 and doc["agreement"] == 0.8
    # currency: only the API carries it -> not comparable, with its coverage; no mismatch.
    # The EDIFACT ORDERS map could read it (CUX): these EDI copies just never sent one.
    assert doc["not_comparable"] == {"currency": 5}
    assert doc["coverage"] == [{"field": "currency", "edi": 0.0, "api": 1.0,
                                "edi_documents": 5, "api_documents": 5, "carried_by": "api",
                                "reason": "edi: not seen"}]
    [field] = doc["fields"]
    assert field["field"] == "lines.quantity" and field["kinds"] == {"value_differs": 1}
    assert (field["example"]["edi"], field["example"]["api"]) == (500, 502)
    assert field["example"]["edi_event_id"] == edi_id
    classes = report["classes"]
    assert classes["value_differs"]["documents"] == 1
    assert classes["not_comparable"]["documents"] == 5
    example = classes["value_differs"]["examples"][0]
    assert example["links"]["edi_event"] == f"/lineage/{edi_id}"
    assert example["links"]["api_event"].startswith("/lineage/")
    gate = report["gates"]["purchase_order"]
    assert gate["missing"][0].startswith("agreement 80.0% < 99.0%: 1 document(s) differ in "
                                         "lines.quantity")

    # An operator allows a small quantity tolerance: reason required, audited, applied.
    no_reason = await client.post("/api/v1/reconciliation/rules", headers=auth(OPERATOR),
                                  json={"partner": PARTNER, "field": "lines.quantity",
                                        "rule": {"compare": "number", "abs": 2}})
    assert no_reason.status == 400
    viewer = await client.post("/api/v1/reconciliation/rules", headers=auth(VIEWER),
                               json={"partner": PARTNER, "field": "lines.quantity",
                                     "rule": {"compare": "number", "abs": 2}, "reason": "x"})
    assert viewer.status == 403
    bad = await client.post("/api/v1/reconciliation/rules", headers=auth(OPERATOR),
                            json={"partner": PARTNER, "field": "lines.quantity",
                                  "rule": {"compare": "fuzzy"}, "reason": "x"})
    assert bad.status == 422 and "compare: expected one of" in (await bad.json())["detail"]
    rule = await client.post("/api/v1/reconciliation/rules", headers=auth(OPERATOR),
                             json={"partner": PARTNER, "document_type": "purchase_order",
                                   "field": "lines.quantity", "reason": "pallet rounding",
                                   "rule": {"compare": "number", "abs": 2}})
    assert rule.status == 200, await rule.text()
    with runtime.sessions() as s:
        [entry] = [a for a in audit_trail(s, "partner", PARTNER)
                   if a.action == "reconcile.rule"]
        assert entry.reason == "pallet rounding" and entry.actor
        assert entry.details["rule"] == {"compare": "number", "abs": 2.0, "rel": 0.0}
    await client.post("/api/v1/reconciliation/runs", json={"partner": PARTNER},
                      headers=auth(OPERATOR))
    report = await (await client.get(f"/api/v1/reconciliation/report?partner={PARTNER}",
                                     headers=auth(VIEWER))).json()
    assert report["document_types"]["purchase_order"]["agreement"] == 1.0
    listed = await (await client.get(f"/api/v1/reconciliation/rules?partner={PARTNER}",
                                     headers=auth(VIEWER))).json()
    assert listed["rules"][0]["rule"]["abs"] == 2.0
    assert listed["history"][0]["reason"] == "pallet rounding"
    # Removing it brings the difference back.
    await client.post("/api/v1/reconciliation/rules", headers=auth(OPERATOR),
                      json={"partner": PARTNER, "document_type": "purchase_order",
                            "field": "lines.quantity", "rule": None, "reason": "fixed"})
    await client.post("/api/v1/reconciliation/runs", json={"partner": PARTNER},
                      headers=auth(OPERATOR))
    report = await (await client.get(f"/api/v1/reconciliation/report?partner={PARTNER}",
                                     headers=auth(VIEWER))).json()
    assert report["document_types"]["purchase_order"]["agreement"] == 0.8


def test_auto_promote_policy(engine: Engine, tmp_path: Path) -> None:
    runtime = make_runtime(engine, tmp_path)
    set_dual(runtime)
    now = datetime.now(UTC)
    for n in range(4):
        ident = store_edi(runtime, order(f"PO-{n}"), time=now, recorded_at=now)
        assert ident
    with runtime.sessions.begin() as s:
        from gateway.storage.models import Event
        for n in range(4):
            s.add(Event(id=f"api-{n}", type="purchase_order", version=1, partner_id=PARTNER,
                        path="api", source="x", subject=f"PO-{n}", time=now,
                        recorded_at=now + MINUTE, business_key=f"PO-{n}",
                        data=order(f"PO-{n}")))
    with runtime.sessions.begin() as s:
        run_reconciliation(s, PARTNER, day_window(now.date(), now.date()),
                           as_of=now + timedelta(hours=2), trigger="test")
    with runtime.sessions.begin() as s:
        assert stages.auto_promote(s, PARTNER, now=now) == []  # no policy: stays in dual
        partner = s.get(Partner, PARTNER)
        assert partner is not None
        reconcile = dict(partner.profile["reconcile"])
        reconcile["gate"] = {**reconcile["gate"], "auto_promote": True}
        partner.profile = {**partner.profile, "reconcile": reconcile}
    with runtime.sessions.begin() as s:
        [change] = stages.auto_promote(s, PARTNER, now=now)
        assert (change.from_stage, change.to_stage) == ("dual", "api")
        assert stage_of(s, PARTNER, "purchase_order") == "api"
        [entry] = [a for a in audit_trail(s, "partner", PARTNER) if a.action == "stage.promote"]
        assert entry.actor == stages.POLICY_ACTOR


def test_cli_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    upgrade(engine)
    runtime = make_runtime(engine, tmp_path)
    set_dual(runtime)
    now = datetime.now(UTC)
    t = now - timedelta(minutes=5)
    edi_ok = store_edi(runtime, order("PO-A"), time=t, recorded_at=t)
    store_edi(runtime, order("PO-B"), time=t, recorded_at=t)
    with runtime.sessions.begin() as s:
        from gateway.storage.models import Event
        for key, qty in (("PO-A", 500), ("PO-B", 490)):
            s.add(Event(id=f"api-{key}", type="purchase_order", version=1, partner_id=PARTNER,
                        path="api", source="x", subject=key, time=t, recorded_at=t + MINUTE,
                        business_key=key, data=order(key, quantity=qty)))
    monkeypatch.setenv("EDIGATE_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("EDIGATE_SERVER_DATA_DIR", str(tmp_path))
    since = (now - timedelta(days=1)).date().isoformat()
    runner = CliRunner()
    out = runner.invoke(cli_main, ["reconcile", "--partner", PARTNER, "--since", since,
                                   "--format", "json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    pairs = {p["business_key"]: p for p in report["pairs"]}
    assert pairs["PO-A"]["outcome"] == "match"  # matches are listed too
    assert pairs["PO-A"]["links"]["edi_event"] == f"/lineage/{edi_ok}"
    assert pairs["PO-A"]["api_event_id"] == "api-PO-A"
    assert pairs["PO-B"]["differences"][0]["kind"] == "value_differs"
    text = runner.invoke(cli_main, ["reconcile", "--partner", PARTNER, "--since", since,
                                    "--format", "csv"])
    assert text.exit_code == 0, text.output
    rows = list(csv.DictReader(io.StringIO(text.output)))
    assert [(r["business_key"], r["outcome"], r["path"], r["edi"], r["api"]) for r in rows] == [
        ("PO-A", "match", "", "", ""), ("PO-B", "mismatch", "lines[10].quantity", "500", "490")]


def test_edi_only_document_types_are_never_reconciled(engine: Engine, tmp_path: Path) -> None:
    """Acknowledgments of our own EDI exist on the EDI path only: a partner in dual for every
    type ("*") must not be held for their missing API copies."""
    from gateway.reconcile.service import reconciled_types

    runtime = make_runtime(engine, tmp_path)
    with runtime.sessions.begin() as s:
        [row] = [r for r in s.get(Partner, PARTNER).stages if r.document_type == "*"]
        row.stage = "dual"
    with runtime.sessions() as s:
        assert reconciled_types(s, PARTNER, ["functional_ack", "invoice"]) == ["invoice"]
