"""``edigate translate FILE``: the events and the error report of a file, as JSON."""

from __future__ import annotations

import json

import click

from gateway.cli.commands._translate_common import guarded, printable, read_and_translate


@click.command("translate")
@click.argument("file", type=click.Path())
@click.option("--guide", "guides", multiple=True, help="Partner guide overlay to apply.")
@click.option("--strict", is_flag=True, help="Any fault rejects the whole interchange.")
@guarded("translate")
def command(file: str, guides: tuple[str, ...], strict: bool) -> None:
    """Translate FILE (parse, validate, map) and print events and error report as JSON."""
    result = read_and_translate(file, guides, strict)
    events = [
        {"message_type": m.message_type, "message_control": m.message_control,
         "group_control": m.group_control, "interchange_control": m.interchange_control,
         "event_type": m.event.event_type, "version": m.event.version,
         "business_key": m.event.business_key, "data": m.event.data}
        for m in result.messages if m.event is not None
    ]
    click.echo(printable(json.dumps({"events": events, "report": result.error_report()},
                                    indent=2, ensure_ascii=False, default=str)))
