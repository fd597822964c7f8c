"""REST events: a committed JSON body becomes API-path events, validated against the schemas.

The body went through the same inbox as EDI (channel ``rest``), so lineage and quarantine work
alike for both paths: every API event points at the exact bytes it came from.
A batch is all or nothing: one invalid event rejects the call with every error listed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway.broker.outbox import enqueue_publication
from gateway.planning.triggers import on_event_stored
from gateway.search.refs import index_event
from gateway.storage.models import Event, Interchange
from schemas import default_registry
from schemas.envelope import TYPE_PREFIX, ce_type, schema_uri

MAX_BATCH = 1000


@dataclass
class ApiOutcome:
    status: int
    body: dict[str, Any]
    event_ids: list[str] = field(default_factory=list)


_VERSION_SUFFIX = re.compile(r"\.v[0-9]+$")


def type_name(value: str) -> str:
    """The stored name of an event type given in any accepted spelling: ``order_response``,
    ``com.edigate.order_response`` or either with ``.v<N>`` all name ``order_response``."""
    return _VERSION_SUFFIX.sub("", value.strip().removeprefix(TYPE_PREFIX))


def partner_source(partner_id: str) -> str:
    return f"/partners/{partner_id}"


def _problem(status: int, slug: str, title: str, detail: str, **ext: Any) -> ApiOutcome:
    return ApiOutcome(status, {"type": f"https://edigate.dev/problems/{slug}", "title": title,
                               "status": status, "detail": detail, **ext})


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# Envelope attributes stored in bounded columns (Event.id, source, subject): a longer value,
# or a NUL (which PostgreSQL refuses in text), is an invalid event on every database.
LIMITS = {"id": 64, "source": 200, "subject": 200}


def _unstorable(event: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name, limit in LIMITS.items():
        value = event.get(name)
        if not isinstance(value, str):
            continue
        if len(value) > limit:
            found.append({"pointer": f"/{name}", "keyword": "maxLength",
                          "message": f"'{name}' is {len(value)} characters; at most {limit}"})
        elif "\x00" in value:
            found.append({"pointer": f"/{name}", "keyword": "pattern",
                          "message": f"'{name}' contains a NUL character"})
    return found


def ingest_events(session: Session, row: Interchange, body: bytes, *, partner_id: str,
                  now: datetime) -> ApiOutcome:
    """Validate and store the events of one REST body (already committed as ``row``)."""
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
        return _problem(400, "invalid-json", "Invalid JSON",
                        f"the body is not valid JSON{where}: {getattr(exc, 'msg', exc)}")
    events = parsed if isinstance(parsed, list) else [parsed]
    if not events or not all(isinstance(e, dict) for e in events):
        return _problem(400, "not-an-event", "Not an event",
                        "send one CloudEvents JSON object or an array of them")
    if len(events) > MAX_BATCH:
        return _problem(413, "batch-too-large", "Batch too large",
                        f"{len(events)} events; at most {MAX_BATCH} per call")

    registry = default_registry()
    own_source = partner_source(partner_id)
    errors: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        source = event.get("source")
        if isinstance(source, str) and source != own_source and \
                not source.startswith(own_source + "/"):
            return _problem(403, "source-mismatch", "Event source is not the caller",
                            f"event {index}: source {source!r} must be {own_source!r} "
                            "(or below it) for this token", index=index)
        declared = event.get("partner")
        if declared not in (None, partner_id):
            return _problem(403, "partner-mismatch", "Event partner is not the caller",
                            f"event {index}: partner {declared!r} is not {partner_id!r}",
                            index=index)
        for error in registry.validate_event(event):
            errors.append({"index": index, **error})
        errors.extend({"index": index, **error} for error in _unstorable(event))
    if errors:
        return _problem(422, "invalid-event", "Invalid event",
                        f"{len(errors)} error(s); nothing was stored", errors=errors)

    stored: list[str] = []
    duplicates: list[str] = []
    for event in events:
        event_id = str(event["id"])
        existing = session.get(Event, event_id)
        if existing is not None:
            if existing.partner_id != partner_id or existing.data != event.get("data"):
                return _problem(409, "event-id-reused", "Event id reused",
                                f"event id {event_id} was already used with other content")
            duplicates.append(event_id)
            continue
        event_type, version = registry.type_and_version(event)
        data = event.get("data") or {}
        key = registry.business_key_of(event_type, data)
        if len(key) > 200 or "\x00" in key:
            return _problem(422, "invalid-event", "Invalid event",
                            f"event {event_id}: its business key is longer than 200 "
                            "characters or contains a NUL character; nothing was stored")
        envelope = {k: v for k, v in event.items() if k != "data"}
        # Stored in the canonical spelling whatever the producer sent (``order_response``,
        # ``com.edigate.order_response.v1``...), as the EDI path stores it: one type to filter
        # on and to publish, whichever path an event came by.
        envelope.update(partner=partner_id, path="api", interchangeid=row.id,
                        type=ce_type(event_type), dataschema=schema_uri(event_type, version))
        session.add(new_event := Event(
            id=event_id, type=event_type, version=version, partner_id=partner_id, path="api",
            source=str(event.get("source", own_source)), subject=str(event.get("subject", key)),
            time=_parse_time(event.get("time")) or now, recorded_at=now, business_key=key,
            interchange_id=row.id, envelope=envelope, data=data,
        ))
        index_event(session, new_event)
        enqueue_publication(session, event_id, now)
        on_event_stored(session, event_id, event_type)  # disruption replans
        stored.append(event_id)
    return ApiOutcome(201, {"accepted": len(stored), "events": stored,
                            "duplicates": duplicates, "interchange_id": row.id},
                      event_ids=stored)
