"""``edigate db``: create or upgrade the database schema, and show where it stands."""

from __future__ import annotations

import click

from gateway.cli.context import runtime_from
from gateway.storage.migrate import current_revision, head_revision, upgrade


@click.group(name="db")
def command() -> None:
    """Database schema (Alembic migrations)."""


@command.command(name="upgrade")
@click.pass_context
def upgrade_cmd(ctx: click.Context) -> None:
    """Apply every pending migration (safe to run again)."""
    runtime = runtime_from(ctx, require_schema=False)
    before = current_revision(runtime.engine)
    upgrade(runtime.engine)
    after = current_revision(runtime.engine)
    url = runtime.engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"database {url} is current (revision {after})")
    else:
        click.echo(f"database {url} upgraded {before or 'empty'} -> {after}")


@command.command(name="current")
@click.pass_context
def current_cmd(ctx: click.Context) -> None:
    """Print the schema revision of the database and the one the code expects."""
    runtime = runtime_from(ctx, require_schema=False)
    click.echo(f"database: {current_revision(runtime.engine) or 'empty'}")
    click.echo(f"code:     {head_revision()}")
