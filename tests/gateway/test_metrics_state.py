"""State read from the database at scrape time (so right whichever process did the work):
outbox by status, acknowledgments awaited and overdue, the latest plan, the latest
reconciliation per partner; and plan runs counted when their transaction commits, not before
and not when it rolls back."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from prometheus_client import REGISTRY

from gateway.storage.models import OutboxItem
from gateway.storage.models_planning import PlanRun
from gateway.storage.models_reconciler import ReconcileRun
from tests.gateway.gateway_app import ADMIN


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _plan(created: datetime, seconds: tuple[float, float], shortages: list[str]) -> PlanRun:
    return PlanRun(id=str(uuid.uuid4()), created_at=created, trigger="test", status="adopted",
                   source="optimizer", horizon_start=date(2026, 12, 1), periods=7,
                   result={"report": {"build_seconds": seconds[0], "solve_seconds": seconds[1]},
                           "shortages": [{"part": p, "periods": [1], "units": 5}
                                         for p in shortages]})


def _outbox(status: str, ack_status: str, now: datetime) -> OutboxItem:
    return OutboxItem(id=str(uuid.uuid4()), partner_id="bolt-supply",
                      document_type="purchase_order", channel="as2", status=status,
                      payload=b"x", ack_status=ack_status, next_attempt_at=now, created_at=now,
                      updated_at=now)


async def test_state_gauges_follow_the_database(client, runtime) -> None:
    now = datetime.now(UTC)
    runs_before = value("edigate_plan_runs_total", status="adopted")
    seconds_before = value("edigate_plan_duration_seconds_count")
    with runtime.sessions.begin() as session:
        session.add(_plan(now - timedelta(hours=1), (1.0, 1.0), ["P-1"]))
        session.add(_plan(now, (0.5, 2.0), ["P-1", "P-2", "P-2"]))
        session.add_all([_outbox("dead", "none", now), _outbox("sent", "expected", now),
                         _outbox("sent", "overdue", now), _outbox("sent", "overdue", now)])
        for partner, finished, agreement in (("bolt-supply", now - timedelta(minutes=20), 0.5),
                                             ("bolt-supply", now - timedelta(minutes=5), 0.9),
                                             ("acme-fasteners", now, 1.0)):
            session.add(ReconcileRun(id=str(uuid.uuid4()), partner_id=partner,
                                     window_start=now - timedelta(days=1), window_end=now,
                                     as_of=finished, started_at=finished, finished_at=finished,
                                     trigger="test", status="ok", agreement=agreement))
    # A plan run whose transaction rolls back is not counted.
    session = runtime.sessions()
    session.add(_plan(now, (9.0, 9.0), []))
    session.flush()
    session.rollback()
    session.close()
    assert value("edigate_plan_runs_total", status="adopted") == runs_before + 2
    assert value("edigate_plan_duration_seconds_count") == seconds_before + 2

    resp = await client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"})
    assert resp.status == 200
    assert value("edigate_outbox_depth", status="dead") == 1
    assert value("edigate_outbox_depth", status="sent") == 3
    assert value("edigate_outbox_depth", status="cancelled") == 0  # known status, emptied
    assert value("edigate_acks_awaited", state="expected") == 1
    assert value("edigate_acks_awaited", state="overdue") == 2
    assert value("edigate_plan_last_duration_seconds") == 2.5
    assert value("edigate_plan_last_shortages") == 2  # parts, not lines
    assert abs(value("edigate_plan_last_run_timestamp_seconds") - now.timestamp()) < 1
    assert value("edigate_reconciliation_agreement_ratio", partner="bolt-supply") == 0.9
    assert value("edigate_reconciliation_agreement_ratio", partner="acme-fasteners") == 1.0
    assert abs(value("edigate_reconciliation_last_run_timestamp_seconds",
                     partner="bolt-supply") - (now - timedelta(minutes=5)).timestamp()) < 1
