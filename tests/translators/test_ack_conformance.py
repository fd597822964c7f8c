"""Acknowledgments that an independent validator accepts, whatever the partner sent.

Every acknowledgment we build is parsed back with our own parser and validated with our own
grammars (997/999/CONTRL; TA1 through the envelope checks), for every delimiter set of the
corpus and for interchanges whose delimiters or values we cannot echo as they came.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

import pytest

from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from translators import build_acknowledgments, translate
from translators.result import AckDocument, TranslationResult
from translators.syntax import parse

NOW = datetime(2026, 3, 4, 5, 6)


def _acks(data: bytes, **kwargs: object) -> tuple[TranslationResult, list[AckDocument]]:
    result = translate(data, **kwargs)  # type: ignore[arg-type]
    counter = itertools.count(1)
    return result, build_acknowledgments(result, lambda scope: next(counter), NOW)


def assert_conformant(doc: AckDocument) -> None:
    """The acknowledgment parses clean and, but for a TA1, validates against our grammar of
    the message it is (no error, no warning)."""
    parsed = parse(doc.data)
    assert parsed.ok, (doc.data, [e.message for e in parsed.errors])
    assert len(parsed.interchanges) == 1
    ic = parsed.interchanges[0]
    d = ic.delimiters
    separators = [c for c in (d.segment, d.element, d.component, d.repetition, d.release) if c]
    assert len(set(separators)) == len(separators), d
    if ic.standard == "x12":
        isa = ic.header
        assert isa.get(11) == (d.repetition or "U")
        if isa.get(12) == "00401":
            assert isa.get(11) == "U"
        assert doc.data.isascii()
    if doc.kind == "TA1":
        assert [s.tag for s in ic.extras] == ["TA1"]
        return
    again = translate(doc.data)
    # (a version we have no grammar for is parsed only, with a warning saying so)
    faults = [e for e in again.all_errors
                  if e.kind not in ("message.unsupported", "message.version_substituted")]
    assert not faults, (doc.data, again.error_report())
    assert [m.message_type for m in again.messages] == [doc.kind]
    assert again.messages[0].status in ("accepted", "unsupported")


def _corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in corpus_dir.rglob("*") if p.is_file() and p.suffix != ".md")


def test_acks_of_every_corpus_file_are_conformant(corpus_dir: Path) -> None:
    seen_delimiters: set[tuple[str, ...]] = set()
    checked = 0
    for path in _corpus_files(corpus_dir):
        result, docs = _acks(path.read_bytes())
        for ir in result.interchanges:
            d = ir.tree.delimiters
            seen_delimiters.add((ir.standard, d.segment, d.element, d.component, d.repetition))
        for doc in docs:
            assert_conformant(doc)
            checked += 1
    assert checked >= 40
    assert len(seen_delimiters) >= 5  # the corpus really has several delimiter sets


# Delimiter sets of the corpus and beyond: (segment, element, component, repetition).
X12_SETS = [("~", "*", ">", "U"), ("~", "*", ":", "U"), ("\n", "*", ">", "U"),
            ("~", "^", ">", "U"), ("'", "+", ":", "U"), ("~", "|", "\\", "U"),
            ("\x1c", "\x1d", "\x1f", "U")]


def _x12_with(segment: str, element: str, component: str, repetition: str,
              version: str = "00401", gs_version: str = "004010", ta1: str = "0",
              body: list[str] | None = None) -> bytes:
    data = x12(body or PO_850, version=gs_version).decode()
    data = data.replace("*U*00401*000000123*0*", f"*{repetition}*{version}*000000123*{ta1}*")
    data = data.replace("*^*00501*000000123*0*", f"*{repetition}*{version}*000000123*{ta1}*")
    data = data.replace("*P*>~", f"*P*{component}~", 1)
    data = data.replace("*", "\0").replace("~", "\1")
    return data.replace("\0", element).replace("\1", segment).encode("latin-1")


@pytest.mark.parametrize("delimiters", X12_SETS, ids=[repr(s) for s in X12_SETS])
@pytest.mark.parametrize("ta1", ["0", "1"])
def test_x12_acks_for_each_delimiter_set(delimiters: tuple[str, ...], ta1: str) -> None:
    result, docs = _acks(_x12_with(*delimiters, ta1=ta1))
    assert result.messages[0].status == "accepted"
    assert [d.kind for d in docs] == (["TA1", "997"] if ta1 == "1" else ["997"])
    for doc in docs:
        assert_conformant(doc)


@pytest.mark.parametrize("version", ["00403", "00406"])
def test_answer_to_00403_and_00406_declares_no_repetition_separator(version: str) -> None:
    data = _x12_with("~", "*", ">", "^", version=version, gs_version="004030", ta1="1")
    _, docs = _acks(data)
    assert [d.kind for d in docs] == ["TA1", "997"]
    for doc in docs:
        isa = parse(doc.data).interchanges[0].header
        assert (isa.get(12), isa.get(11)) == ("00401", "U")
        assert_conformant(doc)


@pytest.mark.parametrize("repetition", ["!", "U"])
def test_ta1_to_a_partner_whose_element_separator_is_caret(repetition: str) -> None:
    data = _x12_with("~", "^", ">", repetition, version="00501", gs_version="005010", ta1="1")
    result, docs = _acks(data)
    assert result.interchanges[0].tree.delimiters.element == "^"
    ta1 = next(d for d in docs if d.kind == "TA1")
    ic = parse(ta1.data).interchanges[0]
    assert ic.delimiters.element == "^" and ic.delimiters.repetition not in ("", "^")
    assert ic.extras[0].get(1) == "000000123"
    for doc in docs:
        assert_conformant(doc)


def test_x12_unusable_delimiters_are_replaced_by_ours() -> None:
    data = _x12_with("\xa7", "*", ">", "U", ta1="1")  # a non-ASCII segment terminator
    result, docs = _acks(data)
    assert result.interchanges, result.error_report()
    assert docs
    for doc in docs:
        assert_conformant(doc)
        assert parse(doc.data).interchanges[0].delimiters.segment == "~"


def test_x12_values_we_cannot_echo_are_fitted() -> None:
    header = ("ISA*00*          *00*          *ZZ*B\xdcYER>^        *ZZ*SUPPLIER       *260101*"
              "1200*U*00401*000000123*1*P*>~GS*PO*B\xfc>ER*SUPP>LIER*20260101*1200*77*X*004010~")
    body = ["BEG*00*SA*PO-1001**20260105", "N1*ST*PL\xc4NT*92*P>1^2",
            "PO1*1*10*EA*2.5**BP*PART-1*VP*SUP-1", "CTT*X\xe9>^"]
    segments = ["ST*850*0001", *body, f"SE*{len(body) + 2}*0001"]
    data = (header + "~".join(segments) + "~GE*1*77~IEA*1*000000123~").encode("latin-1")
    result, docs = _acks(data)
    assert result.messages[0].status == "rejected"
    assert sorted(d.kind for d in docs) == ["997", "TA1"]
    for doc in docs:
        assert_conformant(doc)
    ack = next(d for d in docs if d.kind == "997")
    ak4 = [s for s in parse(ack.data).interchanges[0].messages[0].segments if s.tag == "AK4"]
    assert ak4 and all(s.get(4).isascii() for s in ak4)


def test_x12_huge_positions_and_values_are_left_out_or_cut() -> None:
    body = ["BEG*00*SA*PO-1001**20260105", "PO1*1*10*EA*2.5**BP*PART-1" + "*X" * 150,
            "REF*" + "Z" * 5000 + "*1", "CTT*1"]
    _, docs = _acks(x12(body))
    for doc in docs:
        assert_conformant(doc)


def test_5000_digit_counts_and_superscript_hl_ids() -> None:
    data = x12(PO_850).replace(b"SE*7*0001", b"SE*" + b"9" * 5000 + b"*0001")
    result, docs = _acks(data)
    assert "message.segment_count" in {e.kind for e in result.messages[0].errors}
    for doc in docs:
        assert_conformant(doc)
    data = edifact(ORDERS).replace(b"UNT+9+M1", b"UNT+" + b"9" * 5000 + b"+M1")
    result, docs = _acks(data)
    assert "message.segment_count" in {e.kind for e in result.messages[0].errors}
    for doc in docs:
        assert_conformant(doc)
    data = x12(PO_850).replace(b"SE*7*0001", "SE*7\u00b2*0001".encode())
    for doc in _acks(data)[1]:
        assert_conformant(doc)


# -- EDIFACT -----------------------------------------------------------------------------------
EDIFACT_SETS = [("'", "+", ":", "?"), ("'", "+", ":", " "), ("~", "*", ":", "?"),
                ("'", "|", "^", "!"), ("\n", "+", ":", "?")]


def _edifact_with(segment: str, element: str, component: str, release: str,
                  syntax: str = "UNOC:3", body: list[str] | None = None) -> bytes:
    data = edifact(body or ORDERS, syntax=syntax).decode("latin-1")
    head, rest = data[:9], data[9:]
    rest = rest.replace("'", "\0").replace("+", "\1").replace(":", "\2")
    rest = rest.replace("\0", segment).replace("\1", element).replace("\2", component)
    una = f"UNA{component}{element}.{release} {segment}"
    assert head.startswith("UNA")
    return (una + rest).encode("latin-1")


@pytest.mark.parametrize("delimiters", EDIFACT_SETS, ids=[repr(s) for s in EDIFACT_SETS])
@pytest.mark.parametrize("syntax", ["UNOA:3", "UNOC:3", "UNOC:4"])
def test_contrl_for_each_delimiter_set(delimiters: tuple[str, ...], syntax: str) -> None:
    result, docs = _acks(_edifact_with(*delimiters, syntax=syntax))
    assert result.messages[0].status == "accepted", result.error_report()
    assert [d.kind for d in docs] == ["CONTRL"]
    assert_conformant(docs[0])


def _contrl_lines(doc: AckDocument) -> list[str]:
    ic = parse(doc.data).interchanges[0]
    d = ic.delimiters
    return [d.element.join([s.tag, *(d.component.join(r[0]) for r in s.elements)])
            for s in ic.messages[0].body]


def test_contrl_echoes_values_with_delimiters_and_national_characters() -> None:
    data = ("UNA:+.? 'UNB+UNOA:3+B?+U?:Y\xc9R:14+SUPPLIER:14+260101:1200+IC?'42'"
            "UNH+M?+1+ORDERS:D:96A:UN'BGM+220+PO-2001+99'DTM+137:2026\xe90105:102'"
            "UNT+4+M?+1'UNZ+1+IC?'42'").encode("latin-1")
    result, docs = _acks(data)
    assert result.interchanges[0].sender_id == "B+U:Y\xc9R"
    assert [d.kind for d in docs] == ["CONTRL"]
    assert_conformant(docs[0])
    uci = parse(docs[0].data).interchanges[0].messages[0].segments[1]
    assert uci.get(1) == "IC'42"
    assert uci.get(2, 1).isascii() and uci.get(2, 1).startswith("B+U:Y")


def test_contrl_unusable_delimiters_are_replaced_by_ours() -> None:
    data = _edifact_with("\xa7", "+", ":", "?")
    _result, docs = _acks(data)
    assert [d.kind for d in docs] == ["CONTRL"]
    assert_conformant(docs[0])
    assert parse(docs[0].data).interchanges[0].delimiters.segment == "'"


def test_contrl_a_missing_bgm_is_reported_at_the_last_segment_processed() -> None:
    _, docs = _acks(edifact(ORDERS[1:]))
    assert _contrl_lines(docs[0])[2:] == ["UCS+1+13"]


def test_contrl_unt_count_fault_names_unt_with_its_element() -> None:
    _, docs = _acks(edifact(ORDERS).replace(b"UNT+9+M1", b"UNT+12+M1"))
    assert _contrl_lines(docs[0])[1] == "UCM+M1+ORDERS:D:96A:UN+4+29+UNT+2"
    assert_conformant(docs[0])


def test_contrl_element_positions_count_the_tag() -> None:
    body = list(ORDERS)
    body[0] = "BGM+220+PO-2001+99"  # element 3 of BGM: S011 position 4
    _, docs = _acks(edifact(body))
    assert _contrl_lines(docs[0])[2:] == ["UCS+2", "UCD+12+4"]
    assert_conformant(docs[0])


def test_contrl_a_warning_never_decides_the_code() -> None:
    utf8 = "FTX+AAI+++CAF\u00c9 ".encode()  # UTF-8 under UNOC: a charset warning
    clean = edifact([*ORDERS[:2], "FTX+AAI+++CAFE", *ORDERS[2:]])
    warned = clean.replace(b"FTX+AAI+++CAFE", utf8.rstrip())
    result, docs = _acks(warned)
    kinds = {(e.kind, e.severity) for e in result.all_errors}
    assert ("detect.charset_mismatch", "warning") in kinds
    assert _contrl_lines(docs[0])[1] == "UCM+M1+ORDERS:D:96A:UN+7"
    counted = warned.replace(b"UNT+10+M1", b"UNT+12+M1")
    _, docs = _acks(counted)
    assert _contrl_lines(docs[0])[1] == "UCM+M1+ORDERS:D:96A:UN+4+29+UNT+2"


def test_contrl_answers_ung_groups_with_ucf() -> None:
    data = edifact(ORDERS).decode()
    data = data.replace("'UNH+", "'UNG+ORDERS+BUYER:14+SUPPLIER:14+260101:1200+G1+UN+D:96A'"
                        "UNH+", 1).replace("'UNZ+1+IC42'", "'UNE+1+G1'UNZ+1+IC42'")
    result, docs = _acks(data.encode())
    assert result.interchanges[0].groups[0].tree.header is not None
    lines = _contrl_lines(docs[0])
    assert lines[1] == "UCF+G1+BUYER:14+SUPPLIER:14+7"
    assert lines[2] == "UCM+M1+ORDERS:D:96A:UN+7"
    assert_conformant(docs[0])


def test_contrl_with_a_huge_message_type_and_control() -> None:
    data = edifact(ORDERS, message="ORDERSXY", ref="R" * 40)
    _result, docs = _acks(data)
    assert [d.kind for d in docs] == ["CONTRL"]
    assert_conformant(docs[0])
    ucm = parse(docs[0].data).interchanges[0].messages[0].segments[2]
    assert len(ucm.get(1)) <= 14 and len(ucm.get(2, 1)) <= 6
