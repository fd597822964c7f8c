"""``edigate parse FILE``: read an EDIFACT or X12 file and show its interchange tree.

Exit code 0 when the file parses without errors (warnings are printed), 1 with a one-line
error (position and reason) otherwise. ``--check-roundtrip`` also requires tree -> bytes to
reproduce the file exactly.
"""

from __future__ import annotations

import json

import click

from gateway.cli import CliError
from gateway.cli.commands._translate_common import guarded, one_line, printable, read_file
from translators.errors import EdiError
from translators.syntax import ParseResult, parse, serialize, to_json


def _where(error: EdiError) -> str:
    parts = []
    if error.line is not None:
        parts.append(f"line {error.line}, column {error.column}")
    if error.offset is not None:
        parts.append(f"byte {error.offset}")
    if error.segment_tag:
        position = f" #{error.segment_position}" if error.segment_position else ""
        parts.append(f"segment {error.segment_tag}{position}")
    if error.element_position:
        parts.append(f"element {error.element_position}")
    return ", ".join(parts)


def _one_line(error: EdiError) -> str:
    where = _where(error)
    return f"{where}: {error.message} [{error.kind}]" if where else \
        f"{error.message} [{error.kind}]"


def _outline(result: ParseResult) -> list[str]:
    lines: list[str] = []
    for ic in result.interchanges:
        d = ic.detection
        lines.append(f"{ic.standard.upper()} interchange {ic.control} "
                     f"{ic.sender_id}({ic.sender_qualifier}) -> "
                     f"{ic.receiver_id}({ic.receiver_qualifier}) at byte {ic.header.offset}"
                     + (f", {d.encoding}" if d else ""))
        for group in ic.groups:
            indent = "  "
            if group.header is not None:
                lines.append(f"  group {group.functional_id} {group.control} "
                             f"({len(group.messages)} messages)")
                indent = "    "
            for message in group.messages:
                lines.append(f"{indent}{message.type} {message.version} #{message.control}: "
                             f"{len(message.segments)} segments, line {message.header.line}")
    for error in result.errors:
        lines.append(f"{error.severity}: {_one_line(error)}")
    return lines


@click.command(name="parse")
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the tree as JSON.")
@click.option("--outline", is_flag=True, help="Print a readable outline (the default).")
@click.option("--check-roundtrip", is_flag=True,
              help="Fail unless tree -> bytes reproduces the file byte for byte.")
@guarded("parse")
def command(path: str, as_json: bool, outline: bool, check_roundtrip: bool) -> None:
    """Parse an EDIFACT or X12 FILE and print its interchange tree."""
    data = read_file(path)
    result = parse(data)
    if as_json:
        click.echo(printable(json.dumps(to_json(result), indent=2, ensure_ascii=False,
                                        default=str)))
    else:
        for line in _outline(result):
            click.echo(printable(line))
    if check_roundtrip:
        out = serialize(result)
        if out != data:
            at = next((i for i, (a, b) in enumerate(zip(out, data, strict=False)) if a != b),
                      min(len(out), len(data)))
            raise CliError(f"{one_line(path)}: round trip differs at byte {at}")
        click.echo(f"round trip: {len(data)} bytes reproduced exactly", err=True)
    errors = [e for e in result.errors if e.severity == "error"]
    if errors:
        extra = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CliError(one_line(f"{path}: {_one_line(errors[0])}{extra}"))
