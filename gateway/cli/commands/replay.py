"""``edigate replay ID``: reprocess a quarantined or rejected interchange after a fix."""

from __future__ import annotations

import json

import click

from gateway.cli import CliError
from gateway.cli.commands._translate_common import guarded
from gateway.cli.context import runtime_from, transaction
from gateway.domain.states import InterchangeStatus
from gateway.pipeline.replay import ReplayError, replay


@click.command(name="replay")
@click.argument("interchange_id")
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.option("--actor", default="cli", show_default=True, help="Who (recorded in the audit log).")
@click.option("--resend-ack", is_flag=True,
              help="Send the acknowledgment again even when the outcome did not change.")
@click.pass_context
@guarded("replay")
def command(ctx: click.Context, interchange_id: str, reason: str, actor: str,
            resend_ack: bool) -> None:
    """Run a stored interchange through the pipeline again and print the outcome, with
    whether an acknowledgment goes to the partner (only for a changed outcome, unless
    --resend-ack)."""
    runtime = runtime_from(ctx)
    try:
        with transaction(runtime) as session:
            outcome = replay(session, interchange_id, actor=actor, reason=reason,
                             data_dir=runtime.settings.data_path, resend_ack=resend_ack)
    except ReplayError as exc:
        raise CliError(str(exc)) from None
    click.echo(json.dumps(outcome.to_json(), indent=2))
    if outcome.status in (InterchangeStatus.QUARANTINED, InterchangeStatus.REJECTED):
        raise SystemExit(1)
