"""Serializer, finalize and build_interchange on trees built in code; hypothesis round trips
with hostile content (every delimiter inside the data)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.syntax import (
    Delimiters,
    Group,
    Message,
    Segment,
    SerializeError,
    build_interchange,
    finalize,
    from_json,
    parse,
    serialize,
    to_json,
)


def _orders(control: str, values: list[str]) -> Message:
    segments = [Segment("UNH", [[[control]], [["ORDERS", "D", "96A", "UN"]]]),
                Segment("FTX", [[["AAA"]], [[""]], [[""]], [values]])]
    return Message(type="ORDERS", version="D96A", control=control, segments=segments)


def test_edifact_built_in_code_is_escaped_counted_and_parses_back() -> None:
    hostile = ["a+b", "c:d", "e'f", "g?h", "i*j"]
    ic = build_interchange("edifact", sender=("14", "SENDER"), receiver=("14", "RECV"),
                           control="42", date="20240101", time="1200", syntax="UNOC:4",
                           messages=[_orders("1", hostile), _orders("2", ["x"])])
    data = serialize(ic)
    assert b"a?+b" in data and b"e?'f" in data and b"g??h" in data and b"i?*j" in data
    result = parse(data)
    assert result.ok, result.errors
    back = result.interchanges[0]
    assert back.messages[0].segments[1].repetitions(4) == [hostile]
    assert back.trailer is not None and back.trailer.get(1) == "2"
    assert [m.trailer.get(1) for m in back.messages if m.trailer] == ["3", "3"]


def test_x12_refuses_a_delimiter_inside_data() -> None:
    st_seg = Segment("ST", [[["850"]], [["0001"]]])
    beg = Segment("BEG", [[["00"]], [["SA"]], [["PO*1"]]])
    group = Group(header=Segment("GS", [[[v]] for v in ("PO", "S", "R", "20240101", "1200",
                                                         "7", "X", "004010")]),
                  trailer=None,
                  messages=[Message("850", "004010", "0001", [st_seg, beg])])
    ic = build_interchange("x12", sender=("ZZ", "S"), receiver=("ZZ", "R"),
                           control="000000009", date="240101", time="1200", groups=[group])
    with pytest.raises(SerializeError, match=r"BEG03 'PO\*1' contains the delimiter '\*'"):
        serialize(ic)
    beg.elements = [[["00"]], [["SA"]], [["PO1"]]]
    result = parse(serialize(ic))
    assert result.ok, result.errors
    parsed = result.interchanges[0]
    assert parsed.header.get(6) == "S              "  # ISA06 padded to its fixed width
    assert parsed.groups[0].trailer is not None and parsed.groups[0].trailer.get(2) == "7"
    assert parsed.messages[0].trailer is not None
    assert parsed.messages[0].trailer.elements == [[["3"]], [["0001"]]]


def test_editing_a_parsed_segment_reencodes_only_that_segment() -> None:
    data = (b"UNA:+.? 'UNB+UNOC:3+S+R+240101:1200+1'\nUNH+1+ORDERS:D:96A:UN'\n"
            b"FTX+AAA+++KEEP ?+ ME'\nBGM+220+OLD'\nUNT+4+1'\nUNZ+1+1'\n")
    result = parse(data)
    bgm = result.interchanges[0].messages[0].segments[2]
    bgm.elements[1][0][0] = "NEW+1"  # mutated in place, not reassigned
    out = serialize(result)
    assert out == data.replace(b"BGM+220+OLD", b"BGM+220+NEW?+1")


def test_finalize_fixes_counts_after_adding_a_segment() -> None:
    data = b"UNB+UNOA:3+S+R+240101:1200+7'UNH+1+ORDERS:D:96A:UN'BGM+220+1'UNT+3+1'UNZ+1+7'"
    ic = parse(data).interchanges[0]
    message = ic.messages[0]
    message.segments.insert(2, Segment("DTM", [[["137", "20240101", "102"]]]))
    finalize(ic)
    again = parse(serialize(ic))
    assert again.ok, again.errors
    assert again.interchanges[0].messages[0].trailer.get(1) == "4"  # type: ignore[union-attr]


# -- properties ----------------------------------------------------------------------------
# Data may hold every delimiter and the release character. CR/LF are excluded on purpose: the
# syntax layer treats line breaks inside a segment as wrapping, never as data.
hostile_text = st.text(alphabet=st.sampled_from([*"AZaz09 .,-'+:?*#|!\"&%", "é", "ß"]),
                       max_size=12)
component_lists = st.lists(hostile_text, min_size=1, max_size=3)
elements = st.lists(st.lists(component_lists, min_size=1, max_size=2), min_size=1, max_size=5)
bodies = st.lists(st.tuples(st.sampled_from(["FTX", "NAD", "LIN", "QTY", "RFF"]), elements),
                  min_size=1, max_size=6)


def _canonical(elements_: list[list[list[str]]]) -> list[list[list[str]]]:
    # A trailing empty component cannot be told from "no component" once written; keep the
    # generator honest by making every value non-ambiguous (what any writer would send).
    return [[[c or "x" for c in rep] for rep in element] for element in elements_]


@settings(max_examples=60, deadline=None)
@given(st.lists(bodies, min_size=1, max_size=3), st.sampled_from(["", "\n", "\r\n"]),
       st.booleans())
def test_edifact_tree_serialize_parse_is_identity(messages, suffix, una) -> None:
    d = Delimiters(segment="'", element="+", component=":", repetition="*", release="?",
                   suffix=suffix)
    built = []
    for index, body in enumerate(messages, start=1):
        segs = [Segment("UNH", [[[str(index)]], [["ORDERS", "D", "96A", "UN"]]])]
        segs += [Segment(tag, _canonical(els)) for tag, els in body]
        built.append(Message("ORDERS", "D96A", str(index), segs))
    ic = build_interchange("edifact", sender=("14", "S"), receiver=("14", "R"), control="1",
                           date="20240101", time="1200", syntax="UNOC:4", messages=built,
                           delimiters=d, una=una)
    data = serialize(ic)
    result = parse(data)
    assert result.ok, result.errors
    got = result.interchanges[0]
    assert [[(s.tag, s.elements) for s in m.segments] for m in got.messages] == \
        [[(s.tag, s.elements) for s in m.segments] for m in ic.messages]
    assert serialize(result) == data
    assert serialize(from_json(to_json(result))) == data


x12_safe = st.text(alphabet=st.sampled_from(list("AZaz09 .,-#&%/")), min_size=1, max_size=10)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.lists(x12_safe, min_size=1, max_size=2), min_size=1, max_size=6),
                min_size=1, max_size=8),
       st.sampled_from([("~", "*", ">", "^"), ("\x15", "\x7f", ":", "!"), ("\n", "|", "@", "")]))
def test_x12_tree_serialize_parse_is_identity(body, delims) -> None:
    term, sep, comp, rep = delims
    d = Delimiters(segment=term, element=sep, component=comp, repetition=rep)
    segs = [Segment("ST", [[["850"]], [["0001"]]])]
    segs += [Segment("REF", [[c] for c in element]) for element in body]
    gs = Segment("GS", [[[v]] for v in ("PO", "S", "R", "20240101", "1200", "1", "X", "005010")])
    group = Group(header=gs, trailer=None, messages=[Message("850", "005010", "0001", segs)])
    ic = build_interchange("x12", sender=("ZZ", "S"), receiver=("ZZ", "R"),
                           control="000000001", date="240101", time="1200", groups=[group],
                           delimiters=d, version="00501" if rep else "00401")
    data = serialize(ic)
    result = parse(data)
    assert result.ok, result.errors
    got = result.interchanges[0].messages[0]
    assert [s.elements for s in got.segments] == [s.elements for s in segs]
    assert serialize(result) == data
