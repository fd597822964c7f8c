"""Per-file expectations for the shared corpus, established without our parser.

Counts, message types and control numbers come from a naive regex scan of the raw bytes (tag
after a terminator, ISA13 / UNB05 / ST02 / UNH01), checked by hand against SOURCES.md; the scan
was fooled in three places, corrected by reading the files:
  x12/850-004030-01 and x12/mailbag01: "N1*ST*RRR..." is an N1 segment, not a transaction set;
  edifact/orders02: the last interchange's UNB05 and UNH01 are both "T" (regex read them right,
  noted because it looks like an artefact).
Expected faults were confirmed by reading each file (e.g. pydifact_v3_aperak: UNH..UNT are 7
segments while UNT01 says 8; edifabric_x12_ShipNotice: one ST but GE01 = 2; stupidedi SS862:
ISA fields not padded to their fixed widths; pydifact_order: no UNZ at all).

row: (interchanges, explicit groups (GS/UNG), messages, message types, interchange controls,
      message controls, fault kinds)
"""

from __future__ import annotations

Row = tuple[int, int, int, list[str], list[str], list[str], set[str]]

EXPECTED: dict[str, Row] = {
    "edifact/0T0000000004.edi": (2, 0, 3, ["ORDERS"], ["T0000000004-1", "T0000000004-2"], ["T0000000004-1", "T0000000004-2", "T0000000004-3"], set()),  # noqa: E501
    "edifact/bots_sap_orders_1.edi": (1, 0, 12, ["ORDERS"], ["2"], [str(n) for n in range(107, 119)], set()),  # noqa: E501
    "edifact/dfdl_INVOIC_D.03B_Interchange_with_UNA.txt": (1, 0, 1, ["INVOIC"], ["17"], ["30"], set()),  # noqa: E501
    "edifact/dfdl_ORDERS_D.03B_Interchange.txt": (1, 0, 1, ["ORDERS"], ["6002"], ["SSDD1"], set()),
    "edifact/dutchic_aperak1.edi": (1, 0, 1, ["APERAK"], ["1"], ["14"], set()),
    "edifact/dutchic_desadv1.edi": (1, 0, 8, ["DESADV"], ["1"], [str(n) for n in range(1, 9)], set()),  # noqa: E501
    "edifact/edifabric_CONTRL.txt": (1, 0, 2, ["CONTRL"], ["1"], ["2", "3"], set()),
    "edifact/edifabric_DESADV_EAN007.txt": (1, 0, 1, ["DESADV"], ["131"], ["ME000001"], {"interchange.count_mismatch"}),  # noqa: E501
    "edifact/edifabric_DuplicateInterchange.txt": (2, 0, 2, ["ORDERS"], ["131", "131"], ["000000101", "000000101"], {"interchange.control_mismatch", "interchange.duplicate_control"}),  # noqa: E501
    "edifact/edifabric_INVOIC_with_UNG.txt": (1, 1, 1, ["INVOIC"], ["131"], ["509010117"], {"interchange.count_mismatch"}),  # noqa: E501
    "edifact/edifabric_MixedTransactions.txt": (1, 2, 2, ["INVOIC", "ORDERS"], ["131"], ["000000101", "509010117"], set()),  # noqa: E501
    "edifact/edifabric_ORDRSP_EAN009.txt": (1, 0, 1, ["ORDRSP"], ["131"], ["ME000001"], set()),
    "edifact/invoic01.edi": (1, 0, 2, ["INVOIC"], ["4"], ["111424", "111425"], set()),
    "edifact/orders02.edi": (24, 0, 24, ["ORDERS"], ["I1L0401010000T", "I1L0401030000T", "I1L0401040000T", "I1L0401050000T", "I1L0401060000T", "I1L0401070000T", "I1L0401080000T", "I1L0401090000T", "I1L0401100000T", "I1L0401110000T", "I1L0401120000T", "I1L0401140000T", "I1L0403060200T", "I1L0403070200T", "I1L0403170200T", "I1L0403170300T", "I1L0403170400T", "I1L0403190200T", "I1L0404020300T", "I1L0404040100T", "I1L0404060200T", "I1L0404060300T", "I1L0404040400T", "T"], ["I1L0401010000T", "I1L0401030000T", "I1L0401040000T", "I1L0401050000T", "I1L0401060000T", "I1L0401070000T", "I1L0401080000T", "1234567890", "I1L0401100000T", "I1L0401110000T", "I1L0401120000T", "I1L0401140000T", "I1L0403060200T", "I1L0403070200T", "I1L0403170200T", "I1L0403170300T", "I1L0403170400T", "I1L0403190200T", "I1L0404020300T", "I1L0404040100T", "I1L0404060200T", "I1L0404060300T", "I1L0404040400T", "T"], set()),  # noqa: E501
    "edifact/orders96.edi": (1, 0, 2, ["ORDERS"], ["1UNBREF"], ["1-1UNHREF", "1-2UNHREF"], set()),
    "edifact/php-edifact_D96ADESADV.edi": (1, 0, 1, ["DESADV"], ["1"], ["142"], set()),
    "edifact/php-edifact_example_multiline.edi": (1, 0, 1, ["IFTMBC"], ["251"], ["0001"], {"message.segment_count"}),  # noqa: E501
    "edifact/php-edifact_example_order_ok.edi": (1, 0, 1, ["ORDERS"], ["896"], ["2019265563"], {"detect.charset_mismatch"}),  # noqa: E501
    "edifact/php-edifact_example_release_character.edi": (1, 0, 1, ["PAORES"], ["1"], ["1"], {"detect.unknown_charset", "message.segment_count"}),  # noqa: E501
    "edifact/php-edifact_example_utf8.edi": (1, 0, 1, ["DESADV"], ["1"], ["142"], {"detect.charset_mismatch"}),  # noqa: E501
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
    "x12/810_1.x12": (1, 1, 1, ["810"], ["000000001"], ["0063"], set()),
    "x12/830-004010UCS-01.x12": (1, 1, 1, ["830"], ["000000785"], ["00010001"], set()),
    "x12/850-004010-01.x12": (1, 1, 1, ["850"], ["112240001"], ["4567"], set()),
    "x12/850-004010-03.x12": (1, 1, 1, ["850"], ["000000001"], ["000000101"], set()),
    "x12/850-004010-ascii-lf.x12": (1, 1, 1, ["850"], ["000000183"], ["0278"], set()),
    "x12/850-004010-ascii-st.x12": (1, 1, 1, ["850"], ["000000183"], ["0278"], set()),
    "x12/850-004010VICS-01.x12": (1, 1, 4, ["850"], ["000001693"], ["000004422", "000004423", "000004424", "000004425"], set()),  # noqa: E501
    "x12/850-004030-01.x12": (1, 1, 1, ["850"], ["001000113"], ["001000058"], set()),
    "x12/850-ebcdic.x12": (1, 1, 1, ["850"], ["000000183"], ["0278"], set()),
    "x12/850.edi": (1, 1, 1, ["850"], ["000003438"], ["000000010"], set()),
    "x12/850_2.edi": (1, 1, 1, ["850"], ["000003438"], ["000000010"], set()),
    "x12/850_fat.edi": (2, 2, 2, ["850"], ["000003438", "000003438"], ["000000010", "000000010"], {"interchange.duplicate_control"}),  # noqa: E501
    "x12/855-004010UCS-01.x12": (1, 1, 6, ["855"], ["000002953"], ["0001", "0002", "0003", "0004", "0005", "0006"], set()),  # noqa: E501
    "x12/855.edi": (1, 1, 1, ["855"], ["000000005"], ["0005"], set()),
    "x12/856.edi": (1, 1, 1, ["856"], ["000000049"], ["0008"], set()),
    "x12/856_1.x12": (1, 1, 1, ["856"], ["000000001"], ["0062"], set()),
    "x12/997-004010VICS-01.x12": (1, 1, 1, ["997"], ["000001816"], ["000004421"], set()),
    "x12/997_6.x12": (1, 1, 4, ["997"], ["000000001"], ["0007", "0008", "0044", "0045"], set()),
    "x12/edifabric_x12_DuplicateInterchange.txt": (2, 2, 2, ["850"], ["000000263", "000000263"], ["0001", "0001"], {"interchange.duplicate_control"}),  # noqa: E501
    "x12/edifabric_x12_PurchaseOrdersAcknowledgement.txt": (1, 1, 1, ["855"], ["000000263"], ["0005"], {"group.count_mismatch"}),  # noqa: E501
    "x12/edifabric_x12_ShipNotice.txt": (1, 1, 1, ["856"], ["000000263"], ["0001"], {"group.count_mismatch"}),  # noqa: E501
    "x12/extraDelimiter997.edi": (1, 1, 1, ["997"], ["508121953"], ["0001"], set()),
    "x12/imsweb_x12_999_rejected.txt": (1, 1, 1, ["999"], ["095832987"], ["95832987"], set()),
    "x12/invalid997.edi": (1, 1, 1, ["997"], ["508121953"], ["0001"], set()),
    "x12/invoice810_po850_dual.edi": (1, 2, 3, ["810", "850"], ["000000020"], ["000000001", "000000002", "000191240"], set()),  # noqa: E501
    "x12/mailbag01.x12": (8, 9, 14, ["820", "850", "997"], ["000001816", "001000113", "017000934", "112240001", "000000005", "000001000", "000000010", "000000183"], ["000004421", "001000058", "017001511", "017001512", "4567", "000000001", "000000001", "000000001", "000000001", "10000001", "10000002", "0007", "0001", "0278"], {"message.duplicate_control"}),  # noqa: E501
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
}
