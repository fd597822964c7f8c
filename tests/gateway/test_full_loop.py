"""The outbound path end to end, on a live gateway with its dispatcher running, against real
peers on 127.0.0.1: pyas2lib as an AS2 supplier, the OpenSSH ``sftp`` client on the hosted
mailbox, an aiohttp webhook receiver that checks our signatures with its own code.

Plan actions are approved over HTTP (``POST /api/v1/approvals/{id}/approve``), so every document
starts where the planner's documents start: a payload from ``order_payload``, enqueued by the
planning enqueuer, routed by the supplier's strangler stage. Nothing in the transport is mocked.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import REGISTRY
from sqlalchemy import select

from gateway.jobs.dispatch import sweep_overdue
from gateway.outbound import webhook
from gateway.outbound.dispatcher import Dispatcher
from gateway.outbound.transports import filename_for
from gateway.planning.outbox import settings_enqueuer
from gateway.planning.state import aware
from gateway.storage.models import AuditEntry, Interchange
from gateway.storage.models_as2 import As2Message
from gateway.storage.models_planning import PlanAction
from tests.gateway.full_loop_helpers import (
    LiveGateway,
    Received,
    WebhookReceiver,
    acknowledgment,
    api_supplier,
    as2_supplier,
    held_order,
    new_as2_peer,
    order_number,
    read_document,
    sftp_batch,
    sftp_supplier,
    sign_like_a_sender,
    start_as2_peer,
    start_gateway,
    start_receiver,
)
from tests.gateway.sftp_helpers import make_key

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def runners() -> AsyncIterator[list[web.AppRunner]]:
    """Peers started by a test; stopped after the gateway (whose dispatcher may still call)."""
    started: list[web.AppRunner] = []
    yield started
    for runner in reversed(started):
        await runner.cleanup()


@pytest.fixture
async def gateway(engine, tmp_path: Path, aiohttp_server,
                  runners: list[web.AppRunner]) -> AsyncIterator[LiveGateway]:
    live = await start_gateway(engine, tmp_path / "gateway", aiohttp_server)
    yield live
    await live.server.close()  # stops the dispatcher, the scheduler and the SFTP server
    live.runtime.stop_threads()


def _number(value: object) -> int:
    return int(str(value))


# -- a. X12 over AS2 -----------------------------------------------------------------------------

async def test_x12_over_as2_accepted_rejected_and_overdue(gateway: LiveGateway, runners) -> None:
    peer = new_as2_peer("PEER X12", gateway.ours)
    runners.append(await start_as2_peer(peer))
    peer.gateway_url = gateway.url
    gateway.add_partner(as2_supplier("peer-x12", peer, x12_id="PEERX12", window_minutes=30,
                                     resend_overdue=True))
    gateway.trust_partner_certificate("peer-x12", peer.identity)

    ids = []
    for n in (1, 2, 3):
        action = await gateway.run(held_order, gateway, "peer-x12", order_number(n))
        [row_id] = await gateway.approve(action)
        ids.append(row_id)
    sent = [await gateway.wait_row(i, lambda r: r.status == "sent", what="sent") for i in ids]

    # The peer opened three signed+encrypted messages, each one of our documents byte for byte.
    assert len(peer.received) == 3
    assert all(got.signed and got.encrypted for got in peer.received)
    by_isa = {read_document(got.payload).interchange.lstrip("0"): got for got in peer.received}
    for n, row in enumerate(sent, start=1):
        assert (row.channel, row.document_type, row.business_id) == (
            "as2", "purchase_order", order_number(n))
        got = by_isa[row.control_numbers["interchange"]]
        assert got.payload == row.payload
        doc = read_document(got.payload)
        # ISA13 / GS06 / ST02 of what the partner read are the numbers we recorded.
        assert (_number(doc.interchange), _number(doc.group), _number(doc.message)) == (
            _number(row.control_numbers["interchange"]), _number(row.control_numbers["group"]),
            _number(row.control_numbers["message"]))
        assert (doc.message_type, doc.event_type) == ("850", "purchase_order")
        assert doc.data["order_number"] == order_number(n)
        assert row.delivered_at is not None and row.attempts == 1
        assert (row.ack_status, row.cause_type) == ("expected", "plan_action")
        # The signed MDN verified, with the MIC the peer computed over what it received.
        [attempt] = gateway.attempts(row.id)
        assert attempt.outcome == "delivered" and attempt.details["mdn_status"] == "processed"
        with gateway.runtime.sessions() as session:
            [message] = session.scalars(select(As2Message).where(
                As2Message.outbox_id == row.id)).all()
            assert (message.direction, message.status, message.mdn_status) == (
                "out", "sent", "processed")
            assert message.signed and message.encrypted
            assert b"application/pkcs7-signature" in message.mdn_raw  # a signed receipt
            assert message.mic == got.mic and message.body == got.body
    for scope in ("interchange", "group", "message"):
        assert len({row.control_numbers[scope] for row in sent}) == 3, scope

    # 1: the peer's translator accepts the 850 and its 997 comes back over AS2.
    ack = await peer.acknowledge(by_isa[sent[0].control_numbers["interchange"]])
    assert b"AK5*A" in ack
    first = await gateway.wait_row(ids[0], lambda r: r.ack_status != "expected", what="acked")
    assert (first.status, first.ack_status) == ("sent", "accepted")
    assert first.ack_detail["ack_type"] == "997" and first.acked_at is not None
    with gateway.runtime.sessions() as session:
        ack_in = session.get(Interchange, first.ack_interchange_id)
        assert ack_in is not None and ack_in.channel == "as2" and ack_in.direction == "in"
        assert ack_in.status == "processed" and ack_in.sender_id == "PEERX12"

    # 2: the peer's translator rejects the 850 (AK5 R) with its own error detail.
    ack = await peer.acknowledge(by_isa[sent[1].control_numbers["interchange"]], reject=True)
    assert b"AK5*R" in ack
    second = await gateway.wait_row(ids[1], lambda r: r.ack_status != "expected",
                                    what="acked")
    assert (second.status, second.ack_status) == ("failed", "rejected")
    [error, *_] = second.ack_detail["errors"]
    assert (error["segment_tag"], error["element_position"], error["code"]) == ("PO1", 2, "6")
    assert "rejected by the partner's 997" in second.last_error
    assert "Invalid character in data element" in second.last_error

    # 3: never acknowledged. Inside the window nothing happens; past it the document is overdue
    # and (the profile asks for one resend) the same bytes go out again as a new AS2 message.
    third = gateway.row(ids[2])
    assert third.ack_status == "expected"
    assert third.ack_due_at is not None and third.delivered_at is not None
    due = aware(third.ack_due_at)
    assert due - aware(third.delivered_at) == timedelta(minutes=30)
    assert await gateway.run(sweep_overdue, gateway.runtime, due - timedelta(minutes=1)) == (0, 0)
    clock = due + timedelta(seconds=1)
    assert await gateway.run(sweep_overdue, gateway.runtime, clock) == (1, 1)
    assert gateway.row(ids[2]).ack_status == "overdue"
    # The resend is due at the sweep's clock: a dispatcher pass on that clock sends it.
    async with Dispatcher(gateway.runtime, worker="clocked") as dispatcher:
        assert await dispatcher.run_once(now=clock + timedelta(seconds=1)) == 1
    resent = gateway.row(ids[2])
    # A resend is a new delivery with attempts of its own; the log keeps both.
    assert (resent.status, resent.attempts) == ("sent", 1), resent.last_error
    assert len(gateway.attempts(ids[2])) == 2
    assert resent.ack_status == "expected" and resent.control_numbers == third.control_numbers
    again = peer.by_interchange()[third.control_numbers["interchange"]]
    assert len(again) == 2 and again[0].payload == again[1].payload == third.payload
    assert again[0].message_id != again[1].message_id  # a new transmission, not a duplicate
    assert resent.ack_due_at is not None
    later = aware(resent.ack_due_at) + timedelta(seconds=1)
    assert await gateway.run(sweep_overdue, gateway.runtime, later) == (1, 0)  # limit: 1 resend
    overdue = gateway.row(ids[2])
    assert (overdue.status, overdue.ack_status) == ("sent", "overdue")
    assert overdue.ack_detail["overdue_resends"] == 1
    # The acknowledged documents are left alone by the sweeps.
    assert [gateway.row(i).ack_status for i in ids[:2]] == ["accepted", "rejected"]
    assert len(peer.received) == 4 and len(peer.sent_acks) == 2
    # The sweep's depth gauge follows the outbox: the resend's "pending" emptied again.
    depth = {status: REGISTRY.get_sample_value("edigate_outbox_depth", {"status": status})
             for status in ("pending", "sent", "failed")}
    assert depth == {"pending": 0, "sent": 2, "failed": 1}


async def test_an_acknowledgment_that_overtakes_the_delivery_record(gateway: LiveGateway,
                                                                   runners) -> None:
    """A partner whose translator answers at once: its 997 is processed while our delivery is
    still in flight (before the MDN is back). The row must still end delivered, with one
    attempt on record, and keep the partner's verdict."""
    peer = new_as2_peer("EAGER X12", gateway.ours)
    verdicts = {order_number(11): False, order_number(12): True}  # reject?

    async def answer_at_once(got: Received) -> None:
        doc = read_document(got.payload)
        await peer.acknowledge(got, reject=verdicts[doc.data["order_number"]])

    peer.on_receive = answer_at_once
    runners.append(await start_as2_peer(peer))
    peer.gateway_url = gateway.url
    gateway.add_partner(as2_supplier("eager-x12", peer, x12_id="EAGERX12"))
    gateway.trust_partner_certificate("eager-x12", peer.identity)

    ids = {}
    for n in verdicts:
        [ids[n]] = await gateway.approve(await gateway.run(held_order, gateway, "eager-x12", n))
    finished = {n: await gateway.wait_row(i, lambda r: r.status in ("sent", "failed", "dead")
                                          and not r.claimed_by, what="finished")
                for n, i in ids.items()}
    assert len(peer.sent_acks) == 2
    accepted, rejected = finished[order_number(11)], finished[order_number(12)]
    assert (accepted.status, accepted.ack_status, accepted.attempts) == ("sent", "accepted", 1)
    assert (rejected.status, rejected.ack_status, rejected.attempts) == ("failed", "rejected", 1)
    assert "Invalid character in data element" in rejected.last_error
    for row in (accepted, rejected):
        assert row.delivered_at is not None and row.ack_due_at is None
        assert [a.outcome for a in gateway.attempts(row.id)] == ["delivered"]


