"""The outbound lifecycle on SQLite and PostgreSQL: an outbound interchange says what its outbox
row and the partner's acknowledgment say (queued -> sent -> accepted | rejected | overdue), and
an acknowledgment we send names the interchange it answers in typed columns."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.domain.causes import acknowledgments_of
from gateway.domain.states import AckStatus, CauseType, InterchangeStatus, OutboxStatus
from gateway.outbound.acks import apply_functional_ack, flag_overdue
from gateway.outbound.dispatcher import claim_due, record_result
from gateway.outbound.enqueue import OurIdentity, enqueue_document
from gateway.outbound.transports import Delivery
from gateway.partners.profile import parse_profile
from gateway.storage.db import session_factory
from gateway.storage.models import Interchange, OutboxItem, Partner
from gateway.storage.repositories import upsert_partner
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, auth
from tests.gateway.outbox_helpers import order

OURS = OurIdentity("EDIGATE", "ZZ", "EDIGATE", "ZZZ")
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        upsert_partner(session, parse_profile({
            "id": "x12-supplier", "name": "X12 Supplier", "standard": "x12",
            "version": "004010",
            "identities": [{"standard": "x12", "qualifier": "ZZ", "id": "X12SUPPLIER"}],
            "stages": {"*": "edi"}, "channels": {"sftp": {"username": "x12sup"}},
            "outbound": {"ack_window_minutes": 30}}), now=NOW, actor="test")
    return sessions


def _enqueue(sessions: sessionmaker[Session], business_id: str) -> str:
    with sessions.begin() as session:
        partner = session.get(Partner, "x12-supplier")
        assert partner is not None
        [row] = enqueue_document(session, partner, "purchase_order", business_id, order(1),
                                 now=NOW, ours=OURS)
        assert row.channel == "sftp"
        return row.id


def _deliver(sessions: sessionmaker[Session], delivery: Delivery, max_attempts: int = 5,
             ) -> None:
    with sessions.begin() as session:
        ids = claim_due(session, worker="w", now=NOW, lease=LEASE, limit=10)
    for item_id in ids:
        with sessions.begin() as session:
            record_result(session, item_id, worker="w", delivery=delivery, started=NOW,
                          now=NOW, max_attempts=max_attempts)


def _state(sessions: sessionmaker[Session], item_id: str) -> tuple[str, str, str]:
    with sessions() as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None and item.interchange_id
        stored = session.get(Interchange, item.interchange_id)
        assert stored is not None and stored.direction == "out"
        return item.status, item.ack_status, stored.status


def _ack(sessions: sessionmaker[Session], item_id: str, verdict: str) -> None:
    with sessions.begin() as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None
        errors = [] if verdict == "accepted" else [
            {"segment_tag": "PO1", "code": "8", "description": "bad element"}]
        matched = apply_functional_ack(session, "x12-supplier", {
            "ack_type": "997", "acknowledged_group": item.control_numbers["group"],
            "status": verdict, "messages": [{"control_number": item.control_numbers["message"],
                                             "status": verdict, "errors": errors}]},
            ack_interchange_id=f"ack-{item_id[:30]}", now=NOW)
        assert [m.id for m in matched] == [item_id]


def test_send_then_accepted(sessions) -> None:
    item = _enqueue(sessions, "PO-A")
    assert _state(sessions, item) == ("pending", "none", "queued")
    _deliver(sessions, Delivery(ok=True))
    assert _state(sessions, item) == ("sent", "expected", "sent")
    _ack(sessions, item, "accepted")
    assert _state(sessions, item) == ("sent", "accepted", "accepted")


def test_send_then_rejected(sessions) -> None:
    item = _enqueue(sessions, "PO-R")
    _deliver(sessions, Delivery(ok=True))
    _ack(sessions, item, "rejected")
    assert _state(sessions, item) == ("failed", "rejected", "rejected")


def test_overdue_job_marks_the_interchange_overdue_until_the_late_verdict(sessions) -> None:
    item = _enqueue(sessions, "PO-O")
    _deliver(sessions, Delivery(ok=True))
    with sessions.begin() as session:
        assert flag_overdue(session, NOW + timedelta(minutes=29)) == (0, 0)
    assert _state(sessions, item) == ("sent", "expected", "sent")
    with sessions.begin() as session:
        assert flag_overdue(session, NOW + timedelta(minutes=31)) == (1, 0)
    assert _state(sessions, item) == ("sent", "overdue", "overdue")
    _ack(sessions, item, "accepted")
    assert _state(sessions, item) == ("sent", "accepted", "accepted")


def test_dead_letter_fails_and_a_retry_queues_again(sessions) -> None:
    item = _enqueue(sessions, "PO-D")
    _deliver(sessions, Delivery(ok=False, retryable=False, detail="refused"))
    assert _state(sessions, item) == ("dead", "none", "failed")
    with sessions.begin() as session:
        row = session.get(OutboxItem, item)
        assert row is not None
        row.status = OutboxStatus.PENDING  # the operator's retry
    assert _state(sessions, item) == ("pending", "none", "queued")


async def test_acknowledgments_we_send_name_their_interchange(client, runtime) -> None:
    resp = await client.post("/edi", data=x12_850(4242), headers=auth(BOLT))
    body = await resp.json()
    assert resp.status == 200 and body["status"] == "processed", body
    with runtime.sessions() as session:
        [ack] = session.scalars(select(OutboxItem).where(
            acknowledgments_of(body["interchange_id"]))).all()
        assert (ack.cause_type, ack.cause_id) == (CauseType.INTERCHANGE, body["interchange_id"])
        assert ack.ack_status == AckStatus.NONE  # we expect no acknowledgment of an ack
        sent = session.get(Interchange, ack.interchange_id)
        # Picked up over HTTP: there is nothing to push, so it is sent as soon as it exists.
        assert sent is not None and (ack.status, sent.status) == ("sent", InterchangeStatus.SENT)
    # The API answers its timestamps in one format.
    info = await (await client.get(f"/interchanges/{body['interchange_id']}",
                                   headers=auth(BOLT))).json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", info["received_at"]), info
