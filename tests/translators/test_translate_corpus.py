"""Every corpus file a grammar covers validates as its source intended.

EXPECTED lists, per file, the message statuses and the error kinds we report. Files that pass
in their source project pass here; the ``*_fail_*`` fixtures and the negative tests fail with
the faults their sources describe. A few files break the standard in ways their sources (plain
parsers, not validators) never checked; each is named with the fault, so any change shows up.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from translators import translate

ACCEPTED = (["accepted"], [])
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    "edifact/0T0000000004.edi": ACCEPTED,
    "edifact/bots_sap_orders_1.edi": ACCEPTED,
    "edifact/dfdl_INVOIC_D.03B_Interchange_with_UNA.txt": ACCEPTED,
    "edifact/dfdl_ORDERS_D.03B_Interchange.txt": ACCEPTED,
    "edifact/dutchic_aperak1.edi": ACCEPTED,
    "edifact/dutchic_desadv1.edi": ACCEPTED,
    "edifact/edifabric_CONTRL.txt": ACCEPTED,
    "edifact/edifabric_DESADV_EAN007.txt": ACCEPTED,
    "edifact/edifabric_DuplicateInterchange.txt": ACCEPTED,
    "edifact/edifabric_INVOIC_with_UNG.txt": ACCEPTED,
    "edifact/edifabric_MixedTransactions.txt": ACCEPTED,
    "edifact/edifabric_ORDRSP_EAN009.txt": ACCEPTED,
    "edifact/invoic01.edi": ACCEPTED,
    # A validation suite: one of its orders has no line, so it has no purchase_order event and
    # is rejected (event.invalid), in the result and in the CONTRL alike.
    "edifact/orders02.edi": (["accepted", "rejected"], ["event.invalid"]),
    "edifact/orders96.edi": ACCEPTED,
    # BGM03 '700101' in a 3-character message function code (php-edifact only parses).
    "edifact/php-edifact_D96ADESADV.edi": (["rejected"], ["element.too_long"]),
    "edifact/php-edifact_example_utf8.edi": (["rejected"], ["element.too_long"]),
    # Units "GBND"/"PACK" are not UN/ECE Rec 20 codes (6411 is an..3): no valid event.
    "edifact/php-edifact_example_order_ok.edi": (["rejected"], ["event.invalid"]),
    # Not supply-chain messages: parsed and reported as unsupported, never dropped.
    "edifact/php-edifact_example_multiline.edi": (["unsupported"], ["message.segment_count"]),
    "edifact/php-edifact_example_release_character.edi": (["unsupported"],
                                                          ["message.segment_count"]),
    "edifact/pydifact_sage_coala.ped": (["unsupported"], ["message.segment_count"]),
    "edifact/pydifact_invoice1.edi": ACCEPTED,
    "edifact/pydifact_invoice_with_colon_at_end.edi": ACCEPTED,
    "edifact/pydifact_order.edi": ACCEPTED,
    # UNT01 says 8 segments, the messages hold 7.
    "edifact/pydifact_v3_aperak.edi": (["rejected"], ["message.segment_count"]),
    "edifact/pydifact_v3_aperak_rejected.edi": (["rejected"], ["message.segment_count"]),
    "edifact/pydifact_v4_aperak.edi": (["rejected"], ["message.segment_count"]),
    # Line 2 has no ordered quantity (only QTY+59, consumer units per traded unit).
    "edifact/sapstern_ORDERS_D01B.txt": (["rejected"], ["event.invalid"]),
    "edifact/sapstern_ORDERS_D96A_OPEN_TRANS.edi": (["accepted_with_errors"], []),
    "edifact/staedi_invoic_d93a_una.edi": (["rejected"], ["syntax.invalid_character"]),
    "edifact/staedi_invoic_d97b.edi": (["rejected"], ["syntax.invalid_character"]),
    "edifact/staedi_orders-with-group.edi": (["rejected"],
                                            ["element.too_long", "message.segment_count"]),
    "edifact/staedi_wrapped_invoic_d97b_una.edi": ACCEPTED,
    "x12/810_1.x12": ACCEPTED,
    # BFR02 and BFR03 both empty: a schedule without its number has no event.
    "x12/830-004010UCS-01.x12": (["rejected"], ["event.invalid"]),
    "x12/850-004010-01.x12": ACCEPTED,
    "x12/850-004010-03.x12": ACCEPTED,
    "x12/850-004010-ascii-lf.x12": ACCEPTED,
    "x12/850-004010-ascii-st.x12": ACCEPTED,
    "x12/850-004010VICS-01.x12": ACCEPTED,
    "x12/850-004030-01.x12": ACCEPTED,
    "x12/850-ebcdic.x12": ACCEPTED,
    "x12/850.edi": ACCEPTED,
    "x12/850_2.edi": ACCEPTED,
    "x12/850_fat.edi": ACCEPTED,
    "x12/855-004010UCS-01.x12": ACCEPTED,
    "x12/855.edi": ACCEPTED,
    # ISA11 '-' is the 004060 repetition separator, and the data uses '-' inside values.
    "x12/856.edi": (["rejected"], ["element.too_many_repetitions"]),
    "x12/856_1.x12": ACCEPTED,
    "x12/997-004010VICS-01.x12": ACCEPTED,
    "x12/997_6.x12": ACCEPTED,
    "x12/edifabric_x12_DuplicateInterchange.txt": ACCEPTED,
    "x12/edifabric_x12_PurchaseOrdersAcknowledgement.txt": ACCEPTED,
    # DTM*011*200: not a date.
    "x12/edifabric_x12_ShipNotice.txt": (["rejected"], ["element.invalid_date"]),
    # staedi negative tests: repetition/component separators inside AK3/AK4, bad codes.
    "x12/extraDelimiter997.edi": (["rejected"], [
        "element.invalid_character", "element.too_long", "element.too_many_components",
        "element.too_many_repetitions"]),
    "x12/invalid997.edi": (["rejected"], ["element.invalid_character", "element.too_long"]),
    "x12/imsweb_x12_999_rejected.txt": ACCEPTED,
    # The 003010 850 has no grammar (004010 and 005010 only): unsupported, not dropped.
    "x12/invoice810_po850_dual.edi": (["accepted", "unsupported"], []),
    "x12/mailbag01.x12": (["accepted", "rejected", "unsupported"],
                          ["message.duplicate_control"]),
    "x12/optionalInterchangeServices.edi": ACCEPTED,
    "x12/simple997-multiple-interchanges.edi": ACCEPTED,
    "x12/simple999.edi": ACCEPTED,
    "x12/stupidedi_004010_FA997_pass_1.edi": ACCEPTED,
    "x12/stupidedi_004010_IN810_pass_1.edi": ACCEPTED,
    "x12/stupidedi_004010_PR855_pass_1.edi": ACCEPTED,
    "x12/stupidedi_004010_PS830_pass_1.edi": ACCEPTED,
    "x12/stupidedi_004010_SH856_fail_2.edi": (["rejected"], [
        "element.too_long", "element.too_many", "hierarchy.unknown_parent",
        "message.segment_count", "segment.out_of_order"]),
    "x12/stupidedi_004010_SQ866_pass_1.edi": (["unsupported"], []),
    # The fault of this fixture is in its envelope (ISA split over a line, unpadded): the
    # interchange fails, the 862 inside is sound.
    "x12/stupidedi_004010_SS862_fail_1.edi": ACCEPTED,
}


def test_every_corpus_file_is_listed(corpus_dir: Path) -> None:
    files = {str(p.relative_to(corpus_dir)) for p in corpus_dir.glob("*/*") if p.suffix != ".md"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(corpus_dir: Path, name: str) -> None:
    statuses, kinds = EXPECTED[name]
    result = translate((corpus_dir / name).read_bytes())
    assert result.messages, "no message found"
    assert sorted({m.status for m in result.messages}) == statuses
    found = sorted({e.kind for m in result.messages for e in m.errors if e.severity == "error"})
    assert found == kinds


def test_ss862_fail_fixture_fails_at_interchange_level(corpus_dir: Path) -> None:
    result = translate((corpus_dir / "x12/stupidedi_004010_SS862_fail_1.edi").read_bytes())
    assert not result.ok
    kinds = {e.kind for e in result.interchanges[0].errors}
    assert {"isa.authorization", "isa.sender_id"} <= kinds
    assert translate((corpus_dir / "x12/stupidedi_004010_SS862_fail_1.edi").read_bytes(),
                     lenient=False).messages[0].status == "rejected"


def test_sh856_fail_fixture_positions(corpus_dir: Path) -> None:
    result = translate((corpus_dir / "x12/stupidedi_004010_SH856_fail_2.edi").read_bytes())
    errors = {(e.kind, e.segment_tag, e.segment_position, e.element_position)
              for e in result.messages[0].errors}
    assert ("segment.out_of_order", "PRF", 12, None) in errors
    assert ("hierarchy.unknown_parent", "HL", 17, 2) in errors
    assert ("element.too_many", "N1", 11, 7) in errors
    hl = next(e for e in result.messages[0].errors if e.kind == "hierarchy.unknown_parent")
    assert hl.line is not None and hl.offset is not None and hl.message_control == "0000001"


def test_inbound_999_read_back(corpus_dir: Path) -> None:
    result = translate((corpus_dir / "x12/imsweb_x12_999_rejected.txt").read_bytes())
    message = result.messages[0]
    assert message.event is not None and message.event.event_type == "functional_ack"
    data = message.event.data
    assert data["ack_type"] == "999" and data["status"] == "rejected"
    assert message.reported_errors, "the partner's faults become EdiErrors"


def test_inbound_contrl_read_back(corpus_dir: Path) -> None:
    result = translate((corpus_dir / "edifact/edifabric_CONTRL.txt").read_bytes())
    events = [m.event.data for m in result.messages]
    assert [e["ack_type"] for e in events] == ["CONTRL", "CONTRL"]
    assert all(e["acknowledged_interchange"] for e in events)
    assert result.interchanges[0].ack_kind == ""  # no CONTRL for a CONTRL


def test_inbound_997_read_back(corpus_dir: Path) -> None:
    result = translate((corpus_dir / "x12/simple997-multiple-interchanges.edi").read_bytes())
    data = result.messages[0].event.data
    assert data["ack_type"] == "997"
    assert data["acknowledged_group"]
    errors = [e for m in data["messages"] for e in m.get("errors", [])]
    assert errors and all("code" in e for e in errors)
    kinds = {e.kind for e in result.messages[0].reported_errors}
    assert kinds and kinds <= {k for k in kinds if "." in k}
