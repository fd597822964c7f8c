"""The broker relay: publish the event outbox, in order per partner, at least once on the wire
and exactly once in effect.

One pass:

1. In a short transaction, take (or renew) the destination's lease in ``job_leases`` (only the
   holder publishes, so the order per partner holds across gateway processes) and read the
   oldest pending rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), each partner cut at its
   first row waiting for a retry.
2. Outside any transaction, publish each partner's rows one after the other (each waits for
   the broker's ack before the next goes), the partners concurrently.
3. In a second short transaction, mark the acknowledged rows ``published`` with the broker's
   receipt; a failed row gets its next attempt time (exponential backoff with jitter,
   tenacity) and holds its partner's later rows back until then.

A SIGKILL between 2 and 3 leaves acknowledged rows ``pending``: the next pass publishes them
again under the same message id (the event id), which JetStream drops within its duplicate
window and a RabbitMQ consumer recognises by ``message_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from gateway.broker import metrics
from gateway.broker.destination import Destination
from gateway.broker.messages import BrokerMessage, build_message
from gateway.broker.outbox import (
    Claimed,
    backoff_after,
    claim_batch,
    load_events,
    mark_failed,
    mark_published,
    mark_retry,
)
from gateway.broker.publishers import Publisher, PublishError, Receipt, publisher_for
from gateway.runtime import Runtime
from gateway.storage.models_broker import PENDING, EventPublication
from schemas import SchemaError

log = logging.getLogger("edigate.broker")

LEASE_TTL = timedelta(seconds=30)
MAX_CHAINS = 64  # partners published concurrently


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Outcome:
    published: list[tuple[int, str]] = field(default_factory=list)
    duplicates: int = 0
    retry: list[tuple[Claimed, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Batch:
    leased: bool
    claimed: list[Claimed] = field(default_factory=list)
    messages: dict[str, BrokerMessage] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    held: bool = False  # a partner was held back by a row waiting for its retry

    @property
    def last_seq(self) -> int:
        return self.claimed[-1].seq if self.claimed else 0


@dataclass
class PassResult:
    leased: bool
    claimed: int = 0
    published: int = 0
    retried: int = 0
    failed: int = 0
    retried_partners: frozenset[str] = frozenset()


class Relay:
    """Publishes one destination's outbox; use as ``async with Relay(...)``."""

    def __init__(self, runtime: Runtime, destination: Destination, *,
                 holder: str | None = None,
                 publisher_factory: Callable[[Destination], Publisher] = publisher_for) -> None:
        self.runtime = runtime
        self.destination = destination
        self.holder = holder or default_holder()
        self._factory = publisher_factory
        self._publisher: Publisher | None = None
        self._connect_failures = 0
        self.published_total = 0

    async def __aenter__(self) -> Relay:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._publisher is not None:
            publisher, self._publisher = self._publisher, None
            await publisher.close()
        with contextlib.suppress(Exception):
            await self.runtime.run(self._release)

    # --- database steps (threads) ------------------------------------------------------

    def _claim(self, now: datetime, after_seq: int = 0) -> Batch:
        from gateway.reconcile.jobs import acquire_lease

        dest = self.destination
        with self.runtime.sessions.begin() as session:
            if not acquire_lease(session, dest.lease_name, holder=self.holder, now=now,
                                 ttl=LEASE_TTL):
                return Batch(leased=False)
            claimed, held = claim_batch(session, now=now, limit=dest.batch,
                                        after_seq=after_seq)
            events = load_events(session, [c.event_id for c in claimed])
        messages: dict[str, BrokerMessage] = {}
        broken: dict[str, str] = {}
        for item in claimed:
            event = events.get(item.event_id)
            if event is None:
                broken[item.event_id] = "the event row is missing"
                continue
            try:
                messages[item.event_id] = build_message(event, prefix=dest.subject_prefix,
                                                        mode=dest.content_mode)
            except (SchemaError, ValueError, TypeError) as exc:
                broken[item.event_id] = f"cannot encode as {dest.content_mode}: {exc}"
        return Batch(True, claimed, messages, broken, held)

    def _record(self, outcome: Outcome, now: datetime) -> datetime | None:
        with self.runtime.sessions.begin() as session:
            mark_published(session, outcome.published, destination=self.destination.name,
                           now=now)
            for item, error in outcome.retry:
                mark_retry(session, item.seq, error, attempts=item.attempts, now=now)
            for seq, error in outcome.failed:
                mark_failed(session, seq, error, now=now)
            oldest = session.scalar(select(EventPublication.created_at)
                                    .where(EventPublication.status == PENDING)
                                    .order_by(EventPublication.seq).limit(1))
        return oldest

    def _release(self) -> None:
        from gateway.reconcile.jobs import release_lease

        with self.runtime.sessions.begin() as session:
            release_lease(session, self.destination.lease_name, holder=self.holder,
                          now=datetime.now(UTC))

    # --- publishing (event loop) --------------------------------------------------------

    async def _ensure_publisher(self) -> Publisher:
        if self._publisher is None:
            publisher = self._factory(self.destination)
            await publisher.start()
            self._publisher = publisher
            self._connect_failures = 0
            log.info("broker destination %s connected (%s, %s mode)", self.destination.name,
                     self.destination.kind, self.destination.content_mode)
        return self._publisher

    async def _chain(self, publisher: Publisher, items: list[Claimed],
                     messages: dict[str, BrokerMessage], broken: dict[str, str],
                     outcome: Outcome, gate: asyncio.Semaphore) -> None:
        async with gate:
            for item in items:
                if item.event_id in broken:
                    outcome.failed.append((item.seq, broken[item.event_id]))
                    continue
                try:
                    receipt: Receipt = await publisher.publish(messages[item.event_id])
                except PublishError as exc:
                    if exc.retryable:
                        outcome.retry.append((item, str(exc)))
                        return  # the partner's later events wait for this one
                    outcome.failed.append((item.seq, str(exc)))
                    continue
                outcome.published.append((item.seq, receipt.ref))
                outcome.duplicates += receipt.duplicate

    async def pass_once(self) -> PassResult:
        """Claim, publish, record: one pass over (at most ``batch``) due rows."""
        batch = await self.runtime.run(self._claim, datetime.now(UTC))
        return await self._publish_batch(batch)

    async def _publish_batch(self, batch: Batch, skip: frozenset[str] = frozenset()
                             ) -> PassResult:
        """Publish a claimed batch (except the partners in ``skip``) and record the outcome."""
        dest = self.destination
        if not batch.leased:
            return PassResult(leased=False)
        claimed = [item for item in batch.claimed if item.partner_id not in skip]
        if not claimed:
            now = datetime.now(UTC)
            self._set_lag(await self.runtime.run(self._record, Outcome(), now), now)
            return PassResult(leased=True, claimed=len(batch.claimed))
        outcome = Outcome()
        try:
            publisher = await self._ensure_publisher()
        except PublishError as exc:
            self._connect_failures += 1
            level = logging.ERROR if not exc.retryable else logging.WARNING
            log.log(level, "broker destination %s unavailable: %s", dest.name, exc)
            first_by_partner: dict[str, Claimed] = {}
            for item in claimed:
                first_by_partner.setdefault(item.partner_id, item)
            outcome.retry = [(item, str(exc)) for item in first_by_partner.values()]
        else:
            chains: dict[str, list[Claimed]] = {}
            for item in claimed:
                chains.setdefault(item.partner_id, []).append(item)
            gate = asyncio.Semaphore(MAX_CHAINS)
            await asyncio.gather(*(self._chain(publisher, items, batch.messages, batch.broken,
                                               outcome, gate) for items in chains.values()))
        if outcome.retry and not outcome.published and self._publisher is not None:
            # Nothing got through: start over with a new connection next time, which also
            # declares the stream or exchange again (someone may have deleted it).
            publisher, self._publisher = self._publisher, None
            with contextlib.suppress(Exception):
                await publisher.close()
        done = datetime.now(UTC)
        oldest = await self.runtime.run(self._record, outcome, done)
        self.published_total += len(outcome.published)
        metrics.published.labels(destination=dest.name).inc(len(outcome.published))
        if outcome.retry:
            metrics.failed.labels(destination=dest.name, outcome="error").inc(len(outcome.retry))
            log.warning("broker destination %s: %d event(s) to retry, first: %s", dest.name,
                        len(outcome.retry), outcome.retry[0][1])
        if outcome.failed:
            metrics.failed.labels(destination=dest.name, outcome="rejected").inc(
                len(outcome.failed))
            log.error("broker destination %s: %d event(s) cannot be published, first: %s",
                      dest.name, len(outcome.failed), outcome.failed[0][1])
        self._set_lag(oldest, done)
        return PassResult(leased=True, claimed=len(batch.claimed),
                          published=len(outcome.published), retried=len(outcome.retry),
                          failed=len(outcome.failed),
                          retried_partners=frozenset(i.partner_id for i, _ in outcome.retry))

    def _set_lag(self, oldest: datetime | None, now: datetime) -> None:
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            age = max(0.0, (now - oldest).total_seconds())
        metrics.lag.labels(destination=self.destination.name).set(age)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` is set; idle passes wait ``interval`` seconds.

        While a batch is being published, the next one is already read (rows past the
        batch's last sequence), so the database and the broker work at the same time. That
        read ahead is used only while no partner is held back by a retry; a retry in the
        batch being published drops the rows of its partner from the batch read ahead (they
        stay pending) and the next read starts from the oldest row again."""
        dest = self.destination
        ahead: asyncio.Future[Batch] | None = None
        while not stop.is_set():
            if self._publisher is None:
                # Connect (and declare the stream or exchange) at start and after a failure,
                # whether or not anything is waiting.
                try:
                    await self._ensure_publisher()
                except PublishError as exc:
                    self._connect_failures += 1
                    log.warning("broker destination %s unavailable: %s", dest.name, exc)
            try:
                if ahead is not None:
                    batch = await ahead
                    ahead = None
                else:
                    batch = await self.runtime.run(self._claim, datetime.now(UTC))
                if batch.leased and batch.claimed and not batch.held and \
                        len(batch.claimed) >= dest.batch and not self._connect_failures:
                    ahead = asyncio.ensure_future(self.runtime.run(
                        self._claim, datetime.now(UTC), batch.last_seq))
                result = await self._publish_batch(batch)
                if ahead is not None and result.retried_partners:
                    # Their later rows must wait for the retry: not published from `ahead`.
                    read_ahead = await ahead
                    ahead = None
                    await self._publish_batch(read_ahead, skip=result.retried_partners)
            except Exception:
                # A database hiccup: nothing was marked, so nothing is lost; try again.
                log.exception("broker relay pass for %s failed", dest.name)
                if ahead is not None:
                    with contextlib.suppress(Exception):
                        await ahead
                    ahead = None
                result = PassResult(leased=False)
            if ahead is not None:
                continue
            if self._connect_failures:
                wait = backoff_after(self._connect_failures).total_seconds()
            elif not result.leased:
                wait = max(dest.interval, 1.0)  # another process holds the lease
            elif result.claimed >= dest.batch or (result.published and not result.retried):
                continue  # more may be waiting
            else:
                wait = dest.interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
        if ahead is not None:
            with contextlib.suppress(Exception):
                await ahead
