"""Every file of the repository corpus: structure, control numbers, faults and byte-exact round
trip (tree, JSON and streaming), against the independently established table. Files of an extra
corpus (tests/conftest.py), when one is present, get the checks that need no table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ALL_CORPUS_FILES, corpus_files, corpus_id
from tests.translators.syntax_corpus_table import EXPECTED
from translators.syntax import from_json, iter_messages, parse, serialize, to_json


def test_table_covers_every_corpus_file(corpus_dir: Path) -> None:
    names = {f"{p.parent.name}/{p.name}" for p in corpus_files(corpus_dir)}
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


@pytest.mark.parametrize("path", ALL_CORPUS_FILES, ids=corpus_id)
def test_corpus_json_and_stream_agree(path: Path) -> None:
    data = path.read_bytes()
    result = parse(data)
    assert serialize(result) == data
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


def test_segment_locations_point_at_the_segment(all_corpus_files: list[Path]) -> None:
    for path in all_corpus_files:
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
    result = parse((corpus_dir / "x12/synthetic_mailbag.x12").read_bytes())
    terminators = [ic.delimiters.segment for ic in result.interchanges]
    assert terminators == ["\x15", "~", "\x15", "\n"]  # four interchanges, three terminators
    assert [ic.delimiters.component for ic in result.interchanges] == [">", ">", ":", ">"]
    assert all(ic.trailer is not None for ic in result.interchanges)


def test_ebcdic_and_bom_are_recorded(corpus_dir: Path) -> None:
    data = (corpus_dir / "x12/synthetic_850_ebcdic_80col.x12").read_bytes()
    assert len(data) % 80 == 0  # fixed 80-column records
    ebcdic = parse(data).interchanges[0]
    assert ebcdic.detection is not None and ebcdic.detection.encoding == "cp037"
    assert ebcdic.sender_id == "6125550100"
    assert ebcdic.messages[0].segments[1].elements[:3] == [[["00"]], [["NE"]], [["NE-260306"]]]
    bom = parse((corpus_dir / "edifact/synthetic_contrl_v4_bom.txt").read_bytes()).interchanges[0]
    assert bom.detection is not None and bom.detection.bom == "utf-8"
    assert bom.layout["lead"] == b"\xef\xbb\xbf"


def test_release_characters_are_decoded(corpus_dir: Path) -> None:
    result = parse((corpus_dir / "edifact/synthetic_release_characters.edi").read_bytes())
    ftxs = [s for s in result.interchanges[0].messages[0].segments if s.tag == "FTX"]
    values = [s.get(4) for s in ftxs]
    assert "PALLET HEIGHT MAX 1200MM?" in values  # "??" before the terminator
    assert "DO NOT STACK ' FRAGILE" in values  # "?'"
    assert "LABEL ? BARCODE ON SHORT SIDE" in values  # "??" inside
    assert "CALL ?' BEFORE DELIVERY" in values  # "???'"
    assert "GATE 3?+RAMP 7" in values  # "???+": one element
    gate = next(s for s in ftxs if s.get(4) == "GATE 3?")  # "??+": a real separator
    assert gate.get(5) == "EN"
    assert ["DOCK A?", "DOCK B"] in [s.repetitions(4)[0] for s in ftxs]  # "??:"


def test_line_break_inside_a_segment_is_not_data(corpus_dir: Path) -> None:
    result = parse((corpus_dir / "edifact/synthetic_multiline.edi").read_bytes())
    ftx = next(s for m in result.interchanges[0].messages for s in m.segments if s.tag == "FTX")
    assert "\n" in (ftx.raw or "")
    assert ftx.repetitions(4)[0] == [
        "DELIVER ONLY MON-THU 06.00-14.00, RAMP 7, CALL THE GATEHOUSE",
        "30 MINUTES AHEAD ON +49 5241 77310"]


def test_wrapped_file_reads_like_the_unwrapped_one(corpus_dir: Path) -> None:
    wrapped = parse((corpus_dir / "edifact/staedi_wrapped_invoic_d97b_una.edi").read_bytes())
    plain = parse((corpus_dir / "edifact/staedi_invoic_d97b.edi").read_bytes())
    w = wrapped.interchanges[0].messages[0].segments
    p = plain.interchanges[0].messages[0].segments
    assert [s.tag for s in w] == [s.tag for s in p]
    assert w[1].elements == p[1].elements  # BGM
    assert wrapped.interchanges[0].delimiters.element == "*"


def test_sources_name_every_file_with_its_licence(corpus_dir: Path) -> None:
    sources = (corpus_dir / "SOURCES.md").read_text(encoding="utf-8")
    rows = {line.split("`")[1]: line for line in sources.splitlines() if line.startswith("| `")}
    names = {f"{p.parent.name}/{p.name}" for p in corpus_files(corpus_dir)}
    assert set(rows) == names
    for name, row in rows.items():
        if name.split("/")[1].startswith("synthetic_"):
            continue
        licence = row.split("|")[6].strip()
        assert licence in {"MIT", "Apache-2.0", "BSD-3-Clause"}, (name, licence)
        assert "Copyright" in row.split("|")[7], name
    assert "written for this project, Apache-2.0" in sources
