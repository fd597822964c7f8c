"""``make run``'s server with the demo simulators: documents on every channel, a reconciliation
run, a plan, and orders that went out and came back acknowledged — all checked through the API.

The server runs as a subprocess exactly as ``make run`` starts it (db upgrade, partners import,
tokens import, serve with EDIGATE_DEMO_SIMULATE=true), on a fresh data directory, seeded, with
a fast pace. The partners' own endpoints (webhook receivers) get free ports instead of the
fixtures' fixed ones, so parallel runs cannot collide.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.live_server import (
    ADMIN_TOKEN,
    OPERATORS,
    LiveServer,
    free_port,
    partner_fixtures,
)

DEADLINE = 150.0
# One supplier per inbound channel (see fixtures/partners).
CHANNEL_PARTNERS = {"sftp": "bolt-supply", "as2": "lusitania-cables", "http": "alpen-gaskets",
                    "rest": "helix-sensors"}


def _copy_partners(target: Path) -> Path:
    # The simulators bind each partner endpoint themselves: each gets a port the system chose.
    return partner_fixtures(target, port_for=free_port)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("demo")
    partners = _copy_partners(base / "partners")
    server = LiveServer(base / "data", extra_env={
        "EDIGATE_DEMO_SIMULATE": "true", "EDIGATE_DEMO_SEED": "7",
        "EDIGATE_DEMO_PACE_SECONDS": "0.3", "EDIGATE_DEMO_FIXTURES_DIR": str(partners),
        "EDIGATE_SFTP_LISTEN": f"127.0.0.1:{free_port()}", "EDIGATE_LOG_LEVEL": "info"})
    server.data_dir.mkdir(parents=True)
    server.cli("db", "upgrade")
    server.cli("partners", "import", str(partners))
    server.cli("tokens", "import", str(OPERATORS))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _get(server: LiveServer, path: str) -> Any:
    request = urllib.request.Request(f"{server.url}{path}",
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return {"_status": exc.code}


def _wait(what: str, server: LiveServer, probe: Any) -> Any:
    deadline = time.monotonic() + DEADLINE
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(1.0)
    log = server.log.read_text(errors="replace")[-3000:] if server.log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}; last answer {last!r}\n{log}")


def _channels_of(server: LiveServer, partner: str) -> set[str]:
    events = _get(server, f"/api/v1/events?partner={partner}&limit=20").get("events", [])
    channels = set()
    for event in events:
        lineage = _get(server, f"/lineage/{event['id']}")
        channels.add(lineage.get("interchange", {}).get("channel"))
    return channels


@pytest.mark.parametrize("channel", sorted(CHANNEL_PARTNERS))
def test_documents_flow_on_every_channel(demo_server: LiveServer, channel: str) -> None:
    partner = CHANNEL_PARTNERS[channel]
    found = _wait(f"a {channel} document from {partner}", demo_server,
                  lambda: channel in _channels_of(demo_server, partner))
    assert found


def test_plant_feeds_reach_the_event_store(demo_server: LiveServer) -> None:
    for kind in ("demand", "stock", "supplier_capacity"):
        events = _wait(f"{kind} events", demo_server, lambda k=kind: _get(
            demo_server, f"/api/v1/events?partner=plant-erp&type={k}").get("events"))
        assert all(e["data"] for e in events)


def test_dual_supplier_sends_both_paths(demo_server: LiveServer) -> None:
    for path in ("edi", "api"):
        _wait(f"{path} order responses from lusitania-cables", demo_server, lambda p=path: _get(
            demo_server, f"/api/v1/events?partner=lusitania-cables&path={p}"
                         "&type=order_response").get("events"))


def test_reconciliation_runs(demo_server: LiveServer) -> None:
    runs = _wait("a reconciliation run", demo_server,
                 lambda: _get(demo_server, "/api/v1/reconciliation/runs").get("runs"))
    assert runs


def test_a_plan_is_made(demo_server: LiveServer) -> None:
    plan = _wait("a plan", demo_server, lambda: (lambda p: p if p.get("id") else None)(
        _get(demo_server, "/api/v1/plans/current")))
    assert plan["id"]


def test_orders_went_out_and_were_acknowledged(demo_server: LiveServer) -> None:
    def acknowledged() -> list[dict[str, Any]]:
        items = _get(demo_server, "/api/v1/outbox?limit=1000").get("items", [])
        return [i for i in items if i["document_type"] in ("purchase_order", "delivery_schedule")
                and i["channel"] != "webhook" and i["ack_status"] == "accepted"]

    acked = _wait("an order acknowledged by 997/CONTRL", demo_server, acknowledged)
    assert {i["partner"] for i in acked}
    webhooks = [i for i in _get(demo_server, "/api/v1/outbox?limit=1000")["items"]
                if i["channel"] == "webhook" and i["status"] == "sent"]
    assert webhooks, "no order reached an API supplier's webhook"
