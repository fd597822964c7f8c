"""The database holds the domain's rules on SQLite and PostgreSQL: CHECK constraints with the
enums' values (the migrated schema, not just the models), refusal of a bad status, the flush
check of status changes, and UTC-aware datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from gateway.domain.states import (
    INBOUND_STATUSES,
    OUTBOUND_STATUSES,
    AckStatus,
    As2InboundStatus,
    As2OutboundStatus,
    CauseType,
    InvalidTransition,
    MdnStatus,
    OutboxStatus,
    PlanActionStatus,
    PlanRunStatus,
    PublicationStatus,
    ReconcileRunStatus,
    Stage,
    values,
)
from gateway.domain.timestamps import api_timestamp
from gateway.storage.checks import CHECKS
from gateway.storage.db import session_factory
from gateway.storage.models import AuditEntry, Interchange, OutboxItem, Partner
from gateway.storage.types import NaiveDatetimeError

NOW = datetime(2026, 12, 7, 23, 15, 3, 123456, tzinfo=UTC)

EXPECTED = {
    ("outbox", "status"): values(OutboxStatus),
    ("outbox", "ack_status"): values(AckStatus),
    ("outbox", "cause_type"): values(CauseType),
    ("plan_actions", "status"): values(PlanActionStatus),
    ("plan_runs", "status"): values(PlanRunStatus),
    ("partner_stages", "stage"): values(Stage),
    ("reconcile_runs", "status"): values(ReconcileRunStatus),
    ("event_publications", "status"): values(PublicationStatus),
    ("as2_messages", "mdn_status"): values(MdnStatus),
}
BY_DIRECTION = {
    "interchanges": (INBOUND_STATUSES, OUTBOUND_STATUSES),
    "as2_messages": (values(As2InboundStatus), values(As2OutboundStatus)),
}


def _quoted(sql: str) -> list[str]:
    return re.findall(r"'([^']*)'", sql)


def _db_checks(engine: Engine, table: str) -> dict[str, str]:
    return {c["name"]: c["sqltext"] for c in inspect(engine).get_check_constraints(table)}


def test_every_status_column_has_a_check_with_exactly_the_enum_values(engine: Engine) -> None:
    assert {(t, n) for t, checks in CHECKS.items() for n in checks} == {
        *EXPECTED, *((table, "status") for table in BY_DIRECTION)}
    for (table, name), allowed in EXPECTED.items():
        sql = _db_checks(engine, table)[f"ck_{table}_{name}"]
        assert set(_quoted(sql)) == set(allowed), (table, name, sql)
    for table, (inbound_values, outbound_values) in BY_DIRECTION.items():
        sql = _db_checks(engine, table)[f"ck_{table}_status"]
        inbound, outbound = re.split(r"\bOR\b", sql, maxsplit=1)
        assert set(_quoted(inbound)) == {"in", *inbound_values}, sql
        assert set(_quoted(outbound)) == {"out", *outbound_values}, sql


def _interchange(direction: str, status: str) -> dict[str, object]:
    return {"id": f"ix-{direction}-{status}", "direction": direction, "channel": "http",
            "received_at": NOW, "sha256": status.ljust(64, "0")[:64], "size": 0,
            "content_type": "", "filename": "", "standard": "", "sender_id": "",
            "receiver_id": "", "control_number": "", "status": status, "status_detail": "",
            "correlation_id": "", "attempts": 0}


def test_the_database_refuses_a_status_outside_the_enum(engine: Engine) -> None:
    insert = text("INSERT INTO interchanges (id, direction, channel, received_at, sha256, size, "
                  "content_type, filename, standard, sender_id, receiver_id, control_number, "
                  "status, status_detail, correlation_id, attempts) VALUES (:id, :direction, "
                  ":channel, :received_at, :sha256, :size, :content_type, :filename, "
                  ":standard, :sender_id, :receiver_id, :control_number, :status, "
                  ":status_detail, :correlation_id, :attempts)")
    with engine.begin() as conn:
        conn.execute(insert, _interchange("in", "received"))
        conn.execute(insert, _interchange("out", "accepted_with_errors"))
    for direction, status in (("in", "queued"), ("out", "received"), ("in", "bogus")):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert, _interchange(direction, status))
    _outbox_row(engine, "o1")
    for column in ("status", "ack_status", "cause_type"):
        with pytest.raises(IntegrityError, match=f"ck_outbox_{column}"), engine.begin() as conn:
            conn.execute(text(f"UPDATE outbox SET {column} = 'bogus'"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE interchanges SET status = 'sent' WHERE direction = 'in'"))


def _outbox_row(engine: Engine, ident: str, **columns: object) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:
        if s.get(Partner, "p1") is None:
            s.add(Partner(id="p1", name="P", standard="x12", version="", profile={},
                          active=True, created_at=NOW, updated_at=NOW))
            s.flush()
        s.add(OutboxItem(**{
            "id": ident, "partner_id": "p1", "document_type": "x", "channel": "http",
            "status": OutboxStatus.PENDING, "data": {}, "control_numbers": {},
            "next_attempt_at": NOW, "created_at": NOW, "updated_at": NOW,
            "ack_status": AckStatus.NONE, **columns}))


def test_a_session_refuses_a_change_its_table_forbids(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:
        s.add(Interchange(**_interchange("in", "processed")))
    with pytest.raises(InvalidTransition, match="inbound interchange: 'processed' -> 'partial'"):
        with sessions.begin() as s:
            row = s.get(Interchange, "ix-in-processed")
            row.status = "partial"  # only a replay (back to received) may follow processed
    with sessions.begin() as s:
        row = s.get(Interchange, "ix-in-processed")
        assert row.status == "processed"
        row.status = "received"
    with sessions() as s:
        assert s.get(Interchange, "ix-in-processed").status == "received"


def test_datetimes_are_aware_utc_and_naive_ones_are_refused(engine: Engine) -> None:
    sessions = session_factory(engine)
    plus_two = NOW.astimezone(timezone(timedelta(hours=2)))
    with sessions.begin() as s:
        s.add(AuditEntry(at=plus_two, actor="t", action="test", subject_type="x",
                         subject_id="1", reason="", details={}))
    with pytest.raises(StatementError) as caught, sessions.begin() as s:
        s.add(AuditEntry(at=datetime(2026, 12, 7, 23, 15), actor="t",
                         action="naive", subject_type="x", subject_id="2", reason="",
                         details={}))
    assert isinstance(caught.value.orig, NaiveDatetimeError)
    seen = []
    for _ in range(2):  # a fresh read each time, as a retried request would do
        with sessions() as s:
            [at] = s.scalars(select(AuditEntry.at)).all()
            assert at.tzinfo is not None and at.utcoffset() == timedelta(0)
            assert at == NOW
            seen.append(api_timestamp(at))
    assert seen == ["2026-12-07T23:15:03.123Z"] * 2
    with sessions() as s:  # the same moment compared in SQL, whatever zone it came in
        assert s.scalars(select(AuditEntry).where(AuditEntry.at == NOW)).one().actor == "t"


def test_outbox_rows_refuse_an_unknown_cause(engine: Engine) -> None:
    _outbox_row(engine, "o1", cause_type=CauseType.PLAN_ACTION, cause_id="a1")
    with pytest.raises(IntegrityError, match="ck_outbox_cause_type"):
        _outbox_row(engine, "o2", cause_type="plan", cause_id="run-1")
