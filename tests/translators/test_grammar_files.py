"""The grammar data files: all load, cover the required messages, and know every corpus segment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from translators.grammar import (
    GrammarError,
    available_grammars,
    load_grammar,
    load_grammar_file,
    select_grammar,
)
from translators.grammar.loader import GRAMMARS_DIR, parse_element, parse_rule
from translators.syntax import parse

EDIFACT_DIRECTORIES = ("D93A", "D94A", "D94B", "D95A", "D95B", "D96A", "D96B", "D97A", "D97B",
                       "D98A", "D98B", "D99A", "D99B", "D00A", "D00B", "D01A", "D01B", "D01C",
                       "D02A", "D02B", "D03A", "D03B", "D04A", "D04B", "D05A", "D05B", "D06A",
                       "D06B", "D07A", "D07B", "D08A", "D08B", "D09A", "D09B", "D10A", "D10B")
EDIFACT_MESSAGES = {"ORDERS", "ORDRSP", "ORDCHG", "DESADV", "INVOIC", "INVRPT", "DELFOR",
                    "DELJIT", "APERAK"}
REQUIRED = {
    ("x12", "004010"): {"850", "855", "856", "860", "810", "846", "830", "862", "997"},
    ("x12", "005010"): {"850", "855", "856", "860", "810", "846", "830", "862", "997", "999"},
    **{("edifact", d): EDIFACT_MESSAGES - ({"APERAK"} if d in ("D93A", "D94A", "D94B") else set())
       for d in EDIFACT_DIRECTORIES},
    ("edifact", "service"): {"CONTRL"},
}


def test_required_grammars_exist_and_compile() -> None:
    found: dict[tuple[str, str], set[str]] = {}
    for standard, version, message in available_grammars():
        grammar = load_grammar_file(standard, version, message)
        assert grammar.root.children[0].trigger in ("ST", "UNH")
        assert grammar.root.children[-1].trigger in ("SE", "UNT")
        found.setdefault((standard, version), set()).add(message)
    for key, messages in REQUIRED.items():
        assert messages <= found.get(key, set()), key


@pytest.mark.parametrize(("standard", "message", "version", "directory", "substituted"), [
    ("x12", "850", "004010VICS", "004010", False), ("x12", "850", "004030", "004010", True),
    ("x12", "850", "004060", "004010", True), ("x12", "997", "005010X230", "005010", False),
    ("x12", "999", "005010X231A1", "005010", False), ("x12", "850", "005030", "005010", True),
    ("edifact", "ORDERS", "D96A", "D96A", False), ("edifact", "ORDERS", "D01B", "D01B", False),
    ("edifact", "ORDERS", "D03B", "D03B", False), ("edifact", "INVOIC", "D97A", "D97A", False),
    ("edifact", "ORDRSP", "D10A", "D10A", False), ("edifact", "DELFOR", "D04A", "D04A", False),
    ("edifact", "ORDRSP", "D11A", "D10B", True), ("edifact", "ORDERS", "D20B", "D10B", True),
    ("edifact", "ORDERS", "D90A", "D93A", True), ("edifact", "APERAK", "D93A", "D95A", True),
    ("edifact", "DESADV", "096A", "D96A", True), ("edifact", "INVOIC", "S93A", "D93A", True),
    ("edifact", "ORDERS", "d01b", "D01B", True), ("edifact", "CONTRL", "22", "service", False),
])
def test_version_resolution(standard: str, message: str, version: str, directory: str,
                            substituted: bool) -> None:
    grammar = load_grammar(standard, message, version)
    assert grammar is not None and grammar.version == directory
    choice = select_grammar(standard, message, version)
    assert choice is not None and choice.substituted is substituted
    assert (directory in choice.note) is substituted


@pytest.mark.parametrize(("standard", "message", "version"), [
    ("x12", "850", "003010"), ("x12", "866", "004010"), ("x12", "999", "004010"),
    ("edifact", "IFTMBC", "D00B"), ("edifact", "ORDERS", "XXXX"), ("edifact", "ORDERS", ""),
    ("edifact", "ORDERS", "D89B"), ("x12", "850", ""),
])
def test_no_grammar(standard: str, message: str, version: str) -> None:
    assert load_grammar(standard, message, version) is None


def test_every_corpus_segment_is_known(all_corpus_files: list[Path]) -> None:
    missing: set[tuple[str, str, str]] = set()
    for path in all_corpus_files:
        for interchange in parse(path.read_bytes()).interchanges:
            for message in interchange.messages:
                grammar = load_grammar(interchange.standard, message.type, message.version)
                if grammar is None:
                    continue
                for segment in message.segments:
                    if segment.tag not in grammar.segments:
                        missing.add((path.name, message.type, segment.tag))
    assert not missing


def test_hl_hierarchy_and_loops_in_856() -> None:
    grammar = load_grammar("x12", "856", "004010")
    assert grammar is not None and grammar.hierarchy is not None
    assert grammar.hierarchy.parents["O"] == ("S",)
    hl = next(c for c in grammar.root.children if getattr(c, "name", "") == "HL")
    assert hl.req == "M" and hl.trigger == "HL"


def test_element_specs() -> None:
    beg05 = load_grammar("x12", "850", "004010").segments["BEG"].elements[4]  # type: ignore[union-attr]
    assert (beg05.ref, beg05.req, beg05.type, beg05.min, beg05.max) == ("373", "M", "DT", 8, 8)
    beg01 = load_grammar("x12", "850", "004010").segments["BEG"].elements[0]  # type: ignore[union-attr]
    assert beg01.codes is not None and "00" in beg01.codes
    nad = load_grammar("edifact", "ORDERS", "D96A").segments["NAD"]  # type: ignore[union-attr]
    assert nad.elements[1].ref == "C082" and nad.elements[1].components[0].max == 35
    assert [r.text for r in load_grammar("x12", "850", "004010").segments["N1"].rules] == [
        "R0203", "P0304"]


@pytest.mark.parametrize("spec", ["Q ID 2/2 353", "M ID 5/2 353", "M XX 1/2 1", "M an35x 1"])
def test_bad_element_specs(spec: str) -> None:
    with pytest.raises(GrammarError):
        parse_element("x12" if "/" in spec else "edifact", spec, {}, "test")


def test_bad_rule() -> None:
    with pytest.raises(GrammarError):
        parse_rule("Z0102", "test")


def test_grammar_files_are_documented() -> None:
    readme = (GRAMMARS_DIR / "README.md").read_text()
    for word in ("structure", "extends", "applies", "rules", "hierarchy"):
        assert word in readme
    for path in GRAMMARS_DIR.glob("*/*/*.json"):
        json.loads(path.read_text())  # every file is plain JSON
