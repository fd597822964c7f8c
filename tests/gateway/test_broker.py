"""Events out to the real NATS JetStream and RabbitMQ: every stored event (EDI and API path)
is owed to the broker in its own transaction, published in order per partner with the event
id as message id, marked only after the broker's ack, retried with backoff when the broker is
away; replayed on demand; and partners' events come in from the broker into the REST pipeline.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from gateway.broker import metrics
from gateway.broker.destination import Destination
from gateway.broker.inbound import InboundConsumer
from gateway.broker.messages import decode_message, subject_for
from gateway.broker.relay import Relay
from gateway.broker.replay import replay
from gateway.config import ConfigError, load_settings
from gateway.storage.models import Event, Interchange
from gateway.storage.models_broker import EventPublication
from tests.gateway.broker_helpers import (
    add_events,
    delete_rabbit,
    delete_stream,
    drain_jetstream,
    example_data,
    nats_destination,
    rabbit_destination,
    stream_count,
)
from tests.gateway.gateway_app import BOLT, NOVA, ROOT, auth


def _rows(runtime) -> list[EventPublication]:
    with runtime.sessions() as session:
        return list(session.scalars(select(EventPublication).order_by(EventPublication.seq)))


async def _relay_until_done(runtime, destination: Destination, *, passes: int = 50) -> None:
    async with Relay(runtime, destination, holder="test") as relay:
        for _ in range(passes):
            result = await relay.pass_once()
            assert result.leased
            if result.claimed == 0:
                return
    raise AssertionError("the relay did not finish")


def _order_by_partner(messages) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = defaultdict(list)
    for msg in messages:
        seen[msg.subject.rsplit(".", 1)[1]].append(msg.headers["Nats-Msg-Id"])
    return seen


# --- the outbox is written with the event -----------------------------------------------


async def test_both_paths_owe_each_stored_event_to_the_broker(client, runtime) -> None:
    event = json.loads((ROOT / "docs/examples/nova-plastics-order-response.json").read_text())
    answer = await client.post("/api/v1/events", json=event,
                               headers={**auth(NOVA), "Idempotency-Key": "broker-1"})
    assert answer.status == 201, await answer.text()
    edi = (ROOT / "docs/examples/bolt-supply-856.x12").read_bytes()
    answer = await client.post("/edi", data=edi, headers=auth(BOLT))
    assert answer.status in (200, 201, 202), await answer.text()
    edi_events = (await answer.json())["events"]
    assert edi_events
    # A repeat stores nothing new, and owes nothing new.
    again = await client.post("/api/v1/events", json=event,
                              headers={**auth(NOVA), "Idempotency-Key": "broker-1"})
    assert again.status == 201
    rows = _rows(runtime)
    assert [r.event_id for r in rows] == [event["id"], *edi_events]
    assert {r.status for r in rows} == {"pending"}
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == len(rows)


# --- NATS JetStream ---------------------------------------------------------------------


async def test_jetstream_gets_every_event_once_in_order_per_partner(runtime) -> None:
    destination = nats_destination()
    partners = ["acme-fasteners", "bolt-supply", "nova-plastics"]
    try:
        stored = add_events(runtime.sessions, partners, 40)
        await _relay_until_done(runtime, destination)
        rows = _rows(runtime)
        assert {r.status for r in rows} == {"published"}
        assert all(r.broker_ref.startswith(destination.stream + ":") for r in rows)
        assert all(r.destination == "test" for r in rows)

        got = await drain_jetstream(destination, expect=len(stored), durable="check")
        assert len(got) == len(stored)
        expected: dict[str, list[str]] = defaultdict(list)
        for event in stored:
            expected[event.partner_id].append(event.id)
        assert _order_by_partner(got) == expected
        first = got[0]
        assert first.subject == subject_for(destination.subject_prefix, "order_response", 1,
                                            first.subject.rsplit(".", 1)[1])
        body = json.loads(first.data)
        assert first.headers["content-type"] == "application/cloudevents+json"
        assert body["id"] == first.headers["Nats-Msg-Id"]
        assert body["type"] == "com.edigate.order_response"
        assert body["data"]["order_number"] == "PO-1001"

        # Publishing everything again (a crash before the marks, a replay) changes nothing:
        # JetStream drops the same Nats-Msg-Id within its duplicate window.
        with runtime.sessions.begin() as session:
            session.execute(update(EventPublication).values(status="pending"))
        await _relay_until_done(runtime, destination)
        assert await stream_count(destination) == len(stored)
    finally:
        await delete_stream(destination)


async def test_avro_binary_mode_carries_attributes_in_headers(runtime) -> None:
    destination = nats_destination(content_mode="avro")
    try:
        stored = add_events(runtime.sessions, ["nova-plastics"], 3)
        await _relay_until_done(runtime, destination)
        got = await drain_jetstream(destination, expect=3, durable="avro")
        assert [m.headers["ce-id"] for m in got] == [e.id for e in stored]
        msg = got[0]
        assert msg.headers["content-type"] == "application/avro"
        assert msg.headers["schemaid"] == "order_response@1"
        assert msg.headers["schemaversion"] == "1"
        assert msg.headers["ce-type"] == "com.edigate.order_response"
        assert msg.headers["ce-partner"] == "nova-plastics"
        assert len(msg.headers["avroschemafingerprint"]) == 16
        assert not msg.data.startswith(b"{")  # Avro binary, not JSON
        event = decode_message(msg.data, dict(msg.headers))
        assert event["id"] == stored[0].id
        assert event["data"]["order_number"] == stored[0].data["order_number"]
        assert event["data"]["lines"][0]["confirmed_quantity"] == 1000
    finally:
        await delete_stream(destination)


async def test_an_unencodable_event_fails_alone_and_the_partner_goes_on(runtime) -> None:
    destination = nats_destination(content_mode="avro")
    try:
        stored = add_events(runtime.sessions, ["nova-plastics"], 3)
        with runtime.sessions.begin() as session:
            session.get(Event, stored[1].id).data = {"not": "an order response"}
        await _relay_until_done(runtime, destination)
        rows = {r.event_id: r for r in _rows(runtime)}
        assert rows[stored[1].id].status == "failed"
        assert "cannot encode" in rows[stored[1].id].last_error
        assert rows[stored[0].id].status == rows[stored[2].id].status == "published"
    finally:
        await delete_stream(destination)


async def test_broker_away_keeps_events_pending_with_backoff_then_publishes(runtime) -> None:
    up = nats_destination()
    down = replace(up, url="nats://127.0.0.1:9")  # nothing listens there
    try:
        add_events(runtime.sessions, ["acme-fasteners", "nova-plastics"], 3)
        async with Relay(runtime, down, holder="test") as relay:
            result = await relay.pass_once()
        assert result.published == 0 and result.retried == 2  # the head of each partner
        rows = _rows(runtime)
        assert {r.status for r in rows} == {"pending"}
        heads = [r for r in rows if r.attempts]
        assert len(heads) == 2 and all("cannot connect" in r.last_error for r in heads)
        assert all(r.next_attempt_at.replace(tzinfo=UTC) > datetime.now(UTC) for r in heads)
        assert metrics.lag.labels(destination="test")._value.get() >= 0
        # Not due yet: the next pass leaves the partners alone (their order is kept).
        async with Relay(runtime, up, holder="test") as relay:
            assert (await relay.pass_once()).claimed == 0
        with runtime.sessions.begin() as session:
            session.execute(update(EventPublication).values(
                next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
        await _relay_until_done(runtime, up)
        assert {r.status for r in _rows(runtime)} == {"published"}
        assert metrics.lag.labels(destination="test")._value.get() == 0
    finally:
        await delete_stream(up)


async def test_only_the_lease_holder_publishes(runtime) -> None:
    destination = nats_destination()
    try:
        add_events(runtime.sessions, ["nova-plastics"], 2)
        async with Relay(runtime, destination, holder="a") as first:
            assert (await first.pass_once()).leased
            async with Relay(runtime, destination, holder="b") as second:
                assert not (await second.pass_once()).leased
            # (first releases its lease on close)
        async with Relay(runtime, destination, holder="b") as second:
            assert (await second.pass_once()).leased
    finally:
        await delete_stream(destination)


async def test_replay_since_republishes_idempotently(runtime, tmp_path) -> None:
    destination = nats_destination()
    try:
        add_events(runtime.sessions, ["acme-fasteners"], 3)
        cut = datetime.now(UTC)
        later = add_events(runtime.sessions, ["acme-fasteners", "nova-plastics"], 2, start=3)
        await _relay_until_done(runtime, destination)
        before = await stream_count(destination)
        result = await replay(runtime, destination, since=cut, partner="nova-plastics",
                              reason="consumer lost data")
        assert result.published == 2 and result.duplicates == 2 and result.failed == 0
        assert await stream_count(destination) == before  # within the duplicate window
        everything = await replay(runtime, destination, since=cut)
        assert everything.published == len(later)
    finally:
        await delete_stream(destination)


def test_replay_command_reports_and_refuses_bad_input(engine, runtime, tmp_path) -> None:
    from gateway.cli import cli

    destination = nats_destination()
    add_events(runtime.sessions, ["nova-plastics"], 2)
    env = {"EDIGATE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "EDIGATE_SERVER_DATA_DIR": str(tmp_path), "EDIGATE_BROKER_URL": destination.url,
           "EDIGATE_BROKER_STREAM": destination.stream,
           "EDIGATE_BROKER_SUBJECT_PREFIX": destination.subject_prefix}
    runner = CliRunner()
    try:
        bad = runner.invoke(cli, ["events", "publish", "--since", "yesterday"], env=env)
        assert bad.exit_code == 1 and "--since" in bad.output
        done = runner.invoke(cli, ["events", "publish", "--since", "2000-01-01T00:00:00Z",
                                   "--partner", "nova-plastics"], env=env)
        assert done.exit_code == 0, done.output
        assert "published 2 event(s)" in done.output
        status = runner.invoke(cli, ["events", "status", "--json"], env=env)
        assert json.loads(status.output)["counts"] == {"pending": 2}
    finally:
        asyncio.run(delete_stream(destination))


def test_no_broker_configured_is_a_clear_error(engine, tmp_path) -> None:
    from gateway.cli import cli

    env = {"EDIGATE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "EDIGATE_SERVER_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["events", "relay", "--once"], env=env)
    assert result.exit_code == 1 and "no broker is configured" in result.output


def test_broker_settings_are_checked() -> None:
    settings = load_settings(environ={"EDIGATE_BROKER_URL": "nats://127.0.0.1:4222",
                                      "EDIGATE_BROKER_CONTENT_MODE": "avro"})
    destination = Destination.from_settings(settings)
    assert destination is not None and destination.kind == "nats"
    assert destination.content_mode == "avro"
    assert Destination.from_settings(load_settings(environ={})) is None
    with pytest.raises(ConfigError, match=r"broker\.url"):
        load_settings(environ={"EDIGATE_BROKER_URL": "kafka://x:9092"})
    with pytest.raises(ConfigError, match=r"broker\.content_mode"):
        load_settings(environ={"EDIGATE_BROKER_CONTENT_MODE": "xml"})


# --- RabbitMQ -----------------------------------------------------------------------------


async def test_rabbitmq_gets_persistent_confirmed_messages_in_order(runtime) -> None:
    import aio_pika

    destination = rabbit_destination()
    partners = ["acme-fasteners", "nova-plastics"]
    try:
        stored = add_events(runtime.sessions, partners, 20)
        await _relay_until_done(runtime, destination)
        assert {r.status for r in _rows(runtime)} == {"published"}
        connection = await aio_pika.connect(destination.url)
        try:
            channel = await connection.channel()
            queue = await channel.get_queue(destination.queue)
            got = []
            while (message := await queue.get(fail=False, timeout=5)) is not None:
                got.append(message)
                await message.ack()
        finally:
            await connection.close()
        assert [m.message_id for m in got] == [e.id for e in stored]
        assert all(m.delivery_mode == aio_pika.DeliveryMode.PERSISTENT for m in got)
        assert got[0].routing_key == subject_for(destination.subject_prefix, "order_response",
                                                 1, stored[0].partner_id)
        assert json.loads(got[0].body)["id"] == stored[0].id
    finally:
        await delete_rabbit(destination, [destination.queue])


async def test_rabbitmq_refuses_what_no_queue_takes_and_keeps_it_pending(runtime) -> None:
    destination = rabbit_destination(queue="")  # an exchange nobody bound a queue to
    try:
        add_events(runtime.sessions, ["nova-plastics"], 2)
        async with Relay(runtime, destination, holder="test") as relay:
            result = await relay.pass_once()
        assert result.published == 0 and result.retried == 1
        rows = _rows(runtime)
        assert {r.status for r in rows} == {"pending"}
        assert "did not confirm" in rows[0].last_error
    finally:
        await delete_rabbit(destination, [])


# --- inbound --------------------------------------------------------------------------------


async def test_inbound_jetstream_enters_the_rest_pipeline_once(runtime) -> None:
    import nats

    destination = nats_destination()
    consumer = InboundConsumer(runtime, destination, ["nova-plastics"])
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run_forever(stop))
    nc = await nats.connect(destination.url)
    try:
        js = nc.jetstream()
        event = {"specversion": "1.0", "id": "in-1", "source": "/partners/nova-plastics",
                 "type": "com.edigate.order_response", "data": example_data()}
        wrong = dict(event, id="in-2", source="/partners/acme-fasteners")
        for _ in range(50):  # until the consumer declared the inbound stream
            try:
                await js.stream_info(consumer.inbound_stream)
                break
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(0.1)
        subject = consumer.subject("nova-plastics")
        for body in (event, event, wrong):
            await js.publish(subject, json.dumps(body).encode(),
                             headers={"content-type": "application/cloudevents+json"})

        def state() -> tuple[int, list[str]]:
            with runtime.sessions() as session:
                ids = list(session.scalars(select(Event.id).where(Event.path == "api")))
                statuses = list(session.scalars(select(Interchange.status)
                                                .where(Interchange.channel == "broker")))
            return len(ids), sorted(statuses)

        for _ in range(100):
            count, statuses = state()
            if len(statuses) >= 2:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
        count, statuses = state()
        assert count == 1  # the repeat had no second effect
        assert statuses == ["processed", "quarantined"]  # the same bytes are one interchange
        with runtime.sessions() as session:  # and it is owed to the broker like any event
            assert session.scalar(select(func.count()).select_from(EventPublication)) == 1
        info = await js.consumer_info(consumer.inbound_stream, "edigate-inbound-nova-plastics")
        assert info.num_ack_pending == 0 and info.num_pending == 0  # acked after the commit
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await consumer.close()
        await nc.close()
        await delete_stream(destination)


# --- in edigate serve -------------------------------------------------------------------------


async def test_serve_runs_the_relay_when_a_broker_is_configured(aiohttp_client, runtime
                                                               ) -> None:
    from gateway.web.app import create_app

    destination = nats_destination()
    settings = replace(runtime.settings, broker_url=destination.url,
                       broker_stream=destination.stream, jobs_enabled=True,
                       broker_subject_prefix=destination.subject_prefix, broker_interval=0.05)
    runtime.settings = settings
    app = create_app(settings, runtime)
    # Only the broker's cleanup context matters here; the scheduler and dispatcher are idle.
    client = await aiohttp_client(app)
    try:
        for _ in range(100):  # declared at start, before any event
            try:
                await stream_count(destination)
                break
            except Exception:
                await asyncio.sleep(0.05)
        assert await stream_count(destination) == 0
        event = json.loads((ROOT / "docs/examples/nova-plastics-order-response.json")
                           .read_text())
        answer = await client.post("/api/v1/events", json=event, headers=auth(NOVA))
        assert answer.status == 201
        for _ in range(100):
            if {r.status for r in _rows(runtime)} == {"published"}:
                break
            await asyncio.sleep(0.05)
        got = await drain_jetstream(destination, expect=1, durable="serve")
        assert [m.headers["Nats-Msg-Id"] for m in got] == [event["id"]]
    finally:
        await client.close()
        await delete_stream(destination)


async def test_inbound_rabbitmq_acks_after_commit_and_reads_avro(runtime) -> None:
    import aio_pika

    from gateway.broker.messages import build_message

    destination = rabbit_destination()
    consumer = InboundConsumer(runtime, destination, ["nova-plastics"])
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run_forever(stop))
    queue_name = f"{destination.stream}.inbound.nova-plastics"
    connection = await aio_pika.connect(destination.url)
    try:
        channel = await connection.channel()
        for _ in range(50):  # until the consumer declared its exchange and queue
            try:
                probe = await connection.channel()
                await probe.declare_queue(queue_name, passive=True)
                await probe.close()
                break
            except Exception:
                await asyncio.sleep(0.1)
        exchange = await channel.get_exchange(destination.stream)
        # A partner publishing in binary mode with Avro data, as the gateway itself does.
        event = Event(id="rabbit-in-1", type="order_response", version=1,
                      partner_id="nova-plastics", path="api", source="/partners/nova-plastics",
                      subject="PO-1001", time=datetime.now(UTC), recorded_at=datetime.now(UTC),
                      business_key="PO-1001", envelope={}, data=example_data())
        message = build_message(event, prefix=destination.subject_prefix, mode="avro")
        for _ in range(2):
            await exchange.publish(aio_pika.Message(message.body, headers=message.headers,
                                                    content_type=message.content_type,
                                                    message_id=event.id),
                                   routing_key=consumer.subject("nova-plastics"))
        for _ in range(100):
            with runtime.sessions() as session:
                stored = session.get(Event, "rabbit-in-1")
                done = session.scalar(select(func.count()).select_from(Interchange)
                                      .where(Interchange.channel == "broker"))
            if stored is not None and done:
                break
            await asyncio.sleep(0.1)
        assert stored is not None and stored.path == "api"
        assert stored.data["lines"][0]["confirmed_quantity"] == 1000
        await asyncio.sleep(0.5)
        queue = await channel.declare_queue(queue_name, passive=True)
        assert queue.declaration_result.message_count == 0  # both acknowledged
        with runtime.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Event)) == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await consumer.close()
        await connection.close()
        await delete_rabbit(destination, [queue_name])


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
async def test_a_deleted_stream_is_declared_again(runtime) -> None:
    destination = nats_destination(publish_timeout=2)
    try:
        add_events(runtime.sessions, ["nova-plastics"], 1)
        async with Relay(runtime, destination, holder="test") as relay:
            assert (await relay.pass_once()).published == 1
            await delete_stream(destination)  # an operator removed it
            add_events(runtime.sessions, ["nova-plastics"], 1, start=1)
            assert (await relay.pass_once()).retried == 1
            with runtime.sessions.begin() as session:
                session.execute(update(EventPublication).values(
                    next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
            assert (await relay.pass_once()).published == 1
        assert await stream_count(destination) == 1
    finally:
        await delete_stream(destination)
