"""Normalisation rules and the mapping engine on synthetic messages (types the corpus lacks)."""

from __future__ import annotations

import pytest

from schemas import default_registry
from tests.translators.edi_builders import without_identifiers as _plain
from translators.mapping import MappingError, to_event
from translators.mapping.engine import available_maps, check_map, load_map
from translators.mapping.values import (
    UnknownDateFormat,
    code_list,
    format_number,
    parse_edifact_period,
    parse_number,
    parse_x12_date,
)
from translators.syntax import parse

ISA = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240301*1200*U*"
       "00401*000000001*0*P*>~")


def x12(body: str, functional_id: str = "PO") -> bytes:
    segments = [s for s in body.split("~") if s]
    st = segments[0].split("*")
    text = (f"{ISA}GS*{functional_id}*SENDER*RECEIVER*20240301*1200*1*X*004010~{body}"
            f"SE*{len(segments) + 1}*{st[2]}~GE*1*1~IEA*1*000000001~")
    return text.encode()


def edifact(body: str, decimal: str = ".") -> bytes:
    count = body.count("'") + 1  # the body's segments plus UNT
    return (f"UNA:+{decimal}? 'UNB+UNOC:3+SENDER:ZZ+RECEIVER:ZZ+240301:1200+1'{body}"
            f"UNT+{count}+1'UNZ+1+1'").encode()


def _event(data: bytes, *, schema_valid: bool = True):
    result = parse(data)
    interchange = result.interchanges[0]
    group = interchange.groups[0]
    event = to_event(group.messages[0], interchange=interchange, group=group)
    if event is not None and schema_valid:
        registry = default_registry()
        assert registry.validate(event.event_type, event.version, event.data) == []
        assert event.business_key == registry.business_key_of(event.event_type, event.data)
    return event


# ------------------------------------------------------------------------------- values



