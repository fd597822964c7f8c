"""Corpus messages (public samples and our synthetic partner files) -> event payloads, with
concrete field values per message type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.translators.edi_builders import without_identifiers as _plain
from translators.mapping import MappedEvent, to_event
from translators.syntax import parse


def _events(path: Path) -> list[MappedEvent]:
    result = parse(path.read_bytes())
    events = []
    for interchange in result.interchanges:
        for group in interchange.groups:
            for message in group.messages:
                event = to_event(message, interchange=interchange, group=group)
                assert event is not None, f"{path.name}: {message.type} has no mapping"
                events.append(event)
    assert events, f"{path.name}: no messages"
    return events


def _one(corpus_dir: Path, name: str) -> MappedEvent:
    return _events(corpus_dir / name)[0]


def _party(data: dict[str, Any], role: str) -> dict[str, Any]:
    return next(p for p in data["parties"] if p["role"] == role)


# ------------------------------------------------------------------------------------- X12


def test_x12_850_purchase_order(corpus_dir: Path) -> None:
    event = _one(corpus_dir, "x12/synthetic_850_00302_at.x12")  # ISA 00302, component "@"
    assert (event.event_type, event.version, event.business_key) == (
        "purchase_order", 2, "4500123501")
    data = event.data
    assert data["order_number"] == "4500123501"
    assert data["order_date"] == "2026-03-04"
    assert data["purpose"] == "original"  # BEG01 "00"
    assert data["order_type"] == "SA"
    assert data["currency"] == "USD"
    assert data["requested_delivery_date"] == "2026-03-13"  # DTM*002
    # PO101 carries the buyer's own line numbers (10, 20, ...)
    assert [line["line_number"] for line in data["lines"]] == ["10", "20", "30", "40"]
    first = data["lines"][0]
    assert _plain(first) == {"line_number": "10", "buyer_part": "GL-30008",
                             "supplier_part": "PF-NUT-M8", "gtin": "008123456780",
                             "description": "HEX NUT M8 CL8 ZN",
                             "quantity": 6000, "unit": "EA", "unit_price": 0.042}
    assert [(line["quantity"], line["unit"]) for line in data["lines"][2:]] == [
        (800, "EA"), (150, "BX")]
    ship_to = _party(data, "ship_to")
    assert ship_to["id"] == "0612345670002" and ship_to["id_qualifier"] == "16"  # N103 "9"
    assert ship_to["address"] == {"street": "1200 MAUMEE RIVER RD", "city": "PERRYSBURG",
                                  "region": "OH", "postal_code": "43551", "country": "US"}
    assert _party(data, "bill_to")["name"] == "GREAT LAKES DRIVETRAIN INC"  # N1*BT


def test_x12_855_order_response(corpus_dir: Path) -> None:
    data = _one(corpus_dir, "x12/855.edi").data
    assert data["order_number"] == "POTEST1112"
    assert data["status"] == "accepted"  # BAK02 "AD"
    assert data["response_number"] == "60169126"
    assert data["response_date"] == "2020-10-15"
    statuses = [(line["line_number"], line["status"], line["confirmed_quantity"])
                for line in data["lines"]]
    # ACK01 IA -> accepted, IR -> rejected
    assert statuses == [("1", "accepted", 3), ("2", "rejected", 0), ("3", "rejected", 0),
                        ("4", "accepted", 2)]
    assert data["lines"][1]["unit"] == "C62"  # X12 "UN" (unit) -> Rec 20 C62
    assert data["lines"][1]["unit_price"] == 15.99


def test_x12_856_despatch_advice_hierarchy(corpus_dir: Path) -> None:
    event = _one(corpus_dir, "x12/856.edi")
    data = event.data
    assert (event.event_type, event.version, event.business_key) == (
        "despatch_advice", 3, "829716")
    assert data["despatch_date"] == "2011-12-06"  # DTM*011 in the shipment HL
    assert data["carrier"] == "XXXX"
    assert data["tracking_number"] == "5787970539"  # REF*CN
    assert _party(data, "buyer")["name"] == "XYZ RETAIL"  # N1*OB
    assert [o["order_number"] for o in data["orders"]] == ["99999817"]  # PRF of the order HL
    items = data["orders"][0]["packs"][0]["items"]
    assert [(i["line_number"], i["supplier_part"], i["quantity"], i["unit"]) for i in items] == [
        ("1", "87787D", 24, "EA"), ("2", "99887D", 6, "EA")]
    # UPCs with a wrong check digit are kept as sent, each with a data-quality warning
    assert [i["gtin"] for i in items] == ["999999310145", "999999311746"]
    assert [(w.kind, w.severity, w.segment_tag, w.segment_position) for w in event.issues] == [
        ("data.check_digit", "warning", "LIN", 21), ("data.check_digit", "warning", "LIN", 26)]
    # the flat items carry the GTIN and every identifier too
    assert _plain(data["items"]) == [
        {"order_number": "99999817", "line_number": "1", "supplier_part": "87787D",
         "quantity": 24, "unit": "EA", "gtin": "999999310145"},
        {"order_number": "99999817", "line_number": "2", "supplier_part": "99887D",
         "quantity": 6, "unit": "EA", "gtin": "999999311746"}]
    assert [[(i["qualifier"], i["id"]) for i in item["identifiers"]] for item in data["items"]] \
        == [[("VP", "87787D"), ("UP", "999999310145")], [("VP", "99887D"), ("UP", "999999311746")]]


def test_x12_810_invoice(corpus_dir: Path) -> None:
    data = _one(corpus_dir, "x12/synthetic_810_caret_00403.x12").data
    assert data["invoice_number"] == "INV-260319-044"
    assert data["invoice_date"] == "2026-03-19"
    assert data["order_number"] == "4500123456"
    assert data["currency"] == "USD"
    assert data["total_amount"] == 273.3  # TDS01 27330 has two implied decimals
    assert _plain(data["lines"]) == [
        {"line_number": "1", "buyer_part": "GL-10035", "supplier_part": "CS-M10-35",
         "quantity": 1200, "unit": "EA", "unit_price": 0.184},
        {"line_number": "2", "buyer_part": "GL-10010", "supplier_part": "CS-W10",
         "quantity": 2500, "unit": "EA", "unit_price": 0.021}]
    assert [p["role"] for p in data["parties"]] == ["other", "bill_to"]  # N1*RE, N1*BT


def test_x12_830_forecast_schedule(corpus_dir: Path) -> None:
    event = _one(corpus_dir, "x12/stupidedi_004010_PS830_pass_1.edi")
    data = event.data
    assert event.business_key == "0259083902"
    assert data["schedule_type"] == "forecast"
    assert (data["issue_date"], data["horizon_start"], data["horizon_end"]) == (
        "2003-07-28", "2003-04-01", "2004-03-31")
    first = data["items"][0]
    assert first["buyer_part"] == "2371M5S111RE"
    assert first["unit"] == "PCE"  # UIT "PC" (piece)
    assert first["cumulative_received"] == 24  # SHP*02
    assert first["periods"][0] == {"start": "2003-04-01", "end": "2003-08-12", "quantity": 3,
                                   "commitment": "firm"}  # FST02 "C"
    assert {p["commitment"] for p in first["periods"][1:]} == {"forecast"}  # FST02 "D"
    assert len(first["periods"]) == 6
    # the N1 inside the LIN loop belongs to the item, not to the header parties
    assert [p["role"] for p in data["parties"]] == ["other", "bill_to"]


def test_x12_862_firm_schedule(corpus_dir: Path) -> None:
    data = _one(corpus_dir, "x12/stupidedi_004010_SS862_fail_1.edi").data
    assert data["schedule_number"] == "1234567890"
    assert data["schedule_type"] == "firm"
    assert data["issue_date"] == "2008-05-22"
    assert [(i["buyer_part"], i["unit"]) for i in data["items"]] == [
        ("20010JA000", "EA"), ("20010JA100", "EA")]
    assert data["items"][1]["periods"] == [
        {"start": "2008-04-15", "quantity": 1000, "commitment": "firm"}]


# --------------------------------------------------------------------------------- EDIFACT


def test_edifact_orders(corpus_dir: Path) -> None:
    events = _events(corpus_dir / "edifact/synthetic_orders_d96a_no_una.edi")
    assert [e.business_key for e in events] == ["NW4500201", "NW4500202"]
    data = events[0].data
    assert data["order_date"] == "2026-03-02"
    assert data["requested_delivery_date"] == "2026-03-10"
    assert data["purpose"] == "original"  # BGM 1225 "9"
    assert data["order_type"] == "220"
    assert data["currency"] == "EUR"
    assert [(p["role"], p["id"]) for p in data["parties"]] == [
        ("buyer", "4012345000108"), ("supplier", "4019876000010"),
        ("ship_to", "4012345002010")]
    assert [(line["line_number"], line["gtin"], line["quantity"]) for line in data["lines"]] == [
        ("1", "4019876001017", 2400), ("2", "4019876001185", 600)]
    assert [len(e.data["lines"]) for e in events] == [2, 3]


def test_edifact_orders_decimal_comma_and_datetime_format(corpus_dir: Path) -> None:
    data = _one(corpus_dir, "edifact/pydifact_order.edi").data
    assert data["order_date"] == "2015-08-03"  # DTM format 203 (CCYYMMDDHHMM)
    assert data["requested_delivery_date"] == "2015-08-06"
    assert _plain(data["lines"][0]) == {"line_number": "1", "gtin": "5020436373085",
                                        "quantity": 8}


def test_edifact_ordrsp(corpus_dir: Path) -> None:
    event = _one(corpus_dir, "edifact/synthetic_ordrsp_d96a_bom.txt")
    data = event.data
    assert event.business_key == "NW4500520"
    assert data["response_number"] == "LUS-OR-26-0412"
    assert data["response_date"] == "2026-03-31"
    assert data["status"] == "accepted_with_changes"  # BGM 1225 "4"
    assert [(line["line_number"], line["status"]) for line in data["lines"]] == [
        ("1", "accepted"), ("2", "changed"), ("3", "rejected")]  # LIN 1229 5 / 3 / 7
    assert _plain(data["lines"][1]) == {"line_number": "2", "status": "changed",
                                "supplier_part": "FL-CB-2218", "gtin": "5601234502183",
                                "ordered_quantity": 25,
                                "unit_price": 12.8, "confirmed_delivery_date": "2026-04-15"}


def test_edifact_desadv(corpus_dir: Path) -> None:
    data = _one(corpus_dir, "edifact/synthetic_desadv_version0.edi").data  # UNH "DESADV:0:96A"
    assert data["shipment_number"] == "LUS-0326-0077"
    assert data["despatch_date"] == "2026-03-26"
    assert [o["order_number"] for o in data["orders"]] == ["NW4500520", "NW4500521"]
    assert [(i["order_number"], i["line_number"], i["quantity"]) for i in data["items"]] == [
        ("NW4500520", "1", 40), ("NW4500521", "2", 25)]


def test_edifact_desadv_cps_packs(corpus_dir: Path) -> None:
    data = _one(corpus_dir, "edifact/synthetic_desadv_ean007_bom.txt").data
    assert data["despatch_date"] == "2026-04-02"  # DTM+11 wins over DTM+137
    assert data["expected_delivery_date"] == "2026-04-03"  # DTM+132
    packs = data["orders"][0]["packs"]
    assert data["orders"][0]["order_number"] == "NW4500800"  # header RFF+ON inherited
    assert _plain(packs[0]) == {"pack_id": "340198760000044015", "package_type": "CT",
                        "items": [{"line_number": "1", "gtin": "4019876001017",
                                   "quantity": 1200}]}
    assert [i["line_number"] for i in packs[1]["items"]] == ["2", "3"]
    assert len(packs) == 2  # the pallet (CPS+1) holds boxes, no item of its own
    assert _party(data, "ship_from")["id"] == "4019876000010"  # NAD+SH


def test_edifact_invoic(corpus_dir: Path) -> None:
    events = _events(corpus_dir / "edifact/synthetic_invoic_d96a.edi")
    data = events[0].data
    assert [e.business_key for e in events] == ["KF26-00481", "KF26-00482"]
    assert (data["invoice_date"], data["order_number"], data["currency"]) == (
        "2026-03-12", "NW4500201", "EUR")
    assert data["total_amount"] == 1328.04  # MOA+77
    assert data["tax_amount"] == 212.04  # MOA+176
    assert [(line["quantity"], line["unit_price"], line["amount"]) for line in data["lines"]] == [
        (2400, 0.42, 1008), (600, 0.18, 108)]


def test_edifact_aperak(corpus_dir: Path) -> None:
    rejected = _one(corpus_dir, "edifact/pydifact_v3_aperak_rejected.edi")
    assert rejected.event_type == "application_advice"
    assert rejected.business_key == "APERAK002"
    assert rejected.data["status"] == "rejected"
    assert rejected.data["reference_number"] == "PO123456"
    assert rejected.data["errors"] == [
        {"code": "12", "description": "Order rejected due to invalid product code"}]
    ours = _one(corpus_dir, "edifact/synthetic_aperak_d96a.edi").data
    assert ours["advice_date"] == "2026-03-13"  # format 203
    assert (ours["reference_type"], ours["reference_number"]) == ("AAK", "KF-DN-88312")
    assert ours["status"] == "rejected"  # BGM 1225 "27"
    assert ours["errors"] == [{"code": "14", "description": "ORDER NW4500209 UNKNOWN"}]


CORPUS_FILES = [
    "x12/850.edi",  # N103 "9": D-U-N-S+4, not a GLN
    "x12/synthetic_850_00302_at.x12", "x12/synthetic_850_lf.x12",
    "x12/synthetic_850_vics_del_nak.x12", "x12/synthetic_850_ebcdic_80col.x12",
    "x12/855.edi", "x12/synthetic_855_six_sets.x12", "x12/synthetic_855_bom.x12",
    "x12/stupidedi_004010_PR855_pass_1.edi",
    "x12/856.edi", "x12/synthetic_856_caret_00403.x12", "x12/synthetic_856_bom.x12",
    "x12/synthetic_810_caret_00403.x12", "x12/stupidedi_004010_IN810_pass_1.edi",
    "x12/stupidedi_004010_PS830_pass_1.edi", "x12/stupidedi_004010_SS862_fail_1.edi",
    "edifact/pydifact_order.edi", "edifact/synthetic_orders_d96a_no_una.edi",
    "edifact/synthetic_orders_two_interchanges.edi", "edifact/synthetic_orders_d01b_latin1.edi",
    "edifact/synthetic_orders_d03b_unoa4.edi", "edifact/synthetic_release_characters.edi",
    "edifact/synthetic_orders_invoic_two_groups.edi",
    "edifact/synthetic_desadv_version0.edi", "edifact/synthetic_desadv_d96a_multi.edi",
    "edifact/synthetic_desadv_ean007_bom.txt", "edifact/synthetic_ordrsp_d96a_bom.txt",
    "edifact/staedi_invoic_d97b.edi", "edifact/pydifact_invoice1.edi",
    "edifact/synthetic_invoic_d96a.edi", "edifact/synthetic_invoic_ung_bom.txt",
    "edifact/synthetic_invoic_d03b_una_repetition.edi",
    "edifact/synthetic_aperak_d96a.edi", "edifact/pydifact_v3_aperak.edi",
    "edifact/pydifact_v3_aperak_rejected.edi", "edifact/pydifact_v4_aperak.edi",
]

# Sample files whose party ids are declared GLNs (EDIFACT 3055 "9") but carry made-up numbers
# with a wrong check digit: the schema's GLN check is their only fault.
FAKE_GLN_FILES = [
    "edifact/synthetic_orders_una_unoc_9msgs.edi",  # a partner's test-system GLNs
]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_payload_passes_its_schema(corpus_dir: Path, name: str) -> None:
    from schemas import default_registry

    registry = default_registry()
    for event in _events(corpus_dir / name):
        problems = registry.validate(event.event_type, event.version, event.data)
        assert problems == [], f"{name}: {problems}"
        assert event.business_key == registry.business_key_of(event.event_type, event.data)


@pytest.mark.parametrize("name", FAKE_GLN_FILES)
def test_corpus_fake_glns_are_kept_with_a_warning(corpus_dir: Path, name: str) -> None:
    """Sample files carry made-up GLNs/GTINs: the events keep them as sent, pass their schema,
    and each wrong check digit is a data-quality warning (never an error)."""
    from schemas import default_registry

    registry = default_registry()
    events = _events(corpus_dir / name)
    for event in events:
        assert registry.validate(event.event_type, event.version, event.data) == []
    issues = [issue for event in events for issue in event.issues]
    assert issues and {(i.kind, i.severity) for i in issues} == {
        ("data.check_digit", "warning")}


def test_messages_missing_business_data_fail_their_schema(corpus_dir: Path) -> None:
    """One of the 24 call-offs is a cancellation (BGM 1225 "1") that names no line."""
    from schemas import default_registry

    registry = default_registry()
    events = _events(corpus_dir / "edifact/synthetic_orders_24_interchanges.edi")
    assert len(events) == 24
    failing = {
        event.data.get("order_number", "<none>"): sorted(
            (p["keyword"], p["pointer"]) for p in registry.validate(
                event.event_type, event.version, event.data))
        for event in events}
    failing = {number: found for number, found in failing.items() if found}
    assert failing == {"NW4500399": [("minItems", "/lines")]}
    assert next(e for e in events if e.business_key == "NW4500399").data["purpose"] == "cancel"
    schedule = _one(corpus_dir, "x12/synthetic_830_ucs.x12")  # BFR02 and BFR03 both empty
    problems = registry.validate(schedule.event_type, schedule.version, schedule.data)
    assert ("required", "/schedule_number") in {(p["keyword"], p["pointer"]) for p in problems}


def test_x12_party_qualifiers_are_read_in_the_shared_3055_terms(corpus_dir: Path) -> None:
    """X12 N103 "9" is a D-U-N-S+4 number (EDIFACT 3055 "16", D-U-N-S), not a GS1 GLN, which
    X12 calls "UL" and 3055 calls "9": the event model speaks 3055, so both paths agree."""
    from translators.mapping.values import code_list

    parties = _one(corpus_dir, "x12/850.edi").data["parties"]
    assert {p["id_qualifier"] for p in parties} == {"16"}
    table = code_list("x12/party_id_qualifier")
    assert [table.read(c) for c in ("9", "1", "UL", "ZZ", "92")] == ["16", "16", "9", "ZZZ",
                                                                     "92"]
    assert [table.write(v) for v in ("9", "16", "ZZZ", "92")] == ["UL", "1", "ZZ", "92"]
