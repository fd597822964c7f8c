"""X12 segment tables: standard segments the earlier hand-picked tables refused are allowed, in
004010 and 005010 alike (the 830 and 862 tables complete; the 810 IT1 and 856 HL side loops)."""

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


# A planning schedule as automotive buyers write it: heading XPO, LM/LQ; on the line SI, PRS,
# two ATH, TAX, a line-level ship-from N1, a FST loop with its QTY and SDQ, an SDP loop, SHP
# with its REF, and a TD1 loop.
B830 = [
    "BFR*05*REL-77*CTR-1*DL*A*20261201*20270301*20261130",
    "XPO*PO-4711",
    "REF*IA*SUP-99",
    "DTM*097*20261130",
    "N1*ST*PLANT TWO*92*P2",
    "N1*SU*KESSLER*92*K1",
    "LM*AG",
    "LQ*0*PLANT",
    "LIN**BP*SPRING-4*VP*KF-4411*PO*PO-4711*EC*B",
    "UIT*EA",
    "DTM*168*20261128",
    "SI*AI*SQ*SEQ-1",
    "PID*F****COMPRESSION SPRING",
    "PRS*2",
    "REF*DK*DOCK-4",
    "PER*EX*ANNA*TE*5550100",
    "ATH*FI**1200**20261201",
    "ATH*MT**2400**20261201",
    "TAX*TX-1",
    "N1*SF*KESSLER PLANT*92*K1P",
    "FST*300*C*W*20261207",
    "QTY*01*300*EA",
    "SDQ*EA*92*P2*300",
    "FST*400*D*W*20261214",
    "SDP*Y*F",
    "FST*500*D*W*20261221",
    "FST*600*D*W*20261228",
    "SHP*01*250*050*20261125",
    "REF*SI*SHIP-551",
    "SHP*02*12250*051*20260101**20261125",
    "TD1*PLT*2",
    "TD5*B*2*CARRIER",
    "CTT*1*1800",
]
# A shipping schedule with PRS, SDP, FST with DTM and two JIT (one with its REF), SHP + REF.
B862 = [
    "BSS*05*SS-2026-1207*20261207*DL*20261208*20261214*REL-77",
    "DTM*002*20261208",
    "N1*ST*PLANT TWO*92*P2",
    "N3*INDUSTRIESTR 4",
    "N4*GUETERSLOH**33330*DE",
    "N1*SU*KESSLER*92*K1",
    "LIN**BP*SPRING-4*VP*KF-4411*PO*PO-4711",
    "UIT*EA",
    "PRS*2",
    "REF*DK*DOCK-4",
    "PER*SC*JOE*TE*5550111",
    "SDP*Y*F",
    "FST*120*C*D*20261208**002*0600",
    "DTM*002*20261208",
    "JIT*60*0600",
    "JIT*60*1400*LINE-2",
    "REF*RE*RR-1",
    "FST*140*C*D*20261209",
    "SHP*01*80*050*20261205",
    "REF*SI*SHIP-560",
    "TD5*B*2*CARRIER",
    "CTT*1*260",
]
# 810 lines with an older-style ITA allowance, SAC/TXI, L7, an N9/MSG note and FA1/FA2.
B810 = [
    "BIG*20260105*INV-1**PO-1001",
    "N1*ST*PLANT ONE*92*P1",
    "IT1*1*10*EA*2.5**BP*PART-1*VP*SUP-1",
    "PID*F****BRACKET",
    "ITA*A***06**50",
    "SAC*A*C310***500",
    "TXI*ST*1.2",
    "FOB*PP",
    "L7*1*TARIFF-1",
    "N1*SF*SUPPLIER PLANT*92*SP1",
    "N9*L1*LINE NOTE",
    "MSG*PARTIAL DELIVERY",
    "FA1*DZ",
    "FA2*18*ACCOUNT-2",
    "IT1*2*5*EA*4**BP*PART-2",
    "TDS*4500",
    "CTT*2",
]
# 856 HL variants: TD1 twice, TSD, PAL, ETD, GF, YNQ, V1/R4 and H1/H2 loops, SLN under an item.
B856 = [
    "BSN*00*SHIP-1*20260105*1200",
    "HL*1**S",
    "TD1*PLT90*2****G*840*LB",
    "TD1*CTN25*24",
    "TD5*B*2*CARRIER",
    "TSD*TRAILER-9",
    "REF*BM*BOL-1",
    "DTM*011*20260105",
    "PAL*4*5*10*50",
    "N1*ST*PLANT ONE*92*P1",
    "ETD*ZZ*A",
    "GF*ZZ*GF-1",
    "YNQ**Y",
    "V1*9123456*SEA STAR",
    "R4*L*UN*DEHAM*HAMBURG",
    "H1*1993*3",
    "H2*FLAMMABLE LIQUID",
    "HL*2*1*O",
    "PRF*PO-1001",
    "HL*3*2*I",
    "LIN**BP*PART-1*VP*SUP-1",
    "SN1**10*EA",
    "SLN*1**I*4*EA",
    "PAL*4*1*1*10",
    "CTT*3",
]

