"""The validator: all faults with positions, lenient vs strict, HL trees, hostile input."""

from __future__ import annotations

import pytest

from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from translators import translate

SHIP_856 = [
    "BSN*00*SHIP-1*20260105*1200",
    "HL*1**S", "TD1*CTN*2",
    "HL*2*1*O", "PRF*PO-1001",
    "HL*3*2*P", "MAN*GM*00012345678901234567",
    "HL*4*3*I", "LIN**BP*PART-1", "SN1**10*EA",
    "CTT*4",
]


def _faults(data: bytes, **kwargs) -> list[tuple[str, str, int | None, int | None]]:  # type: ignore[no-untyped-def]
    result = translate(data, **kwargs)
    return [(e.kind, e.segment_tag, e.segment_position, e.element_position)
            for m in result.messages for e in m.errors]


def test_all_faults_collected_with_positions() -> None:
    body = ["BEG*99*SA*PO-1001**20261340", "ZZZ*1", "N1*ST*PLANT*92", *PO_850[2:]]
    data = x12(body)
    assert _faults(data) == [
        ("element.invalid_code", "BEG", 2, 1), ("element.invalid_date", "BEG", 2, 5),
        ("segment.unrecognized", "ZZZ", 3, None), ("element.conditional_missing", "N1", 4, 4),
    ]
    error = translate(data).messages[0].errors[0]
    assert (error.interchange_control, error.group_control, error.message_control) == (
        "000000123", "77", "0001")
    assert error.offset == data.index(b"BEG*99") and error.line == 1
    assert error.bad_value == "99" and error.element_ref == "353"


def test_lenient_rejects_only_the_failing_message() -> None:
    good = x12(PO_850).decode()
    bad_set = "ST*850*0002~BEG*99*SA*PO-2**20260105~" + "~".join(PO_850[1:]) + "~SE*7*0002~"
    data = good.replace("GE*1*77", bad_set + "GE*2*77").encode()
    lenient = translate(data)
    assert [m.status for m in lenient.messages] == ["accepted", "rejected"]
    assert lenient.messages[0].event is not None and lenient.messages[1].event is None
    strict = translate(data, lenient=False)
    assert [m.status for m in strict.messages] == ["rejected", "rejected"]
    assert strict.messages[0].errors == []  # rejected for its neighbour, no own fault


def test_856_hierarchy_ok_and_faults() -> None:
    assert _faults(x12(SHIP_856, message="856", group_id="SH")) == []
    bad = [*SHIP_856]
    bad[3] = "HL*2*9*O"  # unknown parent
    bad[7] = "HL*4*1*Q"  # a subpack directly under the shipment
    assert _faults(x12(bad, message="856", group_id="SH")) == [
        ("hierarchy.unknown_parent", "HL", 5, 2), ("hierarchy.bad_parent", "HL", 9, 3)]
    dup = [*SHIP_856]
    dup[5] = "HL*2*2*P"
    assert ("hierarchy.duplicate_id", "HL", 7, 1) in _faults(x12(dup, message="856",
                                                                 group_id="SH"))


def test_missing_mandatory_loop() -> None:
    body = ["BSN*00*SHIP-1*20260105*1200", "CTT*0"]
    assert _faults(x12(body, message="856", group_id="SH")) == [
        ("segment.missing", "HL", 3, None)]


@pytest.mark.parametrize("rule_body", [
    ["N1*ST"],  # R0203: name or id required
    ["N1*ST*NAME*92"],  # P0304
])
def test_x12_syntax_rules(rule_body: list[str]) -> None:
    body = [PO_850[0], *rule_body, *PO_850[2:]]
    kinds = [k for k, *_ in _faults(x12(body))]
    assert kinds == ["element.conditional_missing"]


def test_edifact_component_positions() -> None:
    body = [*ORDERS]
    body[2] = "NAD+BY+:ZZ:9"
    faults = _faults(edifact(body))
    assert faults == [("element.missing", "NAD", 4, 2)]
    error = translate(edifact(body)).messages[0].errors[0]
    assert error.component_position == 1 and error.element_ref == "3039"


def test_unknown_message_type_is_kept() -> None:
    result = translate(edifact(["BGM+1"], message="IFTMIN"))
    message = result.messages[0]
    assert message.status == "unsupported" and message.message_type == "IFTMIN"
    assert [e.kind for e in message.errors] == ["message.unsupported"]
    assert message.errors[0].severity == "warning"


@pytest.mark.parametrize("data", [
    b"", b"\x00" * 100, b"ISA*" * 1000, b"UNB+UNOA:1+A+B+1:1+1'" + b"UNH+1+ORDERS:D:96A:UN'" * 500,
    x12(PO_850)[:150], edifact(ORDERS)[:-20], x12(["BEG*" + "*" * 5000]),
    x12(["N1*ST*X*92*P"] * 3000),
])
def test_hostile_input_never_raises(data: bytes) -> None:
    result = translate(data)
    report = result.error_report()
    assert isinstance(report["error_count"], int)


def test_error_report_is_json() -> None:
    import json

    body = ["BEG*99*SA*PO-1001**20260105", *PO_850[1:]]
    report = translate(x12(body)).error_report()
    text = json.dumps(report)
    assert report["error_count"] == 1 and report["messages"][0]["status"] == "rejected"
    assert '"AK4"' not in text and '"x12_ak4": "7"' in text
