"""No poison message: an interchange whose processing raises is retried a bounded number of
times with backoff, counted in ``attempts``, then quarantined with the error, a negative
acknowledgment where one can be written, a metric and a dashboard card. On SQLite and
PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from gateway.inbox import poison
from gateway.inbox.poison import RetryPolicy
from gateway.jobs.resume import pending_interchanges, resume_inbox
from gateway.pipeline import process
from gateway.pipeline.replay import replay
from gateway.storage.models import Interchange, OutboxItem
from gateway.web.auth import SESSION_COOKIE
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, OPERATOR, auth


def _quarantined_poison() -> float:
    return REGISTRY.get_sample_value("edigate_interchanges_quarantined_total",
                                     {"reason": "poison"}) or 0.0


@pytest.fixture
def fast_policy(monkeypatch: pytest.MonkeyPatch) -> RetryPolicy:
    policy = RetryPolicy(max_attempts=3, base_seconds=0.0)
    monkeypatch.setattr(RetryPolicy, "from_settings", classmethod(lambda cls, _s: policy))
    return policy


@pytest.fixture
def broken_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args, **_kwargs):
        raise RuntimeError("injected: translation exploded")

    monkeypatch.setattr(process, "translate", boom)


def _row(runtime, interchange_id: str) -> Interchange:
    with runtime.sessions() as s:
        row = s.get(Interchange, interchange_id)
        assert row is not None
        s.expunge(row)
        return row


async def test_a_failing_interchange_is_retried_then_quarantined_with_a_negative_ack(
        client, runtime, fast_policy, broken_translation) -> None:
    before = _quarantined_poison()
    resp = await client.post("/edi", data=x12_850(501), headers=auth(BOLT))
    body = await resp.json()
    assert resp.status == 202, body
    assert body["status"] == "received" and "failure 1 of 3" in body["detail"]
    ident = body["interchange_id"]
    row = _row(runtime, ident)
    assert (row.status, row.attempts) == ("received", 1)
    assert row.next_attempt_at is not None
    assert row.error_report["failures"][0]["error"].startswith("RuntimeError: injected")

    resume_inbox(runtime)
    row = _row(runtime, ident)
    assert (row.status, row.attempts) == ("received", 2)
    resume_inbox(runtime)
    row = _row(runtime, ident)
    assert (row.status, row.attempts) == ("quarantined", 3)
    assert row.status_detail.startswith("quarantined after 3 failed processing attempt(s)")
    assert row.next_attempt_at is None
    report = row.error_report
    assert report["poison"] is True and report["report"]["errors"][0]["code"] == (
        "processing-failed")
    assert report["acknowledgment"].startswith("negative acknowledgment queued")
    assert _quarantined_poison() == before + 1
    # Nothing is left for the resume job, and a further run changes nothing.
    assert pending_interchanges(runtime, older_than=timedelta(0)) == []
    assert resume_inbox(runtime) == 0

    # The partner gets a 997 rejecting the message (the real translator works for the ack).
    with runtime.sessions() as s:
        acks = s.scalars(select(OutboxItem).where(OutboxItem.business_id == f"ack:{ident}")
                         ).all()
    assert len(acks) == 1
    text = acks[0].payload.decode()
    assert "ST*997*" in text and "AK5*R" in text and "AK9*R" in text
    # A resend of the same bytes gets the final answer, not "will be retried".
    again = await client.post("/edi", data=x12_850(501), headers=auth(BOLT))
    problem = await again.json()
    assert again.status == 422 and problem["outcome"] == "quarantined"
    assert problem["duplicate"] is True
    shown = await (await client.get(f"/interchanges/{ident}", headers=auth(BOLT))).json()
    assert shown["attempts"] == 3 and shown["status"] == "quarantined"

    # The dashboard: a poison card on the overview, attempts and the ack on the detail page.
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: OPERATOR})
    overview = await (await client.get("/")).text()
    card = re.search(r'<div class="n">(\d+)</div><div class="l">poison \(processing failed\)',
                     overview)
    assert card is not None and card.group(1) == "1", overview[:2000]
    detail = await (await client.get(f"/dashboard/interchanges/{ident}")).text()
    assert "processing attempts</th><td>3</td>" in detail
    assert "negative acknowledgment queued" in detail


async def test_a_failure_waits_for_its_backoff(client, runtime, broken_translation) -> None:
    resp = await client.post("/edi", data=x12_850(502), headers=auth(BOLT))
    ident = (await resp.json())["interchange_id"]
    row = _row(runtime, ident)
    due = poison.RetryPolicy().delay(1).total_seconds()
    waited = (row.next_attempt_at.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
    assert due - 5 < waited <= due
    # Not due yet: the resume job leaves it alone (no traceback every 15 s, no attempt).
    assert pending_interchanges(runtime, older_than=timedelta(0)) == []
    assert resume_inbox(runtime) == 0
    assert _row(runtime, ident).attempts == 1
    assert RetryPolicy().delay(2) == 2 * RetryPolicy().delay(1)
    assert RetryPolicy().delay(40) == timedelta(seconds=RetryPolicy().cap_seconds)


async def test_database_failures_do_not_count_towards_quarantine(runtime, tmp_path) -> None:
    from sqlalchemy.exc import OperationalError

    policy = RetryPolicy(max_attempts=1, base_seconds=0.0)
    from gateway.inbox.spool import spool_bytes
    from gateway.inbox.store import accept

    with runtime.sessions.begin() as s:
        spooled = spool_bytes(iter([x12_850(503)]), tmp_path, 1 << 20)
        ident = accept(s, spooled, data_dir=tmp_path, partner_id="bolt-supply",
                       channel="http", now=datetime.now(UTC)).interchange.id
    outcome = poison.record_failure(runtime.sessions, ident,
                                    OperationalError("SELECT 1", {}, Exception("locked")),
                                    data_dir=tmp_path, policy=policy)
    assert outcome.status == "received"
    row = _row(runtime, ident)
    assert row.attempts == 1 and row.error_report["failed_attempts"] == 0
    outcome = poison.record_failure(runtime.sessions, ident, ValueError("bad\x00data"),
                                    data_dir=tmp_path, policy=policy)
    assert outcome.status == "quarantined"
    row = _row(runtime, ident)
    assert "\x00" not in row.status_detail and "\\x00" in row.status_detail


async def test_replay_of_a_poison_says_whether_an_ack_goes_out(
        client, runtime, fast_policy, broken_translation, monkeypatch) -> None:
    ident = (await (await client.post("/edi", data=x12_850(504), headers=auth(BOLT))
                    ).json())["interchange_id"]
    resume_inbox(runtime)
    resume_inbox(runtime)
    assert _row(runtime, ident).status == "quarantined"
    # Still broken: quarantined again at once, no second negative acknowledgment.
    with runtime.sessions.begin() as s:
        outcome = replay(s, ident, actor="test", reason="retry", data_dir=runtime.settings
                         .data_path)
    assert outcome.status == "quarantined" and outcome.ack_ids == []
    assert outcome.to_json()["acknowledgment"].startswith("not sent")
    # Fixed: processed, and the changed outcome is acknowledged.
    monkeypatch.undo()
    with runtime.sessions.begin() as s:
        outcome = replay(s, ident, actor="test", reason="fixed", data_dir=runtime.settings
                         .data_path)
    assert outcome.status == "processed" and len(outcome.ack_ids) == 1
    assert outcome.to_json()["acknowledgment"].startswith("sent: 1")


async def test_replaying_a_rejected_interchange_does_not_resend_its_ack(client, runtime) -> None:
    rejected = x12_850(505).replace(b"BEG*00*SA*PO0000505**20261122~\n", b"")
    resp = await client.post("/edi", data=rejected, headers=auth(BOLT))
    body = await resp.json()
    assert resp.status == 422 and body["outcome"] == "rejected", body
    ident = body["interchange_id"]

    def acks() -> int:
        with runtime.sessions() as s:
            return len(s.scalars(select(OutboxItem.id).where(
                OutboxItem.business_id == f"ack:{ident}")).all())

    assert acks() == 1
    with runtime.sessions.begin() as s:
        again = replay(s, ident, actor="test", reason="look", data_dir=runtime.settings.data_path)
    assert again.status == "rejected" and again.ack_ids == [] and acks() == 1
    assert again.to_json()["acknowledgment"].startswith("not sent: the partner already has")
    with runtime.sessions.begin() as s:
        forced = replay(s, ident, actor="test", reason="partner lost it",
                        data_dir=runtime.settings.data_path, resend_ack=True)
    assert forced.status == "rejected" and len(forced.ack_ids) == 1 and acks() == 2
    assert forced.to_json()["acknowledgment"].startswith("sent: 1 acknowledgment(s) (asked")


def test_edigate_replay_says_whether_it_sends_an_ack(tmp_path) -> None:
    import json

    from gateway.inbox.spool import spool_bytes
    from gateway.inbox.store import accept
    from gateway.pipeline.process import process_received
    from gateway.storage.db import make_engine, session_factory
    from tests.gateway.live_server import PARTNERS
    from tests.gateway.test_cli_foundation import edigate

    edigate("db", "upgrade", data_dir=tmp_path, check=True)
    edigate("partners", "import", str(PARTNERS), data_dir=tmp_path, check=True)
    engine = make_engine(f"sqlite:///{tmp_path / 'edigate.db'}")
    sessions = session_factory(engine)
    rejected = x12_850(506).replace(b"BEG*00*SA*PO0000506**20261122~\n", b"")
    with sessions.begin() as s:
        ident = accept(s, spool_bytes(rejected, tmp_path, 1 << 20), data_dir=tmp_path,
                       partner_id="bolt-supply", channel="http",
                       now=datetime.now(UTC)).interchange.id
    assert process_received(sessions, ident, data_dir=tmp_path).status == "rejected"
    engine.dispose()

    again = edigate("replay", ident, "--reason", "look", data_dir=tmp_path)
    assert again.returncode == 1 and "Traceback" not in again.stderr, again.stderr
    assert json.loads(again.stdout)["acknowledgment"].startswith("not sent")
    forced = edigate("replay", ident, "--reason", "lost", "--resend-ack", data_dir=tmp_path)
    body = json.loads(forced.stdout)
    assert body["acknowledgment"].startswith("sent: 1") and len(body["acknowledgments"]) == 1
