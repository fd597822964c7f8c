"""The real aiohttp app on a test database, with the demo partners and operator tokens loaded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gateway.config import Settings
from gateway.partners.profile import load_profiles, parse_profile
from gateway.runtime import Runtime
from gateway.storage.db import session_factory
from gateway.storage.repositories import issue_token, upsert_partner
from gateway.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "edg_demo_admin_0000000000000000000000000001"
OPERATOR = "edg_demo_operator_00000000000000000000000002"
VIEWER = "edg_demo_viewer_000000000000000000000000003"
BOLT = "edg_demo_bolt_supply_00000000000000000002"  # X12 004010, sender BOLTSUPPLY
NOVA = "edg_demo_nova_plastics_000000000000000003"  # API-only


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_runtime(engine: Engine, data_dir: Path, **overrides: Any) -> Runtime:
    settings = replace(Settings(data_dir=str(data_dir), jobs_enabled=False), **overrides)
    runtime = Runtime(settings=settings, engine=engine, sessions=session_factory(engine))
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        for profile in load_profiles(ROOT / "fixtures" / "partners"):
            upsert_partner(session, profile, now=now, actor="test")
        for token, role in ((ADMIN, "admin"), (OPERATOR, "operator"), (VIEWER, "viewer")):
            issue_token(session, token=token, now=now, partner_id=None, role=role, name=role)
    return runtime


def add_partner(runtime: Runtime, table: dict[str, Any]) -> None:
    with runtime.sessions.begin() as session:
        upsert_partner(session, parse_profile(table), now=datetime.now(UTC), actor="test")


def app_for(runtime: Runtime):
    return create_app(runtime.settings, runtime)