@pytest.mark.parametrize(("raw", "expected"), [
    ("12", 12), ("1.00", 1), ("12,5", 12.5), ("-75", -75), (".5", 0.5), (" 3.25 ", 3.25),
    ("121212121212.121", 121212121212.121),
])
def test_numbers_are_normalised(raw: str, expected: float) -> None:
    value = parse_number(raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("raw", ["", "1.2.3", "12a", "NaN", "inf"])
def test_bad_numbers_are_refused(raw: str) -> None:
    with pytest.raises(MappingError, match="number"):
        parse_number(raw)


def test_number_formatting_round_trips() -> None:
    assert format_number(12.0) == "12"
    assert format_number(0.1) == "0.1"
    assert format_number(1e-7) == "0.0000001"
    assert format_number(12.5, ",") == "12,5"
    assert format_number(10**12) == "1000000000000"


def test_x12_dates() -> None:
    assert parse_x12_date("20240229") == "2024-02-29"
    assert parse_x12_date("971107") == "1997-11-07"  # YYMMDD, 50-99 -> 19xx
    assert parse_x12_date("240301") == "2024-03-01"  # 00-49 -> 20xx
    with pytest.raises(MappingError, match="not a valid calendar date"):
        parse_x12_date("20230229")
    with pytest.raises(MappingError, match="8 or 6 digits"):
        parse_x12_date("2024-03-01")


@pytest.mark.parametrize(("raw", "fmt", "start", "end"), [
    ("20240301", "102", "2024-03-01", None),
    ("202403011230", "203", "2024-03-01", None),
    ("20240301123059", "204", "2024-03-01", None),
    ("240301", "101", "2024-03-01", None),
    ("20240301-20240307", "718", "2024-03-01", "2024-03-07"),
    ("202410", "616", "2024-03-04", "2024-03-10"),  # ISO week 10 of 2024, Monday..Sunday
    ("202402", "610", "2024-02-01", "2024-02-29"),
    ("202401-202402", "715", "2024-01-01", "2024-01-14"),
    ("20240301", "", "2024-03-01", None),  # format missing: 102 is the default
    ("199910060000", "102", "1999-10-06", None),  # a 102 with a time appended (real senders)
])
def test_edifact_date_formats(raw: str, fmt: str, start: str, end: str | None) -> None:
    period = parse_edifact_period(raw, fmt)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(("raw", "fmt", "message"), [
    ("202453", "616", "not a valid ISO week"),
    ("20240301", "718", "range"),
    ("2024030", "102", "does not match its format"),
    ("20240230", "102", "not a valid calendar date"),
])
def test_bad_edifact_dates_are_refused(raw: str, fmt: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_edifact_period(raw, fmt)


def test_an_unknown_edifact_date_format_is_its_own_error() -> None:
    # (the engine turns it into a warning and leaves the value out; see test_datetime_formats)
    with pytest.raises(UnknownDateFormat, match="'999' is not known"):
        parse_edifact_period("20240301", "999")


def test_code_lists() -> None:
    purpose = code_list("x12/purpose")
    assert purpose.read("00") == "original"
    assert purpose.read("99") == "other"  # unknown codes fall back to the list default
    assert purpose.write("replace") == "05"
    units = code_list("x12/units")
    assert units.read("LB") == "LBR"
    assert units.read("XX") == "XX"  # unit lists keep codes they do not know
    assert units.write("LBR") == "LB"
    assert code_list("x12/ack_status").read("AC") == "accepted_with_changes"
    assert code_list("x12/line_status").read("IA") == "accepted"
    with pytest.raises(MappingError, match="unknown code list"):
        code_list("x12/nope")
    with pytest.raises(MappingError, match="no code for value"):
        code_list("x12/commitment").write("maybe")


def test_every_map_file_loads_and_is_sound() -> None:
    maps = available_maps()
    for standard, message in maps:
        spec = load_map(standard, message)
        assert spec is not None
        assert (spec["standard"], spec["message"]) == (standard, message)
        assert check_map(spec) == [], f"{standard}/{message}"
    for message in ("850", "855", "856", "860", "810", "846", "830", "862"):
        assert ("x12", message) in maps
    for message in ("ORDERS", "ORDCHG", "ORDRSP", "DESADV", "INVOIC", "INVRPT", "DELFOR",
                    "DELJIT", "APERAK"):
        assert ("edifact", message) in maps


# ------------------------------------------------------------------ synthetic messages


def test_x12_860_order_change() -> None:
    event = _event(x12(
        "ST*860*0001~BCH*04*SA*PO-77**3*20240302~N1*BY*Buyer Inc*92*B1~"
        "POC*1*QD*40**EA*2.5**BP*B-1*VP*S-1~DTM*002*20240310~POC*2*DI*0**EA~"
        "POC*3*PC*10**LB*3.75**BP*B-3~CTT*3~", "PC"))
    assert event is not None
    assert (event.event_type, event.business_key) == ("order_change", "PO-77")
    data = event.data
    assert (data["purpose"], data["change_number"], data["change_date"]) == (
        "replace", "3", "2024-03-02")
    assert _plain(data["lines"]) == [
        {"line_number": "1", "change": "quantity", "buyer_part": "B-1", "supplier_part": "S-1",
         "quantity": 40, "unit": "EA", "unit_price": 2.5, "requested_delivery_date": "2024-03-10"},
        {"line_number": "2", "change": "cancel", "quantity": 0, "unit": "EA"},
        {"line_number": "3", "change": "price", "buyer_part": "B-3", "quantity": 10,
         "unit": "LBR", "unit_price": 3.75}]


def test_x12_846_inventory_report() -> None:
    event = _event(x12(
        "ST*846*0001~BIA*00*MM*INV-7*20240301~N1*SU*Supplier*92*SUP1~"
        "LIN**BP*B-1*VP*S-1~QTY*17*120*EA~QTY*33*80.5*EA~N1*WH*Main*92*WH1~"
        "LIN**UP*036000291452~QTY*17*3*CA~", "IB"))
    assert event is not None
    data = event.data
    assert (event.event_type, data["report_number"], data["report_date"]) == (
        "inventory_report", "INV-7", "2024-03-01")
    first, second = data["items"]
    assert first["buyer_part"] == "B-1" and first["location"] == "WH1"
    assert first["quantities"] == [{"kind": "on_hand", "quantity": 120, "unit": "EA"},
                                   {"kind": "available", "quantity": 80.5, "unit": "EA"}]
    assert _plain(second) == {"gtin": "036000291452",
                      "quantities": [{"kind": "on_hand", "quantity": 3, "unit": "CS"}]}


def test_edifact_invrpt_inventory_report() -> None:
    event = _event(edifact(
        "UNH+1+INVRPT:D:96A:UN'BGM+35+INV-9+9'DTM+137:20240301:102'NAD+SU+SUP1::92'"
        "LIN+1++4006381333931:SRV'PIA+1+B-1:BP'LOC+18+WH1'QTY+145:120:PCE'"
        "DTM+179:20240229:102'QTY+198:80,5:PCE'", decimal=","))
    assert event is not None
    data = event.data
    assert (data["report_number"], data["report_date"]) == ("INV-9", "2024-03-01")
    assert _plain(data["items"]) == [{
        "gtin": "4006381333931", "buyer_part": "B-1", "location": "WH1",
        "quantities": [{"kind": "on_hand", "quantity": 120, "unit": "PCE", "date": "2024-02-29"},
                       {"kind": "available", "quantity": 80.5, "unit": "PCE"}]}]


def test_edifact_delfor_weekly_buckets_and_cumulative() -> None:
    event = _event(edifact(
        "UNH+1+DELFOR:D:96A:UN'BGM+241+SCH-1+9'DTM+137:20240301:102'NAD+BY+BUY1::92'UNS+D'"
        "GIS+37'NAD+ST+PLANT1::9'LIN+1++4711:IN'PIA+1+S-4711:SA'RFF+ON:PO-5'"
        "QTY+70:1500:PCE'QTY+1:100:PCE'SCC+1'DTM+2:20240304:102'"
        "QTY+1:250:PCE'SCC+4'DTM+2:202412:616'"))
    assert event is not None
    data = event.data
    assert (data["schedule_type"], event.business_key) == ("forecast", "SCH-1")
    assert [p["role"] for p in data["parties"]] == ["buyer"]  # the GIS NAD is a place
    (item,) = data["items"]
    assert (item["supplier_part"], item["order_number"], item["unit"]) == (
        "S-4711", "PO-5", "PCE")
    assert item["cumulative_received"] == 1500
    assert item["periods"] == [
        {"start": "2024-03-04", "quantity": 100, "commitment": "firm"},
        {"start": "2024-03-18", "end": "2024-03-24", "quantity": 250, "commitment": "forecast"}]


def test_unmapped_message_type_gives_none(corpus_dir) -> None:
    data = (corpus_dir / "x12/stupidedi_004010_SQ866_pass_1.edi").read_bytes()
    assert _event(data) is None


def test_impossible_date_is_a_clear_mapping_error() -> None:
    with pytest.raises(MappingError, match="'20230230' is not a valid calendar date"):
        _event(x12("ST*850*0001~BEG*00*SA*PO-1**20230230~PO1*1*1*EA~CTT*1~"))


def test_non_numeric_quantity_is_a_clear_mapping_error() -> None:
    with pytest.raises(MappingError, match="'twelve' is not a number"):
        _event(x12("ST*850*0001~BEG*00*SA*PO-1**20230201~PO1*1*twelve*EA~CTT*1~"))


def test_map_checker_finds_mistakes() -> None:
    spec = {"standard": "x12", "message": "850", "event_type": "purchase_order", "version": 1,
            "fields": [{"field": "a", "seg": "BEG", "el": "1", "type": "date"},
                       {"field": "b", "seg": "BEG", "codes": "x12/nope", "colour": "red"}],
            "lists": {"lines": {"fields": [{"field": "c"}]}}}
    assert sorted(check_map(spec)) == sorted([
        "850.a: unknown type 'date'", "850.b: unknown code list 'x12/nope'",
        "850.b: unknown key 'colour'", "850.lines: needs exactly one of 'start' and 'levels'",
        "850.lines.c: no segment"])


def test_map_lookup_refuses_odd_message_types() -> None:
    assert load_map("x12", "../850") is None
    assert load_map("edifact", "NOPE") is None


def test_hostile_hierarchy_ids_cannot_loop() -> None:
    # HL 1 claims HL 2 as parent and HL 2 claims HL 1: no cycle is built, nothing hangs.
    event = _event(x12(
        "ST*856*0001~BSN*00*SHIP-1*20240301~HL*1*2*S~HL*2*1*O~PRF*PO-1~HL*3*3*I~"
        "LIN*1*BP*B-1~SN1**5*EA~HL*2*2*I~LIN*2*BP*B-2~SN1**1*EA~CTT*4~", "SH"))
    assert event is not None
    data = event.data
    assert data["shipment_number"] == "SHIP-1"
    assert [(i["line_number"], i.get("order_number")) for i in data["items"]] == [
        ("1", None), ("2", "PO-1")]


def test_message_without_its_header_segment_maps_what_is_there() -> None:
    event = _event(x12("ST*850*0001~PO1*1*3*EA~CTT*1~"), schema_valid=False)
    assert event is not None
    assert "order_number" not in event.data  # the schema check rejects it, not a crash
    assert event.data["lines"] == [{"line_number": "1", "quantity": 3, "unit": "EA"}]


def test_very_deep_hierarchy_does_not_exhaust_the_stack() -> None:
    chain = "".join(f"HL*{n}*{n - 1}*X~" for n in range(2, 20_000))
    event = _event(x12(f"ST*856*0001~BSN*00*DEEP*20240301~HL*1**S~{chain}"
                       "HL*20000*19999*I~LIN*1*BP*B-1~SN1**2*EA~CTT*1~", "SH"))
    assert event is not None
    assert _plain(event.data["items"]) == [{"line_number": "1", "buyer_part": "B-1", "quantity": 2,
                                    "unit": "EA"}]
