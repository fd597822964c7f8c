"""Parser behaviour on hand-made input: delimiters, envelopes, faults and their locations."""

from __future__ import annotations

import pytest

from translators.errors import EdiSyntaxError
from translators.syntax import events, iter_messages, parse, parse_strict, serialize

ISA = (b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*"
       b"^*00501*000000007*0*P*:~")


def x12(body: bytes, ge: bytes = b"GE*1*1~", iea: bytes = b"IEA*1*000000007~") -> bytes:
    return ISA + b"GS*PO*S*R*20240101*1200*1*X*005010~" + body + ge + iea


def test_x12_repetition_separator_from_isa11_since_00402() -> None:
    data = x12(b"ST*850*0001~REF*ZZ*A^B*X:Y~SE*3*0001~")
    result = parse(data)
    assert result.ok, result.errors
    ic = result.interchanges[0]
    assert ic.delimiters.repetition == "^"
    ref = ic.messages[0].segments[1]
    assert ref.repetitions(2) == [["A"], ["B"]]
    assert ref.get(3, 2) == "Y"
    assert ref.position == 2
    assert serialize(result) == data


def test_x12_counts_and_controls_are_checked_with_locations() -> None:
    data = x12(b"ST*850*0001~BEG*00~SE*9*0002~", ge=b"GE*2*9~", iea=b"IEA*3*000000008~")
    result = parse(data)
    kinds = {e.kind: e for e in result.errors}
    assert set(kinds) == {"message.segment_count", "message.control_mismatch",
                          "group.count_mismatch", "group.control_mismatch",
                          "interchange.count_mismatch", "interchange.control_mismatch"}
    count = kinds["message.segment_count"]
    assert (count.segment_tag, count.segment_position, count.element_position) == ("SE", 3, 1)
    assert count.codes.x12_ak5 == "4" and count.codes.edifact == "29"
    assert data[count.offset:count.offset + 3] == b"SE*"
    assert kinds["interchange.control_mismatch"].codes.x12_ta1 == "001"


def test_missing_trailers_and_truncation_never_hide_the_next_interchange() -> None:
    first = ISA + b"GS*PO*S*R*20240101*1200*1*X*005010~ST*850*0001~BEG*00~"
    second = x12(b"ST*850*0002~SE*2*0002~").replace(b"000000007", b"000000008")
    result = parse(first + b"\n" + second)
    assert [ic.control for ic in result.interchanges] == ["000000007", "000000008"]
    kinds = [e.kind for e in result.errors]
    assert {"message.missing_trailer", "group.missing_trailer",
            "interchange.missing_trailer"} <= set(kinds)
    assert result.interchanges[1].messages[0].control == "0002"
    assert serialize(result) == first + b"\n" + second


def test_truncated_file_reports_unterminated_segment_at_its_end() -> None:
    data = x12(b"ST*850*0001~SE*2*0001~")[:-1]  # last terminator cut off
    result = parse(data)
    unterminated = [e for e in result.errors if e.kind == "syntax.unterminated_segment"]
    assert unterminated and unterminated[0].offset == len(data)
    assert result.interchanges[0].trailer is not None
    assert serialize(result) == data


def test_edifact_defaults_release_and_segments_outside_messages() -> None:
    data = (b"UNB+UNOA:3+S+R+240101:1200+REF1'\r\nUNH+1+ORDERS:D:96A:UN'\r\n"
            b"FTX+AAA+++A?+B?:C?'D??'\r\nUNT+3+1'\r\nDTM+137:20240101:102'\r\nUNZ+1+REF1'\r\n")
    result = parse(data)
    ic = result.interchanges[0]
    assert ic.delimiters.suffix == "\r\n"
    assert ic.messages[0].segments[1].get(4) == "A+B:C'D?"
    stray = [e for e in result.errors if e.kind == "envelope.segment_outside_message"]
    assert len(stray) == 1 and stray[0].segment_tag == "DTM" and stray[0].line == 5
    assert stray[0].codes.edifact == "33"
    assert serialize(result) == data


def test_una_with_unusual_characters_and_syntax_4_repetition() -> None:
    data = b"UNA|;,! #UNB;UNOC|4;S;R;20240101|1200;9#UNH;1;INVOIC|D|03B|UN#FTX;A|B;B!#C;X#UNT;3;1#UNZ;1;9#"  # noqa: E501
    result = parse(data)
    assert result.ok, result.errors
    ic = result.interchanges[0]
    d = ic.delimiters
    assert (d.component, d.element, d.decimal, d.release, d.segment) == ("|", ";", ",", "!", "#")
    assert d.repetition == " " or d.repetition == ""  # a space in UNA5 means no repetition
    ftx = ic.messages[0].segments[1]
    assert ftx.elements == [[["A", "B"]], [["B#C"]], [["X"]]]
    assert ic.messages[0].version == "D03B"
    assert serialize(result) == data


