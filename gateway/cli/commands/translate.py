"""``edigate translate FILE``: the events and the error report of a file, as JSON.

The file is translated one message at a time and each event is written as soon as it is
made, so a 100 MB interchange costs the memory of its largest message plus a small record per
message (for the report), not of the whole file. The default output is one JSON document
``{"events": [...], "report": {...}}``, written as it goes; ``--lines`` writes one event per
line and the report as the last line.
"""

from __future__ import annotations

import json
from typing import Any

import click

from gateway.cli.commands._translate_common import StreamedTranslation, guarded, printable
from translators import MessageResult


def _event(m: MessageResult) -> dict[str, Any]:
    return {"message_type": m.message_type, "message_control": m.message_control,
            "group_control": m.group_control, "interchange_control": m.interchange_control,
            "event_type": m.event.event_type, "version": m.event.version,
            "business_key": m.event.business_key, "data": m.event.data}


def _indented(value: Any, prefix: str) -> str:
    """``value`` as json.dumps(indent=2) writes it nested under ``prefix`` (so the streamed
    document is byte for byte the one dumped whole)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text.replace("\n", "\n" + prefix)


@click.command("translate")
@click.argument("file", type=click.Path())
@click.option("--guide", "guides", multiple=True, help="Partner guide overlay to apply.")
@click.option("--strict", is_flag=True, help="Any fault rejects the whole interchange.")
@click.option("--lines", is_flag=True,
              help="JSON lines: one event per line, then {\"report\": ...} as the last line.")
@guarded("translate")
def command(file: str, guides: tuple[str, ...], strict: bool, lines: bool) -> None:
    """Translate FILE (parse, validate, map) and print events and error report as JSON."""
    translation = StreamedTranslation(file, guides, strict)
    def write(text: str) -> None:
        click.echo(text, nl=False)

    written = 0
    for message in translation:
        if message.event is None:
            continue
        if lines:
            write(printable(json.dumps(_event(message), ensure_ascii=False,
                                           default=str)) + "\n")
        else:
            # (the opening is written with the first event: an input that holds no
            # interchange must end in a one-line error, not in half a document)
            write(('{\n  "events": [\n    ' if not written else ",\n    ")
                      + printable(_indented(_event(message), "    ")))
        written += 1
    report = translation.result.error_report()
    if lines:
        write(printable(json.dumps({"report": report}, ensure_ascii=False,
                                       default=str)) + "\n")
    else:
        write(('{\n  "events": [],' if not written else "\n  ],")
                  + '\n  "report": ' + printable(_indented(report, "  ")) + "\n}\n")
