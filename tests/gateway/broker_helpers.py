"""Helpers of the broker tests: the real NATS JetStream and RabbitMQ of the machine, with
names unique to each test so runs never collide, and events written the way the pipeline
writes them (event row + outbox row in one transaction)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway.broker.destination import NATS, RABBITMQ, Destination
from gateway.broker.outbox import enqueue_publication
from gateway.storage.models import Event
from schemas.envelope import api_event_envelope

IN_CI = os.environ.get("CI", "").lower() == "true"
NATS_URL = os.environ.get("EDIGATE_TEST_NATS_URL", "nats://127.0.0.1:4222")
AMQP_URL = os.environ.get("EDIGATE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / \
    "nova-plastics-order-response.json"


def _unreachable(url: str) -> str | None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0),
                                      timeout=3):
            return None
    except OSError as exc:
        return str(exc)


def require_broker(url: str, what: str) -> str:
    """The broker's URL; under CI=true an unreachable broker fails the test, elsewhere the
    test is skipped with the reason."""
    problem = _unreachable(url)
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true but {what} at {url} is unreachable: {problem}")
        pytest.skip(f"{what} at {url} unreachable outside CI ({problem}); CI=true makes "
                    "this fail")
    return url


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def nats_destination(**overrides: Any) -> Destination:
    tag = unique("t")
    base = Destination(name="test", url=require_broker(NATS_URL, "NATS JetStream"), kind=NATS,
                       stream=f"EDIGATE_{tag.upper()}", subject_prefix=f"edigate{tag}",
                       duplicate_window=120, batch=200, interval=0.05, publish_timeout=5)
    return replace(base, **overrides)


def rabbit_destination(**overrides: Any) -> Destination:
    tag = unique("t")
    base = Destination(name="test", url=require_broker(AMQP_URL, "RabbitMQ"), kind=RABBITMQ,
                       stream=f"edigate.{tag}", subject_prefix=f"edigate{tag}",
                       queue=f"edigate.{tag}.all", batch=200, interval=0.05,
                       publish_timeout=5)
    return replace(base, **overrides)


def example_data() -> dict[str, Any]:
    return dict(json.loads(EXAMPLE.read_text())["data"])


def add_events(sessions: sessionmaker[Session], partners: list[str], per_partner: int,
               *, start: int = 0, per_transaction: int = 1) -> list[Event]:
    """Events interleaved across partners, stored as the pipeline stores them (event row and
    outbox row in one transaction, ``per_transaction`` events each); in storage order."""
    stored: list[Event] = []
    data = example_data()
    pending: list[Event] = []

    def commit() -> None:
        with sessions.begin() as session:
            for event in pending:
                session.add(event)
                enqueue_publication(session, event.id, event.recorded_at)
        stored.extend(pending)
        pending.clear()

    for n in range(start, start + per_partner):
        for partner in partners:
            now = datetime.now(UTC)
            event_id = f"{partner}-{n:06d}-{uuid.uuid4().hex[:6]}"
            item = dict(data, response_number=f"R-{n}")
            envelope = api_event_envelope(event_id=event_id, event_type="order_response",
                                          version=1, partner=partner, time=now,
                                          subject=item["order_number"])
            pending.append(Event(
                id=event_id, type="order_response", version=1, partner_id=partner,
                path="api", source=f"/partners/{partner}", subject="PO-1001", time=now,
                recorded_at=now, business_key="PO-1001", envelope=envelope, data=item))
            if len(pending) >= per_transaction:
                commit()
    if pending:
        commit()
    return stored


async def drain_jetstream(destination: Destination, *, expect: int, durable: str,
                          timeout: float = 60) -> list[Any]:
    """Every message of the destination's stream, through a durable pull consumer (acked)."""
    import nats

    nc = await nats.connect(destination.url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(destination.subjects, durable=durable,
                                      stream=destination.stream)
        got: list[Any] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(got) < expect and asyncio.get_running_loop().time() < deadline:
            try:
                batch = await sub.fetch(200, timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            for msg in batch:
                got.append(msg)
                await msg.ack()
        # Anything beyond what was expected (a duplicate) would show here.
        with contextlib.suppress(nats.errors.TimeoutError, TimeoutError):
            got.extend(await sub.fetch(50, timeout=0.5))
        return got
    finally:
        await nc.close()


async def delete_stream(destination: Destination) -> None:
    import nats

    nc = await nats.connect(destination.url)
    try:
        for name in (destination.stream, f"{destination.stream}_INBOUND"):
            with contextlib.suppress(Exception):  # the test may never have created it
                await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


async def stream_count(destination: Destination) -> int:
    import nats

    nc = await nats.connect(destination.url)
    try:
        info = await nc.jetstream().stream_info(destination.stream)
        return int(info.state.messages)
    finally:
        await nc.close()


async def delete_rabbit(destination: Destination, queues: list[str]) -> None:
    import aio_pika

    connection = await aio_pika.connect(destination.url)
    try:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue)
        await channel.exchange_delete(destination.stream)
    finally:
        await connection.close()
