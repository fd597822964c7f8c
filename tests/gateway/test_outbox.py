"""The outbox on both databases: routing by stage, idempotent enqueue, claims with leases,
backoff and dead letters, acknowledgment matching and overdue sweeps, signed webhooks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.outbound import webhook
from gateway.outbound.acks import apply_functional_ack, flag_overdue, mark_sent
from gateway.outbound.dispatcher import Dispatcher, backoff_after, claim_due, record_result
from gateway.outbound.enqueue import OurIdentity, enqueue_document, with_party_qualifiers
from gateway.outbound.routing import RoutingError, routes_for
from gateway.outbound.transports import Delivery
from gateway.runtime import Runtime
from gateway.storage.db import session_factory
from gateway.storage.models import OutboxAttempt, OutboxItem
from tests.gateway.live_server import refused_port
from tests.gateway.outbox_helpers import SECRET, FakeSupplier, body_json, order, webhook_partner

# Nothing answers here (a port we hold without listening).
REFUSED_URL = f"http://127.0.0.1:{refused_port()}/x"
OURS = OurIdentity("EDIGATE", "ZZ", "EDIGATE", "ZZZ")
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
def sessions(engine) -> sessionmaker[Session]:
    return session_factory(engine)


def test_routes_follow_the_stage() -> None:
    profile = {"channels": {"as2": {"as2_id": "X", "url": "http://x"}, "sftp": {"username": "u"},
                            "webhook": {"url": "http://hook"}}}
    assert routes_for(profile, "edi") == ["as2"]
    assert routes_for(profile, "api") == ["webhook"]
    assert routes_for(profile, "dual") == ["as2", "webhook"]
    assert routes_for({"channels": {"sftp": {"username": "u"}}}, "edi") == ["sftp"]
    with pytest.raises(RoutingError, match=r"no channels\.webhook\.url"):
        routes_for({"channels": {"sftp": {"username": "u"}}}, "api")
    with pytest.raises(RoutingError, match="no EDI channel"):
        routes_for({"channels": {"webhook": {"url": "http://hook"}}}, "edi")


def test_enqueue_is_idempotent_per_business_id(sessions) -> None:
    with sessions.begin() as session:
        partner = webhook_partner(session, REFUSED_URL)
        first = enqueue_document(session, partner, "purchase_order", "PO000001", order(1),
                                 now=NOW, ours=OURS, cause_type="plan_action", cause_id="run-1")
        again = enqueue_document(session, partner, "purchase_order", "PO000001", order(1),
                                 now=NOW, ours=OURS)
        assert [r.id for r in first] == [r.id for r in again]
    with sessions() as session:
        rows = session.scalars(select(OutboxItem)).all()
        assert len(rows) == 1
        assert rows[0].cause_id == "run-1" and rows[0].channel == "webhook"
        envelope = __import__("json").loads(rows[0].payload)
        assert envelope["data"] == order(1) and envelope["business_id"] == "PO000001"


def test_claims_are_exclusive_and_leases_expire(sessions) -> None:
    with sessions.begin() as session:
        partner = webhook_partner(session, REFUSED_URL)
        for n in range(5):
            enqueue_document(session, partner, "purchase_order", f"PO{n}", order(n), now=NOW,
                             ours=OURS)
    lease = timedelta(seconds=30)
    with sessions.begin() as session:
        a = claim_due(session, worker="a", now=NOW, lease=lease, limit=3)
    with sessions.begin() as session:
        b = claim_due(session, worker="b", now=NOW, lease=lease, limit=10)
    assert len(a) == 3 and len(b) == 2 and not set(a) & set(b)
    with sessions.begin() as session:
        assert claim_due(session, worker="c", now=NOW + timedelta(seconds=10), lease=lease,
                         limit=10) == []
    # Worker a died: after its lease, its rows are claimable again, and its late report is kept
    # as an attempt but does not overwrite the new owner's state.
    with sessions.begin() as session:
        c = claim_due(session, worker="c", now=NOW + timedelta(seconds=31), lease=lease,
                      limit=10)
    assert sorted(c) == sorted(a + b)
    with sessions.begin() as session:
        assert record_result(session, a[0], worker="a", delivery=Delivery(ok=True),
                             started=NOW, now=NOW + timedelta(seconds=32),
                             max_attempts=3) == "lease-lost"
    with sessions() as session:
        row = session.get(OutboxItem, a[0])
        assert row.status == "sending" and row.claimed_by == "c"
        assert session.scalars(select(OutboxAttempt).where(
            OutboxAttempt.outbox_id == a[0])).one().worker == "a"


def test_retryable_failures_back_off_then_dead_letter(sessions) -> None:
    with sessions.begin() as session:
        partner = webhook_partner(session, REFUSED_URL)
        (row,) = enqueue_document(session, partner, "purchase_order", "PO1", order(1), now=NOW,
                                  ours=OURS)
        row_id = row.id
    now = NOW
    for attempt in range(1, 4):
        with sessions.begin() as session:
            assert claim_due(session, worker="w", now=now, lease=timedelta(seconds=60),
                             limit=1) == [row_id]
            status = record_result(session, row_id, worker="w", started=now, now=now,
                                   delivery=Delivery(ok=False, retryable=True, http_status=503,
                                                     detail="HTTP 503: busy"), max_attempts=3)
        with sessions() as session:
            row = session.get(OutboxItem, row_id)
            if attempt < 3:
                assert status == "pending"
                wait = row.next_attempt_at.replace(tzinfo=UTC) - now
                assert timedelta(0) < wait <= backoff_after(attempt) + timedelta(seconds=3)
                now = row.next_attempt_at.replace(tzinfo=UTC)
            else:
                assert status == "dead"
                assert "HTTP 503" in row.last_error and "last of 3 attempts" in row.last_error
                assert row.attempts == 3


def test_non_retryable_failure_is_dead_at_once(sessions) -> None:
    with sessions.begin() as session:
        partner = webhook_partner(session, REFUSED_URL)
        (row,) = enqueue_document(session, partner, "purchase_order", "PO1", order(1), now=NOW,
                                  ours=OURS)
        claim_due(session, worker="w", now=NOW, lease=timedelta(seconds=60), limit=1)
        status = record_result(session, row.id, worker="w", started=NOW, now=NOW,
                               delivery=Delivery(ok=False, http_status=400,
                                                 detail="HTTP 400: bad order"), max_attempts=8)
    assert status == "dead"


def test_backoff_grows_exponentially_with_jitter() -> None:
    waits = [backoff_after(n).total_seconds() for n in range(1, 8)]
    assert waits[0] <= 4 and waits[-1] >= 64
    assert all(later >= earlier - 2 for earlier, later in itertools.pairwise(waits))


def _sent_edi_row(session: Session, partner_id: str, *, group: str, message: str,
                  interchange: str) -> OutboxItem:
    row = OutboxItem(id=f"row-{group}-{message}", partner_id=partner_id,
                     document_type="purchase_order", channel="sftp", business_id=f"PO{group}",
                     status="sent", payload=b"ISA...", data={}, next_attempt_at=NOW,
                     control_numbers={"interchange": interchange, "group": group,
                                      "message": message},
                     created_at=NOW, updated_at=NOW)
    mark_sent(row, {"outbound": {"ack_window_minutes": 30}}, NOW)
    session.add(row)
    return row


def test_functional_acks_match_what_they_acknowledge(sessions) -> None:
    with sessions.begin() as session:
        partner = webhook_partner(session, REFUSED_URL)
        ok = _sent_edi_row(session, partner.id, group="17", message="0001", interchange="17")
        bad = _sent_edi_row(session, partner.id, group="18", message="0001", interchange="18")
        other = _sent_edi_row(session, partner.id, group="19", message="0001", interchange="19")
        assert ok.ack_status == "expected" and ok.ack_due_at == NOW + timedelta(minutes=30)
    with sessions.begin() as session:
        accepted = apply_functional_ack(session, "hook-supplier", {
            "ack_type": "997", "acknowledged_group": "000000017", "status": "accepted",
            "messages": [{"control_number": "0001", "status": "accepted"}]},
            ack_interchange_id="ack-1", now=NOW)
        rejected = apply_functional_ack(session, "hook-supplier", {
            "ack_type": "997", "acknowledged_group": "18", "status": "rejected",
            "messages": [{"control_number": "1", "status": "rejected", "errors": [
                {"segment_tag": "PO1", "code": "8", "description": "Segment has data element "
                                                                  "errors"}]}]},
            ack_interchange_id="ack-2", now=NOW)
        assert [r.id for r in accepted] == [ok.id] and [r.id for r in rejected] == [bad.id]
    with sessions() as session:
        assert session.get(OutboxItem, ok.id).ack_status == "accepted"
        failed = session.get(OutboxItem, bad.id)
        assert failed.status == "failed" and failed.ack_status == "rejected"
        assert "Segment has data element errors" in failed.last_error
        assert failed.ack_detail["errors"][0]["segment_tag"] == "PO1"
        assert session.get(OutboxItem, other.id).ack_status == "expected"


def test_overdue_acks_are_flagged_and_resent_when_configured(sessions) -> None:
    with sessions.begin() as session:
        partner = webhook_partner(session, REFUSED_URL, extra={
            "outbound": {"resend_overdue": True, "max_overdue_resends": 1}})
        row = _sent_edi_row(session, partner.id, group="5", message="1", interchange="5")
    later = NOW + timedelta(minutes=31)
    with sessions.begin() as session:
        assert flag_overdue(session, NOW + timedelta(minutes=10)) == (0, 0)
        assert flag_overdue(session, later) == (1, 1)
    with sessions() as session:
        again = session.get(OutboxItem, row.id)
        assert again.ack_status == "overdue" and again.status == "pending"
        assert again.control_numbers["interchange"] == "5"  # the same document goes again
    with sessions.begin() as session:
        session.get(OutboxItem, row.id).status = "sent"
        mark_sent(session.get(OutboxItem, row.id), {"outbound": {"ack_window_minutes": 30}},
                  later)
    with sessions.begin() as session:  # second time overdue: flagged, not resent (limit 1)
        assert flag_overdue(session, later + timedelta(minutes=31)) == (1, 0)


def test_webhook_signature_verifies_and_refuses_tampering() -> None:
    body = b'{"id":"1"}'
    header = webhook.sign(SECRET, body, 1_700_000_000)
    assert webhook.verify(SECRET, header, body, now=1_700_000_100) == 1_700_000_000
    with pytest.raises(webhook.SignatureError, match="no v1 signature"):
        webhook.verify(SECRET, header, body + b" ", now=1_700_000_100)
    with pytest.raises(webhook.SignatureError, match="outside the 300s window"):
        webhook.verify(SECRET, header, body, now=1_700_000_400)
    with pytest.raises(webhook.SignatureError, match="no valid t="):
        webhook.verify(SECRET, "v1=abc", body, now=1_700_000_000)


async def test_dispatcher_delivers_signed_webhooks_and_retries(engine, tmp_path) -> None:
    supplier = await FakeSupplier(script=[503, 429]).start()
    runtime = Runtime(settings=Settings(data_dir=str(tmp_path)), engine=engine,
                      sessions=session_factory(engine))
    try:
        with runtime.sessions.begin() as session:
            partner = webhook_partner(session, supplier.url)
            for n in range(3):
                enqueue_document(session, partner, "purchase_order", f"PO{n}", order(n),
                                 now=NOW, ours=OURS)
        async with Dispatcher(runtime, worker="t", concurrency=1) as dispatcher:
            assert await dispatcher.run_once(now=NOW) == 3
            # two rows failed (503, 429) and wait for their backoff; deliver them now
            later = datetime.now(UTC) + timedelta(days=1)
            assert await dispatcher.run_once(now=later) == 2
        assert supplier.rejected_signatures == 0
        assert sorted(r.business_id for r in supplier.received) == ["PO0", "PO1", "PO2"]
        assert {body_json(r)["data"]["order_number"] for r in supplier.received} == {
            "PO000000", "PO000001", "PO000002"}
        with runtime.sessions() as session:
            rows = session.scalars(select(OutboxItem)).all()
            assert {r.status for r in rows} == {"sent"}
            attempts = session.scalars(select(OutboxAttempt)).all()
            assert sorted(a.http_status or 0 for a in attempts) == [200, 200, 200, 429, 503]
    finally:
        runtime.stop_threads()
        await supplier.stop()


def test_a_ta1_receipt_does_not_settle_what_the_997_decides(sessions) -> None:
    with sessions.begin() as session:
        partner = webhook_partner(session, REFUSED_URL)
        row = _sent_edi_row(session, partner.id, group="21", message="0001", interchange="21")
    with sessions.begin() as session:
        [noted] = apply_functional_ack(session, "hook-supplier", {
            "ack_type": "TA1", "acknowledged_interchange": "000000021", "status": "accepted",
            "messages": []}, ack_interchange_id="ta1-1", now=NOW)
        assert noted.id == row.id
    with sessions() as session:
        waiting = session.get(OutboxItem, row.id)
        assert (waiting.status, waiting.ack_status) == ("sent", "expected")
        assert waiting.ack_detail["ta1"]["status"] == "accepted"
    with sessions.begin() as session:
        [rejected] = apply_functional_ack(session, "hook-supplier", {
            "ack_type": "997", "acknowledged_group": "21", "status": "rejected",
            "messages": [{"control_number": "0001", "status": "rejected", "errors": [
                {"code": "5", "description": "One or more segments in error"}]}]},
            ack_interchange_id="ack-21", now=NOW)
        assert rejected.id == row.id
    with sessions() as session:
        final = session.get(OutboxItem, row.id)
        assert (final.status, final.ack_status) == ("failed", "rejected")
        assert final.ack_detail["ta1"]["interchange_id"] == "ta1-1"
    with sessions.begin() as session:  # a TA1 that refuses the interchange is a verdict
        other = _sent_edi_row(session, partner.id, group="22", message="0001", interchange="22")
        apply_functional_ack(session, "hook-supplier", {
            "ack_type": "TA1", "acknowledged_interchange": "22", "status": "rejected",
            "messages": [{"errors": [{"code": "006", "description": "Invalid ISA"}]}]},
            ack_interchange_id="ta1-2", now=NOW)
    with sessions() as session:
        assert session.get(OutboxItem, other.id).ack_status == "rejected"


@pytest.mark.parametrize("verdict", ["accepted", "rejected"])
def test_an_ack_during_delivery_is_applied_when_the_delivery_is_recorded(sessions,
                                                                        verdict) -> None:
    """The partner's 997 can be processed before our dispatcher records the delivery (a
    partner answering at once): the dispatcher keeps its claim and its attempt on record."""
    with sessions.begin() as session:
        partner = webhook_partner(session, REFUSED_URL)
        row = _sent_edi_row(session, partner.id, group="31", message="0001", interchange="31")
        row.status, row.ack_status, row.ack_due_at, row.attempts = "pending", "none", None, 0
    with sessions.begin() as session:
        assert claim_due(session, worker="w", now=NOW, lease=timedelta(seconds=60),
                         limit=1) == [row.id]
    with sessions.begin() as session:
        apply_functional_ack(session, "hook-supplier", {
            "ack_type": "997", "acknowledged_group": "31", "status": verdict,
            "messages": [{"control_number": "1", "status": verdict}]},
            ack_interchange_id="ack-31", now=NOW)
    with sessions() as session:
        assert session.get(OutboxItem, row.id).status == "sending"  # still the dispatcher's
    later = NOW + timedelta(seconds=2)
    with sessions.begin() as session:
        status = record_result(session, row.id, worker="w", started=NOW, now=later,
                               delivery=Delivery(ok=True, http_status=200), max_attempts=3)
    assert status == ("sent" if verdict == "accepted" else "failed")
    with sessions() as session:
        done = session.get(OutboxItem, row.id)
        assert (done.attempts, done.ack_status, done.claimed_by) == (1, verdict, "")
        assert done.delivered_at is not None and done.ack_due_at is None


def test_party_ids_get_the_qualifier_x12_requires() -> None:
    data = {"order_number": "PO1", "parties": [{"role": "buyer", "id": "EDIGATE"},
                                               {"role": "seller", "id": "S1",
                                                "id_qualifier": "1"},
                                               {"role": "ship_to", "name": "Plant"}]}
    filled = with_party_qualifiers(data, "x12", {})
    assert [p.get("id_qualifier") for p in filled["parties"]] == ["92", "1", None]
    assert "id_qualifier" not in data["parties"][0]  # the caller's payload is left alone
    assert with_party_qualifiers(data, "edifact", {}) is data
    configured = with_party_qualifiers(data, "edifact", {"party_id_qualifier": "91"})
    assert [p.get("id_qualifier") for p in configured["parties"]] == ["91", "1", None]
