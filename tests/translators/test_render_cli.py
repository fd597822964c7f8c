"""``edigate render TYPE FILE.json``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import cli

PO = {"order_number": "PO-9", "order_date": "2024-03-01",
      "lines": [{"line_number": "1", "quantity": 4, "unit": "EA", "buyer_part": "B-1"}]}


def _run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, ["render", *args], input=stdin)


def test_render_x12(tmp_path: Path) -> None:
    payload = tmp_path / "po.json"
    payload.write_text(json.dumps(PO))
    result = _run("purchase_order", str(payload), "--sender", "US", "--receiver", "THEM",
                  "--interchange", "17", "--now", "2024-03-01T08:00:00")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("ISA*00*")
    assert "*000000017*0*P*>~" in lines[0]
    assert "PO1*1*4*EA***BP*B-1~" in lines
    assert lines[-1] == "IEA*1*000000017~"


def test_render_edifact_from_stdin_envelope() -> None:
    event = {"type": "purchase_order", "version": 1, "data": PO}
    result = _run("purchase_order", "-", "--standard", "edifact", "--version", "D01B",
                  "--suffix", "none", "--now", "2024-03-01T08:00:00", stdin=json.dumps(event))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("UNA:+.?*'UNB+UNOC:4+EDIGATE:ZZ+PARTNER:ZZ+20240301:0800+1'")
    assert "UNH+1+ORDERS:D:01B:UN'" in result.output


def test_render_errors_are_one_line(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{nope")
    cases = [
        (["purchase_order", str(bad_json)], "not JSON"),
        (["purchase_order", str(tmp_path / "missing.json")], "cannot read"),
        (["purchase_order", "-"], "required field 'lines' is missing"),
        (["purchase_order", "-", "--now", "yesterday"], "is not an ISO 8601"),
        (["purchase_order", "-", "--version", "003040"], "X12 version '003040'"),
    ]
    for args, message in cases:
        result = _run(*args, stdin=json.dumps({"order_number": "1", "order_date": "2024-01-01"}))
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
