"""The dispatcher: claim due outbox rows, deliver them, record every attempt.

Claiming is a short transaction that flips rows to ``sending`` with a lease (on PostgreSQL with
``FOR UPDATE SKIP LOCKED``, so several processes share the work without waiting on each other;
SQLite serialises writers anyway). Delivery happens outside any transaction. A process that dies
mid-delivery leaves its rows ``sending``; when the lease runs out another pass takes them again
and sends the same stored bytes, so the partner sees at most a repeat with the same control
numbers, never a different document.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import tenacity
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from gateway.domain.lifecycle import move
from gateway.domain.states import AckStatus, Entity, OutboxStatus, sources_of
from gateway.observability import metrics
from gateway.observability.logging import bind_correlation, stored_correlation
from gateway.outbound.acks import ACKED, mark_sent
from gateway.outbound.transports import Delivery, deliver
from gateway.runtime import Runtime
from gateway.storage.models import OutboxAttempt, OutboxItem, Partner
from gateway.storage.retry import retry_on_conflict

log = logging.getLogger("edigate.outbox")

# Backoff between delivery attempts of one row: exponential with jitter (tenacity computes it;
# we persist the due time so the schedule survives restarts).
BACKOFF = tenacity.wait_exponential_jitter(multiplier=2, max=900, jitter=2)


def backoff_after(attempts: int) -> timedelta:
    state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(),
                                    kwargs={})
    state.attempt_number = max(1, attempts)
    return timedelta(seconds=float(BACKOFF(state)))


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_due(session: Session, *, worker: str, now: datetime, lease: timedelta,
              limit: int) -> list[str]:
    query = (select(OutboxItem.id)
             .where(or_(and_(OutboxItem.status == OutboxStatus.PENDING,
                             OutboxItem.next_attempt_at <= now),
                        and_(OutboxItem.status == OutboxStatus.SENDING,
                             OutboxItem.claimed_until < now)))
             .order_by(OutboxItem.next_attempt_at, OutboxItem.created_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query).all())
    if ids:
        # A bulk UPDATE passes no flush check: the WHERE holds it to the outbox table
        # (pending -> sending, or a lapsed sending claimed again).
        session.execute(update(OutboxItem).where(
                            OutboxItem.id.in_(ids),
                            OutboxItem.status.in_(sources_of(Entity.OUTBOX,
                                                             OutboxStatus.SENDING)))
                        .values(status=OutboxStatus.SENDING, claimed_by=worker,
                                claimed_until=now + lease, updated_at=now),
                        execution_options={"synchronize_session": False})
    return ids


def record_result(session: Session, item_id: str, *, worker: str, delivery: Delivery,
                  started: datetime, now: datetime, max_attempts: int) -> str:
    # populate_existing: the claim was a bulk UPDATE, so an identity-mapped copy may be stale.
    item = session.get(OutboxItem, item_id, populate_existing=True,
                       with_for_update=session.get_bind().dialect.name == "postgresql")
    if item is None:
        return "missing"
    # Read before any change: a query's autoflush would otherwise write a half-made change
    # (sent, acknowledgment still overdue) and the outbound interchange would follow it.
    partner = session.get(Partner, item.partner_id)
    duration = int((now - started).total_seconds() * 1000)
    outcome = "delivered" if delivery.ok else ("retry" if delivery.retryable else "failed")
    session.add(OutboxAttempt(outbox_id=item.id, at=now, worker=worker, channel=item.channel,
                              outcome=outcome, duration_ms=duration,
                              http_status=delivery.http_status, error="" if delivery.ok
                              else delivery.detail[:4000],
                              details={"detail": delivery.detail, **delivery.extra}))
    if item.status != OutboxStatus.SENDING or item.claimed_by != worker:
        # Our lease ran out and someone else owns the row now; the attempt is on record.
        return "lease-lost"
    item.attempts += 1
    item.updated_at = now
    item.claimed_by = ""
    item.claimed_until = None
    if delivery.ok or item.ack_status in ACKED:
        # Delivered; or the partner's 997/CONTRL for exactly this document arrived while we
        # were delivering it, which proves receipt whatever this attempt saw.
        item.delivered_at = now if delivery.ok else (item.delivered_at or now)
        if item.ack_status == AckStatus.REJECTED:
            move(item, OutboxStatus.FAILED)  # last_error holds the partner's verdict
        else:
            move(item, OutboxStatus.SENT)
            item.last_error = ""
        mark_sent(item, partner.profile if partner else {}, now)
    elif delivery.retryable and item.attempts < max_attempts:
        move(item, OutboxStatus.PENDING)
        item.last_error = delivery.detail[:4000]
        item.next_attempt_at = now + backoff_after(item.attempts)
    else:
        move(item, OutboxStatus.DEAD)
        reason = (f"after the last of {max_attempts} attempts" if delivery.retryable
                  else "not retryable")
        item.last_error = f"{delivery.detail[:3900]} ({reason})"
        log.error("outbox %s for %s dead-lettered: %s", item.id, item.partner_id,
                  item.last_error, extra={"partner": item.partner_id})
    metrics.sent(channel=item.channel, partner=item.partner_id, document_type=item.document_type,
                 outcome=outcome, size=len(item.payload or b""), seconds=duration / 1000)
    return item.status


def _load(session: Session, item_id: str) -> tuple[OutboxItem, dict[str, Any]] | None:
    item = session.get(OutboxItem, item_id)
    if item is None:
        return None
    partner = session.get(Partner, item.partner_id)
    profile = dict(partner.profile) if partner else {}
    profile.setdefault("standard", partner.standard if partner else "")
    session.expunge(item)
    return item, profile


@dataclass
class Dispatcher:
    runtime: Runtime
    worker: str = ""
    batch: int = 50
    concurrency: int = 8
    lease: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        self.worker = self.worker or default_worker_id()
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Dispatcher:
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def run_once(self, now: datetime | None = None) -> int:
        """One pass: claim due rows and deliver them. Returns how many were attempted."""
        assert self._http is not None, "use 'async with Dispatcher(...)'"
        runtime = self.runtime
        now = now or datetime.now(UTC)

        def claim() -> list[str]:
            with runtime.sessions.begin() as session:
                return claim_due(session, worker=self.worker, now=now, lease=self.lease,
                                 limit=self.batch)

        ids = await runtime.run(retry_on_conflict, claim, what="claiming outbox rows")
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item_id: str) -> None:
            async with gate:
                await self._deliver_one(item_id)

        await asyncio.gather(*(one(i) for i in ids))
        return len(ids)

    async def _deliver_one(self, item_id: str) -> None:
        runtime = self.runtime

        def load() -> tuple[tuple[OutboxItem, dict[str, Any]] | None, str | None]:
            with runtime.sessions() as session:
                found = _load(session, item_id)
                return found, stored_correlation(session, found[0].interchange_id
                                                 if found else None)

        loaded, cid = await runtime.run(load)
        bind_correlation(cid)  # this task's lines carry the id of the work that queued the row
        if loaded is None:
            return
        item, profile = loaded
        started = datetime.now(UTC)
        try:
            delivery = await deliver(item, profile, settings=runtime.settings,
                                     http=self._http,  # type: ignore[arg-type]
                                     sessions=runtime.sessions)
        except Exception as exc:  # a transport bug must not kill the loop; keep it retryable
            log.exception("delivery of outbox %s raised", item_id)
            delivery = Delivery(ok=False, retryable=True, detail=f"{type(exc).__name__}: {exc}")

        def record() -> str:
            with runtime.sessions.begin() as session:
                return record_result(session, item_id, worker=self.worker, delivery=delivery,
                                     started=started, now=datetime.now(UTC),
                                     max_attempts=runtime.settings.dispatch_max_attempts)

        await runtime.run(retry_on_conflict, record, what=f"recording outbox {item_id}")

    async def run_forever(self, stop: asyncio.Event, interval: float | None = None) -> None:
        interval = interval or self.runtime.settings.dispatch_interval
        while not stop.is_set():
            started = time.monotonic()
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("dispatcher pass failed; retrying")
                handled = 0
            if handled >= self.batch:
                continue  # more is due: go on without sleeping
            delay = max(0.0, interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)


def outbox_depth(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxItem.status, func.count())
                           .group_by(OutboxItem.status)).all()
    return {status: count for status, count in rows}
