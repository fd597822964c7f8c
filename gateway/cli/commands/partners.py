"""``edigate partners``: import partner profiles from TOML files and list the registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.cli import CliError
from gateway.cli.context import runtime_from, transaction
from gateway.partners.profile import ProfileError, load_profiles
from gateway.storage.repositories import list_partners, upsert_partner


@click.group(name="partners")
def command() -> None:
    """Trading partners: identities, channels, stages, credentials."""


@command.command(name="import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--actor", default="cli", show_default=True, help="Recorded in the audit log.")
@click.pass_context
def import_cmd(ctx: click.Context, path: Path, actor: str) -> None:
    """Import one partner file, or every *.toml in a directory (create or update)."""
    try:
        profiles = load_profiles(path)
    except ProfileError as exc:
        raise CliError(str(exc)) from None
    runtime = runtime_from(ctx)
    now = datetime.now(UTC)
    created = updated = 0
    with transaction(runtime) as session:
        for profile in profiles:
            _, is_new = upsert_partner(session, profile, now=now, actor=actor)
            created += is_new
            updated += not is_new
    click.echo(f"imported {len(profiles)} partner(s): {created} created, {updated} updated")


@command.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List partners with their identities, channels and stages."""
    runtime = runtime_from(ctx)
    with runtime.sessions() as session:
        rows = [{
            "id": p.id,
            "name": p.name,
            "standard": p.standard,
            "version": p.version,
            "identities": [f"{i.standard}:{i.qualifier}:{i.identifier}".replace("::", ":")
                           for i in p.identities],
            "channels": sorted(p.profile.get("channels", {})),
            "stages": {s.document_type: s.stage for s in p.stages},
        } for p in list_partners(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no partners (import some with 'edigate partners import fixtures/partners')")
        return
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        stages = ", ".join(f"{k}={v}" for k, v in sorted(r["stages"].items()))
        click.echo(f"{r['id']:<{width}}  {r['standard']:<7} {r['version']:<7} "
                   f"{','.join(r['channels']) or '-':<16} {stages}")
