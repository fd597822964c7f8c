"""``edigate translate / validate / ack``: output, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import cli
from tests.translators.edi_builders import PO_850, x12


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


def _file(tmp_path: Path, data: bytes, name: str = "in.edi") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_translate_prints_events_and_report(tmp_path: Path) -> None:
    result = _run("translate", _file(tmp_path, x12(PO_850)))
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["events"][0]["event_type"] == "purchase_order"
    assert body["events"][0]["data"]["order_number"] == "PO-1001"
    assert body["report"]["ok"] is True


def test_validate_exit_codes(tmp_path: Path) -> None:
    good = _run("validate", _file(tmp_path, x12(PO_850)))
    assert good.exit_code == 0 and "valid" in good.output
    bad_body = ["BEG*99*SA*PO-1001**20260105", *PO_850[1:]]
    bad = _run("validate", _file(tmp_path, x12(bad_body), "bad.edi"))
    assert bad.exit_code == 1
    assert "element.invalid_code" in bad.output and "BEG#2" in bad.output


def test_validate_with_guide(tmp_path: Path) -> None:
    path = _file(tmp_path, x12(PO_850))
    result = _run("validate", "--guide", "acme-retail-850", path)
    assert result.exit_code == 1 and "segment.missing" in result.output
    unknown = _run("validate", "--guide", "nope", path)
    assert unknown.exit_code == 1
    assert unknown.output.count("\n") == 1 and "no overlay named 'nope'" in unknown.output


def test_ack_prints_997(tmp_path: Path) -> None:
    result = _run("ack", "--at", "2026-01-02T03:04:00", "--start", "7",
                  _file(tmp_path, x12(PO_850)))
    assert result.exit_code == 0, result.output
    assert "ST*997*0007~" in result.output and "AK5*A~" in result.output
    assert "*260102*0304*" in result.output


def test_one_line_errors(tmp_path: Path) -> None:
    missing = _run("translate", str(tmp_path / "absent.edi"))
    assert missing.exit_code == 1 and missing.output.count("\n") == 1
    junk = _run("validate", _file(tmp_path, b"\x00\xffnot edi at all", "junk.bin"))
    assert junk.exit_code == 1 and "no EDIFACT or X12 interchange" in junk.output
    bad_time = _run("ack", "--at", "yesterday", _file(tmp_path, x12(PO_850)))
    assert bad_time.exit_code == 1 and "Traceback" not in bad_time.output
