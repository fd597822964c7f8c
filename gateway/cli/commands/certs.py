"""``edigate certs``: AS2 certificates — partners' (several each, with validity windows) and
our own key pairs. Import the next certificate before its start date and rotation needs no
downtime: both are honoured during the overlap."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.channels.as2.certstore import USAGES, CertificateError, import_certificate
from gateway.channels.as2.certstore import list_certificates as list_certs
from gateway.cli import CliError
from gateway.cli.context import runtime_from, transaction
from gateway.storage.models import AuditEntry, Partner


@click.group(name="certs")
def command() -> None:
    """AS2 certificates of partners and of this gateway."""


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {what} {path}: {exc.strerror}") from None


@command.command(name="import")
@click.argument("cert", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--partner", "partner_id", help="The partner whose certificate CERT is.")
@click.option("--own", is_flag=True, help="Our own certificate (needs --key), not a partner's.")
@click.option("--key", "key_path", type=click.Path(dir_okay=False, path_type=Path),
              help="PEM private key of our own certificate (unencrypted; stored mode 0600).")
@click.option("--usage", type=click.Choice(USAGES), default="both", show_default=True,
              help="sign: verify/create signatures only; encrypt: encryption only.")
@click.option("--label", default="", help="A note, e.g. 'rotation 2027'.")
@click.option("--actor", default="cli", show_default=True, help="Recorded in the audit log.")
@click.pass_context
def import_cmd(ctx: click.Context, partner_id: str | None, cert: Path, own: bool,
               key_path: Path | None, usage: str, label: str, actor: str) -> None:
    """Register CERT (PEM or DER) for --partner ID, or with --own as ours."""
    if own == bool(partner_id):
        raise CliError("give either --partner ID or --own")
    if own and key_path is None:
        raise CliError("--own needs --key with the certificate's private key")
    if not own and key_path is not None:
        raise CliError("a partner's private key is never imported; drop --key")
    cert_bytes = _read(cert, "certificate")
    key_bytes = _read(key_path, "private key") if key_path else None
    runtime = runtime_from(ctx)
    now = datetime.now(UTC)
    with transaction(runtime) as session:
        if partner_id and session.get(Partner, partner_id) is None:
            raise CliError(f"unknown partner {partner_id!r} (see 'edigate partners list')")
        try:
            row = import_certificate(session, cert_bytes, partner_id=partner_id, now=now,
                                     usage=usage, label=label, key_pem=key_bytes,
                                     data_dir=runtime.settings.data_path)
        except CertificateError as exc:
            raise CliError(f"{cert}: {exc}") from None
        session.add(AuditEntry(at=now, actor=actor, action="as2_certificate_imported",
                               subject_type="partner" if partner_id else "gateway",
                               subject_id=partner_id or "self", reason=label,
                               details={"fingerprint": row.fingerprint, "usage": usage,
                                        "not_before": row.not_before.isoformat(),
                                        "not_after": row.not_after.isoformat()}))
        summary = (f"imported {row.subject} for {partner_id or 'this gateway'} "
                   f"({usage}, valid {row.not_before:%Y-%m-%d} to {row.not_after:%Y-%m-%d}, "
                   f"sha256 {row.fingerprint[:16]}…)")
    click.echo(summary)


@command.command(name="list")
@click.argument("partner_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_cmd(ctx: click.Context, partner_id: str | None, as_json: bool) -> None:
    """List certificates (all, or one partner's) with their state today."""
    runtime = runtime_from(ctx)
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        infos = list_certs(session, partner_id)
    rows = [{"owner": i.owner or "(this gateway)", "usage": i.usage, "state": i.state(now),
             "subject": i.subject, "not_before": i.not_before.isoformat(),
             "not_after": i.not_after.isoformat(), "fingerprint": i.fingerprint,
             "label": i.label} for i in infos]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no AS2 certificates (add one with 'edigate certs import')")
        return
    width = max(len(r["owner"]) for r in rows)
    for r in rows:
        click.echo(f"{r['owner']:<{width}}  {r['state']:<7} {r['usage']:<7} "
                   f"{r['not_before'][:10]} → {r['not_after'][:10]}  "
                   f"{r['fingerprint'][:16]}  {r['subject']}")