# -- b. EDIFACT over the hosted SFTP mailbox ---------------------------------------------------

async def test_edifact_orders_through_the_sftp_mailbox_and_contrl_back(gateway: LiveGateway,
                                                                       tmp_path: Path) -> None:
    key, public = make_key(tmp_path / "keys", "rheinland")
    gateway.add_partner(sftp_supplier("rheinland-d96a", "rheinland", public,
                                      edifact_id="4012345000017"))
    number = order_number(21)
    [row_id] = await gateway.approve(await gateway.run(held_order, gateway, "rheinland-d96a",
                                                       number))
    row = await gateway.wait_row(row_id, lambda r: r.status == "sent", what="placed")
    assert (row.channel, row.ack_status, row.attempts) == ("sftp", "expected", 1)

    # The supplier logs in with OpenSSH, lists, downloads and picks the document up.
    name = filename_for(row)
    work = tmp_path / "supplier"
    run = await sftp_batch(gateway, key, "rheinland",
                           ["ls outbound", f"get outbound/{name}", f"rm outbound/{name}"], work)
    assert name in run.output
    downloaded = (work / name).read_bytes()
    assert downloaded == row.payload
    doc = read_document(downloaded)
    assert (doc.message_type, doc.event_type) == ("ORDERS", "purchase_order")
    assert doc.data["order_number"] == number and doc.data["lines"][0]["quantity"] == 40
    assert (_number(doc.interchange), _number(doc.message)) == (
        _number(row.control_numbers["interchange"]), _number(row.control_numbers["message"]))
    mailbox = gateway.settings.data_path / "mailboxes" / "rheinland-d96a"
    assert (mailbox / "archive" / name).read_bytes() == downloaded
    with gateway.runtime.sessions() as session:
        out = session.get(Interchange, row.interchange_id)
        assert out is not None and (out.direction, out.status) == ("out", "picked_up")

    # Its translator (ours) answers with a CONTRL, uploaded to inbound/.
    contrl = acknowledgment(downloaded, "CONTRL", first_control=901)
    assert b"UCI+" + doc.interchange.encode() + b"+" in contrl
    (work / "contrl-901.edi").write_bytes(contrl)
    await sftp_batch(gateway, key, "rheinland", ["put contrl-901.edi inbound/contrl-901.edi"],
                     work)
    acked = await gateway.wait_row(row_id, lambda r: r.ack_status != "expected", what="acked")
    assert (acked.status, acked.ack_status) == ("sent", "accepted")
    assert acked.ack_detail["ack_type"] == "CONTRL" and acked.ack_detail["errors"] == []
    with gateway.runtime.sessions() as session:
        ack_in = session.get(Interchange, acked.ack_interchange_id)
        assert ack_in is not None and (ack_in.channel, ack_in.direction, ack_in.status) == (
            "sftp", "in", "processed")
        assert ack_in.sender_id == "4012345000017" and ack_in.filename == "contrl-901.edi"


