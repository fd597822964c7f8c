"""CloudEvents over the broker: what one stored event becomes on the wire.

Two content modes, chosen per destination (``broker.content_mode``):

- ``json`` (structured mode): the body is the whole CloudEvent as JSON
  (``application/cloudevents+json``), exactly as ``GET /events/{id}`` would show it.
- ``avro`` (binary mode): the body is the event's data in the registry's Avro form (the bare
  Avro binary of the event's own schema version, fastavro); the CloudEvents attributes travel as
  ``ce-*`` headers, with the schema's id (``ce-dataschema``, the JSON Schema ``$id``; the Avro
  form is served at ``/schemas/<type>/<N>?format=avro``), ``schemaid`` (``<type>@<N>``),
  ``schemaversion`` and the Avro schema's CRC-64-AVRO fingerprint.

Subjects and routing keys: ``<prefix>.<event_type>.v<version>.<partner>``. The message id is
the event id everywhere (JetStream ``Nats-Msg-Id``, AMQP ``message_id``), so a republished
event is recognised as the same one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from gateway.storage.models import Event
from schemas import default_registry
from schemas.codec import AvroCodec, schema_fingerprint
from schemas.envelope import SPECVERSION, ce_type, schema_uri

JSON_MODE = "json"
AVRO_MODE = "avro"
STRUCTURED_TYPE = "application/cloudevents+json"
AVRO_TYPE = "application/avro"
_SUBJECT_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class BrokerMessage:
    """One event, ready for any broker: subject/routing key, body, headers, id."""

    event_id: str
    subject: str
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    partner: str = ""
    event_type: str = ""


def subject_token(value: str) -> str:
    """A partner id as one subject token (NATS forbids ``.``, ``*``, ``>`` and spaces)."""
    return _SUBJECT_UNSAFE.sub("_", value) or "_"


def subject_for(prefix: str, event_type: str, version: int, partner: str) -> str:
    return f"{prefix}.{event_type}.v{version}.{subject_token(partner)}"


@lru_cache(maxsize=1)
def _codec() -> AvroCodec:
    return AvroCodec(default_registry())


@lru_cache(maxsize=256)
def _fingerprint(event_type: str, version: int) -> str:
    return schema_fingerprint(default_registry().avro_schema(event_type, version)).hex()


def cloudevent(event: Event) -> dict[str, Any]:
    """The stored event as a CloudEvent (envelope attributes + data)."""
    attributes = dict(event.envelope or {})
    attributes.setdefault("specversion", SPECVERSION)
    attributes["id"] = event.id
    attributes["type"] = ce_type(event.type)
    attributes.setdefault("source", event.source)
    attributes.setdefault("dataschema", schema_uri(event.type, event.version))
    attributes.setdefault("datacontenttype", "application/json")
    attributes.setdefault("time", event.time.isoformat().replace("+00:00", "Z"))
    if event.subject:
        attributes.setdefault("subject", event.subject)
    if event.partner_id:
        attributes["partner"] = event.partner_id
    attributes["path"] = event.path
    attributes["dataschemaversion"] = event.version
    attributes["data"] = event.data
    return attributes


def _header_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("\r", " ").replace("\n", " ")


def build_message(event: Event, *, prefix: str, mode: str) -> BrokerMessage:
    """The wire form of ``event``; raises ``schemas.codec.CodecError`` if its data cannot be
    encoded in Avro (a permanent failure: the row is marked failed, not retried)."""
    partner = event.partner_id or ""
    subject = subject_for(prefix, event.type, event.version, partner)
    ce = cloudevent(event)
    if mode == AVRO_MODE:
        body = _codec().encode_body(event.type, event.version, event.data)
        headers = {f"ce-{name}": _header_value(value) for name, value in ce.items()
                   if name not in ("data", "datacontenttype") and value is not None}
        headers["ce-datacontenttype"] = AVRO_TYPE
        headers["content-type"] = AVRO_TYPE
        headers["schemaid"] = f"{event.type}@{event.version}"
        headers["schemaversion"] = str(event.version)
        headers["avroschemafingerprint"] = _fingerprint(event.type, event.version)
        return BrokerMessage(event.id, subject, body, AVRO_TYPE, headers, partner, event.type)
    body = json.dumps(ce, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"content-type": STRUCTURED_TYPE, "ce-id": event.id, "ce-type": ce["type"],
               "schemaid": f"{event.type}@{event.version}",
               "schemaversion": str(event.version)}
    return BrokerMessage(event.id, subject, body, STRUCTURED_TYPE, headers, partner, event.type)


def decode_message(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """A received broker message back into a CloudEvents JSON object (both content modes):
    what a consumer (or the inbound path) reads."""
    content_type = headers.get("content-type", headers.get("Content-Type", STRUCTURED_TYPE))
    if not content_type.startswith(AVRO_TYPE):
        parsed = json.loads(body)
        if not isinstance(parsed, dict):
            raise ValueError("a structured CloudEvent must be a JSON object")
        return parsed
    event_type, _, version = headers.get("schemaid", "").partition("@")
    if not event_type or not version.isdigit():
        raise ValueError("binary Avro message without a schemaid header (<type>@<N>)")
    data = _codec().decode_body(event_type, body, int(version), int(version))
    event: dict[str, Any] = {}
    for name, value in headers.items():
        if name.startswith("ce-"):
            attr = name[3:]
            event[attr] = int(value) if attr == "dataschemaversion" and value.isdigit() \
                else value
    event["datacontenttype"] = "application/json"
    event["data"] = _drop_nulls(data)
    return event


def _drop_nulls(value: Any) -> Any:
    """Avro hands optional fields back as null; the JSON form leaves them out."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
