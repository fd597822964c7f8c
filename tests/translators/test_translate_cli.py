"""``edigate translate / validate / ack``: output, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import cli
from tests.translators.edi_builders import PO_850, x12
from translators import translate


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


def _many_850(count: int) -> bytes:
    one = x12(PO_850).decode()
    head, _, rest = one.partition("ST*")
    message = "ST*" + rest[:rest.index("GE*")]
    body = "".join(message.replace("0001", f"{n:04d}") for n in range(1, count + 1))
    return (head + body + f"GE*{count}*77~IEA*1*000000123~").encode()


def test_translate_streams_the_document_it_would_dump_whole(tmp_path: Path) -> None:
    path = _file(tmp_path, _many_850(60))
    result = _run("translate", path)
    assert result.exit_code == 0, result.output
    whole = translate(Path(path).read_bytes())
    events = [{"message_type": m.message_type, "message_control": m.message_control,
               "group_control": m.group_control, "interchange_control": m.interchange_control,
               "event_type": m.event.event_type, "version": m.event.version,
               "business_key": m.event.business_key, "data": m.event.data}
              for m in whole.messages if m.event is not None]
    assert len(events) == 60
    # byte for byte what json.dumps(indent=2) of the whole document writes
    assert result.output == json.dumps({"events": events, "report": whole.error_report()},
                                       indent=2, ensure_ascii=False, default=str) + "\n"
    lines = _run("translate", "--lines", path)
    rows = [json.loads(line) for line in lines.output.splitlines()]
    assert rows[:-1] == events and rows[-1] == {"report": whole.error_report()}


def test_translate_without_events_is_still_one_document(tmp_path: Path) -> None:
    bad_body = ["BEG*99*SA*PO-1001**20260105", *PO_850[1:]]
    result = _run("translate", _file(tmp_path, x12(bad_body)))
    body = json.loads(result.output)
    assert body["events"] == [] and body["report"]["error_count"] >= 1


def test_validate_of_many_messages_lists_those_with_faults(tmp_path: Path) -> None:
    data = _many_850(120).replace(b"BEG*00*SA*PO-1001", b"BEG*99*SA*PO-1001", 1)
    result = _run("validate", _file(tmp_path, data))
    assert result.exit_code == 1
    assert "120 message(s)" in result.output and "element.invalid_code" in result.output
    assert "119 more message(s) not listed; all: accepted 119, rejected 1" in result.output
