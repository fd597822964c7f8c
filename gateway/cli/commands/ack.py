"""``edigate ack FILE``: the acknowledgment(s) we would send for FILE (997/999/TA1/CONTRL).

Control numbers come from a simple counter starting at ``--start``; the date is now (or
``--at``). Nothing is stored or sent.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import click

from gateway.cli import CliError
from gateway.cli.commands._translate_common import guarded, printable, read_and_translate
from translators import build_acknowledgments


@click.command("ack")
@click.argument("file", type=click.Path())
@click.option("--guide", "guides", multiple=True, help="Partner guide overlay to apply.")
@click.option("--strict", is_flag=True, help="Any fault rejects the whole interchange.")
@click.option("--x12-ack", type=click.Choice(["997", "999"]), default=None,
              help="Override the 997/999 choice made from GS08.")
@click.option("--start", type=int, default=1, show_default=True,
              help="First control number of the counter.")
@click.option("--at", "at", default=None, help="Timestamp to write (ISO 8601), default now.")
@guarded("ack")
def command(file: str, guides: tuple[str, ...], strict: bool, x12_ack: str | None,
            start: int, at: str | None) -> None:
    """Print the acknowledgment we would send for FILE."""
    try:
        now = datetime.fromisoformat(at) if at else datetime.now(UTC)
    except ValueError:
        raise CliError(f"--at {at!r} is not an ISO 8601 timestamp") from None
    result = read_and_translate(file, guides, strict)
    counters: dict[str, itertools.count[int]] = {}

    def next_control(scope: str) -> int:
        return next(counters.setdefault(scope, itertools.count(start)))

    documents = build_acknowledgments(result, next_control, now, x12_ack=x12_ack)
    if not documents:
        click.echo("no acknowledgment: the file is itself an acknowledgment", err=True)
        return
    for document in documents:
        click.echo(printable(f"# {document.kind} answering interchange "
                            f"{document.acknowledges}"), err=True)
        click.echo(document.data.decode("latin-1"))