@pytest.mark.parametrize("data", [
    b"", b"\x00" * 100, b"hello world", b"UNA", b"UNB", b"ISA", b"ISA*", b"ISA*00*",
    b"UNA:+.? 'XYZ", b"UNB+UNOA:3", b"\xff\xfeU\x00N\x00B\x00", ISA[:50], ISA,
    ISA + b"ST*850*1~", b"UNB+UNOA:3+S+R+1:1+1'UNH+1'UNH+2'UNT+9+3'UNE+1+1'",
    b"UNB+UNOA:3+S+R+1:1+1'" + b"'" * 10 + b"UNZ+0+1'", b"UNA:+.? '" * 3,
    b"ISA*00*" + b"*" * 30 + b"~", b"junk ISA junk UNB+ junk", b"UNB+UNOY:4+S+R+1:1+1'\xc3(",
])
def test_hostile_input_gives_errors_never_exceptions(data: bytes) -> None:
    result = parse(data)
    assert result.errors, "every one of these inputs is faulty"
    for error in result.errors:
        assert error.kind and error.message
        assert error.offset is None or 0 <= error.offset <= len(data)
    assert serialize(result) == data
    list(iter_messages(data, chunk_size=3))
    list(events(data, chunk_size=3))


def test_no_interchange_and_utf16_are_explicit() -> None:
    assert [e.kind for e in parse(b"just text\n").errors] == ["detect.no_interchange"]
    assert parse(b"just text\n").trailing == b"just text\n"
    utf16 = "UNB+UNOC:3+S+R+1:1+1'".encode("utf-16")
    assert [e.kind for e in parse(utf16).errors] == ["detect.unsupported_encoding"]


def test_invalid_utf8_under_unoy_is_located() -> None:
    data = b"UNB+UNOY:4+S+R+20240101:1200+1'UNH+1+ORDERS:D:96A:UN'FTX+AAA+++Gr\xfc\xdfe'UNT+3+1'UNZ+1+1'"  # noqa: E501
    result = parse(data)
    bad = [e for e in result.errors if e.kind == "syntax.invalid_character"]
    assert len(bad) == 1 and bad[0].offset == data.index(b"\xfc")
    assert serialize(result) == data


def test_parse_strict_raises_with_position() -> None:
    data = x12(b"ST*850*0001~SE*5*0001~")
    with pytest.raises(EdiSyntaxError) as caught:
        parse_strict(data)
    assert caught.value.error.kind == "message.segment_count"
    assert "line 1" in str(caught.value) and "SE01" in str(caught.value)
    assert parse_strict(x12(b"ST*850*0001~SE*2*0001~")).ok


def test_events_stream_nests_and_carries_errors() -> None:
    data = x12(b"ST*850*0001~BEG*00*SA~SE*9*0001~")
    kinds = [e.kind for e in events(data, chunk_size=4)]
    assert kinds[0] == "start_interchange" and kinds[-1] == "end_interchange"
    assert kinds.index("start_group") < kinds.index("start_message") < kinds.index("error") \
        < kinds.index("end_message") < kinds.index("end_group")
    beg = [e for e in events(data) if e.kind == "element" and e.segment is not None
           and e.segment.tag == "BEG"]
    assert [(e.element, e.value) for e in beg] == [(1, [["00"]]), (2, [["SA"]])]
    assert all(e.message is not None and e.message.control == "0001" for e in beg)


def _stream_peak(messages: int) -> int:
    import tracemalloc

    def source():  # generates the input piecewise: the test itself never holds it
        yield ISA + b"GS*PO*S*R*20240101*1200*1*X*005010~"
        for i in range(messages):
            yield (b"ST*850*%04d~" % i + b"PO1*1*2*EA*3.5**BP*123456789~" * 50
                   + b"SE*52*%04d~" % i)
        yield b"GE*%d*1~IEA*1*000000007~" % messages

    tracemalloc.start()
    stream = iter_messages(source())
    count = sum(1 for _ in stream)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == messages and not stream.errors
    return peak


def test_streaming_memory_is_flat_in_the_input_size() -> None:
    small, large = _stream_peak(200), _stream_peak(1000)  # about 0.3 MB and 1.5 MB of input
    # The only per-message state kept is the control number for duplicate detection
    # (capped, see assemble.DUPLICATE_CHECK_LIMIT); a 1.2 MB message body is never retained.
    assert (large - small) / 800 < 120, (small, large)
    assert large < 250_000
