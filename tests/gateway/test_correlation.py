"""The correlation id follows the work it names: from the HTTP request that received a document,
through the inbox worker that processes it later (another thread, another context), into the
acknowledgment it queued; scheduled jobs get one id per run, and none leaks into other work."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from gateway.inbox.store import store_outbound
from gateway.jobs.resume import work_inbox
from gateway.observability.logging import (
    CorrelatedThreadPool,
    CorrelationFilter,
    JsonFormatter,
    correlation,
    current_correlation_id,
)
from gateway.outbound.dispatcher import Dispatcher
from gateway.storage.models import Interchange, OutboxItem
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, add_partner, app_for, auth, make_runtime


class Collect(logging.Handler):
    """Every record, stamped by the filter the gateway installs on its handler."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.addFilter(CorrelationFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def collected() -> Iterator[Collect]:
    handler = Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def runtime(engine, tmp_path):
    # Inbox workers on: the serving process only commits and answers; a worker processes.
    rt = make_runtime(engine, tmp_path, inbox_workers=1)
    yield rt
    rt.stop_threads()


async def test_http_receipt_and_worker_processing_share_one_correlation_id(
        aiohttp_client, runtime, collected: Collect) -> None:
    client = await aiohttp_client(app_for(runtime))
    resp = await client.post("/edi", data=x12_850(801),
                             headers={**auth(BOLT), "Prefer": "respond-async"})
    assert resp.status == 202, await resp.text()
    cid = resp.headers["X-Correlation-Id"]
    interchange_id = (await resp.json())["interchange_id"]
    request_lines = [r for r in collected.records if r.name == "edigate.http"]
    assert request_lines and all(r.correlation_id == cid for r in request_lines)

    # Another request, another id: nothing of the first one's id leaks into the pool.
    other = await client.get("/api/v1/partners/me", headers=auth(BOLT))
    assert other.headers["X-Correlation-Id"] != cid

    # The worker runs in a thread of its own, with an empty context, like `edigate work`.
    collected.records.clear()
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(
        work_inbox(runtime, threading.Event(), min_age=0, once=True)))
    worker.start()
    worker.join(60)
    assert done == [1]
    work = [r for r in collected.records if r.name.startswith("edigate")]
    assert any(r.name == "edigate.pipeline" and interchange_id in r.getMessage()
               for r in work), [r.getMessage() for r in work]
    assert {r.correlation_id for r in work} == {cid}, [
        (r.name, r.getMessage(), r.correlation_id) for r in work]

    # What the processing queued (the 997) carries the id, so its dispatch logs under it too.
    with runtime.sessions() as session:
        rows = session.execute(select(Interchange.direction, Interchange.correlation_id)
                               .where(Interchange.partner_id == "bolt-supply")).all()
    assert ("in", cid) in rows and ("out", cid) in rows
    assert all(found == cid for _, found in rows)


async def test_executor_calls_run_under_the_callers_id(runtime) -> None:
    def inside() -> str | None:
        return current_correlation_id()

    with correlation("feedfacecafe") as cid:
        assert await runtime.run(inside) == cid
        assert await runtime.run_processing(inside) == cid
    assert await runtime.run(inside) is None  # the pool kept nothing of it


def test_each_job_run_has_its_own_id_and_none_leaks() -> None:
    seen: list[str | None] = []

    def job() -> None:
        seen.append(current_correlation_id())
        logging.getLogger("edigate.jobs.test").info("job ran")

    with CorrelatedThreadPool(1) as pool, correlation("caller0000"):
        for _ in range(3):
            pool.submit(job).result()
        # A job does not inherit the submitter's id: it is work of its own.
        assert None not in seen and "caller0000" not in seen
    assert len(set(seen)) == 3
    assert current_correlation_id() is None


def test_the_filter_stamps_the_id_where_the_record_is_made() -> None:
    record = logging.makeLogRecord({"msg": "x", "levelno": logging.INFO, "levelname": "INFO"})
    with correlation("abc123"):
        CorrelationFilter().filter(record)
    # Formatted later, outside the context (as a queue handler would): the id is kept once.
    line = JsonFormatter().format(record)
    assert '"correlation_id": "abc123"' in line and line.count("correlation_id") == 1


async def test_a_delivery_logs_under_the_id_of_the_work_that_queued_it(
        runtime, collected: Collect) -> None:
    # A webhook partner without a URL: the delivery fails for good and is dead-lettered,
    # which the dispatcher logs.
    add_partner(runtime, {"id": "hookless", "name": "hookless", "standard": "api",
                          "stages": {"*": "api"}, "channels": {"webhook": {}}})
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        out = store_outbound(session, b"{}", partner_id="hookless", channel="webhook", now=now,
                             correlation_id="c0ffee0000000001")
        session.flush()
        session.add(OutboxItem(id=str(uuid.uuid4()), partner_id="hookless",
                               document_type="purchase_order", channel="webhook",
                               business_id="PO-9", status="pending", payload=b"{}",
                               next_attempt_at=now, created_at=now, updated_at=now,
                               interchange_id=out.id))
    collected.records.clear()
    async with Dispatcher(runtime, worker="test") as dispatcher:
        assert await dispatcher.run_once() == 1
    dead = [r for r in collected.records if "dead-lettered" in r.getMessage()]
    assert len(dead) == 1 and dead[0].correlation_id == "c0ffee0000000001"
    assert current_correlation_id() is None  # the delivery's id stayed in its task
