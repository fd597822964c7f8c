"""The EDIFACT grammars generated from the published directories: complete, consistent, and
reproducible from their source (scripts/grammars/edifact_from_biztalk.py)."""

from __future__ import annotations

import filecmp
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from translators import translate
from translators.grammar import load_grammar, load_grammar_file
from translators.grammar.loader import GRAMMARS_DIR
from translators.grammar.model import LoopNode, SegmentNode

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "grammars" / "edifact_from_biztalk.py"
DIRECTORIES = ("D93A", "D94A", "D94B", "D95A", "D95B", "D96A", "D96B", "D97A", "D97B",
               "D98A", "D98B", "D99A", "D99B", "D00A", "D00B", "D01A", "D01B", "D01C",
               "D02A", "D02B", "D03A", "D03B", "D04A", "D04B", "D05A", "D05B", "D06A",
               "D06B", "D07A", "D07B", "D08A", "D08B", "D09A", "D09B", "D10A", "D10B")
MESSAGES = ("ORDERS", "ORDRSP", "ORDCHG", "DESADV", "INVOIC", "INVRPT", "DELFOR", "DELJIT",
            "APERAK")
NOT_YET = {("APERAK", "D93A"), ("APERAK", "D94A"), ("APERAK", "D94B")}  # APERAK came in D95A


def _source_commit() -> str:
    text = (GRAMMARS_DIR / "SOURCES.md").read_text()
    match = re.search(r"microsoft/Integration.*?commit:?\s*`([0-9a-f]{40})`", text, re.S)
    assert match, "SOURCES.md names the source commit"
    return match.group(1)


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("directory", DIRECTORIES)
def test_every_directory_has_every_message(directory: str) -> None:
    commit = _source_commit()
    folder = GRAMMARS_DIR / "edifact" / directory
    dictionary = _json(folder / "_segments.json")
    assert dictionary["generator"] == "scripts/grammars/edifact_from_biztalk.py"
    assert commit in dictionary["source"]
    for message in MESSAGES:
        path = folder / f"{message}.json"
        if (message, directory) in NOT_YET:
            assert not path.exists()
            continue
        data = _json(path)
        assert commit in data["source"] and data["version"] == directory
        grammar = load_grammar_file("edifact", directory, message)  # every segment defined
        assert grammar.version == directory
        _check_structure(grammar.root, f"{directory}/{message}")
        for segment in grammar.segments.values():
            for element in segment.elements:  # every composite resolved to its components
                assert element.components or element.type in ("an", "n", "a"), \
                    (directory, message, segment.tag, element)


def _check_structure(root: LoopNode, where: str) -> None:
    children = root.children
    assert isinstance(children[0], SegmentNode) and children[0].tag == "UNH", where
    assert isinstance(children[-1], SegmentNode) and children[-1].tag == "UNT", where
    assert children[0].req == "M" and children[-1].req == "M", where
    names: list[int] = []

    def walk(nodes: tuple[Any, ...]) -> None:
        for node in nodes:
            if isinstance(node, LoopNode):
                assert re.fullmatch(r"SG\d+", node.name), (where, node.name)
                names.append(int(node.name[2:]))
                trigger = node.children[0]
                # A segment group starts with one mandatory segment.
                assert isinstance(trigger, SegmentNode), (where, node.name)
                assert trigger.req == "M" and trigger.max == 1, (where, node.name)
                assert node.max >= 1
                walk(node.children)
            else:
                assert node.max >= 1 and node.req in ("M", "O"), (where, node)

    walk(children)
    # Groups are numbered 1, 2, 3... in order of appearance, as the directories number them.
    assert names == list(range(1, len(names) + 1)), (where, names)


def test_extends_point_at_written_tables() -> None:
    for path in (GRAMMARS_DIR / "edifact").glob("D*/*.json"):
        data = _json(path)
        if path.stem == "_segments" or "extends" not in data:
            continue
        assert "structure" not in data
        base = _json(GRAMMARS_DIR / "edifact" / f"{data['extends']}.json")
        assert "structure" in base and "extends" not in base, path


def test_service_segments_stay_hand_made() -> None:
    service = _json(GRAMMARS_DIR / "edifact" / "service" / "_segments.json")
    assert service.get("extends") is None and "generator" not in service
    assert {"UNH", "UNT", "UCI", "UCM", "UCS", "UCD", "UCF"} <= set(service["segments"])
    contrl = load_grammar("edifact", "CONTRL", "4")
    assert contrl is not None and contrl.version == "service"


def test_size_of_generated_data() -> None:
    total = sum(p.stat().st_size for p in (GRAMMARS_DIR / "edifact").rglob("*.json"))
    assert total < 3_000_000, total


