"""Migration 0005 on a database that lived before it, on SQLite and PostgreSQL: outbound
interchanges get the status their outbox row and acknowledgment say, acknowledgment rows get
their typed cause, and the way back (downgrade) works."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from gateway.domain.lifecycle import outbound_status
from gateway.storage.db import make_engine
from gateway.storage.migrate import current_revision, downgrade, head_revision, upgrade
from tests.conftest import POSTGRES_ADMIN_URL

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

# (outbox status, ack status, interchange status before) -> what 0005 makes of it
CASES = [
    ("pending", "none", "queued"),
    ("sent", "none", "queued"),
    ("sent", "expected", "queued"),
    ("sent", "expected", "picked_up"),
    ("sent", "accepted", "queued"),
    ("sent", "accepted_with_errors", "picked_up"),
    ("failed", "rejected", "queued"),
    ("sent", "overdue", "queued"),
    ("pending", "overdue", "queued"),
    ("dead", "none", "queued"),
    ("cancelled", "none", "queued"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own: this test walks the migrations itself."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")  # skips (or fails under CI) like the suite
    name = f"edigate_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"{url.rpartition('/')[0]}/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _seed(conn) -> None:
    conn.execute(text("INSERT INTO partners (id, name, standard, version, profile, active, "
                      "created_at, updated_at) VALUES ('p', 'P', 'x12', '', '{}', :t, :n, :n)"),
                 {"t": True, "n": NOW})
    interchange = text(
        "INSERT INTO interchanges (id, partner_id, direction, channel, received_at, sha256, "
        "size, content_type, filename, standard, sender_id, receiver_id, control_number, "
        "status, status_detail, correlation_id, attempts) VALUES (:id, 'p', :d, 'sftp', :n, "
        ":sha, 0, '', '', '', '', '', '', :status, '', '', 0)")
    outbox = text(
        "INSERT INTO outbox (id, partner_id, document_type, channel, business_id, status, "
        "data, control_numbers, attempts, next_attempt_at, last_error, claimed_by, created_at, "
        "updated_at, interchange_id, cause_type, cause_id, ack_status, ack_detail) VALUES "
        "(:id, 'p', :doc, 'sftp', :bid, :status, '{}', '{}', 0, :n, '', '', :n, :n, :ix, '', "
        "'', :ack, '{}')")
    conn.execute(interchange, {"id": "in-1", "d": "in", "n": NOW, "sha": "a" * 64,
                               "status": "processed"})
    for n, (status, ack, before) in enumerate(CASES):
        conn.execute(interchange, {"id": f"out-{n}", "d": "out", "n": NOW, "sha": f"{n:064d}",
                                   "status": before})
        conn.execute(outbox, {"id": f"row-{n}", "doc": "purchase_order", "bid": f"PO{n}",
                              "status": status, "n": NOW, "ix": f"out-{n}", "ack": ack})
    conn.execute(interchange, {"id": "out-ack", "d": "out", "n": NOW, "sha": "b" * 64,
                               "status": "queued"})
    conn.execute(outbox, {"id": "row-ack", "doc": "ack:997", "bid": "ack:in-1", "status": "sent",
                          "n": NOW, "ix": "out-ack", "ack": "none"})


def test_0005_derives_outbound_statuses_and_ack_causes(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0004")
    with fresh_engine.begin() as conn:
        _seed(conn)
    upgrade(fresh_engine)
    assert current_revision(fresh_engine) == head_revision()
    with fresh_engine.connect() as conn:
        got = dict(conn.execute(text("SELECT id, status FROM interchanges")).all())
        cause = conn.execute(text("SELECT cause_type, cause_id FROM outbox "
                                  "WHERE id = 'row-ack'")).one()
        others = conn.execute(text("SELECT count(*) FROM outbox WHERE cause_type <> ''")).scalar()
    for n, (status, ack, before) in enumerate(CASES):
        # The SQL of the migration and the rule the running code applies agree.
        assert got[f"out-{n}"] == outbound_status(status, ack, before), (status, ack, before)
    assert [got[f"out-{n}"] for n in range(len(CASES))] == [
        "queued", "sent", "sent", "picked_up", "accepted", "accepted_with_errors", "rejected",
        "overdue", "queued", "failed", "cancelled"]
    assert got["out-ack"] == "sent" and got["in-1"] == "processed"
    assert tuple(cause) == ("interchange", "in-1") and others == 1

    downgrade(fresh_engine, "0004")
    with fresh_engine.connect() as conn:
        assert set(conn.execute(text(
            "SELECT status FROM interchanges WHERE direction = 'out'")).scalars()) == {"queued"}
        assert conn.execute(text("SELECT cause_type FROM outbox WHERE id = 'row-ack'")
                            ).scalar() == ""
    upgrade(fresh_engine)
    assert current_revision(fresh_engine) == head_revision()
    if fresh_engine.dialect.name == "sqlite":
        # Migrations switch foreign keys off for batch copies; the pooled connection has them
        # on again.
        with fresh_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
