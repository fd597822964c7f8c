"""Every item identifier of a line is kept: the conformance documents of tests/corpus/conformance
(one per supported message type and version family, written as partners write them: several
identifiers per line, repeated PIA, later directories, other delimiters, national characters)
with the identifiers, quantities and dates their events must carry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemas import default_registry
from translators import translate
from translators.mapping import MappedEvent, engine, to_event
from translators.syntax import parse

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "conformance"


def _events(name: str) -> list[MappedEvent]:
    result = parse((CORPUS / name).read_bytes())
    assert not [e for e in result.errors if e.severity == "error"], result.errors
    events = []
    for interchange in result.interchanges:
        for group in interchange.groups:
            for message in group.messages:
                event = to_event(message, interchange=interchange, group=group)
                assert event is not None
                assert [i for i in event.issues if i.severity == "error"] == []
                assert default_registry().validate(event.event_type, event.version,
                                                   event.data) == []
                events.append(event)
    return events


def _data(name: str) -> dict[str, Any]:
    (event,) = _events(name)
    return event.data


def _ids(line: dict[str, Any]) -> list[tuple[str | None, str, str | None]]:
    return [(i.get("qualifier"), i["id"], i.get("source")) for i in line["identifiers"]]


def _warnings(name: str) -> list[tuple[str, str, int | None]]:
    return [(i.kind, i.segment_tag, i.segment_position) for e in _events(name) for i in e.issues]


DOCUMENTS = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*")
                   if p.suffix in (".edi", ".x12"))
# Every directory's grammar is in the repository (generated), so the whole translation (grammar
# validation included) accepts every document, later directories (D97A, D01B, D04A, D10A) too.
OWN_GRAMMAR = DOCUMENTS


def test_the_corpus_has_every_supported_type_and_a_readme() -> None:
    types = {name.split("/")[1].split("_")[0] for name in DOCUMENTS}
    assert types == {"ORDERS", "ORDRSP", "ORDCHG", "DESADV", "INVOIC", "DELFOR", "DELJIT",
                     "INVRPT", "850", "855", "860", "856", "810", "830", "862", "846"}
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert "Apache-2.0" in readme and "written for this project" in readme


@pytest.mark.parametrize("name", OWN_GRAMMAR)
def test_documents_of_our_grammar_families_are_accepted_with_events(name: str) -> None:
    result = translate((CORPUS / name).read_bytes())
    assert result.messages
    for message in result.messages:
        assert message.status == "accepted", (name, [e.to_json() for e in message.errors])
        assert message.event is not None
        assert all(e.severity == "warning" for e in message.errors)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_line_loses_an_identifier_silently(name: str) -> None:
    """Every line either carries identifiers or is named in a data.no_identifier warning."""
    events = _events(name)
    warned = sum(1 for e in events for i in e.issues if i.kind == "data.no_identifier")
    lines = [line for e in events for key in ("lines", "items")
             for line in e.data.get(key, []) if "line_number" in line or key == "items"]
    assert lines
    assert sum(1 for line in lines if not line.get("identifiers")) <= warned


@pytest.mark.parametrize("name", DOCUMENTS)
def test_c_and_python_mapping_agree(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    results = []
    for accelerate in (True, False):
        monkeypatch.setattr(engine, "accelerate", accelerate)
        results.append([(e.data, [i.to_json() for i in e.issues]) for e in _events(name)])
    assert results[0] == results[1]


# ---------------------------------------------------------------------------------- EDIFACT


def test_orders_d96a_every_pia_repeat_and_composite() -> None:
    data = _data("edifact/ORDERS_D96A_multi_id.edi")
    first, second, third = data["lines"]
    assert _ids(first) == [("EN", "4006381333931", "LIN"), ("SA", "SP-88213", "PIA"),
                           ("BP", "BP-100-47", "PIA"), ("IN", "77-4471-00", "PIA"),
                           ("MF", "M8X40-DIN912", "PIA")]
    assert first["identifiers"][4]["meaning"] == "manufacturer's (producer's) article number"
    # convenient fields by the map's priority: BP before IN for the buyer's part
    assert (first["gtin"], first["buyer_part"], first["supplier_part"],
            first["manufacturer_part"]) == ("4006381333931", "BP-100-47", "SP-88213",
                                            "M8X40-DIN912")
    assert (first["quantity"], first["unit"], first["unit_price"]) == (500, "PCE", 0.18)
    assert first["requested_delivery_date"] == "2026-12-14"
    # LIN item number with SA (not a GTIN) is kept too
    assert _ids(second) == [("SA", "SP-99120", "LIN"), ("BP", "BP-100-48", "PIA")]
    assert second["requested_delivery_date"] == "2026-12-01"  # 718 range: its first day
    # a GTIN with a wrong check digit is kept as sent, with a warning on its LIN
    assert third["gtin"] == "5901234123458"
    assert third["requested_delivery_date"] == "2026-12-14"  # 616: Monday of ISO week 51
    assert _warnings("edifact/ORDERS_D96A_multi_id.edi") == [("data.check_digit", "LIN", 24)]
    assert data["order_date"] == "2026-12-07"  # 203 CCYYMMDDHHMM
    assert data["parties"][0]["name"] == "Müller Antriebstechnik GmbH"
    assert data["parties"][1]["address"]["street"] == "Industriestraße 12"


def test_orders_d01b_other_delimiters_and_a_line_without_identifier() -> None:
    data = _data("edifact/ORDERS_D01B_delimiters.edi")
    first, second, third = data["lines"]
    assert _ids(first) == [("SRV", "8712345000172", "LIN"), ("SA", "A-778", "PIA"),
                           ("BP", "C-12", "PIA"), ("MF", "MFR-9", "PIA")]
    assert first["quantity"] == 12.5 and first["unit"] == "KGM"  # decimal comma
    assert (second["buyer_part"], second["supplier_part"]) == ("X-1", "Y-2")  # IN, VP
    assert "identifiers" not in third and third["quantity"] == 1
    assert _warnings("edifact/ORDERS_D01B_delimiters.edi") == [("data.no_identifier", "LIN", 14)]
    assert data["requested_delivery_date"] == "2026-12-14"  # 201 YYMMDDHHMM


def test_ordrsp_d10a() -> None:
    data = _data("edifact/ORDRSP_D10A.edi")
    assert data["response_date"] == "2026-12-07"  # DTM 2379 = 201: read, not refused
    assert data["status"] == "accepted_with_changes"
    lines = data["lines"]
    assert [(line["status"], line["ordered_quantity"], line["confirmed_quantity"])
            for line in lines] == [("accepted", 500, 500), ("changed", 1200, 1000),
                                   ("rejected", 10, 0)]
    assert _ids(lines[0]) == [("SRV", "4006381333931", "LIN"), ("SA", "SP-88213", "PIA"),
                              ("BP", "BP-100-47", "PIA")]
    assert _ids(lines[1]) == [("SA", "SP-99120", "PIA"), ("BP", "BP-100-48", "PIA")]
    assert lines[0]["gtin"] == "4006381333931"
    assert lines[1]["confirmed_delivery_date"] == "2026-12-14"  # 616 week 51


def test_invoic_d01b_has_a_lin_rule_now() -> None:
    data = _data("edifact/INVOIC_D01B.edi")
    first, second = data["lines"]
    assert _ids(first) == [("SRV", "4006381333931", "LIN"), ("SA", "SP-88213", "PIA"),
                           ("BP", "BP-100-47", "PIA"), ("MF", "M8X40-DIN912", "PIA")]
    assert (first["gtin"], first["manufacturer_part"], first["quantity"], first["amount"]) == (
        "4006381333931", "M8X40-DIN912", 500, 90)
    assert (second["supplier_part"], second["buyer_part"], second["quantity"]) == (
        "SP-99120", "BP-100-48", 1000)
    assert (data["invoice_date"], data["total_amount"], data["tax_amount"]) == (
        "2026-12-15", 154.7, 24.7)


def test_delfor_d04a_periods_and_identifiers() -> None:
    data = _data("edifact/DELFOR_D04A.edi")
    first, second = data["items"]
    assert _ids(first) == [("SRV", "4006381333931", "LIN"), ("BP", "BP-100-47", "PIA"),
                           ("SA", "SP-88213", "PIA"), ("DR", "D-4471-C", "PIA")]
    assert first["identifiers"][3]["meaning"] == "drawing revision number"
    assert [(p["start"], p.get("end"), p["quantity"], p["commitment"])
            for p in first["periods"]] == [
        ("2026-12-14", None, 500, "firm"),
        ("2026-12-21", "2026-12-27", 600, "forecast"),  # 616: ISO week 52
        ("2027-01-01", "2027-01-31", 1800, "forecast")]  # 610: the month
    assert first["cumulative_received"] == 2500 and first["order_number"] == "PO-4711"
    assert _ids(second) == [("BP", "BP-100-48", "PIA")]
    assert second["periods"] == [{"start": "2026-12-21", "end": "2026-12-23", "quantity": 1200,
                                  "commitment": "firm"}]


def test_deljit_d97a() -> None:
    data = _data("edifact/DELJIT_D97A.edi")
    first, second = data["items"]
    assert _ids(first) == [("SRV", "4006381333931", "LIN"), ("BP", "BP-100-47", "PIA"),
                           ("SA", "SP-88213", "PIA")]
    assert [(p["start"], p["quantity"]) for p in first["periods"]] == [
        ("2026-12-08", 120), ("2026-12-08", 80)]  # 203 date-times, cut to the day
    assert _ids(second) == [("IN", "BP-100-48", "LIN"), ("SA", "SP-99120", "PIA")]
    assert second["buyer_part"] == "BP-100-48"
    assert second["periods"][0]["start"] == "2026-12-09"  # 201


def test_desadv_d96a_items_carry_gtin_and_identifiers() -> None:
    data = _data("edifact/DESADV_D96A_packs.edi")
    (order,) = data["orders"]
    (pack,) = order["packs"]
    assert pack["pack_id"] == "340123450000000017"
    first, second = pack["items"]
    assert _ids(first) == [("EN", "4006381333931", "LIN"), ("SA", "SP-88213", "PIA"),
                           ("BP", "BP-100-47", "PIA"), ("NB", "L2026-48", "PIA")]
    assert first["batch"] == "L2026-48" and first["quantity"] == 500
    assert _ids(second) == [("SA", "SP-99120", "LIN"), ("BP", "BP-100-48", "PIA"),
                            ("IN", "77-4472-00", "PIA")]
    flat = data["items"]
    assert [(i["line_number"], i.get("gtin"), i["quantity"]) for i in flat] == [
        ("1", "4006381333931", 500), ("2", None, 1000)]
    assert flat[0]["identifiers"] == first["identifiers"]
    assert (data["despatch_date"], data["expected_delivery_date"]) == ("2026-12-10",
                                                                      "2026-12-14")


def test_ordchg_d96a() -> None:
    data = _data("edifact/ORDCHG_D96A.edi")
    first, second = data["lines"]
    assert _ids(first) == [("EN", "4006381333931", "LIN"), ("SA", "SP-88213", "PIA"),
                           ("BP", "BP-100-47", "PIA")]
    assert (first["quantity"], first["requested_delivery_date"]) == (650, "2026-12-15")
    assert _ids(second) == [("SA", "SP-77001", "PIA"), ("BP", "BP-100-90", "PIA"),
                            ("MF", "MX-77", "PIA")]
    assert second["change"] == "cancel" and second["manufacturer_part"] == "MX-77"


def test_invrpt_d96a_bad_gtin_kept_with_a_warning() -> None:
    data = _data("edifact/INVRPT_D96A.edi")
    first, second = data["items"]
    assert _ids(first) == [("SRV", "4006381333931", "LIN"), ("BP", "BP-100-47", "PIA"),
                           ("SA", "SP-88213", "PIA")]
    assert first["quantities"] == [
        {"kind": "on_hand", "quantity": 12000, "unit": "PCE"},
        {"kind": "available", "quantity": 9500, "unit": "PCE", "date": "2026-12-06"}]
    assert second["gtin"] == "8712345000173"
    assert _warnings("edifact/INVRPT_D96A.edi") == [("data.check_digit", "LIN", 11)]


# --------------------------------------------------------------------------------------- X12


def test_850_004010_every_pair_of_po1() -> None:
    data = _data("x12/850_004010_multi_id.x12")
    first, second, third = data["lines"]
    assert _ids(first) == [("BP", "BP-100-47", "PO1"), ("VP", "SP-88213", "PO1"),
                           ("UP", "036000291452", "PO1"), ("MG", "M8X40-912", "PO1")]
    assert first["manufacturer_part"] == "M8X40-912" and first["gtin"] == "036000291452"
    assert (first["quantity"], first["unit_price"], first["requested_delivery_date"]) == (
        500, 0.18, "2026-12-14")
    assert _ids(second) == [("IN", "77-4472-00", "PO1"), ("VN", "SP-99120", "PO1"),
                            ("EN", "5901234123457", "PO1")]
    assert (second["buyer_part"], second["supplier_part"], second["gtin"]) == (
        "77-4472-00", "SP-99120", "5901234123457")
    assert second["requested_delivery_date"] == "2026-12-21"  # first SCH
    assert third["gtin"] == "10036000291450"  # wrong check digit: kept
    assert third["requested_delivery_date"] == "2026-12-30"
    assert _warnings("x12/850_004010_multi_id.x12") == [("data.check_digit", "PO1", 18)]


def test_850_005010() -> None:
    data = _data("x12/850_005010_repetition.x12")
    first, second = data["lines"]
    assert _ids(first) == [("BP", "BP-300-10", "PO1"), ("VP", "SP-30010", "PO1"),
                           ("UK", "10036000291459", "PO1"), ("SK", "SKU-88", "PO1")]
    assert first["identifiers"][3]["meaning"] == "stock keeping unit (SKU)"
    assert (first["quantity"], first["unit"]) == (48, "CS")
    assert _ids(second) == [("VC", "CAT-2026-77", "PO1"), ("CB", "CB-0091", "PO1")]
    assert (second["buyer_part"], second["supplier_part"]) == ("CB-0091", "CAT-2026-77")


def test_855_pairs_of_po1_and_ack() -> None:
    data = _data("x12/855_004010_ack.x12")
    first, second = data["lines"]
    assert _ids(first) == [("BP", "BP-100-47", "PO1"), ("VP", "SP-88213", "PO1"),
                           ("BP", "BP-100-47", "ACK"), ("VP", "SP-88213", "ACK"),
                           ("UP", "036000291452", "ACK")]
    assert (first["status"], first["confirmed_quantity"], first["confirmed_delivery_date"]) == (
        "accepted", 500, "2026-12-14")
    assert first["gtin"] == "036000291452"
    assert (second["ordered_quantity"], second["confirmed_quantity"]) == (1200, 1000)
    assert _ids(second) == [("IN", "77-4472-00", "PO1"), ("VN", "SP-99120", "PO1")]


def test_860_poc_pairs() -> None:
    data = _data("x12/860_004010_change.x12")
    first, second = data["lines"]
    assert _ids(first) == [("BP", "BP-100-47", "POC"), ("VP", "SP-88213", "POC"),
                           ("MG", "M8X40-912", "POC")]
    assert (first["quantity"], first["requested_delivery_date"]) == (650, "2026-12-15")
    assert second["change"] == "cancel" and _ids(second) == [("IN", "77-4472-00", "POC")]


def test_856_005010_items_carry_every_identifier() -> None:
    data = _data("x12/856_005010_hl.x12")
    items = data["orders"][0]["packs"][0]["items"]
    assert _ids(items[0]) == [("BP", "BP-100-47", "LIN"), ("VP", "SP-88213", "LIN"),
                              ("UP", "036000291452", "LIN"), ("LT", "L2026-48", "LIN")]
    assert (items[0]["gtin"], items[0]["batch"], items[0]["quantity"]) == (
        "036000291452", "L2026-48", 500)
    assert _ids(items[1]) == [("IN", "77-4472-00", "LIN"), ("VN", "SP-99120", "LIN")]
    assert [(i["line_number"], i.get("gtin")) for i in data["items"]] == [
        ("1", "036000291452"), ("2", None)]
    assert (data["despatch_date"], data["expected_delivery_date"], data["tracking_number"]) == (
        "2026-12-10", "2026-12-14", "PRO778812")


def test_810_it1_pairs() -> None:
    data = _data("x12/810_004010_invoice.x12")
    first, second = data["lines"]
    assert _ids(first) == [("BP", "BP-100-47", "IT1"), ("VP", "SP-88213", "IT1"),
                           ("UP", "036000291452", "IT1")]
    assert _ids(second) == [("IN", "77-4472-00", "IT1"), ("VN", "SP-99120", "IT1"),
                            ("MG", "M8-NUT-8", "IT1")]
    assert (second["quantity"], second["manufacturer_part"]) == (1000, "M8-NUT-8")
    assert data["total_amount"] == 130 and data["invoice_date"] == "2026-12-15"


def test_830_lin_pairs_beyond_the_short_list() -> None:
    data = _data("x12/830_004010_forecast.x12")
    first, second = data["items"]
    assert _ids(first) == [("BP", "BP-100-47", "LIN"), ("VP", "SP-88213", "LIN"),
                           ("PO", "4500012345", "LIN"), ("EC", "C", "LIN")]
    assert first["order_number"] == "4500012345"
    assert [(p["start"], p.get("end"), p["quantity"]) for p in first["periods"]] == [
        ("2026-12-14", None, 500), ("2026-12-21", None, 600), ("2027-01-01", "2027-01-31", 1800)]
    assert _ids(second) == [("BP", "BP-100-48", "LIN"), ("DR", "D-4472-B", "LIN")]


def test_862_lin_pairs() -> None:
    data = _data("x12/862_004010_jit.x12")
    first, second = data["items"]
    assert _ids(first)[:2] == [("BP", "BP-100-47", "LIN"), ("VP", "SP-88213", "LIN")]
    assert [(p["start"], p["quantity"]) for p in first["periods"]] == [
        ("2026-12-08", 120), ("2026-12-09", 80)]
    assert _ids(second) == [("IN", "77-4472-00", "LIN"), ("VN", "SP-99120", "LIN")]


def test_846_lin_pairs_and_a_bad_gtin14() -> None:
    data = _data("x12/846_004010_inventory.x12")
    first, second = data["items"]
    assert _ids(first) == [("BP", "BP-100-47", "LIN"), ("VP", "SP-88213", "LIN"),
                           ("UP", "036000291452", "LIN")]
    assert [(q["kind"], q["quantity"]) for q in first["quantities"]] == [
        ("available", 12000), ("on_hand", 9500)]
    assert second["gtin"] == "10036000291450"
    assert _warnings("x12/846_004010_inventory.x12") == [("data.check_digit", "LIN", 8)]


def test_x12_sln_and_lin_pairs_inside_a_po1_line() -> None:
    """Pairs of the PO1 loop's LIN and SLN (PO1-like segments) join the line's identifiers
    (mapping facts: whether a grammar of the repository knows SLN is the grammar's business)."""
    from tests.translators.edi_builders import x12

    data = x12(["BEG*00*SA*PO-1**20260105", "PO1*1*10*EA*2.5**BP*P-1",
                "LIN**SK*SKU-1*CH*DE", "SLN*1**I*4*EA*1.5***VP*S-1-A*MG*M-1-A", "CTT*1"])
    (interchange,) = parse(data).interchanges
    group = interchange.groups[0]
    event = to_event(group.messages[0], interchange=interchange, group=group)
    assert event is not None
    (line,) = event.data["lines"]
    assert _ids(line) == [("BP", "P-1", "PO1"), ("SK", "SKU-1", "LIN"), ("CH", "DE", "LIN"),
                          ("VP", "S-1-A", "SLN"), ("MG", "M-1-A", "SLN")]
    assert line["identifiers"][2]["meaning"] == "country of origin code"
    assert (line["buyer_part"], line["supplier_part"], line["manufacturer_part"]) == (
        "P-1", "S-1-A", "M-1-A")


# -- the wider synthetic set: message types and directories the copied samples lack -------------

WIDER = Path(__file__).resolve().parents[1] / "corpus"


def _wider(name: str) -> dict[str, Any]:
    [message] = translate((WIDER / name).read_bytes()).messages
    assert message.status == "accepted", [e.to_json() for e in message.errors]
    assert [e for e in message.errors if e.severity == "error"] == []
    return message.event.data


def _lines(data: dict[str, Any], key: str, *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(line.get(f) for f in fields) for line in data[key]]


def test_wider_ordrsp_d10a() -> None:
    data = _wider("edifact/synthetic_ordrsp_d10a.edi")
    assert (data["order_number"], data["response_date"]) == ("NW4500711", "2026-04-07")
    assert _lines(data, "lines", "status", "gtin", "supplier_part", "buyer_part",
                  "confirmed_delivery_date") == [
        ("accepted", "4019876001048", "KF-4411", "NW-88213", "2026-04-20"),
        ("changed", "4019876001116", "KF-4420", "NW-88220", "2026-04-27"),
        ("rejected", None, "KF-9001", "NW-99001", None)]


def test_wider_invoic_d01b() -> None:
    data = _wider("edifact/synthetic_invoic_d01b_ean011.edi")
    assert (data["total_amount"], data["tax_amount"], data["currency"]) == (313.39, 54.39, "EUR")
    assert _lines(data, "lines", "gtin", "supplier_part", "buyer_part", "quantity", "amount") == [
        ("5412345610021", "OK-CLIP-22", "NW-71001", 500, 155),
        ("5412345610199", "OK-GROM-30", "NW-71020", 200, 104)]
    assert ("NB", "L26-0401", "PIA") in _ids(data["lines"][0])


def test_wider_deljit_d04a_and_delfor_d97a() -> None:
    jit = _wider("edifact/synthetic_deljit_d04a.edi")
    assert [(i["buyer_part"], i["supplier_part"], [(p["start"], p["quantity"])
                                                   for p in i["periods"]])
            for i in jit["items"]] == [("NW-88213", "KF-4411", [("2026-04-08", 120)]),
                                       ("NW-88220", "KF-4420", [("2026-04-08", 400)])]
    delfor = _wider("edifact/synthetic_delfor_d97a.edi")
    first, second = delfor["items"]
    assert first["cumulative_received"] == 4200
    # D97A: each SCC opens the group of periods it commits
    assert [(p["start"], p.get("end"), p["quantity"], p["commitment"])
            for p in first["periods"]] == [
        ("2026-04-13", None, 120, "firm"), ("2026-04-20", None, 140, "firm"),
        ("2026-05-01", "2026-05-31", 600, "forecast")]
    assert second["periods"] == [{"start": "2026-04-13", "end": "2026-04-19", "quantity": 60,
                                  "commitment": "forecast"}]


def test_wider_desadv_d07a_invrpt_and_ordchg_d01b() -> None:
    desadv = _wider("edifact/synthetic_desadv_d07a.edi")
    [pack] = desadv["orders"][0]["packs"]
    assert pack["pack_id"] == "340198760000047115"
    [item] = pack["items"]
    assert (item["gtin"], item["buyer_part"], item["batch"], item["quantity"], item["unit"]) == (
        "5601234501025", "NW-66016", "B2604-17", 250, "MTR")
    stock = _wider("edifact/synthetic_invrpt_d01b.edi")
    assert [(q["kind"], q["quantity"]) for q in stock["items"][0]["quantities"]] == [
        ("on_hand", 12000), ("available", 500)]
    assert stock["items"][0]["location"] == "KONSI-GUETERSLOH"
    change = _wider("edifact/synthetic_ordchg_d01b.edi")
    assert _lines(change, "lines", "change", "gtin", "quantity") == [
        ("other", "4019876001048", 650), ("cancel", "4019876001116", 0)]


def test_wider_x12_schedules() -> None:
    forecast = _wider("x12/synthetic_830_005010_repetition.x12")
    [item] = forecast["items"]
    assert (item["buyer_part"], item["order_number"], item["cumulative_received"]) == (
        "GL-22014", "4500123456", 15380)
    assert [(p["start"], p["quantity"], p["commitment"]) for p in item["periods"]] == [
        ("2026-04-13", 400, "firm"), ("2026-04-20", 400, "firm"),
        ("2026-04-27", 450, "forecast"), ("2026-05-01", 1800, "forecast")]
    assert ("EC", "C", "LIN") in _ids(item)
    firm = _wider("x12/synthetic_862_004010_jit.x12")
    assert [(i["buyer_part"], sum(p["quantity"] for p in i["periods"]))
            for i in firm["items"]] == [("GL-30008", 12000), ("GL-30009", 6000)]


def test_wider_x12_orders_invoices_stock_and_shipments() -> None:
    stock = _wider("x12/synthetic_846_004010.x12")
    assert [(i.get("gtin"), i["supplier_part"], i["quantities"][0]["quantity"])
            for i in stock["items"]] == [("071234561001", "OP-CLIP-22", 25000),
                                         ("10712345610024", "OP-GROM-30", 8000)]
    ack = _wider("x12/synthetic_855_005010.x12")
    assert _lines(ack, "lines", "status", "confirmed_quantity") == [("accepted", 5000),
                                                                    ("backordered", 1000)]
    change = _wider("x12/synthetic_860_004010.x12")
    assert _lines(change, "lines", "change", "manufacturer_part") == [
        ("quantity", "M10X35-8.8"), ("cancel", None)]
    invoice = _wider("x12/synthetic_810_005010_side_loops.x12")
    assert (invoice["total_amount"], len(invoice["lines"])) == (802.08, 2)
    assert "tax_amount" not in invoice  # the line's TXI is the line's
    asn = _wider("x12/synthetic_856_005010_pallets.x12")
    [pack] = asn["orders"][0]["packs"]
    assert pack["pack_id"] == "340198760000091019"
    assert [(i["buyer_part"], i["quantity"]) for i in pack["items"]] == [("GL-10035", 1200)]
