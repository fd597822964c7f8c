"""Repository behaviour, run on SQLite and PostgreSQL alike (the ``engine`` fixture)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from gateway.partners.profile import parse_profile
from gateway.storage.db import session_factory
from gateway.storage.migrate import current_revision, head_revision, pending_message
from gateway.storage.models import Base, Credential, Interchange
from gateway.storage.repositories import (
    allocate_control_numbers,
    audit_trail,
    authenticate_token,
    find_partner_by_identity,
    issue_token,
    list_partners,
    stage_of,
    upsert_partner,
)

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
TOKEN = "edg_test_acme_000000000000000000000042"


def profile(**overrides: object):
    table = {
        "id": "acme", "name": "ACME", "standard": "edifact", "version": "D96A",
        "identities": [{"standard": "edifact", "qualifier": "14", "id": "4012345000009"}],
        "stages": {"*": "edi", "order_response": "dual"},
        "channels": {"as2": {"as2_id": "ACME"}},
        "tokens": [{"name": "erp", "token": TOKEN}],
    }
    table.update(overrides)
    return parse_profile(table)


def test_migrations_are_at_head_and_match_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    assert pending_message(engine) is None
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_partner_import_is_idempotent_and_keeps_operator_stage_changes(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:
        _, created = upsert_partner(s, profile(), now=NOW, actor="test")
        assert created
    with sessions.begin() as s:
        stage = next(st for st in list_partners(s)[0].stages if st.document_type == "*")
        stage.stage = "dual"  # an operator promoted the partner meanwhile
    with sessions.begin() as s:
        _, created = upsert_partner(s, profile(name="ACME AG"), now=NOW, actor="test")
        assert not created
    with sessions() as s:
        partners = list_partners(s)
        assert [p.name for p in partners] == ["ACME AG"]
        assert stage_of(s, "acme", "invoice") == "dual"
        assert stage_of(s, "acme", "order_response") == "dual"
        assert len(s.scalars(select(Credential)).all()) == 1
        actions = [e.action for e in audit_trail(s, "partner", "acme")]
        assert actions == ["partner.create", "partner.update"]


def test_identity_lookup_and_uniqueness(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:
        upsert_partner(s, profile(), now=NOW, actor="test")
    with sessions() as s:
        found = find_partner_by_identity(s, "edifact", "4012345000009", "14")
        assert found is not None and found.id == "acme"
        assert find_partner_by_identity(s, "edifact", "4012345000009", "ZZ") is None
    clash = profile(id="other", tokens=[])
    with pytest.raises(IntegrityError):
        with sessions.begin() as s:
            upsert_partner(s, clash, now=NOW, actor="test")


def test_tokens_are_stored_hashed_and_authenticate(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:
        upsert_partner(s, profile(), now=NOW, actor="test")
        issue_token(s, token="edg_op_viewer_0000000000000000000001", now=NOW, partner_id=None,
                    role="viewer", name="dash")
    with sessions() as s:
        stored = s.scalars(select(Credential.secret_hash)).all()
        assert TOKEN not in stored and all(h and len(h) == 64 for h in stored)
        cred = authenticate_token(s, TOKEN, now=NOW)
        assert cred is not None and cred.partner_id == "acme" and cred.role is None
        op = authenticate_token(s, "edg_op_viewer_0000000000000000000001", now=NOW)
        assert op is not None and op.role == "viewer" and op.partner_id is None
        assert authenticate_token(s, TOKEN[:-1] + "3", now=NOW) is None
    with sessions.begin() as s:
        cred = s.scalars(select(Credential).where(Credential.partner_id == "acme")).one()
        cred.not_after = NOW - timedelta(days=1)
    with sessions() as s:
        assert authenticate_token(s, TOKEN, now=NOW) is None


def test_control_numbers_are_consecutive_and_survive_rollback(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:
        upsert_partner(s, profile(), now=NOW, actor="test")
    with sessions.begin() as s:
        assert allocate_control_numbers(s, "acme", "unb") == [1]
        assert allocate_control_numbers(s, "acme", "unb", 3) == [2, 3, 4]
        assert allocate_control_numbers(s, "acme", "unh") == [1]
    with pytest.raises(RuntimeError):
        with sessions.begin() as s:
            assert allocate_control_numbers(s, "acme", "unb") == [5]
            raise RuntimeError("the document was never written")
    with sessions.begin() as s:
        assert allocate_control_numbers(s, "acme", "unb") == [5]


def test_control_numbers_are_unique_under_concurrency(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:
        upsert_partner(s, profile(), now=NOW, actor="test")
    got: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(25):
                with sessions.begin() as s:
                    numbers = allocate_control_numbers(s, "acme", "isa")
                with lock:
                    got.extend(numbers)
        except BaseException as exc:  # surfaced below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(got) == list(range(1, 151))


def test_control_numbers_wrap_at_nine_digits(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:
        upsert_partner(s, profile(), now=NOW, actor="test")
        allocate_control_numbers(s, "acme", "st")
        s.execute(text("UPDATE control_numbers SET next_value = 999999999 WHERE scope = 'st'"))
    with sessions.begin() as s:
        assert allocate_control_numbers(s, "acme", "st", 2) == [999_999_999, 1]


def test_raw_bytes_round_trip_exactly(engine: Engine) -> None:
    raw = bytes(range(256)) * 64 + b"UNA:+.? '\r\n\x00"
    sessions = session_factory(engine)
    with sessions.begin() as s:
        s.add(Interchange(id="i-1", direction="in", channel="http", received_at=NOW,
                          sha256="0" * 64, size=len(raw), raw=raw, status="received"))
    with sessions() as s:
        assert s.get(Interchange, "i-1").raw == raw


def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine: Engine, db_backend: str) -> None:
    if db_backend != "sqlite":
        return  # a SQLite property; PostgreSQL always enforces foreign keys
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(IntegrityError):
        with session_factory(engine).begin() as s:
            s.add(Interchange(id="i-2", partner_id="ghost", direction="in", channel="http",
                              received_at=NOW, sha256="0" * 64, size=0, status="received"))
