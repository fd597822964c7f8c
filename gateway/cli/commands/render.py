"""``edigate render``: turn an event payload (JSON) into the EDI document we would send."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from gateway.cli import CliError
from gateway.cli.commands._translate_common import guarded
from translators.render import (
    OUTBOUND_EVENT_TYPES,
    ControlNumbers,
    RenderError,
    RenderProfile,
    render_document,
)

_SUFFIXES = {"none": "", "lf": "\n", "crlf": "\r\n"}
_DEFAULT_VERSION = {"x12": "004010", "edifact": "D96A"}


def _load(path: str) -> dict[str, Any]:
    try:
        with click.open_file(path, encoding="utf-8") as handle:
            raw = handle.read()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
                       ) from None
    if isinstance(data, dict) and isinstance(data.get("data"), dict) and "type" in data:
        data = data["data"]  # an event envelope: render its payload
    if not isinstance(data, dict):
        raise CliError(f"{path}: the payload must be a JSON object")
    return data


@click.command(name="render")
@click.argument("event_type", metavar="TYPE",
                type=click.Choice(OUTBOUND_EVENT_TYPES))
@click.argument("path", metavar="FILE.json")
@click.option("--standard", type=click.Choice(["x12", "edifact"]), default="x12",
              show_default=True)
@click.option("--version", "version", default=None,
              help="004010 | 005010 | D96A | D01B (default: 004010 for X12, D96A for EDIFACT).")
@click.option("--sender", default="EDIGATE", show_default=True, help="Our interchange id.")
@click.option("--sender-qualifier", default="ZZ", show_default=True)
@click.option("--receiver", default="PARTNER", show_default=True, help="The partner's id.")
@click.option("--receiver-qualifier", default="ZZ", show_default=True)
@click.option("--charset", default="", help="EDIFACT UNOA/UNOB/UNOC/UNOY (default UNOC).")
@click.option("--test", "test_indicator", is_flag=True, help="Mark the interchange as a test.")
@click.option("--suffix", type=click.Choice(sorted(_SUFFIXES)), default="lf",
              show_default=True, help="Line break written after each segment.")
@click.option("--interchange", "interchange_no", type=int, default=1, show_default=True,
              help="Interchange control number.")
@click.option("--group", "group_no", type=int, default=1, show_default=True)
@click.option("--message", "message_no", type=int, default=1, show_default=True)
@click.option("--now", "now_text", default=None,
              help="Document date-time (ISO 8601); default: the current UTC time.")
@guarded("render")
def command(event_type: str, path: str, standard: str, version: str | None, sender: str,
            sender_qualifier: str, receiver: str, receiver_qualifier: str, charset: str,
            test_indicator: bool, suffix: str, interchange_no: int, group_no: int,
            message_no: int, now_text: str | None) -> None:
    """Print the EDI document for one event payload (FILE.json, or - for stdin)."""
    data = _load(path)
    try:
        now = datetime.fromisoformat(now_text) if now_text else datetime.now(UTC)
    except ValueError:
        raise CliError(f"--now {now_text!r} is not an ISO 8601 date-time") from None
    profile = RenderProfile(
        standard=standard,  # type: ignore[arg-type]
        version=version or _DEFAULT_VERSION[standard], sender_id=sender,
        sender_qualifier=sender_qualifier, receiver_id=receiver,
        receiver_qualifier=receiver_qualifier, charset=charset,
        test_indicator=test_indicator, segment_suffix=_SUFFIXES[suffix])
    try:
        out = render_document(event_type, data, profile=profile,
                              control=ControlNumbers(interchange_no, group_no, message_no),
                              now=now)
    except RenderError as exc:
        raise CliError(str(exc)) from None
    click.echo(out, nl=False)  # bytes: written unchanged, in the document's own encoding
