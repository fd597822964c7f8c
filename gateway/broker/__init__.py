"""Events out to a broker the users already run (NATS JetStream, RabbitMQ), and optionally in.

- :mod:`gateway.broker.outbox`: the event outbox, written in the same transaction as each event.
- :mod:`gateway.broker.messages`: CloudEvents over the broker (structured JSON or binary Avro).
- :mod:`gateway.broker.publishers`: one small publisher per broker kind (client libraries are
  optional extras, imported only when a broker is configured).
- :mod:`gateway.broker.relay`: publishes the outbox in order per partner, with backoff.
- :mod:`gateway.broker.inbound`: a durable consumer feeding ``POST /api/v1/events``'s pipeline.
"""
