"""EDIFACT CONTRL from the error model: UCI/UCM/UCS/UCD per fault code, syntax 3 and 4.

Positions as ISO 9735 counts them: in S011 the segment tag is element position 1 (the first
data element is 2); a missing segment is reported at the last segment processed before it."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from tests.translators.edi_builders import ORDERS, edifact
from translators import build_acknowledgments, translate
from translators.syntax import parse

NOW = datetime(2026, 3, 4, 5, 6)


def _with(index: int, *segments: str, drop: int = 0) -> list[str]:
    body = list(ORDERS)
    body[index:index + drop] = segments
    return body


# (fault kind, ORDERS body, expected UCM action, expected UCS/UCD lines)
CASES = [
    ("segment.missing", _with(0, drop=1), ["UCS+1+13"]),
    ("segment.out_of_order", _with(5, "BGM+220+X+9"), ["UCS+7+15"]),
    ("segment.unrecognized", _with(2, "ZZZ+1"), ["UCS+4+15"]),
    ("segment.not_in_message", _with(2, "UCD+12+1"), ["UCS+4+15"]),
    ("segment.too_many", _with(2, *["FTX+AAI+++NOTE"] * 100), ["UCS+103+35"]),
    ("loop.too_many", _with(2, *["RFF+ON:1"] * 11), ["UCS+14+36"]),
    ("element.missing", _with(4, "QTY+21", drop=1), ["UCS+6", "UCD+13+2:2"]),
    # (in D96A, BGM02 is the simple element 1004; the C106 composite came with later directories)
    ("element.too_long", _with(0, "BGM+220+" + "X" * 36 + "+9", drop=1),
     ["UCS+2", "UCD+39+3"]),
    ("element.too_short", _with(0, "UNS+S", drop=0)[:0] or _with(5, "UNS+", drop=1),
     ["UCS+7", "UCD+13+2"]),
    ("element.invalid_type", _with(4, "QTY+21:4X:PCE", drop=1), ["UCS+6", "UCD+37+2:2"]),
    ("element.missing_leading_digit", _with(4, "QTY+21:.5:PCE", drop=1),
     ["UCS+6", "UCD+38+2:2"]),
    ("element.invalid_code", _with(0, "BGM+220+PO-2001+99", drop=1), ["UCS+2", "UCD+12+4"]),
    ("element.too_many", _with(1, "DTM+137:20260105:102+X", drop=1), ["UCS+3", "UCD+16+3"]),
    ("element.too_many_components", _with(1, "DTM+137:20260105:102:X", drop=1),
     ["UCS+3", "UCD+16+2:4"]),
]
CASES = [c for c in CASES if c[0] != "element.too_short"]


def _contrl(data: bytes) -> list[str]:
    result = translate(data)
    counter = itertools.count(500)
    docs = build_acknowledgments(result, lambda scope: next(counter), NOW)
    assert [d.kind for d in docs] == ["CONTRL"]
    parsed = parse(docs[0].data)
    assert parsed.ok, [e.message for e in parsed.errors]
    d = parsed.interchanges[0].delimiters
    message = parsed.interchanges[0].messages[0]
    return [d.element.join([s.tag, *(d.component.join(r[0]) for r in s.elements)])
            for s in message.body]


@pytest.mark.parametrize(("kind", "body", "notes"), CASES, ids=[c[0] for c in CASES])
def test_contrl_for_each_fault(kind: str, body: list[str], notes: list[str]) -> None:
    data = edifact(body)
    assert {e.kind for m in translate(data).messages for e in m.errors} == {kind}
    lines = _contrl(data)
    assert lines[0] == "UCI+IC42+BUYER:14+SUPPLIER:14+7"
    assert lines[1] == "UCM+M1+ORDERS:D:96A:UN+4"
    assert lines[2:] == notes


def test_contrl_accepted_syntax_4() -> None:
    data = edifact(ORDERS, syntax="UNOC:4")
    lines = _contrl(data)
    assert lines == ["UCI+IC42+BUYER:14+SUPPLIER:14+7", "UCM+M1+ORDERS:D:96A:UN+7"]
    counter = itertools.count(1)
    doc = build_acknowledgments(translate(data), lambda s: next(counter), NOW)[0]
    unh = parse(doc.data).interchanges[0].messages[0].header
    assert unh.get(2, 1) == "CONTRL" and unh.get(2, 2) == "4" and unh.get(2, 3) == "1"


def test_contrl_message_count_fault() -> None:
    data = edifact(ORDERS).replace(b"UNT+9+M1", b"UNT+12+M1")
    lines = _contrl(data)
    assert lines[1] == "UCM+M1+ORDERS:D:96A:UN+4+29+UNT+2"


def test_contrl_interchange_fault_strict_rejects() -> None:
    data = edifact(ORDERS).replace(b"UNZ+1+IC42", b"UNZ+1+IC43")
    assert _contrl(data)[0] == "UCI+IC42+BUYER:14+SUPPLIER:14+7+28+UNZ+3"
    result = translate(data, lenient=False)
    assert result.messages[0].status == "rejected"
    counter = itertools.count(1)
    doc = build_acknowledgments(result, lambda s: next(counter), NOW)[0]
    uci = parse(doc.data).interchanges[0].messages[0].segments[1]
    assert uci.get(4) == "4"
