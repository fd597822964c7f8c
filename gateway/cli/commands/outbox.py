"""``edigate outbox list|retry|cancel`` and ``edigate outbox dispatch``."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime, timedelta

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from gateway.cli import CliError
from gateway.cli.context import runtime_from, transaction
from gateway.domain.states import OutboxStatus, values
from gateway.outbound.dispatcher import Dispatcher
from gateway.storage.models import OutboxItem
from gateway.storage.repositories import append_audit

STATUSES = values(OutboxStatus)


@click.group(name="outbox")
def command() -> None:
    """Documents we owe partners: show them, retry dead letters, cancel, run the dispatcher."""


@command.command(name="list")
@click.option("--status", type=click.Choice(STATUSES), multiple=True,
              help="Only rows in this status (repeatable).")
@click.option("--partner", help="Only this partner.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@click.pass_context
def list_(ctx: click.Context, status: tuple[str, ...], partner: str | None, limit: int,
          as_json: bool) -> None:
    runtime = runtime_from(ctx)
    with runtime.sessions() as session:
        query = select(OutboxItem).order_by(OutboxItem.created_at.desc()).limit(limit)
        if status:
            query = query.where(OutboxItem.status.in_(status))
        if partner:
            query = query.where(OutboxItem.partner_id == partner)
        rows = session.scalars(query).all()
        if as_json:
            for r in rows:
                click.echo(json.dumps({
                    "id": r.id, "partner": r.partner_id, "document_type": r.document_type,
                    "channel": r.channel, "business_id": r.business_id, "status": r.status,
                    "attempts": r.attempts, "ack_status": r.ack_status,
                    "control_numbers": r.control_numbers, "last_error": r.last_error}))
            return
        table = Table("id", "partner", "document", "channel", "business id", "status",
                      "attempts", "ack", "last error")
        for r in rows:
            table.add_row(r.id[:8], r.partner_id, r.document_type, r.channel, r.business_id,
                          r.status, str(r.attempts), r.ack_status, r.last_error[:60])
        Console().print(table)


def _change(ctx: click.Context, ids: tuple[str, ...], *, allowed: tuple[str, ...], to: str,
            actor: str, reason: str) -> None:
    runtime = runtime_from(ctx)
    now = datetime.now(UTC)
    with transaction(runtime) as session:
        for item_id in ids:
            rows = session.scalars(select(OutboxItem).where(
                OutboxItem.id.startswith(item_id))).all()
            if len(rows) != 1:
                raise CliError(f"{item_id}: {'no' if not rows else 'more than one'} outbox row "
                               "matches")
            row = rows[0]
            if row.status not in allowed:
                raise CliError(f"{row.id}: status is {row.status}; only {', '.join(allowed)} "
                               f"can be set to {to}")
            row.status = to
            row.updated_at = now
            if to == OutboxStatus.PENDING:
                row.next_attempt_at = now
                row.attempts = 0
            append_audit(session, at=now, actor=actor, action=f"outbox.{to}",
                         subject_type="outbox", subject_id=row.id, reason=reason)
            click.echo(f"{row.id} -> {to}")


@command.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.option("--actor", default="cli", show_default=True)
@click.pass_context
def retry(ctx: click.Context, ids: tuple[str, ...], reason: str, actor: str) -> None:
    """Send dead-lettered or failed rows again (same bytes, same control numbers)."""
    _change(ctx, ids, allowed=(OutboxStatus.DEAD, OutboxStatus.FAILED, OutboxStatus.CANCELLED),
            to=OutboxStatus.PENDING, actor=actor,
            reason=reason)


@command.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.option("--actor", default="cli", show_default=True)
@click.pass_context
def cancel(ctx: click.Context, ids: tuple[str, ...], reason: str, actor: str) -> None:
    """Stop delivering rows that are still pending or dead."""
    _change(ctx, ids, allowed=(OutboxStatus.PENDING, OutboxStatus.DEAD, OutboxStatus.FAILED),
            to=OutboxStatus.CANCELLED, actor=actor,
            reason=reason)


@command.command()
@click.option("--once", is_flag=True, help="One pass over due rows, then exit.")
@click.option("--worker", default="", help="Worker id recorded on attempts (default host:pid).")
@click.option("--lease", default=60.0, show_default=True, help="Seconds a claim is held.")
@click.option("--concurrency", default=8, show_default=True)
@click.option("--interval", type=float, default=None, help="Seconds between passes.")
@click.pass_context
def dispatch(ctx: click.Context, once: bool, worker: str, lease: float, concurrency: int,
             interval: float | None) -> None:
    """Run the dispatcher in the foreground (the server also runs one when jobs are enabled)."""
    runtime = runtime_from(ctx)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with Dispatcher(runtime, worker=worker, concurrency=concurrency,
                              lease=timedelta(seconds=lease)) as dispatcher:
            if once:
                return await dispatcher.run_once()
            await dispatcher.run_forever(stop, interval)
            return 0

    handled = asyncio.run(main())
    if once:
        click.echo(f"attempted {handled} row(s)")
