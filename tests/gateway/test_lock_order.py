"""One global lock order for control-number counters, a retry on lost lock conflicts, and a
plan action that can never be left failed without an outbox row because of one.

The last test is the two-process PostgreSQL run under mixed load: two ``edigate serve``
processes on one database answer inbound 850s (each acknowledgment takes the partner's
counters) while plan actions for the same partner are rendered (taking the same counters) and
dispatched: no deadlock is reported and every plan action is sent or explicitly waiting."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from gateway.outbound.enqueue import OurIdentity
from gateway.planning import outbox as plan_outbox
from gateway.planning.outbox import WAITING, enqueuer, requeue_waiting
from gateway.storage.db import session_factory
from gateway.storage.models import ControlNumberSequence, Interchange, OutboxItem
from gateway.storage.models_planning import RELEASED, PlanAction, PlanRun
from gateway.storage.repositories import allocate_control_numbers
from gateway.storage.retry import (
    conflict_kind,
    lock_counters,
    ordered_scopes,
    retry_on_conflict,
)
from tests.conftest import _truncate_all
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, auth, make_runtime
from tests.gateway.live_server import LiveServer
from tests.gateway.outbox_helpers import order

OURS = OurIdentity("EDIGATE", "ZZ", "EDIGATE", "ZZZ")


class _Orig(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _conflict(sqlstate: str | None, message: str = "conflict") -> OperationalError:
    return OperationalError("UPDATE control_numbers", {}, _Orig(message, sqlstate))


def test_conflicts_are_recognised_and_run_again() -> None:
    assert conflict_kind(_conflict("40P01")) == "deadlock"
    assert conflict_kind(_conflict("40001")) == "serialization"
    assert conflict_kind(_conflict(None, "database is locked")) == "locked"
    assert conflict_kind(_conflict("23505", "duplicate key")) is None
    assert conflict_kind(ValueError("deadlock detected")) is None
    calls: list[int] = []

    def work() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _conflict("40P01")
        return "done"

    assert retry_on_conflict(work, sleep=lambda _s: None) == "done" and len(calls) == 3

    def broken() -> None:
        raise _conflict("23505", "duplicate key")

    with pytest.raises(OperationalError):
        retry_on_conflict(broken, sleep=lambda _s: None)

    def always() -> None:
        raise _conflict("40P01")

    with pytest.raises(OperationalError):
        retry_on_conflict(always, attempts=3, sleep=lambda _s: None)


def test_one_order_for_every_counter() -> None:
    assert ordered_scopes(["unh", "unb", "ung"]) == ["unb", "ung", "unh"]
    assert ordered_scopes(["st", "isa", "gs", "st"]) == ["isa", "gs", "st"]


def _plan_action(session, supplier: str, n: int) -> PlanAction:
    run = session.get(PlanRun, "run-lock-order")
    if run is None:
        run = PlanRun(id="run-lock-order", created_at=datetime.now(UTC), trigger="test",
                      status="adopted", source="naive", horizon_start=date(2026, 11, 20),
                      periods=1)
        session.add(run)
        session.flush()
    action = PlanAction(id=str(uuid.uuid4()), run_id=run.id, created_at=datetime.now(UTC),
                        supplier_id=supplier, kind="new", document_type="purchase_order",
                        business_id=f"PO{n:06d}", order_number=f"PO{n:06d}", status=RELEASED,
                        data=order(n), decision_reason="")
    session.add(action)
    session.flush()
    return action


def test_an_enqueue_that_keeps_losing_waits_and_is_queued_later(engine, tmp_path,
                                                              monkeypatch) -> None:
    runtime = make_runtime(engine, tmp_path)
    real = plan_outbox.enqueue_document
    losing = {"left": plan_outbox.ENQUEUE_ATTEMPTS}

    def flaky(*args, **kwargs):
        if losing["left"] > 0:
            losing["left"] -= 1
            raise _conflict("40P01", "deadlock detected")
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_outbox, "enqueue_document", flaky)
    enqueue = enqueuer(OURS, sleep=lambda _s: None)
    with runtime.sessions.begin() as s:
        action = _plan_action(s, "bolt-supply", 1)
        assert enqueue(s, action, datetime.now(UTC)) == []
        action_id = action.id
    with runtime.sessions() as s:
        action = s.get(PlanAction, action_id)
        assert action.status == RELEASED and action.outbox_ids == []
        assert action.decision_reason.startswith(WAITING)
    # The planning job's requeue queues it once the conflict is gone.
    assert requeue_waiting(runtime.sessions, enqueue) == 1
    with runtime.sessions() as s:
        action = s.get(PlanAction, action_id)
        assert action.status == RELEASED and len(action.outbox_ids) == 1
        assert not action.decision_reason.startswith(WAITING)
        assert s.get(OutboxItem, action.outbox_ids[0]) is not None
    assert requeue_waiting(runtime.sessions, enqueue) == 0


@pytest.fixture
def pg_engine(_postgresql_engine):
    _truncate_all(_postgresql_engine)
    return _postgresql_engine


def _deadlocks(engine) -> int:
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(conn.execute(text(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )).scalar() or 0)


def test_acks_and_rendering_take_counters_in_one_order(pg_engine, tmp_path) -> None:
    """Two threads: one asks message -> group -> interchange (as the ack builders do), the
    other interchange -> group -> message (as rendering does); both lock first."""
    runtime = make_runtime(pg_engine, tmp_path)
    before = _deadlocks(pg_engine)
    errors: list[BaseException] = []
    rounds = 60

    def worker(order_: tuple[str, ...]) -> None:
        try:
            for _ in range(rounds):
                def one() -> None:
                    with runtime.sessions.begin() as s:
                        lock_counters(s, "bolt-supply", order_)
                        for scope in order_:
                            allocate_control_numbers(s, "bolt-supply", scope)
                            time.sleep(0.001)
                retry_on_conflict(one)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(("st", "gs", "isa"),)),
               threading.Thread(target=worker, args=(("isa", "gs", "st"),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    time.sleep(0.6)  # statistics are flushed asynchronously
    assert _deadlocks(pg_engine) == before
    with runtime.sessions() as s:
        values = dict(s.execute(select(ControlNumberSequence.scope,
                                       ControlNumberSequence.next_value).where(
            ControlNumberSequence.partner_id == "bolt-supply")).all())
    assert values == {"isa": 2 * rounds + 1, "gs": 2 * rounds + 1, "st": 2 * rounds + 1}


async def test_two_processes_under_mixed_inbound_and_outbound_load(pg_engine,
                                                                   tmp_path: Path) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)
    before = _deadlocks(pg_engine)
    env = {"EDIGATE_OUTBOX_INTERVAL_SECONDS": "0.2"}
    servers = [LiveServer(tmp_path / name, url, extra_env=env) for name in ("a", "b")]
    servers[0].prepare()
    for server in servers:
        server.data_dir.mkdir(parents=True, exist_ok=True)
    # Both write the hosted SFTP mailboxes under their own data dir: that is fine for orders.
    inbound, actions = 120, 60
    sessions = session_factory(pg_engine)
    try:
        for server in servers:
            server.start(timeout=60)

        def plan_load() -> None:
            enqueue = enqueuer(OURS)
            for n in range(actions):
                def one(n: int = n) -> None:
                    with sessions.begin() as s:
                        enqueue(s, _plan_action(s, "bolt-supply", n), datetime.now(UTC))
                retry_on_conflict(one)

        async def post_load(http: aiohttp.ClientSession) -> list[tuple[int, str]]:
            gate = asyncio.Semaphore(8)

            async def post(n: int) -> tuple[int, str]:
                async with gate:
                    server = servers[n % 2]
                    async with http.post(f"{server.url}/edi", data=x12_850(10_000 + n),
                                         headers=auth(BOLT)) as resp:
                        answer = await resp.json()
                        return resp.status, str(answer.get("interchange_id"))

            return await asyncio.gather(*(post(n) for n in range(inbound)))

        async with aiohttp.ClientSession() as http:
            planned = asyncio.to_thread(plan_load)
            answers, _ = await asyncio.gather(post_load(http), planned)
        assert all(status in (200, 202) for status, _ in answers), answers
        posted = {ident for _, ident in answers}

        deadline = time.monotonic() + 180
        while True:
            with sessions() as s:
                waiting_in = s.scalar(select(func.count()).select_from(Interchange).where(
                    Interchange.direction == "in", Interchange.status == "received"))
                unsent = s.scalar(select(func.count()).select_from(OutboxItem).where(
                    OutboxItem.status.not_in(("sent", "acked"))))
            if not waiting_in and not unsent:
                break
            assert time.monotonic() < deadline, (waiting_in, unsent)
            await asyncio.sleep(0.5)
    finally:
        for server in servers:
            server.stop()
    logs = "".join(server.log.read_text() for server in servers)
    assert "deadlock" not in logs.lower(), logs[-3000:]
    assert "Traceback" not in logs, logs[-3000:]
    time.sleep(0.6)
    assert _deadlocks(pg_engine) == before, "PostgreSQL reported deadlocks"
    with sessions() as s:
        rows = s.scalars(select(PlanAction).where(PlanAction.run_id == "run-lock-order")).all()
        assert len(rows) == actions
        for action in rows:
            if action.decision_reason.startswith(WAITING):
                continue  # explicitly waiting for the requeue job
            assert action.status == RELEASED and action.outbox_ids, action.decision_reason
            sent = s.scalars(select(OutboxItem.status).where(
                OutboxItem.id.in_(action.outbox_ids))).all()
            assert sent and all(status in ("sent", "acked") for status in sent)
        statuses = s.scalars(select(Interchange.status).where(
            Interchange.id.in_(posted))).all()
        assert len(posted) == inbound and statuses == ["processed"] * inbound
        isa = s.scalars(select(Interchange.control_number).where(
            Interchange.direction == "out", Interchange.partner_id == "bolt-supply")).all()
    assert len(isa) >= inbound + actions and len(set(isa)) == len(isa), "unique ISA13"
