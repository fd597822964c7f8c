"""A refused interchange (addressed to someone else): TA1 with TA105 009 and no 997/999 for
X12, CONTRL with UCI action 4 and code 7 for EDIFACT; every message rejected, no event; the
acknowledgment goes out in our own name."""

from __future__ import annotations

import itertools
from datetime import datetime

from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from translators import build_acknowledgments, refuse_interchange, translate
from translators.errors import EdiError
from translators.syntax import parse

NOW = datetime(2026, 3, 4, 5, 6)


def _refused(data: bytes, standard: str):
    result = translate(data)
    refuse_interchange(result, 0, EdiError(
        kind="interchange.unknown_receiver", message="receiver SUPPLIER is not one of ours",
        level="interchange", standard=standard, segment_tag="ISA" if standard == "x12" else "UNB",
        bad_value="SUPPLIER"))
    result.interchanges[0].reply_as = ("ZZ", "EDIGATE") if standard == "x12" else ("ZZZ",
                                                                                   "EDIGATE")
    counter = itertools.count(900)
    return result, build_acknowledgments(result, lambda scope: next(counter), NOW)


def test_x12_refused_interchange_gets_a_rejecting_ta1_only() -> None:
    result, docs = _refused(x12(PO_850), "x12")
    assert [m.status for m in result.messages] == ["rejected"]
    assert result.messages[0].event is None
    assert [d.kind for d in docs] == ["TA1"]
    (ta1,) = parse(docs[0].data).interchanges
    assert ta1.sender_id == "EDIGATE" and ta1.receiver_id == "BUYER"
    segment = next(s for s in ta1.extras if s.tag == "TA1")
    assert (segment.get(1), segment.get(4), segment.get(5)) == ("000000123", "R", "009")
    report = result.error_report()
    assert report["interchanges"][0]["errors"][0]["codes"] == {"x12_ta1": "009",
                                                                "edifact": "7"}


def test_edifact_refused_interchange_gets_a_rejecting_contrl() -> None:
    result, docs = _refused(edifact(ORDERS), "edifact")
    assert [m.status for m in result.messages] == ["rejected"]
    (contrl,) = docs
    assert contrl.kind == "CONTRL"
    (interchange,) = parse(contrl.data).interchanges
    assert interchange.sender_id == "EDIGATE" and interchange.receiver_id == "BUYER"
    segments = interchange.groups[0].messages[0].segments
    uci = next(s for s in segments if s.tag == "UCI")
    assert (uci.get(1), uci.get(4), uci.get(5), uci.get(6)) == ("IC42", "4", "7", "UNB")
    ucm = next(s for s in segments if s.tag == "UCM")
    assert ucm.get(3) == "4"


def test_an_interchange_addressed_to_us_is_answered_as_before() -> None:
    result = translate(x12(PO_850))
    counter = itertools.count(900)
    docs = build_acknowledgments(result, lambda scope: next(counter), NOW)
    assert [d.kind for d in docs] == ["997"]
    (ack,) = parse(docs[0].data).interchanges
    assert ack.sender_id == "SUPPLIER"  # the receiver it named


def test_a_refused_005010_interchange_gets_a_ta1_in_our_name_with_the_partner_delimiters() -> None:
    data = x12(PO_850, version="005010").replace(b"*", b"^").replace(b"^^^00501^", b"^|^00501^")
    assert b"ISA^" in data  # '^' elements, '|' repetitions: the TA1 must keep them apart
    result, docs = _refused(data, "x12")
    assert [d.kind for d in docs] == ["TA1"]
    (ta1,) = parse(docs[0].data).interchanges
    assert (ta1.sender_id, ta1.receiver_id) == ("EDIGATE", "BUYER")
    segment = next(s for s in ta1.extras if s.tag == "TA1")
    assert (segment.get(4), segment.get(5)) == ("R", "009")
    assert result.messages[0].event is None


def test_an_edifact_interchange_with_groups_is_refused_as_a_whole() -> None:
    group = b"UNG+ORDERS+BUYER+SUPPLIER+260304:0506+G1+UN+D:96A'"
    data = edifact(ORDERS).replace(b"UNH+", group + b"UNH+", 1)
    data = data.replace(b"UNZ+", b"UNE+1+G1'UNZ+", 1)
    result, docs = _refused(data, "edifact")
    assert [m.status for m in result.messages] == ["rejected"]
    (contrl,) = docs
    segments = parse(contrl.data).interchanges[0].groups[0].messages[0].segments
    uci = next(s for s in segments if s.tag == "UCI")
    assert (uci.get(4), uci.get(5)) == ("4", "7")
