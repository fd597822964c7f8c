"""Inbound from the broker: partners that already publish CloudEvents to the broker are
consumed into the same pipeline as ``POST /api/v1/events`` (optional, per partner:
``broker.inbound_partners``).

A partner publishes to ``<prefix>.inbound.<partner>`` (the broker's own access control decides
who may; the subject names the partner the events are checked against, as a token does on the
REST path). Each message is committed to the inbox (channel ``broker``) and stored by
:func:`gateway.pipeline.api_events.ingest_events` in one transaction, with the same validation
and idempotency (event ids; the same bytes twice are one interchange); only then is the message
acknowledged. A crash before the ack makes the broker deliver it again, which is then
recognised as the same bytes and has no second effect. Invalid messages are quarantined with
their error report and acknowledged (redelivering them would not make them valid).

JetStream: a stream ``<stream>_INBOUND`` over ``<prefix>.inbound.*`` (declared if missing) and
one durable pull consumer per partner (``edigate-inbound-<partner>``). RabbitMQ: one durable
queue per partner, ``<exchange>.inbound.<partner>``, bound to the exchange, manual acks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.broker import metrics
from gateway.broker.destination import NATS, Destination
from gateway.broker.messages import AVRO_TYPE, STRUCTURED_TYPE, decode_message, subject_token
from gateway.broker.publishers import CONNECT_DEADLINE
from gateway.domain.states import InterchangeStatus
from gateway.inbox.spool import spool_bytes
from gateway.inbox.store import accept, raw_bytes
from gateway.observability.metrics import outcome_word, received
from gateway.pipeline.api_events import ingest_events
from gateway.runtime import Runtime

log = logging.getLogger("edigate.broker.inbound")

CHANNEL = "broker"


@dataclass(frozen=True, slots=True)
class InboundResult:
    outcome: str  # stored | duplicate | rejected
    status: int
    event_ids: tuple[str, ...] = ()
    detail: str = ""


def ingest_message(runtime: Runtime, partner_id: str, body: bytes,
                   headers: dict[str, str]) -> InboundResult:
    """Commit one broker message and store its events (a thread; the caller acks after)."""
    content_type = headers.get("content-type", "") or STRUCTURED_TYPE
    if content_type.startswith(AVRO_TYPE):
        # Binary mode: what is kept and validated is the CloudEvent it stands for.
        try:
            body = json.dumps(decode_message(body, headers), separators=(",", ":")).encode()
        except Exception as exc:  # an undecodable message is quarantined, never retried
            body = json.dumps({"undecodable": str(exc)[:500]}).encode()
        content_type = STRUCTURED_TYPE
    settings = runtime.settings
    now = datetime.now(UTC)
    spooled = spool_bytes(body, settings.data_path, settings.max_body_bytes)
    with runtime.sessions.begin() as session:
        accepted = accept(session, spooled, data_dir=settings.data_path, partner_id=partner_id,
                          channel=CHANNEL, now=now, content_type=content_type)
        row = accepted.interchange
        if accepted.duplicate and row.status != InterchangeStatus.RECEIVED:
            return InboundResult("duplicate", int((row.error_report or {})
                                                  .get("http_status", 200)))
        outcome = ingest_events(session, row, raw_bytes(row, settings.data_path),
                                partner_id=partner_id, now=now)
        row.status = (InterchangeStatus.PROCESSED if outcome.status < 400
                      else InterchangeStatus.QUARANTINED)
        row.status_detail = "" if outcome.status < 400 else str(outcome.body.get("detail", ""))
        row.processed_at = now
        row.error_report = {"http_status": outcome.status, "response": outcome.body}
    if outcome.status >= 400:
        return InboundResult("rejected", outcome.status,
                             detail=str(outcome.body.get("detail", "")))
    if not outcome.event_ids:
        return InboundResult("duplicate", outcome.status)
    return InboundResult("stored", outcome.status, tuple(outcome.event_ids))


class InboundConsumer:
    """Durable consumers for the configured partners; ``run_forever`` until stopped."""

    def __init__(self, runtime: Runtime, destination: Destination, partners: list[str],
                 *, batch: int = 64) -> None:
        self.runtime = runtime
        self.destination = destination
        self.partners = partners
        self.batch = batch
        self._nc: Any = None
        self._connection: Any = None

    def subject(self, partner: str) -> str:
        return f"{self.destination.subject_prefix}.inbound.{subject_token(partner)}"

    @property
    def inbound_stream(self) -> str:
        return f"{self.destination.stream}_INBOUND"

    async def _handle(self, partner: str, body: bytes, headers: dict[str, str]) -> None:
        result = await self.runtime.run(ingest_message, self.runtime, partner, body, headers)
        metrics.consumed.labels(partner=partner, outcome=outcome_word(result.outcome)).inc()
        received(partner, "broker", result.outcome)
        if result.outcome == "rejected":
            log.warning("inbound message from %s rejected (%s): %s", partner, result.status,
                        result.detail, extra={"partner": partner})

    async def run_forever(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                if self.destination.kind == NATS:
                    await self._run_nats(stop)
                else:
                    await self._run_rabbit(stop)
                return
            except Exception as exc:
                attempt += 1
                log.warning("inbound consumer on %s failed (%s); again in a moment",
                            self.destination.name, exc or type(exc).__name__)
                await self.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=min(30.0, 0.5 * 2 ** attempt))

    async def _run_nats(self, stop: asyncio.Event) -> None:
        import nats
        from nats.errors import TimeoutError as NatsTimeout
        from nats.js import api
        from nats.js.errors import NotFoundError

        self._nc = await asyncio.wait_for(
            nats.connect(self.destination.url, name="edigate-inbound", connect_timeout=3,
                         max_reconnect_attempts=-1, reconnect_time_wait=0.5),
            timeout=CONNECT_DEADLINE)
        js = self._nc.jetstream()
        try:
            await js.stream_info(self.inbound_stream)
        except NotFoundError:
            await js.add_stream(api.StreamConfig(
                name=self.inbound_stream, subjects=[self.destination.inbound_subjects],
                storage=api.StorageType.FILE,
                duplicate_window=self.destination.duplicate_window,
                num_replicas=self.destination.replicas))
        subscriptions = {}
        for partner in self.partners:
            subscriptions[partner] = await js.pull_subscribe(
                self.subject(partner), durable=f"edigate-inbound-{subject_token(partner)}",
                stream=self.inbound_stream,
                config=api.ConsumerConfig(ack_policy=api.AckPolicy.EXPLICIT, ack_wait=60))
        while not stop.is_set():
            idle = True
            for partner, subscription in subscriptions.items():
                try:
                    messages = await subscription.fetch(self.batch, timeout=0.5)
                except (NatsTimeout, TimeoutError):
                    continue
                for msg in messages:
                    idle = False
                    await self._handle(partner, msg.data, dict(msg.headers or {}))
                    await msg.ack_sync()  # after the commit: promise 1
            if idle:
                await asyncio.sleep(0)

    async def _run_rabbit(self, stop: asyncio.Event) -> None:
        import aio_pika

        self._connection = await aio_pika.connect_robust(self.destination.url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self.batch)
        exchange = await channel.declare_exchange(self.destination.stream,
                                                  aio_pika.ExchangeType.TOPIC, durable=True)
        for partner in self.partners:
            queue = await channel.declare_queue(
                f"{self.destination.stream}.inbound.{subject_token(partner)}", durable=True)
            await queue.bind(exchange, routing_key=self.subject(partner))

            async def on_message(message: Any, partner: str = partner) -> None:
                headers = {k: str(v) for k, v in (message.headers or {}).items()}
                if message.content_type:
                    headers.setdefault("content-type", message.content_type)
                try:
                    await self._handle(partner, message.body, headers)
                except Exception:
                    log.exception("inbound message from %s not stored; the broker will "
                                  "deliver it again", partner)
                    await message.nack(requeue=True)
                    return
                await message.ack()  # after the commit: promise 1

            await queue.consume(on_message)
        await stop.wait()

    async def close(self) -> None:
        if self._nc is not None:
            nc, self._nc = self._nc, None
            with contextlib.suppress(Exception):
                await nc.close()
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):
                await connection.close()