def _edifact(version: str, message_type: str, *segments: str) -> bytes:
    release = version[1:]
    body = [f"UNH+1+{message_type}:D:{release}:UN", *segments]
    body.append(f"UNT+{len(body) + 1}+1")
    return ("UNA:+.? 'UNB+UNOC:3+SENDER:14+RECEIVER:14+240101:1200+7'" + "'".join(body)
            + "'UNZ+1+7'").encode()


def test_standard_segments_the_hand_grammars_refused() -> None:
    # GIR inside the PCI group of a D96A DESADV (review finding 1).
    desadv = _edifact("D96A", "DESADV", "BGM+351+DES1+9", "DTM+137:20240101:102",
                      "CPS+1", "PAC+1++PK", "PCI+33E", "GIR+3+ABC123:BN",
                      "LIN+1++4000862141404:SRS", "QTY+12:5")
    [message] = translate(desadv).messages
    assert message.status == "accepted", [e.message for e in message.errors]
    # STS in an INVRPT D96A.
    invrpt = _edifact("D96A", "INVRPT", "BGM+35+INV1+9", "DTM+137:20240101:102",
                      "LIN+1++4000862141404:SRS", "QTY+145:10", "INV+1", "STS+1+1")
    grammar = load_grammar("edifact", "INVRPT", "D96A")
    assert grammar is not None and "STS" in grammar.segments
    [message] = translate(invrpt).messages
    assert not [e for e in message.errors if e.kind.startswith("segment.")], \
        [e.message for e in message.errors]


def test_ordrsp_d10a_validated_as_d10a() -> None:
    data = _edifact("D10A", "ORDRSP", "BGM+231+RSP1+29", "DTM+137:20240101:102",
                    "RFF+ON:PO1", "NAD+SU+5412345000013::9", "LIN+1+5+4000862141404:SRS",
                    "QTY+21:48:PCE", "UNS+S")
    [message] = translate(data).messages
    assert message.status in ("accepted", "accepted_with_errors")
    assert not [e for e in message.errors if e.severity == "error"]
    assert not [e for e in message.errors if e.kind == "message.version_substituted"]


def test_unknown_later_directory_is_validated_with_the_nearest_and_says_so() -> None:
    data = _edifact("D20B", "ORDRSP", "BGM+231+RSP1+29", "DTM+137:20240101:102", "RFF+ON:PO-1",
                    "LIN+1+5+4000862141404:SRS", "QTY+21:48:PCE", "UNS+S")
    [message] = translate(data).messages
    warnings = [e for e in message.errors if e.kind == "message.version_substituted"]
    assert len(warnings) == 1 and warnings[0].severity == "warning"
    assert "D10B" in warnings[0].message and warnings[0].extra["grammar_version"] == "D10B"
    assert message.status == "accepted"  # the note alone does not make it "with errors"
    # A real fault is still found with the substitute grammar.
    bad = _edifact("D20B", "ORDRSP", "BGM+231+RSP1+29", "DTM+137:20240101:102",
                   "RFF+ON:" + "X" * 71, "LIN+1+5+4000862141404:SRS", "QTY+21:48:PCE", "UNS+S")
    [message] = translate(bad).messages
    assert message.status == "rejected"
    assert {"element.too_long", "message.version_substituted"} <= \
        {e.kind for e in message.errors}


@pytest.mark.skipif(not os.environ.get("EDIGATE_GRAMMAR_SOURCE"),
                    reason="set EDIGATE_GRAMMAR_SOURCE to a clone of microsoft/Integration")
def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    source = os.environ["EDIGATE_GRAMMAR_SOURCE"]
    out = tmp_path / "translators" / "grammars"
    (out / "edifact" / "service").mkdir(parents=True)
    (tmp_path / "translators" / "codelists" / "edifact").mkdir(parents=True)
    for ref in ("1225",):
        committed = ROOT / "translators" / "codelists" / "edifact" / f"{ref}.json"
        (tmp_path / "translators" / "codelists" / "edifact" / f"{ref}.json").write_bytes(
            committed.read_bytes())
    run = subprocess.run([sys.executable, str(GENERATOR), source, "--out", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    for directory in DIRECTORIES:
        compared = filecmp.dircmp(out / "edifact" / directory, GRAMMARS_DIR / "edifact" / directory)
        assert not compared.left_only and not compared.right_only, directory
        _, mismatch, errors = filecmp.cmpfiles(out / "edifact" / directory,
                                               GRAMMARS_DIR / "edifact" / directory,
                                               compared.common_files, shallow=False)
        assert not mismatch and not errors, (directory, mismatch)
    assert filecmp.cmp(tmp_path / "translators" / "codelists" / "edifact" / "1225.json",
                       ROOT / "translators" / "codelists" / "edifact" / "1225.json",
                       shallow=False)
