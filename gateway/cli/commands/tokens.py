"""``edigate tokens``: issue API tokens for operators (viewer/operator/admin) and partners."""

from __future__ import annotations

import secrets
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select

from gateway.cli import CliError
from gateway.cli.context import runtime_from, transaction
from gateway.storage.models import Credential, Partner
from gateway.storage.repositories import append_audit, authenticate_token, issue_token
from gateway.web.auth import ROLES


def new_token(kind: str) -> str:
    return f"edg_{kind}_{secrets.token_urlsafe(32)}"


@click.group(name="tokens")
def command() -> None:
    """API tokens (only their SHA-256 is stored; the token is shown once)."""


@command.command(name="create")
@click.option("--role", type=click.Choice(ROLES), help="Operator role.")
@click.option("--partner", "partner_id", help="Partner the token belongs to.")
@click.option("--name", default="", help="A label, e.g. the person or system.")
@click.option("--actor", default="cli", show_default=True)
@click.pass_context
def create(ctx: click.Context, role: str | None, partner_id: str | None, name: str,
           actor: str) -> None:
    """Create a token for an operator role or a partner; prints it once."""
    if (role is None) == (partner_id is None):
        raise CliError("give exactly one of --role or --partner")
    runtime = runtime_from(ctx)
    token = new_token("op" if role else "pt")
    now = datetime.now(UTC)
    with transaction(runtime) as session:
        if partner_id and session.get(Partner, partner_id) is None:
            raise CliError(f"no partner {partner_id!r}")
        cred = issue_token(session, token=token, now=now, partner_id=partner_id, role=role,
                           name=name)
        append_audit(session, at=now, actor=actor, action="token.create",
                     subject_type="credential", subject_id=str(cred.id),
                     details={"role": role, "partner": partner_id, "name": name})
    click.echo(token)


@command.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", default="cli", show_default=True)
@click.pass_context
def import_tokens(ctx: click.Context, path: Path, actor: str) -> None:
    """Import operator tokens from a TOML file ([[operators]] name, role, token); idempotent."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"{path.name}: not valid TOML: {exc}") from None
    entries = table.get("operators", [])
    if not isinstance(entries, list):
        raise CliError(f"{path.name}: operators: expected an array of tables ([[operators]])")
    runtime = runtime_from(ctx)
    now = datetime.now(UTC)
    added = 0
    with transaction(runtime) as session:
        for i, entry in enumerate(entries):
            where = f"{path.name}: operators[{i}]"
            if not isinstance(entry, dict):
                raise CliError(f"{where}: expected a table")
            role, token = entry.get("role"), entry.get("token")
            if role not in ROLES:
                raise CliError(f"{where}.role: expected one of {', '.join(ROLES)}, got {role!r}")
            if not isinstance(token, str) or len(token) < 24:
                raise CliError(f"{where}.token: must be a string of at least 24 characters")
            if authenticate_token(session, token, now=now) is not None:
                continue
            issue_token(session, token=token, now=now, partner_id=None, role=role,
                        name=str(entry.get("name", "")))
            added += 1
        if added:
            append_audit(session, at=now, actor=actor, action="token.import",
                         subject_type="credential", subject_id=path.name,
                         details={"added": added})
    click.echo(f"imported {added} operator token(s) ({len(entries) - added} already present)")


@command.command(name="list")
@click.pass_context
def list_tokens(ctx: click.Context) -> None:
    """List tokens (prefix, owner, role), never the secret."""
    runtime = runtime_from(ctx)
    with runtime.sessions() as session:
        rows = session.scalars(select(Credential).where(Credential.kind == "api_token")
                               .order_by(Credential.id)).all()
        for c in rows:
            owner = c.partner_id or f"role:{c.role}"
            state = "revoked" if c.revoked_at else "active"
            click.echo(f"{c.id:>4}  {c.token_prefix}…  {owner:<24} {c.name:<20} {state}")


@command.command(name="revoke")
@click.argument("token_id", type=int)
@click.option("--reason", default="", help="Why (kept in the audit log).")
@click.option("--actor", default="cli", show_default=True)
@click.pass_context
def revoke(ctx: click.Context, token_id: int, reason: str, actor: str) -> None:
    """Revoke the token with TOKEN_ID (the first column of `tokens list`); other processes
    stop accepting it within auth.token_cache_seconds."""
    runtime = runtime_from(ctx)
    now = datetime.now(UTC)
    with transaction(runtime) as session:
        cred = session.get(Credential, token_id)
        if cred is None or cred.kind != "api_token":
            raise CliError(f"no API token with id {token_id} (see `edigate tokens list`)")
        if cred.revoked_at is not None:
            raise CliError(f"token {token_id} ({cred.token_prefix}…) is already revoked")
        cred.revoked_at = now
        append_audit(session, at=now, actor=actor, action="credential.revoke",
                     subject_type="credential", subject_id=str(cred.id), reason=reason,
                     details={"role": cred.role, "partner": cred.partner_id})
        prefix = cred.token_prefix
    click.echo(f"revoked token {token_id} ({prefix}…)")
