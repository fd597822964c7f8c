"""One publisher per broker kind, each behind the same three calls: start, publish, close.

A publish returns only once the broker took responsibility for the message (a JetStream
``PubAck``; a RabbitMQ publisher confirm for a persistent, routed message), so the relay marks
a row published only after that. Client libraries are optional extras, imported on start:
``pip install 'edigate[nats]'`` or ``'edigate[rabbitmq]'``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.broker.destination import NATS, Destination
from gateway.broker.messages import BrokerMessage

log = logging.getLogger("edigate.broker")

CONNECT_DEADLINE = 8.0


class PublishError(RuntimeError):
    """The broker did not take the message; ``retryable`` False means it never will."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Receipt:
    ref: str  # the broker's receipt: "<stream>:<sequence>" or "confirmed"
    duplicate: bool = False


class Publisher(Protocol):
    async def start(self) -> None: ...

    async def publish(self, message: BrokerMessage) -> Receipt: ...

    async def close(self) -> None: ...


def _missing_extra(extra: str, exc: ImportError) -> PublishError:
    return PublishError(f"the {extra} client is not installed ({exc.name}): "
                        f"pip install 'edigate[{extra}]'", retryable=False)


class JetStreamPublisher:
    """NATS JetStream: ``Nats-Msg-Id`` = event id, deduplicated within the stream's window."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self._nc: Any = None
        self._js: Any = None

    async def start(self) -> None:
        try:
            import nats
        except ImportError as exc:
            raise _missing_extra("nats", exc) from None
        dest = self.destination
        try:
            # Once connected, the client reconnects on its own for as long as it takes; the
            # first connection gets a deadline (nats-py would otherwise retry it forever).
            self._nc = await asyncio.wait_for(
                nats.connect(dest.url, name=f"edigate-{dest.name}", connect_timeout=3,
                             max_reconnect_attempts=-1, allow_reconnect=True,
                             reconnect_time_wait=0.5),
                timeout=CONNECT_DEADLINE)
        except Exception as exc:  # nats raises several unrelated types
            raise PublishError(f"cannot connect to {dest.url}: "
                               f"{exc or type(exc).__name__}") from None
        self._js = self._nc.jetstream(timeout=dest.publish_timeout)
        await ensure_stream(self._js, dest)

    async def publish(self, message: BrokerMessage) -> Receipt:
        from nats.errors import Error as NatsError
        from nats.js.errors import APIError

        headers = {"Nats-Msg-Id": message.event_id, **message.headers}
        try:
            ack = await self._js.publish(message.subject, message.body, headers=headers,
                                         stream=self.destination.stream,
                                         timeout=self.destination.publish_timeout)
        except APIError as exc:
            # 4xx from JetStream (too large, wrong stream) will not change on a retry.
            code = getattr(exc, "code", None) or 0
            permanent = 400 <= int(code) < 500 and int(code) not in (408, 429)
            raise PublishError(f"JetStream refused {message.event_id}: {exc}",
                               retryable=not permanent) from None
        except (NatsError, TimeoutError, OSError) as exc:
            raise PublishError(f"JetStream publish of {message.event_id} failed: "
                               f"{exc or type(exc).__name__}") from None
        return Receipt(f"{ack.stream}:{ack.seq}", bool(ack.duplicate))

    async def close(self) -> None:
        if self._nc is not None:
            nc, self._nc = self._nc, None
            try:
                await nc.drain()
            except Exception:  # closing a broken connection
                await nc.close()


async def ensure_stream(js: Any, dest: Destination) -> None:
    """Declare the destination's stream if it does not exist (an existing one is used as
    it is: its owners may have tuned it)."""
    from nats.js import api
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(dest.stream)
        return
    except NotFoundError:
        pass
    config = api.StreamConfig(
        name=dest.stream, subjects=[dest.subjects],
        retention=api.RetentionPolicy(dest.retention), storage=api.StorageType.FILE,
        duplicate_window=dest.duplicate_window, num_replicas=dest.replicas,
        max_age=dest.max_age or None)
    await js.add_stream(config)
    log.info("declared JetStream stream %s (%s, duplicate window %ss)", dest.stream,
             dest.subjects, dest.duplicate_window)


class RabbitPublisher:
    """RabbitMQ: a durable topic exchange, persistent messages with ``message_id`` = event id,
    publisher confirms, and ``mandatory`` so a message no queue takes is refused (and retried)
    instead of silently dropped."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self._connection: Any = None
        self._exchange: Any = None

    async def start(self) -> None:
        try:
            import aio_pika
        except ImportError as exc:
            raise _missing_extra("rabbitmq", exc) from None
        dest = self.destination
        try:
            self._connection = await aio_pika.connect_robust(dest.url, timeout=5)
            channel = await self._connection.channel(publisher_confirms=True,
                                                     on_return_raises=True)
            self._exchange = await channel.declare_exchange(
                dest.stream, aio_pika.ExchangeType.TOPIC, durable=True)
            if dest.queue:
                queue = await channel.declare_queue(dest.queue, durable=True)
                await queue.bind(self._exchange, routing_key=f"{dest.subject_prefix}.#")
        except Exception as exc:  # aiormq raises several unrelated types
            await self.close()
            raise PublishError(f"cannot connect to RabbitMQ at {_safe(dest.url)}: "
                               f"{exc or type(exc).__name__}") from None

    async def publish(self, message: BrokerMessage) -> Receipt:
        import aio_pika
        from aio_pika.exceptions import AMQPError, DeliveryError
        from aio_pika.exceptions import PublishError as AmqpPublishError

        amqp_message = aio_pika.Message(
            message.body, content_type=message.content_type, message_id=message.event_id,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT, headers=dict(message.headers),
            type=message.event_type, app_id="edigate")
        try:
            await self._exchange.publish(amqp_message, routing_key=message.subject,
                                         mandatory=True,
                                         timeout=self.destination.publish_timeout)
        except (DeliveryError, AmqpPublishError) as exc:
            raise PublishError(f"RabbitMQ did not confirm {message.event_id} "
                               f"({message.subject}): {exc}") from None
        except (AMQPError, TimeoutError, OSError, RuntimeError) as exc:
            raise PublishError(f"RabbitMQ publish of {message.event_id} failed: "
                               f"{exc or type(exc).__name__}") from None
        return Receipt("confirmed")

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await connection.close()
            except Exception:  # closing a broken connection
                log.debug("closing the RabbitMQ connection failed", exc_info=True)


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    return f"{scheme}{sep}{creds.partition(':')[0]}{at}{host}" if at else url


def publisher_for(destination: Destination) -> Publisher:
    if destination.kind == NATS:
        return JetStreamPublisher(destination)
    return RabbitPublisher(destination)
