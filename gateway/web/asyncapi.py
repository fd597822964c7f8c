"""The AsyncAPI 3.0 description of the events the gateway publishes to a broker, served at
``/asyncapi.json`` beside ``/openapi.json``; generated from the schema registry.

One channel per event type and schema version (``<prefix>.<event_type>.v<N>.{partner}``), each
with two messages: the structured CloudEvent (JSON, the data described by the registry's JSON
Schema) and the binary-mode CloudEvent (Avro data, the registry's Avro form, CloudEvents
attributes as ``ce-*`` headers). Which one a destination carries is its ``content_mode``.
The inbound channel (``<prefix>.inbound.{partner}``) is described when partners publish to us.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from gateway import __version__
from gateway.broker.destination import NATS, Destination
from gateway.config import Settings
from gateway.web.keys import RUNTIME
from gateway.web.openapi import json_response
from schemas import default_registry
from schemas.codec import schema_fingerprint
from schemas.envelope import ce_type

routes = web.RouteTableDef()

JSON_SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"
AVRO_SCHEMA_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
_STRING = {"type": "string"}

CE_ATTRIBUTES: dict[str, Any] = {
    "specversion": {"type": "string", "const": "1.0"},
    "id": {"type": "string", "description": "the event id; also the message id (JetStream "
                                            "Nats-Msg-Id, AMQP message_id)"},
    "source": {"type": "string", "description": "/partners/<partner>[/edi]"},
    "type": {"type": "string", "description": "com.edigate.<event_type>"},
    "dataschema": {"type": "string", "format": "uri"},
    "dataschemaversion": {"type": "integer", "minimum": 1},
    "time": {"type": "string", "format": "date-time"},
    "subject": {"type": "string", "description": "the business key"},
    "partner": _STRING,
    "path": {"type": "string", "enum": ["edi", "api"]},
    "interchangeid": {"type": "string", "description": "the stored bytes it came from"},
}


def _channel_id(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}"


def _message_id(event_type: str, version: int, mode: str) -> str:
    return f"{event_type}_v{version}_{mode}"


def _server(destination: Destination | None) -> dict[str, Any]:
    if destination is None:
        return {"broker": {"host": "localhost:4222", "protocol": "nats",
                           "description": "No broker is configured (broker.url); NATS "
                                          "JetStream and RabbitMQ (amqp) are supported."}}
    parts = urlsplit(destination.url)
    host = parts.hostname or "localhost"
    if parts.port:
        host = f"{host}:{parts.port}"
    if destination.kind == NATS:
        return {destination.name: {"host": host, "protocol": "nats",
                                   "description": f"JetStream stream {destination.stream}"}}
    return {destination.name: {"host": host, "protocol": "amqp", "protocolVersion": "0.9.1",
                               "pathname": parts.path or "/",
                               "description": f"topic exchange {destination.stream}"}}


def build_asyncapi(settings: Settings) -> dict[str, Any]:
    destination = Destination.from_settings(settings)
    prefix = destination.subject_prefix if destination else settings.broker_subject_prefix
    registry = default_registry()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    partner = {"description": "the partner the event belongs to (its id, with characters a "
                              "subject token cannot hold replaced by _)"}
    for item in registry.list():
        event_type, version = item.event_type, item.version
        channel_id = _channel_id(event_type, version)
        schema_name = f"{event_type}_v{version}"
        schemas[schema_name] = {"schemaFormat": JSON_SCHEMA_FORMAT, "schema": item.json_schema}
        fingerprint = schema_fingerprint(item.avro_schema).hex()
        common_headers = {
            "content-type": _STRING, "schemaid": {"type": "string",
                                                  "const": f"{event_type}@{version}"},
            "schemaversion": {"type": "string", "const": str(version)},
            "Nats-Msg-Id": {"type": "string", "description": "NATS only: the event id"}}
        json_id = _message_id(event_type, version, "json")
        avro_id = _message_id(event_type, version, "avro")
        messages[json_id] = {
            "name": json_id, "title": f"{event_type} v{version} (structured CloudEvent, JSON)",
            "contentType": "application/cloudevents+json",
            "headers": {"type": "object", "properties": {
                **common_headers, "ce-id": _STRING,
                "ce-type": {"type": "string", "const": ce_type(event_type)}}},
            "payload": {"schemaFormat": JSON_SCHEMA_FORMAT, "schema": {
                "type": "object", "required": ["specversion", "id", "source", "type", "data"],
                "properties": {**CE_ATTRIBUTES,
                               "type": {"type": "string", "const": ce_type(event_type)},
                               "datacontenttype": {"type": "string",
                                                   "const": "application/json"},
                               "data": item.json_schema}}},
            "correlationId": {"location": "$message.payload#/id"},
        }
        messages[avro_id] = {
            "name": avro_id, "title": f"{event_type} v{version} (binary CloudEvent, Avro data)",
            "contentType": "application/avro",
            "headers": {"type": "object",
                        "required": ["ce-specversion", "ce-id", "ce-source", "ce-type",
                                     "schemaid"],
                        "properties": {
                            **common_headers,
                            **{f"ce-{name}": (schema if schema.get("type") == "string"
                                              else _STRING)
                               for name, schema in CE_ATTRIBUTES.items()},
                            "ce-type": {"type": "string", "const": ce_type(event_type)},
                            "avroschemafingerprint": {
                                "type": "string", "const": fingerprint,
                                "description": "CRC-64-AVRO of the Avro schema's parsing "
                                               "canonical form (little-endian, hex)"}}},
            "payload": {"schemaFormat": AVRO_SCHEMA_FORMAT, "schema": item.avro_schema},
            "correlationId": {"location": "$message.header#/ce-id"},
        }
        channels[channel_id] = {
            "address": f"{prefix}.{event_type}.v{version}.{{partner}}",
            "title": f"{event_type} events, schema version {version}",
            "description": item.json_schema.get("description", ""),
            "parameters": {"partner": partner},
            "messages": {"json": {"$ref": f"#/components/messages/{json_id}"},
                         "avro": {"$ref": f"#/components/messages/{avro_id}"}},
        }
        operations[f"publish_{event_type}_v{version}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"The gateway publishes every stored {event_type} v{version} event "
                       "(in order per partner; at least once, with the event id as message "
                       "id for deduplication)",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/json"},
                         {"$ref": f"#/channels/{channel_id}/messages/avro"}],
        }
    channels["inbound"] = {
        "address": f"{prefix}.inbound.{{partner}}",
        "title": "CloudEvents partners publish to the gateway",
        "description": "Consumed for the partners in broker.inbound_partners into the same "
                       "pipeline as POST /api/v1/events (same validation and idempotency); "
                       "structured JSON, or binary mode with Avro data and a schemaid header.",
        "parameters": {"partner": partner},
        "messages": {"event": {"$ref": "#/components/messages/inbound_event"}},
    }
    messages["inbound_event"] = {
        "name": "inbound_event", "contentType": "application/cloudevents+json",
        "payload": {"type": "object", "required": ["specversion", "id", "source", "type"],
                    "properties": {**CE_ATTRIBUTES, "data": {"type": "object"}}},
    }
    operations["receive_inbound"] = {
        "action": "receive", "channel": {"$ref": "#/channels/inbound"},
        "summary": "Partners' events, acknowledged after they are committed",
        "messages": [{"$ref": "#/channels/inbound/messages/event"}],
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "edigate events", "version": __version__,
                 "description": "Supplier events (EDI and API paths alike) as CloudEvents on "
                                "the broker, generated from the schema registry.",
                 "license": {"name": "Apache-2.0",
                             "url": "https://www.apache.org/licenses/LICENSE-2.0"}},
        "defaultContentType": "application/cloudevents+json",
        "servers": _server(destination),
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


@routes.get("/asyncapi.json")
async def asyncapi(request: web.Request) -> web.Response:
    return web.json_response(build_asyncapi(request.app[RUNTIME].settings))


OPENAPI = {
    "/asyncapi.json": {"get": {
        "summary": "The AsyncAPI 3.0 description of the events published to the broker",
        "operationId": "asyncapi", "security": [],
        "responses": {"200": json_response("AsyncAPI 3.0 document")}}},
}
