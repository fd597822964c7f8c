"""A partner in migration, its two paths' documents, and an app carrying the reconcile routes.

Until the full app (gateway.web.app) imports everywhere, the tests build a small application
with the real route modules they exercise: REST event ingest and the reconciliation API.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from gateway.config import Settings
from gateway.partners.profile import parse_profile
from gateway.runtime import Runtime
from gateway.storage.db import session_factory
from gateway.storage.models import Event
from gateway.storage.repositories import issue_token, upsert_partner
from gateway.web import events, reconcile_api
from gateway.web.keys import RUNTIME
from gateway.web.problems import problem_middleware

PARTNER = "reco-seals"
PARTNER_TOKEN = "edg_test_reco_seals_000000000000000000001"
OPERATOR = "edg_test_operator_0000000000000000000000001"
VIEWER = "edg_test_viewer_00000000000000000000000001"
PROFILE = {
    "id": PARTNER, "name": "Reco Seals GmbH", "standard": "edifact", "version": "D96A",
    "identities": [{"standard": "edifact", "qualifier": "14", "id": "9012345999999"}],
    "stages": {"*": "edi"},
    "channels": {"http": {}, "rest": {}},
    "tokens": [{"name": "erp", "token": PARTNER_TOKEN}],
    "reconcile": {"grace_hours": 1, "quantity_abs": 0,
                  "gate": {"window_days": 2, "min_documents": 4, "threshold": 0.99}},
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_runtime(engine: Engine, data_dir: Path) -> Runtime:
    settings = replace(Settings(data_dir=str(data_dir), jobs_enabled=False))
    runtime = Runtime(settings=settings, engine=engine, sessions=session_factory(engine))
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        upsert_partner(session, parse_profile(copy.deepcopy(PROFILE)), now=now, actor="test")
        issue_token(session, token=OPERATOR, now=now, partner_id=None, role="operator",
                    name="ops")
        issue_token(session, token=VIEWER, now=now, partner_id=None, role="viewer",
                    name="view")
    return runtime


def reconcile_app(runtime: Runtime, clock: list[datetime] | None = None) -> web.Application:
    app = web.Application(middlewares=[problem_middleware])
    app[RUNTIME] = runtime
    if clock is not None:
        app[reconcile_api.CLOCK] = lambda: clock[0]
    app.add_routes(events.routes)
    app.add_routes(reconcile_api.routes)
    return app


def order(number: str, quantity: float = 500) -> dict[str, Any]:
    return {"order_number": number, "order_date": "2024-03-04", "currency": "EUR",
            "lines": [{"line_number": "10", "buyer_part": "SEAL-10", "quantity": quantity,
                       "unit": "EA", "unit_price": 0.42},
                      {"line_number": "20", "buyer_part": "SEAL-20", "quantity": 40,
                       "unit": "EA", "unit_price": 1.5}]}


def store_edi(runtime: Runtime, data: dict[str, Any], *, time: datetime,
              recorded_at: datetime) -> str:
    """An EDI-path event as the EDI pipeline stores it."""
    ident = f"edi-{uuid.uuid4()}"
    with runtime.sessions.begin() as session:
        session.add(Event(id=ident, type="purchase_order", version=1, partner_id=PARTNER,
                          path="edi", source=f"/partners/{PARTNER}",
                          subject=data["order_number"], time=time, recorded_at=recorded_at,
                          business_key=data["order_number"], data=data))
    return ident


def cloud_event(data: dict[str, Any], *, time: datetime) -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": f"/partners/{PARTNER}",
            "type": "purchase_order", "time": time.isoformat().replace("+00:00", "Z"),
            "subject": data["order_number"], "datacontenttype": "application/json",
            "dataschemaversion": 1, "data": data}


MINUTE = timedelta(minutes=1)


def profile_toml(profile: dict[str, Any]) -> str:
    """A profile as a partner TOML file, for ``edigate partners import`` against a live server
    (the standard library reads TOML but does not write it). Covers what profiles use:
    strings, numbers, booleans, lists of scalars, tables and arrays of tables."""

    def key(name: str) -> str:
        return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)  # JSON string escapes are valid TOML basic-string escapes
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        raise TypeError(f"cannot write {type(v).__name__} as TOML")

    def table(prefix: str, body: dict[str, Any]) -> list[str]:
        lines = [f"{key(k)} = {value(v)}" for k, v in body.items()
                 if not isinstance(v, dict) and not _is_table_array(v)]
        for k, v in body.items():
            name = f"{prefix}.{key(k)}" if prefix else key(k)
            if isinstance(v, dict):
                lines += ["", f"[{name}]", *table(name, v)]
            elif _is_table_array(v):
                for item in v:
                    lines += ["", f"[[{name}]]", *table(name, item)]
        return lines

    return "\n".join(table("", profile)) + "\n"


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)
