"""Every corpus file a grammar covers validates as its source intended.

EXPECTED lists, per file, the message statuses and the error kinds we report. Files that pass
in their source project pass here; the ``*_fail_*`` fixtures and the negative tests fail with
the faults their sources describe. A few files break the standard in ways their sources (plain
parsers, not validators) never checked; each is named with the fault, so any change shows up.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ALL_CORPUS_FILES, corpus_id
from translators import translate

ACCEPTED = (["accepted"], [])
STATUSES = {"accepted", "accepted_with_errors", "rejected", "unsupported"}
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    "edifact/pydifact_invoice1.edi": ACCEPTED,
    "edifact/pydifact_invoice_with_colon_at_end.edi": ACCEPTED,
    "edifact/pydifact_order.edi": ACCEPTED,
    "edifact/pydifact_sage_coala.ped": (["unsupported"], ["message.segment_count"]),
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
    "edifact/synthetic_aperak_d96a.edi": ACCEPTED,
    "edifact/synthetic_contrl_v4_bom.txt": ACCEPTED,
    "edifact/synthetic_desadv_d96a_multi.edi": ACCEPTED,
    "edifact/synthetic_desadv_ean007_bom.txt": ACCEPTED,
    # UTF-8 bytes under UNOC (Latin-1): read, flagged, not refused.
    "edifact/synthetic_desadv_utf8_unoc.edi": (["accepted_with_errors"], []),
    "edifact/synthetic_desadv_version0.edi": ACCEPTED,
    "edifact/synthetic_duplicate_interchange.edi": ACCEPTED,
    "edifact/synthetic_invoic_d03b_una_repetition.edi": ACCEPTED,
    "edifact/synthetic_invoic_d96a.edi": ACCEPTED,
    "edifact/synthetic_invoic_ung_bom.txt": ACCEPTED,
    "edifact/synthetic_multiline.edi": ACCEPTED,
    # As in the validation suite it stands for, one of the 24 orders has no line: no
    # purchase_order event, so that message is rejected (event.invalid), result and CONTRL alike.
    "edifact/synthetic_orders_24_interchanges.edi": (["accepted", "rejected"], ["event.invalid"]),
    "edifact/synthetic_orders_d01b_latin1.edi": ACCEPTED,
    "edifact/synthetic_orders_d03b_unoa4.edi": ACCEPTED,
    "edifact/synthetic_orders_d96a_no_una.edi": ACCEPTED,
    "edifact/synthetic_orders_invoic_two_groups.edi": ACCEPTED,
    "edifact/synthetic_orders_two_interchanges.edi": ACCEPTED,
    "edifact/synthetic_orders_una_unoc_9msgs.edi": ACCEPTED,
    "edifact/synthetic_ordrsp_d96a_bom.txt": ACCEPTED,
    "edifact/synthetic_release_characters.edi": ACCEPTED,
    "x12/850.edi": ACCEPTED,
    "x12/850_2.edi": ACCEPTED,
    "x12/850_fat.edi": ACCEPTED,
    "x12/855.edi": ACCEPTED,
    # ISA11 '-' is the 004060 repetition separator, and the data uses '-' inside values.
    "x12/856.edi": (["rejected"], ["element.too_many_repetitions"]),
    # staedi negative tests: repetition/component separators inside AK3/AK4, bad codes.
    "x12/extraDelimiter997.edi": (["rejected"], [
        "element.invalid_character", "element.too_long", "element.too_many_components",
        "element.too_many_repetitions"]),
    "x12/imsweb_x12_999_rejected.txt": ACCEPTED,
    "x12/invalid997.edi": (["rejected"], ["element.invalid_character", "element.too_long"]),
    # The 003010 850 has no grammar (004010 and 005010 only): unsupported, not dropped.
    "x12/invoice810_po850_dual.edi": (["accepted", "unsupported"], []),
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
    "x12/synthetic_810_caret_00403.x12": ACCEPTED,
    # BFR02 and BFR03 both empty: a schedule without its number has no event.
    "x12/synthetic_830_ucs.x12": (["rejected"], ["event.invalid"]),
    "x12/synthetic_850_00200.x12": ACCEPTED,
    "x12/synthetic_850_00302_at.x12": ACCEPTED,
    "x12/synthetic_850_ebcdic_80col.x12": ACCEPTED,
    "x12/synthetic_850_lf.x12": ACCEPTED,
    "x12/synthetic_850_tilde_crlf.x12": ACCEPTED,
    "x12/synthetic_850_vics_del_nak.x12": ACCEPTED,
    "x12/synthetic_855_bom.x12": ACCEPTED,
    "x12/synthetic_855_six_sets.x12": ACCEPTED,
    "x12/synthetic_856_bom.x12": ACCEPTED,
    "x12/synthetic_856_caret_00403.x12": ACCEPTED,
    "x12/synthetic_997_nak.x12": ACCEPTED,
    "x12/synthetic_duplicate_interchange.x12": ACCEPTED,
    "x12/synthetic_mailbag.x12": ACCEPTED,
    # The wider synthetic set (tests/corpus/SOURCES.md): standard-conformant, every one accepted.
    "edifact/synthetic_delfor_d97a.edi": ACCEPTED,
    "edifact/synthetic_deljit_d04a.edi": ACCEPTED,
    "edifact/synthetic_desadv_d07a.edi": ACCEPTED,
    "edifact/synthetic_invoic_d01b_ean011.edi": ACCEPTED,
    "edifact/synthetic_invrpt_d01b.edi": ACCEPTED,
    "edifact/synthetic_ordchg_d01b.edi": ACCEPTED,
    "edifact/synthetic_ordrsp_d10a.edi": ACCEPTED,
    "x12/synthetic_810_005010_side_loops.x12": ACCEPTED,
    "x12/synthetic_830_005010_repetition.x12": ACCEPTED,
    "x12/synthetic_846_004010.x12": ACCEPTED,
    "x12/synthetic_855_005010.x12": ACCEPTED,
    "x12/synthetic_856_005010_pallets.x12": ACCEPTED,
    "x12/synthetic_860_004010.x12": ACCEPTED,
    "x12/synthetic_862_004010_jit.x12": ACCEPTED,
}


def test_every_corpus_file_is_listed(corpus_dir: Path) -> None:
    files = {str(p.relative_to(corpus_dir)) for p in corpus_dir.glob("*/*")
             if p.is_file() and p.suffix != ".md"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(corpus_dir: Path, name: str) -> None:
    statuses, kinds = EXPECTED[name]
    result = translate((corpus_dir / name).read_bytes())
    assert result.messages, "no message found"
    assert sorted({m.status for m in result.messages}) == statuses
    found = sorted({e.kind for m in result.messages for e in m.errors if e.severity == "error"})
    assert found == kinds


@pytest.mark.parametrize("path", ALL_CORPUS_FILES, ids=corpus_id)
def test_every_file_translates_with_a_status_per_message(path: Path) -> None:
    """Extra corpus files included: no traceback, every message gets one known status, and a
    message that is refused says why."""
    result = translate(path.read_bytes())
    for message in result.messages:
        assert message.status in STATUSES, message.status
        if message.status == "rejected":
            assert any(e.severity == "error" for e in message.errors)


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
    result = translate((corpus_dir / "edifact/synthetic_contrl_v4_bom.txt").read_bytes())
    events = [m.event.data for m in result.messages]
    assert [e["ack_type"] for e in events] == ["CONTRL", "CONTRL"]
    assert [e["acknowledged_interchange"] for e in events] == ["NW0000301", "NW0000302"]
    assert [e["status"] for e in events] == ["accepted", "accepted"]  # UCI 0083 "7"
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
