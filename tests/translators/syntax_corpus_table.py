"""Per-file expectations for the repository corpus (tests/corpus), established without our parser.

Counts, message types and control numbers come from a naive scan of the raw bytes: split at the
segment terminator (X12: the byte after ISA16 of each interchange, EBCDIC decoded as cp037;
EDIFACT: UNA or the default "'", not after the release character), then read the tag and
ISA13 / ST02 / UNB05 / UNH01 / UNH02. The scan was checked by hand against SOURCES.md.
Expected faults were confirmed by reading each file (e.g. pydifact_v3_aperak: UNH..UNT are 7
segments while UNT01 says 8; stupidedi SS862: ISA fields not padded to their fixed widths;
pydifact_order: no UNZ at all; the two synthetic duplicate files repeat one interchange with its
control number; synthetic_desadv_utf8_unoc: UTF-8 bytes under UNOC, which declares Latin-1).

row: (interchanges, explicit groups (GS/UNG), messages, message types, interchange controls,
      message controls, fault kinds)
"""

from __future__ import annotations

Row = tuple[int, int, int, list[str], list[str], list[str], set[str]]

EXPECTED: dict[str, Row] = {
    "edifact/pydifact_invoice1.edi": (1, 0, 1, ["INVOIC"], ["PAYO0012101221"], ["1"], set()),
    "edifact/pydifact_invoice_with_colon_at_end.edi": (1, 0, 1, ["INVOIC"], ["PAYO0012101221"], ["1"], set()),  # noqa: E501
    "edifact/pydifact_order.edi": (1, 0, 1, ["ORDERS"], ["807"], ["1"], {"interchange.missing_trailer"}),  # noqa: E501
    "edifact/pydifact_sage_coala.ped": (1, 1, 1, ["INFENT"], ["20241861032cor"], ["00001"], {"detect.leading_junk", "detect.unknown_charset", "message.segment_count"}),  # noqa: E501
    "edifact/pydifact_v3_aperak.edi": (1, 0, 1, ["APERAK"], ["000000002"], ["1"], {"message.segment_count"}),  # noqa: E501
    "edifact/pydifact_v3_aperak_rejected.edi": (1, 0, 1, ["APERAK"], ["000000003"], ["1"], {"message.segment_count"}),  # noqa: E501
    "edifact/pydifact_v4_aperak.edi": (1, 0, 1, ["APERAK"], ["000000005"], ["1"], {"message.segment_count"}),  # noqa: E501
    "edifact/sapstern_ORDERS_D01B.txt": (1, 0, 1, ["ORDERS"], ["1"], ["1"], set()),
    "edifact/sapstern_ORDERS_D96A_OPEN_TRANS.edi": (1, 0, 1, ["ORDERS"], ["0"], ["70-0639880"], {"detect.charset_mismatch"}),  # noqa: E501
    "edifact/staedi_invoic_d93a_una.edi": (1, 0, 1, ["INVOIC"], ["9908021557"], ["INVOIC0001"], {"syntax.invalid_character"}),  # noqa: E501
    "edifact/staedi_invoic_d97b.edi": (1, 0, 1, ["INVOIC"], ["00000000000778"], ["00000000000117"], {"syntax.invalid_character"}),  # noqa: E501
    "edifact/staedi_orders-with-group.edi": (1, 1, 1, ["ORDERS"], ["2722166169492"], ["1"], {"message.segment_count"}),  # noqa: E501
    "edifact/staedi_wrapped_invoic_d97b_una.edi": (1, 0, 1, ["INVOIC"], ["00000000000778"], ["00000000000117"], set()),  # noqa: E501
    "edifact/synthetic_aperak_d96a.edi": (1, 0, 1, ["APERAK"], ["NW0000310"], ["1"], set()),
    "edifact/synthetic_contrl_v4_bom.txt": (1, 0, 2, ["CONTRL"], ["KF0000046"], ["C1", "C2"], set()),  # noqa: E501
    "edifact/synthetic_desadv_d96a_multi.edi": (1, 0, 4, ["DESADV"], ["KF0000045"], ["1", "2", "3", "4"], set()),  # noqa: E501
    "edifact/synthetic_desadv_ean007_bom.txt": (1, 0, 1, ["DESADV"], ["KF0000052"], ["KF88400"], set()),  # noqa: E501
    "edifact/synthetic_desadv_utf8_unoc.edi": (1, 0, 1, ["DESADV"], ["TO0000093"], ["1"], {"detect.charset_mismatch"}),  # noqa: E501
    "edifact/synthetic_desadv_version0.edi": (1, 0, 1, ["DESADV"], ["LU000077"], ["77"], set()),
    "edifact/synthetic_duplicate_interchange.edi": (2, 0, 2, ["DESADV"], ["OK0000520", "OK0000520"], ["1", "1"], {"interchange.duplicate_control"}),  # noqa: E501
    "edifact/synthetic_invoic_d03b_una_repetition.edi": (1, 0, 1, ["INVOIC"], ["TO0000110"], ["1"], set()),  # noqa: E501
    "edifact/synthetic_invoic_d96a.edi": (1, 0, 2, ["INVOIC"], ["KF0000044"], ["1", "2"], set()),
    "edifact/synthetic_invoic_ung_bom.txt": (1, 1, 1, ["INVOIC"], ["LU000090"], ["1"], set()),
    "edifact/synthetic_multiline.edi": (1, 0, 1, ["ORDERS"], ["NW0000403"], ["1"], set()),
    "edifact/synthetic_orders_24_interchanges.edi": (24, 0, 24, ["ORDERS"], ["NW260304001", "NW260304002", "NW260304003", "NW260304004", "NW260304005", "NW260304006", "NW260304007", "NW260304008", "NW260304009", "NW260304010", "NW260304011", "NW260304012", "NW260304013", "NW260304014", "NW260304015", "NW260304016", "NW260304017", "NW260304018", "NW260304019", "NW260304020", "NW260304021", "NW260304022", "NW260304023", "NW260304024"], ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24"], set()),  # noqa: E501
    "edifact/synthetic_orders_d01b_latin1.edi": (1, 0, 1, ["ORDERS"], ["NW0000401"], ["NW4500700"], set()),  # noqa: E501
    "edifact/synthetic_orders_d03b_unoa4.edi": (1, 0, 1, ["ORDERS"], ["NW0000501"], ["NW4501000"], set()),  # noqa: E501
    "edifact/synthetic_orders_d96a_no_una.edi": (1, 0, 2, ["ORDERS"], ["NW0000301"], ["1", "2"], set()),  # noqa: E501
    "edifact/synthetic_orders_invoic_two_groups.edi": (1, 2, 2, ["INVOIC", "ORDERS"], ["VAN0000091"], ["O1", "I1"], set()),  # noqa: E501
    "edifact/synthetic_orders_two_interchanges.edi": (2, 0, 3, ["ORDERS"], ["NW0000302", "NW0000303"], ["M1", "M2", "M1"], set()),  # noqa: E501
    "edifact/synthetic_orders_una_unoc_9msgs.edi": (1, 0, 9, ["ORDERS"], ["9"], ["200", "201", "202", "203", "204", "205", "206", "207", "208"], set()),  # noqa: E501
    "edifact/synthetic_ordrsp_d96a_bom.txt": (1, 0, 1, ["ORDRSP"], ["LU000081"], ["LU0412"], set()),
    "edifact/synthetic_release_characters.edi": (1, 0, 1, ["ORDERS"], ["NW0000402"], ["1"], set()),
    "x12/850.edi": (1, 1, 1, ["850"], ["000003438"], ["000000010"], set()),
    "x12/850_2.edi": (1, 1, 1, ["850"], ["000003438"], ["000000010"], set()),
    "x12/850_fat.edi": (2, 2, 2, ["850"], ["000003438", "000003438"], ["000000010", "000000010"], {"interchange.duplicate_control"}),  # noqa: E501
    "x12/855.edi": (1, 1, 1, ["855"], ["000000005"], ["0005"], set()),
    "x12/856.edi": (1, 1, 1, ["856"], ["000000049"], ["0008"], set()),
    "x12/extraDelimiter997.edi": (1, 1, 1, ["997"], ["508121953"], ["0001"], set()),
    "x12/imsweb_x12_999_rejected.txt": (1, 1, 1, ["999"], ["095832987"], ["95832987"], set()),
    "x12/invalid997.edi": (1, 1, 1, ["997"], ["508121953"], ["0001"], set()),
    "x12/invoice810_po850_dual.edi": (1, 2, 3, ["810", "850"], ["000000020"], ["000000001", "000000002", "000191240"], set()),  # noqa: E501
    "x12/optionalInterchangeServices.edi": (1, 1, 1, ["997"], ["000003438"], ["0001"], set()),
    "x12/simple997-multiple-interchanges.edi": (3, 3, 3, ["997"], ["000000001", "000000002", "000000003"], ["0001", "0001", "0001"], set()),  # noqa: E501
    "x12/simple999.edi": (1, 1, 1, ["999"], ["000000286"], ["2870001"], set()),
    "x12/stupidedi_004010_FA997_pass_1.edi": (1, 1, 1, ["997"], ["300044350"], ["300044350"], {"envelope.isa_width", "isa.sender_id"}),  # noqa: E501
    "x12/stupidedi_004010_IN810_pass_1.edi": (1, 1, 1, ["810"], ["005639689"], ["5639689"], set()),
    "x12/stupidedi_004010_PR855_pass_1.edi": (1, 1, 1, ["855"], ["000002419"], ["000002015"], set()),  # noqa: E501
    "x12/stupidedi_004010_PS830_pass_1.edi": (1, 1, 1, ["830"], ["000000767"], ["000503141"], {"envelope.isa_width", "isa.receiver_id"}),  # noqa: E501
    "x12/stupidedi_004010_SH856_fail_2.edi": (1, 1, 1, ["856"], ["000000089"], ["0000001"], {"message.segment_count"}),  # noqa: E501
    "x12/stupidedi_004010_SQ866_pass_1.edi": (1, 1, 1, ["866"], ["000000001"], ["0001"], {"envelope.isa_width", "isa.authorization", "isa.receiver_id", "isa.security", "isa.sender_id"}),  # noqa: E501
    "x12/stupidedi_004010_SS862_fail_1.edi": (1, 1, 1, ["862"], ["000000001"], ["0001"], {"envelope.isa_width", "isa.authorization", "isa.receiver_id", "isa.security", "isa.sender_id"}),  # noqa: E501
    "x12/synthetic_810_caret_00403.x12": (1, 1, 1, ["810"], ["000000413"], ["4130"], set()),
    "x12/synthetic_830_ucs.x12": (1, 1, 1, ["830"], ["000000905"], ["9050001"], set()),
    "x12/synthetic_850_00200.x12": (1, 1, 1, ["850"], ["000000319"], ["3190"], set()),
    "x12/synthetic_850_00302_at.x12": (1, 1, 1, ["850"], ["000000318"], ["3180"], set()),
    "x12/synthetic_850_ebcdic_80col.x12": (1, 1, 1, ["850"], ["000000877"], ["0877"], set()),
    "x12/synthetic_850_lf.x12": (1, 1, 1, ["850"], ["000004711"], ["0001"], set()),
    "x12/synthetic_850_tilde_crlf.x12": (1, 1, 1, ["850"], ["000004712"], ["0001"], set()),
    "x12/synthetic_850_vics_del_nak.x12": (1, 1, 6, ["850"], ["000002260"], ["000005201", "000005202", "000005203", "000005204", "000005205", "000005206"], set()),  # noqa: E501
    "x12/synthetic_855_bom.x12": (1, 1, 1, ["855"], ["000000552"], ["5520"], set()),
    "x12/synthetic_855_six_sets.x12": (1, 1, 6, ["855"], ["000003021"], ["0001", "0002", "0003", "0004", "0005", "0006"], set()),  # noqa: E501
    "x12/synthetic_856_bom.x12": (1, 1, 1, ["856"], ["000000551"], ["5510"], set()),
    "x12/synthetic_856_caret_00403.x12": (1, 1, 1, ["856"], ["000000412"], ["4120"], set()),
    "x12/synthetic_997_nak.x12": (1, 1, 1, ["997"], ["000001902"], ["19020001"], set()),
    "x12/synthetic_duplicate_interchange.x12": (2, 2, 2, ["850"], ["000000264", "000000264"], ["0001", "0001"], {"interchange.duplicate_control"}),  # noqa: E501
    "x12/synthetic_mailbag.x12": (4, 4, 5, ["850", "855", "856", "997"], ["000001902", "000000553", "000000265", "000003022"], ["19020001", "5530", "0001", "0002", "0001"], set()),  # noqa: E501
    "edifact/synthetic_delfor_d97a.edi": (1, 0, 1, ["DELFOR"], ["NWF002614"], ["F2614"], set()),
    "edifact/synthetic_deljit_d04a.edi": (1, 0, 1, ["DELJIT"], ["NWJ000408"], ["J1"], set()),
    "edifact/synthetic_desadv_d07a.edi": (1, 0, 1, ["DESADV"], ["LU0000907"], ["D907"], set()),
    "edifact/synthetic_invoic_d01b_ean011.edi": (1, 0, 1, ["INVOIC"], ["OK0000612"], ["OK4410"], set()),  # noqa: E501
    "edifact/synthetic_invrpt_d01b.edi": (1, 0, 1, ["INVRPT"], ["KF0000415"], ["IR15"], set()),
    "edifact/synthetic_ordchg_d01b.edi": (1, 0, 1, ["ORDCHG"], ["NWC000711"], ["C711"], set()),
    "edifact/synthetic_ordrsp_d10a.edi": (1, 0, 1, ["ORDRSP"], ["KF0000311"], ["1"], set()),
    "x12/synthetic_810_005010_side_loops.x12": (1, 1, 1, ["810"], ["000007781"], ["0001"], set()),
    "x12/synthetic_830_005010_repetition.x12": (1, 1, 1, ["830"], ["000006152"], ["0001"], set()),
    "x12/synthetic_846_004010.x12": (1, 1, 1, ["846"], ["000000846"], ["8460"], set()),
    "x12/synthetic_855_005010.x12": (1, 1, 1, ["855"], ["000000855"], ["8550"], set()),
    "x12/synthetic_856_005010_pallets.x12": (1, 1, 1, ["856"], ["000004120"], ["0001"], set()),
    "x12/synthetic_860_004010.x12": (1, 1, 1, ["860"], ["000004713"], ["0001"], set()),
    "x12/synthetic_862_004010_jit.x12": (1, 1, 1, ["862"], ["000000862"], ["0001"], set()),
}