# -- c. a signed webhook (stage api) -----------------------------------------------------------

async def test_signed_webhook_is_retried_after_a_500_then_delivered(gateway: LiveGateway,
                                                                    runners) -> None:
    receiver = WebhookReceiver(script=[500], tolerance=gateway.settings.webhook_tolerance)
    runners.append(await start_receiver(receiver))
    gateway.add_partner(api_supplier("hook-api", receiver))
    number = order_number(31)
    [row_id] = await gateway.approve(await gateway.run(held_order, gateway, "hook-api", number))
    row = await gateway.wait_row(row_id, lambda r: r.status == "sent", what="delivered")

    assert receiver.refused == []  # both attempts carried a valid, fresh signature
    first, second = receiver.requests
    assert (first.status, second.status) == (500, 200)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == row_id
    assert first.body == second.body == row.payload
    assert second.at - first.at >= 1.9  # the dispatcher's backoff, not an immediate retry
    assert second.timestamp > first.timestamp  # signed again for the retry
    envelope = json.loads(second.body)
    assert (envelope["id"], envelope["type"], envelope["business_id"]) == (
        row_id, "purchase_order", number)
    assert envelope["data"]["order_number"] == number
    assert second.headers["Edigate-Business-Id"] == number
    # The gateway's signature is exactly the documented scheme, and its own verify helper
    # agrees with the receiver's independent check.
    signature = second.headers["Edigate-Signature"]
    assert signature == sign_like_a_sender(receiver.secret, second.body, second.timestamp)
    assert webhook.verify(receiver.secret, signature, second.body,
                          now=second.timestamp + 1) == second.timestamp

    assert (row.attempts, row.ack_status, row.last_error) == (2, "none", "")
    assert row.delivered_at is not None
    assert [(a.outcome, a.http_status) for a in gateway.attempts(row_id)] == [
        ("retry", 500), ("delivered", 200)]

    # The receiver is not a rubber stamp: a replay, a stale signature and a forged body fail.
    now = int(time.time())
    attempts = [
        ({"Edigate-Signature": signature}, second.body, "replayed signature"),
        ({"Edigate-Signature": sign_like_a_sender(receiver.secret, second.body, now - 301)},
         second.body, "stale timestamp"),
        ({"Edigate-Signature": sign_like_a_sender(receiver.secret, second.body, now)},
         second.body.replace(b'"quantity":40', b'"quantity":400'), "bad signature"),
    ]
    async with aiohttp.ClientSession() as http:
        for headers, body, why in attempts:
            async with http.post(receiver.url, data=body, headers=headers) as resp:
                assert (resp.status, await resp.text()) == (401, why)
    assert receiver.refused == [why for _, _, why in attempts]
    assert len(receiver.requests) == 2


