"""Every file of the shared corpus: structure, control numbers, faults and byte-exact round trip
(tree, JSON and streaming), against the independently established table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.translators.syntax_corpus_table import EXPECTED
from translators.syntax import from_json, iter_messages, parse, serialize, to_json


def _files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.glob("*/*") if p.suffix != ".md")


def test_table_covers_every_corpus_file(corpus_dir: Path) -> None:
    names = {f"{p.parent.name}/{p.name}" for p in _files(corpus_dir)}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(corpus_dir: Path, name: str) -> None:
    data = (corpus_dir / name).read_bytes()
    ics, groups, messages, types, ic_controls, msg_controls, faults = EXPECTED[name]
    result = parse(data)
    assert len(result.interchanges) == ics
    assert sum(1 for ic in result.interchanges for g in ic.groups if g.header) == groups
    found = [m for ic in result.interchanges for m in ic.messages]
    assert len(found) == messages
    assert sorted({m.type for m in found}) == types
    assert [ic.control for ic in result.interchanges] == ic_controls
    assert [m.control for m in found] == msg_controls
    assert {e.kind for e in result.errors} == faults
    assert result.ok == (not any(e.severity == "error" for e in result.errors))
    # Every fault is located: a byte offset and a line inside the file.
    for error in result.errors:
        assert error.offset is not None and 0 <= error.offset <= len(data), error
        assert error.line is not None and error.line >= 1, error
    assert serialize(result) == data


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_json_and_stream_agree(corpus_dir: Path, name: str) -> None:
    data = (corpus_dir / name).read_bytes()
    result = parse(data)
    document = json.loads(json.dumps(to_json(result)))
    assert serialize(from_json(document)) == data
    # Tiny chunks cut headers, terminators and release characters at every possible place.
    stream = iter_messages(data, chunk_size=5)
    streamed = [(s.message.type, s.message.control, [g.tag for g in s.message.segments])
                for s in stream]
    parsed = [(m.type, m.control, [g.tag for g in m.segments])
              for ic in result.interchanges for m in ic.messages]
    assert streamed == parsed
    assert [e.kind for e in stream.errors] == [e.kind for e in result.errors]


def test_segment_locations_point_at_the_segment(corpus_dir: Path) -> None:
    for path in _files(corpus_dir):
        data = path.read_bytes()
        result = parse(data)
        for ic in result.interchanges:
            encoding = ic.detection.encoding if ic.detection else "latin-1"
            lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
            for seg in [ic.header, *(s for m in ic.messages for s in m.segments)]:
                if "\n" in (seg.raw or "") or "\r" in (seg.raw or ""):
                    continue  # wrapped segment: its tag may itself be split
                start = data[seg.offset:seg.offset + 8].decode(encoding, "replace")
                assert start.startswith(seg.tag), (path.name, seg.tag, start)
                line = lines[seg.line - 1].decode(encoding, "replace")
                assert line[seg.column - 1:].startswith(seg.tag), (path.name, seg.tag)


def test_mailbag_keeps_each_interchanges_delimiters(corpus_dir: Path) -> None:
    result = parse((corpus_dir / "x12/mailbag01.x12").read_bytes())
    terminators = {ic.delimiters.segment for ic in result.interchanges}
    assert len(terminators) > 1  # 0x15 and "~" in one file
    assert all(ic.trailer is not None for ic in result.interchanges)


def test_ebcdic_and_bom_are_recorded(corpus_dir: Path) -> None:
    ebcdic = parse((corpus_dir / "x12/850-ebcdic.x12").read_bytes()).interchanges[0]
    assert ebcdic.detection is not None and ebcdic.detection.encoding == "cp037"
    assert ebcdic.sender_id == "1234567890"
    assert ebcdic.messages[0].segments[1].elements[:3] == [[["00"]], [["NE"]], [["12345678"]]]
    bom = parse((corpus_dir / "edifact/edifabric_CONTRL.txt").read_bytes()).interchanges[0]
    assert bom.detection is not None and bom.detection.bom == "utf-8"
    assert bom.layout["lead"] == b"\xef\xbb\xbf"


def test_release_characters_are_decoded(corpus_dir: Path) -> None:
    result = parse((corpus_dir / "edifact/php-edifact_example_release_character.edi").read_bytes())
    ifts = [s for s in result.interchanges[0].messages[0].segments if s.tag == "IFT"]
    values = [s.get(2) for s in ifts]
    assert "NO MORE FLIGHTS 2?" in values
    assert "NO MORE ' FLIGHTS 3" in values
    assert "NO MORE ? FLIGHTS 3" in values
    assert "NO MORE ?' FLIGHTS 3" in values
    assert "FIELD 1?" in values and "FIELD 1?+FIELD 2" in values
    assert ["FIELD 1.1?", "FIELD 1.2"] in [s.repetitions(2)[0] for s in ifts]


def test_wrapped_file_reads_like_the_unwrapped_one(corpus_dir: Path) -> None:
    wrapped = parse((corpus_dir / "edifact/staedi_wrapped_invoic_d97b_una.edi").read_bytes())
    plain = parse((corpus_dir / "edifact/staedi_invoic_d97b.edi").read_bytes())
    w = wrapped.interchanges[0].messages[0].segments
    p = plain.interchanges[0].messages[0].segments
    assert [s.tag for s in w] == [s.tag for s in p]
    assert w[1].elements == p[1].elements  # BGM
    assert wrapped.interchanges[0].delimiters.element == "*"
