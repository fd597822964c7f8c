"""X12 segment tables: standard segments the earlier hand-picked tables refused are allowed."""

from __future__ import annotations

import pytest

from tests.translators.edi_builders import x12
from translators import translate

CASES = {
    "846 UIT in the QTY loop": ("846", "004010", "IB", [
        "BIA*00*MM*INV-1*20260105",
        "LIN**BP*PART-1*VP*SUP-1",
        "QTY*33*120*EA",
        "UIT*EA*2.5",
        "CTT*1",
    ]),
    "850 SPI loop, PAM, TC2, DIS, INC, MTX (005010)": ("850", "005010", "PO", [
        "BEG*00*SA*PO-1001**20260105",
        "CTP**CON*2.5",
        "PAM*01*10*EA",
        "TC2*Z*CODE1",
        "ITD*01",
        "DIS*TRD*AG*1.5*AG*10",
        "INC*01*EA*2",
        "N9*L1*NOTES",
        "MSG*FREE TEXT",
        "MTX*GEN*MORE TEXT",
        "N1*ST*PLANT ONE*92*P1",
        "SPI*00",
        "REF*ZZ*SPEC-1",
        "PO1*1*10*EA*2.5**BP*PART-1*VP*SUP-1",
        "PAM*01*10*EA",
        "TC2*Z*CODE2",
        "CTT*1",
    ]),
    "810 QTY, FA1/FA2, N9/MSG": ("810", "004010", "IN", [
        "BIG*20260105*INV-1**PO-1001",
        "N1*ST*PLANT ONE*92*P1",
        "N9*L1*NOTES",
        "MSG*FREE TEXT",
        "FA1*DZ",
        "FA2*18*ACCOUNT-1",
        "IT1*1*10*EA*2.5**BP*PART-1*VP*SUP-1",
        "QTY*D1*10*EA",
        "FA1*DZ",
        "FA2*18*ACCOUNT-2",
        "TDS*2500",
        "CTT*1",
    ]),
    "856 YNQ in the HL loop": ("856", "004010", "SH", [
        "BSN*00*SHIP-1*20260105*1200",
        "HL*1**S",
        "TD1*CTN*2",
        "YNQ**Y",
        "HL*2*1*O",
        "PRF*PO-1001",
        "HL*3*2*I",
        "LIN**BP*PART-1",
        "SN1**10*EA",
        "CTT*3",
    ]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_standard_segments_are_allowed(case: str) -> None:
    message, version, group, body = CASES[case]
    [result] = translate(x12(body, message=message, version=version, group_id=group)).messages
    segment_faults = [e.message for e in result.errors if e.kind.startswith(("segment.", "loop."))]
    assert not segment_faults, (case, segment_faults)
    assert not [e for e in result.errors if e.severity == "error"], \
        (case, [e.message for e in result.errors])


def test_a_wrong_segment_is_still_refused() -> None:
    body = ["BIA*00*MM*INV-1*20260105", "LIN**BP*PART-1", "QTY*33*120*EA", "BEG*00*SA*X**20260105",
            "CTT*1"]
    [result] = translate(x12(body, message="846", group_id="IB")).messages
    assert result.status == "rejected"
    assert {e.kind for e in result.errors} & {"segment.not_in_message", "segment.out_of_order",
                                               "segment.unexpected"}
    # A standard segment with a bad element is still an element fault.
    body = ["BIA*00*MM*INV-1*20260105", "LIN**BP*PART-1", "QTY*33*120*EA", "UIT*EA*2.5X",
            "CTT*1"]
    [result] = translate(x12(body, message="846", group_id="IB")).messages
    assert result.status == "rejected"
    assert any(e.kind.startswith("element.") and e.segment_tag == "UIT" for e in result.errors)