# -- d. dual stage: both paths, one business id ------------------------------------------------

async def test_dual_stage_sends_edi_and_webhook_with_one_business_id(gateway: LiveGateway,
                                                                     runners,
                                                                     tmp_path: Path) -> None:
    receiver = WebhookReceiver(tolerance=gateway.settings.webhook_tolerance)
    runners.append(await start_receiver(receiver))
    key, public = make_key(tmp_path / "keys", "lusitania")
    gateway.add_partner(sftp_supplier("lusitania-dual", "lusitania", public,
                                      edifact_id="5600000000017", stage="dual",
                                      webhook=receiver))
    number = order_number(41)
    action = await gateway.run(held_order, gateway, "lusitania-dual", number)
    outbox_ids = await gateway.approve(action)
    assert len(outbox_ids) == 2
    rows = [await gateway.wait_row(i, lambda r: r.status == "sent", what="sent")
            for i in outbox_ids]
    by_channel = {row.channel: row for row in rows}
    assert set(by_channel) == {"sftp", "webhook"}
    assert {row.business_id for row in rows} == {number}
    assert by_channel["sftp"].ack_status == "expected"
    assert by_channel["webhook"].ack_status == "none"

    edi_row = by_channel["sftp"]
    name = filename_for(edi_row)
    work = tmp_path / "supplier"
    await sftp_batch(gateway, key, "lusitania", [f"get outbound/{name}"], work)
    doc = read_document((work / name).read_bytes())
    [delivered] = receiver.requests
    envelope = json.loads(delivered.body)
    assert delivered.headers["Edigate-Business-Id"] == envelope["business_id"] == number
    assert doc.data["order_number"] == envelope["data"]["order_number"] == number
    assert envelope["subject"] == number and envelope["partner"] == "lusitania-dual"
    edi_line, api_line = doc.data["lines"][0], envelope["data"]["lines"][0]
    assert (edi_line["buyer_part"], edi_line["quantity"]) == (
        api_line["buyer_part"], api_line["quantity"]) == ("P-100", 40)
    # Queued once: approving the same action again is refused, and enqueueing it again through
    # the planner's enqueuer adds nothing.
    with gateway.runtime.sessions.begin() as session:
        stored = session.get(PlanAction, action)
        assert stored is not None and sorted(stored.outbox_ids) == sorted(outbox_ids)
        again = settings_enqueuer(gateway.settings)(session, stored, datetime.now(UTC))
        assert sorted(again) == sorted(outbox_ids)
    assert len(gateway.rows(business_id=number)) == 2


