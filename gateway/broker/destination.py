"""The configured broker destination (``[broker]`` settings), checked once at start."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config import Settings

NATS = "nats"
RABBITMQ = "rabbitmq"


@dataclass(frozen=True, slots=True)
class Destination:
    name: str
    url: str
    kind: str  # nats (JetStream) | rabbitmq
    content_mode: str = "json"  # json (structured) | avro (binary)
    stream: str = "EDIGATE"  # JetStream stream or RabbitMQ topic exchange
    subject_prefix: str = "edigate"
    duplicate_window: float = 120.0
    max_age: float = 0.0
    retention: str = "limits"
    replicas: int = 1
    queue: str = ""
    batch: int = 500
    interval: float = 0.2
    publish_timeout: float = 10.0

    @property
    def lease_name(self) -> str:
        return f"broker-relay:{self.name}"

    @property
    def subjects(self) -> str:
        """Every subject of this destination's events (JetStream stream subjects)."""
        return f"{self.subject_prefix}.*.*.*"

    @property
    def inbound_subjects(self) -> str:
        return f"{self.subject_prefix}.inbound.*"

    @classmethod
    def from_settings(cls, settings: Settings) -> Destination | None:
        url = settings.broker_url
        if not url:
            return None
        kind = RABBITMQ if url.startswith(("amqp://", "amqps://")) else NATS
        return cls(name=settings.broker_name, url=url, kind=kind,
                   content_mode=settings.broker_content_mode, stream=settings.broker_stream,
                   subject_prefix=settings.broker_subject_prefix,
                   duplicate_window=settings.broker_duplicate_window,
                   max_age=settings.broker_max_age, retention=settings.broker_retention,
                   replicas=max(1, settings.broker_replicas), queue=settings.broker_queue,
                   batch=max(1, settings.broker_batch), interval=settings.broker_interval)


def inbound_partners(settings: Settings) -> list[str]:
    return [p.strip() for p in settings.broker_inbound_partners.split(",") if p.strip()]
