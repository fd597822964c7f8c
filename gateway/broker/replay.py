"""Re-publish stored events from a point in time (``edigate events publish --since``).

For a consumer that lost data: the events go out again in the order they were stored, under
their own ids, so the broker (within its duplicate window) or a consumer that honours ids
drops what it already has. The outbox rows are not touched; the replay is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from gateway.broker.destination import Destination
from gateway.broker.messages import build_message
from gateway.broker.publishers import Publisher, PublishError, publisher_for
from gateway.runtime import Runtime
from gateway.storage.models import Event
from gateway.storage.models_broker import EventPublication
from gateway.storage.repositories import append_audit
from schemas import SchemaError

PAGE = 500


@dataclass
class ReplayResult:
    published: int = 0
    duplicates: int = 0
    failed: int = 0
    first_error: str = ""


def _page(runtime: Runtime, since: datetime, event_type: str | None, partner: str | None,
          offset: int) -> list[Event]:
    # Stored order: by recording time, then the outbox's sequence (the order within one
    # transaction); events stored meanwhile come last, so offset paging sees each once.
    query = (select(Event)
             .join(EventPublication, EventPublication.event_id == Event.id, isouter=True)
             .where(Event.recorded_at >= since)
             .order_by(Event.recorded_at, EventPublication.seq, Event.id)
             .offset(offset).limit(PAGE))
    if event_type:
        query = query.where(Event.type == event_type)
    if partner:
        query = query.where(Event.partner_id == partner)
    with runtime.reads() as session:
        return list(session.scalars(query))


async def replay(runtime: Runtime, destination: Destination, *, since: datetime,
                 event_type: str | None = None, partner: str | None = None,
                 actor: str = "cli", reason: str = "",
                 publisher_factory: Callable[[Destination], Publisher] = publisher_for,
                 ) -> ReplayResult:
    """Publish every matching event again, in stored order, each after the previous one's
    ack; a broker failure stops the replay (raised) after auditing how far it got."""
    result = ReplayResult()
    publisher = publisher_factory(destination)
    await publisher.start()
    try:
        offset = 0
        while True:
            page = await runtime.run(_page, runtime, since, event_type, partner, offset)
            offset += len(page)
            for event in page:
                try:
                    message = build_message(event, prefix=destination.subject_prefix,
                                            mode=destination.content_mode)
                except (SchemaError, ValueError, TypeError) as exc:
                    result.failed += 1
                    result.first_error = result.first_error or f"{event.id}: {exc}"
                    continue
                try:
                    receipt = await publisher.publish(message)
                except PublishError as exc:
                    result.failed += 1
                    result.first_error = result.first_error or f"{event.id}: {exc}"
                    if exc.retryable:
                        raise
                    continue
                result.published += 1
                result.duplicates += receipt.duplicate
            if len(page) < PAGE:
                break
    finally:
        await publisher.close()
        await runtime.run(_audit, runtime, destination, since, event_type, partner, actor,
                          reason, result)
    return result


def _audit(runtime: Runtime, destination: Destination, since: datetime,
           event_type: str | None, partner: str | None, actor: str, reason: str,
           result: ReplayResult) -> None:
    with runtime.sessions.begin() as session:
        append_audit(session, at=datetime.now(UTC), actor=actor, action="broker.replay",
                     subject_type="broker", subject_id=destination.name, reason=reason,
                     details={"since": since.isoformat(), "type": event_type,
                              "partner": partner, "published": result.published,
                              "duplicates": result.duplicates, "failed": result.failed,
                              "first_error": result.first_error})
