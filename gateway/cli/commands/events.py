"""``edigate events relay|publish|status``: the broker relay in its own process, a replay from a
point in time, and the outbox's state."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime

import click
from sqlalchemy import func, select

from gateway.broker.destination import Destination
from gateway.broker.publishers import PublishError
from gateway.cli import CliError
from gateway.cli.context import runtime_from
from gateway.domain.states import PublicationStatus
from gateway.runtime import Runtime
from gateway.storage.models_broker import EventPublication


def _destination(runtime: Runtime) -> Destination:
    destination = Destination.from_settings(runtime.settings)
    if destination is None:
        raise CliError("no broker is configured: set broker.url (or EDIGATE_BROKER_URL)")
    return destination


def _parse_since(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--since: expected an ISO 8601 time such as 2026-12-01T00:00:00Z, "
                       f"got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.group(name="events")
def command() -> None:
    """Events out to the configured broker: relay, replay, status."""


@command.command()
@click.option("--once", is_flag=True, help="One pass over pending events, then exit.")
@click.option("--holder", default="", help="Lease holder name (default host:pid).")
@click.pass_context
def relay(ctx: click.Context, once: bool, holder: str) -> None:
    """Publish the event outbox to the broker until interrupted (the server runs the same relay
    when jobs are enabled; several relays take turns through one lease)."""
    from gateway.broker.relay import Relay

    runtime = runtime_from(ctx)
    destination = _destination(runtime)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with Relay(runtime, destination, holder=holder or None) as worker:
            if once:
                result = await worker.pass_once()
                return result.published
            await worker.run_forever(stop)
            return 0

    published = asyncio.run(main())
    if once:
        click.echo(f"published {published} event(s)")


@command.command()
@click.option("--since", "since_text", required=True,
              help="ISO 8601 time: events recorded at or after it are published again.")
@click.option("--type", "event_type", default=None, help="Only this event type.")
@click.option("--partner", default=None, help="Only this partner's events.")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@click.option("--actor", default="cli", show_default=True)
@click.pass_context
def publish(ctx: click.Context, since_text: str, event_type: str | None, partner: str | None,
            reason: str, actor: str) -> None:
    """Re-publish stored events from a point in time (idempotent by event id)."""
    from gateway.broker.replay import replay

    since = _parse_since(since_text)
    runtime = runtime_from(ctx)
    destination = _destination(runtime)
    try:
        result = asyncio.run(replay(runtime, destination, since=since, event_type=event_type,
                                    partner=partner, actor=actor, reason=reason))
    except PublishError as exc:
        raise CliError(str(exc)) from None
    click.echo(f"published {result.published} event(s) to {destination.name} "
               f"({result.duplicates} already there, {result.failed} failed)")
    if result.first_error:
        click.echo(f"first failure: {result.first_error}", err=True)


@command.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Publication rows by status, and the age of the oldest pending one."""
    runtime = runtime_from(ctx)
    with runtime.reads() as session:
        counts = dict(session.execute(select(EventPublication.status, func.count())
                                      .group_by(EventPublication.status)).all())
        oldest = session.scalar(select(func.min(EventPublication.created_at))
                                .where(EventPublication.status == PublicationStatus.PENDING))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    lag = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    if as_json:
        click.echo(json.dumps({"counts": counts, "lag_seconds": round(lag, 3)}))
        return
    for name in ("pending", "published", "failed"):
        click.echo(f"{name:10} {counts.get(name, 0)}")
    click.echo(f"lag        {lag:.1f}s")
