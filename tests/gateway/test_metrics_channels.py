"""``/metrics`` after a small run over every inbound channel: HTTP, AS2 (pyas2lib as the
partner), SFTP (the OpenSSH client on the hosted mailbox) and REST events, on a live gateway
with its dispatcher running. Each channel must show its documents, bytes, outcomes and
latency, rejections included; events by their real type; one outcome vocabulary throughout."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from gateway.observability.metrics import OUTCOMES
from tests.gateway.edi_samples import x12_850
from tests.gateway.full_loop_helpers import (
    LiveGateway,
    as2_supplier,
    new_as2_peer,
    sftp_batch,
    start_as2_peer,
    start_gateway,
)
from tests.gateway.sftp_helpers import make_key

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
HTTP_TOKEN = "edg_test_metrics_http_000000000000000000001"
REST_TOKEN = "edg_test_metrics_rest_000000000000000000002"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def x12_partner(pid: str, x12_id: str, **channels: Any) -> dict[str, Any]:
    return {"id": pid, "name": pid, "standard": "x12", "version": "004010",
            "identities": [{"standard": "x12", "qualifier": "ZZ", "id": x12_id},
                           {"standard": "x12-gs", "id": x12_id}],
            "stages": {"*": "edi"}, "channels": channels}


async def scrape(gateway: LiveGateway) -> Samples:
    async with aiohttp.ClientSession() as http, http.get(f"{gateway.url}/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


@pytest.fixture
async def gateway(engine, tmp_path: Path, aiohttp_server) -> AsyncIterator[LiveGateway]:
    live = await start_gateway(engine, tmp_path / "gateway", aiohttp_server)
    yield live
    await live.server.close()
    live.runtime.stop_threads()


async def test_every_channel_is_counted_with_bytes_outcomes_and_latency(
        gateway: LiveGateway, tmp_path: Path) -> None:
    runners: list[web.AppRunner] = []
    peer = new_as2_peer("METRICS AS2", gateway.ours)
    runners.append(await start_as2_peer(peer))
    peer.gateway_url = gateway.url
    try:
        await _run(gateway, peer, tmp_path)
    finally:
        for runner in runners:
            await runner.cleanup()


async def _run(gateway: LiveGateway, peer: Any, tmp_path: Path) -> None:
    key, public = make_key(tmp_path / "keys", "msftp")
    gateway.add_partner({**x12_partner("m-http", "MHTTP", http={}),
                         "tokens": [{"name": "t", "token": HTTP_TOKEN}]})
    gateway.add_partner(as2_supplier("m-as2", peer, x12_id="MAS2"))
    gateway.trust_partner_certificate("m-as2", peer.identity)
    gateway.add_partner(x12_partner("m-sftp", "MSFTP", sftp={
        "username": "msftp", "authorized_keys": [public]}))
    gateway.add_partner({"id": "m-rest", "name": "m-rest", "standard": "api",
                         "stages": {"*": "api"}, "channels": {"rest": {}},
                         "tokens": [{"name": "t", "token": REST_TOKEN}]})
    before = await scrape(gateway)

    async with aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bearer {HTTP_TOKEN}"}
        for control in (501, 502):
            async with http.post(f"{gateway.url}/edi", data=x12_850(control, sender="MHTTP"),
                                 headers=auth) as resp:
                assert resp.status == 200, await resp.text()
        async with http.post(f"{gateway.url}/edi", data=x12_850(501, sender="MHTTP"),
                             headers=auth) as resp:  # an exact resend: a duplicate
            assert (await resp.json())["duplicate"] is True
        async with http.post(f"{gateway.url}/edi", data=b"not an interchange at all",
                             headers=auth) as resp:  # rejected: quarantined, 422
            assert resp.status == 422, await resp.text()

        event = json.loads((ROOT / "docs" / "examples" /
                            "nova-plastics-order-response.json").read_text())
        event.update(id="metrics-or-1", source="/partners/m-rest", type="order_response")
        async with http.post(f"{gateway.url}/api/v1/events", json=event,
                             headers={"Authorization": f"Bearer {REST_TOKEN}"}) as resp:
            assert resp.status == 201, await resp.text()
        bad = copy.deepcopy(event)
        bad.update(id="metrics-or-2", data={"order_number": ""})
        async with http.post(f"{gateway.url}/api/v1/events", json=bad,
                             headers={"Authorization": f"Bearer {REST_TOKEN}"}) as resp:
            assert resp.status == 422, await resp.text()

    assert await peer.send(x12_850(601, sender="MAS2")) == "processed"

    work = tmp_path / "supplier"
    work.mkdir()
    (work / "po-701.edi").write_bytes(x12_850(701, sender="MSFTP"))
    (work / "junk.edi").write_bytes(b"garbage that is no interchange\n")
    await sftp_batch(gateway, key, "msftp", ["put po-701.edi inbound/po-701.edi",
                                             "put junk.edi inbound/junk.edi"], work)

    def grew(now: Samples, name: str, **labels: str) -> float:
        return total(now, name, **labels) - total(before, name, **labels)

    deadline = time.monotonic() + 30
    while True:
        now = await scrape(gateway)
        done = [grew(now, "edigate_documents_processed_total", channel=c) for c in
                ("http", "as2", "sftp", "rest")]
        sent = grew(now, "edigate_documents_sent_total", channel="as2", partner="m-as2",
                    outcome="accepted")
        if done == [3, 1, 2, 2] and sent >= 1:
            break
        assert time.monotonic() < deadline, (done, sent)
        await asyncio.sleep(0.2)

    received = "edigate_documents_received_total"
    processed = "edigate_documents_processed_total"
    assert grew(now, received, channel="http", partner="m-http", outcome="accepted") == 3
    assert grew(now, received, channel="http", partner="m-http", outcome="duplicate") == 1
    assert grew(now, processed, channel="http", partner="m-http", outcome="accepted") == 2
    assert grew(now, processed, channel="http", partner="m-http", outcome="quarantined") == 1
    assert grew(now, received, channel="as2", partner="m-as2", outcome="accepted") == 1
    assert grew(now, processed, channel="as2", partner="m-as2", outcome="accepted") == 1
    assert grew(now, received, channel="sftp", partner="m-sftp", outcome="accepted") == 2
    assert grew(now, processed, channel="sftp", partner="m-sftp", outcome="accepted") == 1
    assert grew(now, processed, channel="sftp", partner="m-sftp", outcome="quarantined") == 1
    assert grew(now, received, channel="rest", partner="m-rest", outcome="accepted") == 1
    assert grew(now, received, channel="rest", partner="m-rest", outcome="rejected") == 1
    assert grew(now, processed, channel="rest", partner="m-rest", outcome="accepted") == 1
    assert grew(now, processed, channel="rest", partner="m-rest", outcome="quarantined") == 1

    # Bytes and latency, per channel.
    size = len(x12_850(501, sender="MHTTP"))
    assert grew(now, "edigate_processed_bytes_total", channel="http", partner="m-http") == \
        size * 2 + len(b"not an interchange at all")
    for channel in ("http", "as2", "sftp", "rest"):
        assert grew(now, "edigate_processed_bytes_total", channel=channel) > 0, channel
        assert grew(now, "edigate_processing_seconds_count", channel=channel) >= 1, channel

    # Events by their real type and path (never a hard-coded "api").
    assert grew(now, "edigate_events_total", type="purchase_order", path="edi",
                partner="m-http") == 2
    assert grew(now, "edigate_events_total", type="purchase_order", path="edi",
                partner="m-as2") == 1
    assert grew(now, "edigate_events_total", type="order_response", path="api",
                partner="m-rest") == 1
    # The 997 to the AS2 partner went out over AS2 (the dispatcher's count, with its bytes).
    assert grew(now, "edigate_sent_bytes_total", channel="as2", partner="m-as2") > 0
    assert total(now, "edigate_delivery_seconds_count", channel="as2") >= 1

    # State read at scrape time.
    assert total(now, "edigate_outbox_depth", status="sent") >= 1
    assert ("edigate_acks_awaited", frozenset({("state", "overdue")})) in now

    # One vocabulary: no HTTP code, no channel's own word, in any outcome label.
    outcomes = {dict(ls)["outcome"] for (n, ls) in now
                if n.startswith("edigate_") and "outcome" in dict(ls)}
    assert outcomes and outcomes <= set(OUTCOMES), outcomes
