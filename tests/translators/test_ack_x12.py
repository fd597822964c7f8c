"""For every X12 fault kind with a code: a message with exactly that fault, and the 997/999
segments it produces, segment by segment."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from tests.translators.edi_builders import PO_850, x12
from translators import build_acknowledgments, translate
from translators.syntax import parse

NOW = datetime(2026, 3, 4, 5, 6)


def _with(index: int, *segments: str, drop: int = 0) -> list[str]:
    body = list(PO_850)
    body[index:index + drop] = segments
    return body


# (fault kind, 850 body, expected AK3/AK4 lines, expected AK5 line)
CASES = [
    ("segment.unrecognized", _with(1, "ZZZ*1"), ["AK3*ZZZ*3**1"], "AK5*R*5"),
    ("segment.missing", _with(0, drop=1), ["AK3*BEG*2**3"], "AK5*R*5"),
    ("segment.too_many", _with(1, *["PER*BD*JOHN"] * 4), ["AK3*PER*6**5"], "AK5*R*5"),
    ("loop.too_many", _with(1, *["SAC*A*B720"] * 26), ["AK3*SAC*28**4"], "AK5*R*5"),
    ("segment.not_in_message", _with(1, "BSN*00*X*20260101*1200"), ["AK3*BSN*3**6"],
     "AK5*R*5"),
    ("segment.out_of_order", _with(2, "CUR*BY*USD"), ["AK3*CUR*4**7"], "AK5*R*5"),
    ("element.missing", _with(0, "BEG*00*SA***20260105", drop=1),
     ["AK3*BEG*2**8", "AK4*3*324*1"], "AK5*R*5"),
    ("element.conditional_missing", _with(1, "N1*ST*PLANT ONE*92", drop=1),
     ["AK3*N1*3*N1*8", "AK4*4*67*2"], "AK5*R*5"),
    ("element.too_many", _with(4, "CTT*2*1*1*EA*1*EA*X*EXTRA", drop=1),
     ["AK3*CTT*6*CTT*8", "AK4*8**3"], "AK5*R*5"),
    ("element.too_short", _with(0, "BEG*00*SA*PO-1001**260105", drop=1),
     ["AK3*BEG*2**8", "AK4*5*373*4*260105"], "AK5*R*5"),
    ("element.too_long", _with(0, "BEG*00*SA*" + "X" * 23 + "**20260105", drop=1),
     ["AK3*BEG*2**8", "AK4*3*324*5*" + "X" * 23], "AK5*R*5"),
    ("element.invalid_character", _with(2, "PO1*1*1O*EA*2.5**BP*PART-1", drop=1),
     ["AK3*PO1*4*PO1*8", "AK4*2*330*6*1O"], "AK5*R*5"),
    ("element.invalid_code", _with(0, "BEG*99*SA*PO-1001**20260105", drop=1),
     ["AK3*BEG*2**8", "AK4*1*353*7*99"], "AK5*R*5"),
    ("element.invalid_date", _with(0, "BEG*00*SA*PO-1001**20261340", drop=1),
     ["AK3*BEG*2**8", "AK4*5*373*8*20261340"], "AK5*R*5"),
    ("element.invalid_time", _with(1, "DTM*002*20260110*2575"),
     ["AK3*DTM*3**8", "AK4*3*337*9*2575"], "AK5*R*5"),
    ("element.exclusion", _with(1, "TD3*TL" + "*" * 9 + "AB"),
     ["AK3*TD3*3**8", "AK4*10*24*10"], "AK5*R*5"),
    ("element.too_many_components", _with(0, "BEG*00*SA*PO>X**20260105", drop=1),
     ["AK3*BEG*2**8", "AK4*3*324*13"], "AK5*R*5"),
]


def _counter() -> itertools.count[int]:
    return itertools.count(100)


def _ack_lines(data: bytes, kind: str, version: str = "004010") -> tuple[list[str], list[str]]:
    result = translate(data)
    counter = _counter()
    docs = [d for d in build_acknowledgments(result, lambda scope: next(counter), NOW)
            if d.kind == kind]
    assert len(docs) == 1, [d.kind for d in docs]
    parsed = parse(docs[0].data)
    assert parsed.ok, [e.message for e in parsed.errors]
    message = parsed.interchanges[0].messages[0]
    d = parsed.interchanges[0].delimiters

    def text(seg) -> str:  # type: ignore[no-untyped-def]
        return d.element.join([seg.tag, *(d.component.join(rep[0]) for rep in seg.elements)])

    notes = [text(s) for s in message.segments if s.tag[1:3] in ("K3", "K4")]
    trailers = [text(s) for s in message.segments if s.tag in ("AK5", "IK5", "AK9")]
    return notes, trailers


@pytest.mark.parametrize(("kind", "body", "notes", "ak5"), CASES, ids=[c[0] for c in CASES])
def test_997_for_each_fault(kind: str, body: list[str], notes: list[str], ak5: str) -> None:
    result = translate(x12(body))
    kinds = {e.kind for m in result.messages for e in m.errors}
    assert kinds == {kind}
    got_notes, trailers = _ack_lines(x12(body), "997")
    assert got_notes == notes
    assert trailers == [ak5, "AK9*R*1*1*0"]


@pytest.mark.parametrize(("kind", "body", "notes", "ak5"), CASES, ids=[c[0] for c in CASES])
def test_999_for_each_fault(kind: str, body: list[str], notes: list[str], ak5: str) -> None:
    data = x12(body, version="005010")
    assert {e.kind for m in translate(data).messages for e in m.errors} == {kind}
    got_notes, trailers = _ack_lines(data, "999")
    assert got_notes == [n.replace("AK3", "IK3").replace("AK4", "IK4") for n in notes]
    assert trailers == [ak5.replace("AK5", "IK5"), "AK9*R*1*1*0"]


def test_999_too_many_repetitions() -> None:
    data = x12(["BEG*00*SA*PO-1001**20260105", "REF*DP*A^B", *PO_850[1:]], version="005010")
    notes, trailers = _ack_lines(data, "999")
    assert notes == ["IK3*REF*3**8", "IK4*2*127*12"]
    assert trailers == ["IK5*R*5", "AK9*R*1*1*0"]


def test_clean_message_is_accepted() -> None:
    notes, trailers = _ack_lines(x12(PO_850), "997")
    assert notes == [] and trailers == ["AK5*A", "AK9*A*1*1*1"]


def test_unsupported_message_type() -> None:
    data = x12(["BPR*C*100"], message="820", group_id="RA")
    result = translate(data)
    assert result.messages[0].status == "unsupported"
    notes, trailers = _ack_lines(data, "997")
    assert notes == [] and trailers == ["AK5*R*1", "AK9*R*1*1*0"]


def test_segment_count_and_partial_group() -> None:
    good = x12(PO_850).decode()
    bad = good.replace("SE*7*0001", "SE*9*0001")
    two = bad.replace("GE*1*77", "ST*850*0002~" + "~".join(PO_850) + "~SE*7*0002~GE*2*77")
    notes, trailers = _ack_lines(two.encode(), "997")
    assert notes == []
    assert trailers == ["AK5*R*4", "AK5*A", "AK9*P*2*2*1"]


def test_ta1_for_interchange_fault() -> None:
    data = x12(PO_850).decode().replace("IEA*1*000000123", "IEA*1*000000999").encode()
    result = translate(data)
    counter = _counter()
    docs = build_acknowledgments(result, lambda scope: next(counter), NOW)
    ta1 = next(d for d in docs if d.kind == "TA1")
    parsed = parse(ta1.data)
    segment = parsed.interchanges[0].extras[0]
    assert segment.tag == "TA1"
    assert [segment.get(i) for i in range(1, 6)] == ["000000123", "260101", "1200", "E", "001"]
    assert parsed.interchanges[0].trailer.get(1) == "0"
    # The message itself is fine: lenient mode still accepts it and the 997 says so.
    assert result.messages[0].status == "accepted"
    strict = translate(data, lenient=False)
    assert strict.messages[0].status == "rejected"


def test_999_override_and_no_ack_for_acks() -> None:
    result = translate(x12(PO_850))
    assert result.interchanges[0].ack_kind == "997"
    counter = _counter()
    docs = build_acknowledgments(result, lambda scope: next(counter), NOW, x12_ack="999")
    assert [d.kind for d in docs] == ["999"]
    ack = docs[0].data
    assert translate(ack).interchanges[0].ack_kind == ""
    assert build_acknowledgments(translate(ack), lambda scope: next(counter), NOW) == []