# 846 in the order of the 004010 table: heading DTM before REF, MEA, LM/LQ; PID and MEA before
# the line's DTM, REF after it.
B846 = [
    "BIA*00*DD*INV-7*20260410",
    "DTM*007*20260410",
    "REF*IA*VENDOR-1",
    "MEA*PD*WT*12.5*LB",
    "N1*SU*SUPPLIER*92*S1",
    "LM*AG",
    "LQ*0*STOCK",
    "LIN**BP*PART-1*VP*SUP-1",
    "PID*F****BRACKET",
    "MEA*PD*WT*0.4*LB",
    "DTM*179*20260409",
    "REF*LT*LOT-9",
    "QTY*33*120*EA",
    "UIT*EA*2.5",
    "CTT*1",
]

for version in ("004010", "005010"):
    CASES[f"846 in the 004010 table order ({version})"] = ("846", version, "IB", B846)
    CASES[f"830 planning schedule ({version})"] = ("830", version, "PS", B830)
    CASES[f"862 shipping schedule ({version})"] = ("862", version, "SS", B862)
    CASES[f"810 IT1 side loops ({version})"] = ("810", version, "IN", B810)
    CASES[f"856 HL side segments ({version})"] = ("856", version, "SH", B856)


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


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_the_830_event_keeps_periods_identifiers_and_the_cumulative(version: str) -> None:
    [result] = translate(x12(B830, message="830", version=version, group_id="PS")).messages
    data = result.event.data
    assert (data["schedule_number"], data["schedule_type"]) == ("REL-77", "forecast")
    assert (data["horizon_start"], data["horizon_end"]) == ("2026-12-01", "2027-03-01")
    [item] = data["items"]
    assert [(i["qualifier"], i["id"]) for i in item["identifiers"]] == [
        ("BP", "SPRING-4"), ("VP", "KF-4411"), ("PO", "PO-4711"), ("EC", "B")]
    assert (item["buyer_part"], item["supplier_part"], item["unit"]) == ("SPRING-4", "KF-4411",
                                                                         "EA")
    # the FST loop and the SDP loop's FSTs are all periods, in order
    assert [(p["start"], p["quantity"], p["commitment"]) for p in item["periods"]] == [
        ("2026-12-07", 300, "firm"), ("2026-12-14", 400, "forecast"),
        ("2026-12-21", 500, "forecast"), ("2026-12-28", 600, "forecast")]
    assert item["cumulative_received"] == 12250
    # the line-level ship-from N1 stays on the line, not among the heading parties
    assert [p["role"] for p in data["parties"]] == ["ship_to", "supplier"]


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_the_862_event_keeps_every_firm_period(version: str) -> None:
    [result] = translate(x12(B862, message="862", version=version, group_id="SS")).messages
    data = result.event.data
    assert (data["schedule_number"], data["schedule_type"]) == ("SS-2026-1207", "firm")
    [item] = data["items"]
    assert item["order_number"] == "PO-4711"
    assert [(p["start"], p["quantity"]) for p in item["periods"]] == [("2026-12-08", 120),
                                                                       ("2026-12-09", 140)]


def test_a_segment_out_of_its_830_position_is_still_refused() -> None:
    body = list(B830)
    body.insert(body.index("UIT*EA"), "XPO*PO-1")  # a heading segment inside the LIN loop
    [result] = translate(x12(body, message="830", group_id="PS")).messages
    assert result.status == "rejected"
    assert any(e.segment_tag == "XPO" for e in result.errors)


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_the_810_side_loops_stay_on_their_line(version: str) -> None:
    [result] = translate(x12(B810, message="810", version=version, group_id="IN")).messages
    data = result.event.data
    assert [(line["line_number"], line["quantity"], line["buyer_part"])
            for line in data["lines"]] == [("1", 10, "PART-1"), ("2", 5, "PART-2")]
    # the line's TXI and ship-from N1 (after ITA, L7, N9/MSG) are not the invoice's
    assert "tax_amount" not in data
    assert [p["role"] for p in data["parties"]] == ["ship_to"]
    assert data["total_amount"] == 45


def test_the_856_side_segments_keep_the_item() -> None:
    [result] = translate(x12(B856, message="856", group_id="SH")).messages
    [item] = result.event.data["items"]
    assert (item["order_number"], item["buyer_part"], item["supplier_part"], item["quantity"]) \
        == ("PO-1001", "PART-1", "SUP-1", 10)
