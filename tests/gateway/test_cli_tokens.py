"""`edigate tokens revoke`: a revoked token no longer authenticates, the change is audited, and
a wrong id or a second revoke is a one-line error."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from gateway.storage.models import AuditEntry
from gateway.storage.repositories import authenticate_token


def _cli(data: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env["EDIGATE_SERVER_DATA_DIR"] = str(data)
    done = subprocess.run([sys.executable, "-m", "gateway", *args], env=env, text=True,
                          capture_output=True, timeout=120)
    assert (done.returncode == 0) == ok, done.stderr
    return done


def test_a_revoked_token_stops_working_and_is_audited(tmp_path: Path) -> None:
    _cli(tmp_path, "db", "upgrade")
    token = _cli(tmp_path, "tokens", "create", "--role", "viewer", "--name", "ci").stdout.strip()
    listed = _cli(tmp_path, "tokens", "list").stdout
    ident = listed.split()[0]
    assert "active" in listed
    engine = create_engine(f"sqlite:///{tmp_path / 'edigate.db'}")
    with Session(engine) as s:
        assert authenticate_token(s, token, now=datetime.now(UTC)) is not None

    done = _cli(tmp_path, "tokens", "revoke", ident, "--reason", "left the team")
    assert done.stdout.strip().startswith(f"revoked token {ident}")
    assert "revoked" in _cli(tmp_path, "tokens", "list").stdout
    with Session(engine) as s:
        assert authenticate_token(s, token, now=datetime.now(UTC)) is None
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "credential.revoke")).one()
        assert audit.subject_id == ident and audit.reason == "left the team"

    again = _cli(tmp_path, "tokens", "revoke", ident, ok=False)
    assert again.stderr.startswith("edigate: error:") and "already revoked" in again.stderr
    missing = _cli(tmp_path, "tokens", "revoke", "99999", ok=False)
    assert "no API token with id 99999" in missing.stderr and "Traceback" not in missing.stderr
