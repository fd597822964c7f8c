"""Promise 1 and 2 for the broker: the relay process killed with SIGKILL mid-publish loses no
event, and what it publishes again has no second effect (JetStream drops the repeated
Nats-Msg-Id; a RabbitMQ consumer that honours message_id skips it); the order per partner
holds throughout."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.broker.destination import Destination
from gateway.storage.db import session_factory
from gateway.storage.models_broker import EventPublication
from tests.gateway.broker_helpers import (
    add_events,
    delete_rabbit,
    delete_stream,
    drain_jetstream,
    nats_destination,
    rabbit_destination,
    stream_count,
)
from tests.gateway.live_server import ROOT

pytestmark = pytest.mark.slow

PARTNERS = ["acme-fasteners", "bolt-supply", "nova-plastics", "helix-sensors", "alpen-gaskets",
            "texan-bearings"]


def _env(engine, data_dir: Path, destination: Destination) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env.update(EDIGATE_DATABASE_URL=engine.url.render_as_string(hide_password=False),
               EDIGATE_SERVER_DATA_DIR=str(data_dir), EDIGATE_LOG_LEVEL="warning",
               EDIGATE_BROKER_URL=destination.url, EDIGATE_BROKER_NAME="crash",
               EDIGATE_BROKER_STREAM=destination.stream,
               EDIGATE_BROKER_SUBJECT_PREFIX=destination.subject_prefix,
               EDIGATE_BROKER_QUEUE=destination.queue, EDIGATE_BROKER_BATCH="40",
               EDIGATE_BROKER_INTERVAL_SECONDS="0.05")
    return env


async def _relay(env: dict[str, str], holder: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "events", "relay", "--holder", holder, cwd=ROOT,
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


def _unpublished(engine) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(EventPublication)
                              .where(EventPublication.status != "published")) or 0


async def _kill_mid_publish(engine, env: dict[str, str], published, total: int
                            ) -> tuple[int, str]:
    """Start the relay three times and SIGKILL it while it publishes; then one more run to
    the end. Returns (kills, stderr of the last run)."""
    rng = random.Random(26)
    kills = 0
    for round_ in range(3):
        proc = await _relay(env, "same-holder")  # a restarted gateway on the same host
        target = await published() + rng.randint(150, 400)
        deadline = asyncio.get_running_loop().time() + 60
        while await published() < min(target, total) and proc.returncode is None:
            assert asyncio.get_running_loop().time() < deadline, "the relay publishes nothing"
            await asyncio.sleep(0.005)
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        await proc.wait()
        assert proc.returncode == -signal.SIGKILL, f"round {round_}: the relay exited early"
    proc = await _relay(env, "same-holder")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while _unpublished(engine):
            assert loop.time() < deadline, f"{_unpublished(engine)} event(s) never published"
            await asyncio.sleep(0.1)
    finally:
        proc.terminate()
        stderr = (await proc.communicate())[1].decode()
    return kills, stderr


def _check_order(arrived: list[tuple[str, str]], stored_by_partner: dict[str, list[str]]
                 ) -> None:
    """``arrived``: (partner token, event id) in delivery order, duplicates skipped."""
    seen: dict[str, list[str]] = defaultdict(list)
    for partner, event_id in arrived:
        seen[partner].append(event_id)
    assert dict(seen) == stored_by_partner, "order per partner kept"


async def test_sigkill_mid_publish_to_jetstream_loses_nothing_and_repeats_nothing(
        engine, runtime, tmp_path) -> None:
    destination = nats_destination()
    total = len(PARTNERS) * 300
    try:
        stored = add_events(runtime.sessions, PARTNERS, total // len(PARTNERS),
                            per_transaction=60)
        stored_by_partner: dict[str, list[str]] = defaultdict(list)
        for event in stored:
            stored_by_partner[event.partner_id].append(event.id)

        async def published() -> int:
            try:
                return await stream_count(destination)
            except Exception:  # the stream is declared by the relay once it runs
                return 0

        kills, stderr = await _kill_mid_publish(engine, _env(engine, tmp_path, destination),
                                                published, total)
        assert kills >= 2, "the relay was killed mid-publish at least twice"
        assert "Traceback" not in stderr, stderr
        # JetStream kept each event once, although killed relays published some again.
        assert await stream_count(destination) == total
        got = await drain_jetstream(destination, expect=total, durable="crash-check")
        processed: set[str] = set()
        arrived: list[tuple[str, str]] = []
        for msg in got:  # a consumer that honours the ids
            event_id = msg.headers["Nats-Msg-Id"]
            if event_id in processed:
                continue
            processed.add(event_id)
            arrived.append((msg.subject.rsplit(".", 1)[1], event_id))
        assert len(got) == total, "no duplicate reached the consumer"
        assert processed == {e.id for e in stored}, "every event arrived"
        _check_order(arrived, stored_by_partner)
    finally:
        await delete_stream(destination)


async def test_sigkill_mid_publish_to_rabbitmq_loses_nothing(engine, runtime, tmp_path
                                                            ) -> None:
    import aio_pika

    destination = rabbit_destination()
    total = len(PARTNERS) * 150
    connection = None
    try:
        stored = add_events(runtime.sessions, PARTNERS, total // len(PARTNERS),
                            per_transaction=60)
        stored_by_partner: dict[str, list[str]] = defaultdict(list)
        for event in stored:
            stored_by_partner[event.partner_id].append(event.id)
        connection = await aio_pika.connect(destination.url)
        channel = await connection.channel()
        # Declared as the relay declares it (a passive declaration of a missing queue would
        # close the channel).
        await channel.declare_queue(destination.queue, durable=True)

        async def published() -> int:
            queue = await channel.declare_queue(destination.queue, passive=True)
            return int(queue.declaration_result.message_count or 0)

        kills, stderr = await _kill_mid_publish(engine, _env(engine, tmp_path, destination),
                                                published, total)
        assert kills >= 2
        assert "Traceback" not in stderr, stderr
        queue = await channel.declare_queue(destination.queue, passive=True)
        processed: set[str] = set()
        arrived: list[tuple[str, str]] = []
        deliveries = 0
        while (message := await queue.get(fail=False, timeout=5)) is not None:
            deliveries += 1
            if message.message_id not in processed:  # a consumer that honours message_id
                processed.add(message.message_id or "")
                arrived.append((message.routing_key.rsplit(".", 1)[1],
                                message.message_id or ""))
            await message.ack()
        assert processed == {e.id for e in stored}, "every event arrived"
        assert len(arrived) == total
        # Only what was in flight at a kill can arrive twice (batches of 40, 6 partners).
        assert deliveries - total <= kills * 40
        _check_order(arrived, stored_by_partner)
    finally:
        if connection is not None:
            await connection.close()
        await delete_rabbit(destination, [destination.queue])