# -- e. dead letter, then `edigate outbox retry` -----------------------------------------------

async def test_dead_letter_after_max_attempts_then_cli_retry(gateway: LiveGateway, runners,
                                                             engine) -> None:
    receiver = WebhookReceiver(default=503, tolerance=gateway.settings.webhook_tolerance)
    runners.append(await start_receiver(receiver))
    gateway.add_partner(api_supplier("down-api", receiver))
    number = order_number(51)
    [row_id] = await gateway.approve(await gateway.run(held_order, gateway, "down-api", number))
    dead = await gateway.wait_row(row_id, lambda r: r.status == "dead", what="dead")
    assert dead.attempts == gateway.settings.dispatch_max_attempts == 3
    assert "HTTP 503" in dead.last_error and "after the last of 3 attempts" in dead.last_error
    assert [(a.outcome, a.http_status) for a in gateway.attempts(row_id)] == [("retry", 503)] * 3
    assert [r.status for r in receiver.requests] == [503] * 3
    assert {r.headers["Idempotency-Key"] for r in receiver.requests} == {row_id}
    await asyncio.sleep(1.0)
    assert len(receiver.requests) == 3  # dead means no more attempts

    receiver.default = 200  # the supplier fixed its endpoint; an operator puts the row back
    result = await edigate_cli(gateway, engine, "outbox", "retry", row_id[:8], "--reason",
                               "supplier endpoint fixed", "--actor", "ops@example")
    assert result.returncode == 0, result.stderr
    assert f"{row_id} -> pending" in result.stdout
    row = await gateway.wait_row(row_id, lambda r: r.status == "sent", what="delivered")
    assert (row.attempts, row.last_error) == (1, "")
    assert [r.status for r in receiver.requests] == [503, 503, 503, 200]
    assert receiver.requests[-1].body == dead.payload
    assert receiver.requests[-1].headers["Idempotency-Key"] == row_id
    with gateway.runtime.sessions() as session:
        [audit] = session.scalars(select(AuditEntry).where(
            AuditEntry.subject_id == row_id)).all()
        assert (audit.action, audit.actor, audit.reason) == (
            "outbox.pending", "ops@example", "supplier endpoint fixed")


async def edigate_cli(gateway: LiveGateway, engine, *args: str) -> subprocess.CompletedProcess:
    """``edigate ARGS`` as an operator runs it: its own process, the gateway's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env.update(EDIGATE_DATABASE_URL=engine.url.render_as_string(hide_password=False),
               EDIGATE_SERVER_DATA_DIR=str(gateway.settings.data_path),
               EDIGATE_LOG_LEVEL="warning")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode or 0, out.decode(), err.decode())
