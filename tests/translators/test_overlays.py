"""Partner guide overlays narrow a grammar: the two shipped examples and bad overlay files."""

from __future__ import annotations

import pytest

from tests.translators.edi_builders import PO_850, x12
from translators import OverlayError, load_overlay, translate
from translators.grammar import load_grammar
from translators.overlays import apply_overlays, parse_overlay

ACME = (load_overlay("acme-retail-850"),)
CLEAN = ["BEG*00*SA*PO-1001**20260105", "PER*BD*JOHN", *PO_850[1:]]


def _kinds(data: bytes, overlays=ACME) -> list[tuple[str, str, int | None]]:  # type: ignore[no-untyped-def]
    result = translate(data, overlays=overlays)
    return [(e.kind, e.segment_tag, e.element_position) for m in result.messages
            for e in m.errors]


def test_overlay_clean_message_passes() -> None:
    assert _kinds(x12(CLEAN)) == []


def test_overlay_requires_segment() -> None:
    assert _kinds(x12(PO_850)) == [("segment.missing", "PER", None)]
    assert _kinds(x12(PO_850), overlays=()) == []  # the plain grammar does not ask for it


def test_overlay_restricts_codes_and_requires_element() -> None:
    body = ["BEG*00*DS*PO-1001**20260105", "PER*BD*JOHN", "N1*ST*PLANT ONE*92*P1",
            "PO1*1*10*BX*2.5**BP*PART-1", "PO1*2*5**1.25**BP*PART-2", "CTT*2"]
    assert _kinds(x12(body)) == [("element.invalid_code", "BEG", 2),
                                 ("element.invalid_code", "PO1", 3),
                                 ("element.missing", "PO1", 3)]


def test_overlay_not_used_segment_and_tighter_length() -> None:
    body = ["BEG*00*SA*PO-1001**20260105", "CUR*BY*USD", "PER*BD*JOHN",
            "N1*ST*" + "P" * 40 + "*92*P1", *PO_850[2:]]
    assert _kinds(x12(body)) == [("segment.not_used", "CUR", None),
                                 ("element.too_long", "N1", 2)]


def test_overlay_999_codes_for_not_used() -> None:
    import itertools
    from datetime import datetime

    from translators import build_acknowledgments
    from translators.syntax import parse

    body = ["BEG*00*SA*PO-1001**20260105", "CUR*BY*USD", "PER*BD*JOHN", *PO_850[1:]]
    result = translate(x12(body, version="005010"), overlays=ACME)
    counter = itertools.count(1)
    doc = build_acknowledgments(result, lambda s: next(counter), datetime(2026, 1, 1))[0]
    ik3 = [s for s in parse(doc.data).interchanges[0].messages[0].segments if s.tag == "IK3"]
    assert [(s.get(1), s.get(2), s.get(4)) for s in ik3] == [("CUR", "3", "I4")]


def test_overlay_loop_max() -> None:
    parties = [f"N1*ST*PLANT {n}*92*P{n}" for n in range(6)]
    body = ["BEG*00*SA*PO-1001**20260105", "PER*BD*JOHN", *parties, *PO_850[2:]]
    assert _kinds(x12(body)) == [("loop.too_many", "N1", None)]


def test_edifact_overlay() -> None:
    overlay = load_overlay("nordic-desadv")
    grammar = load_grammar("edifact", "DESADV", "D96A")
    assert grammar is not None
    narrowed = apply_overlays(grammar, (overlay,))
    assert narrowed.overlays == ("nordic-desadv",)
    assert grammar.overlays == ()  # the shared base grammar is untouched
    bgm = narrowed.segments["BGM"].elements[0].components[0]
    assert bgm.codes == frozenset({"351"})
    from tests.translators.edi_builders import edifact

    body = ["BGM+352+DES-1+9", "RFF+ON:PO-1", "CPS+1", "LIN+1++4000862141404:SRS",
            "QTY+12:5:PCE", "GIN+BJ+12345"]
    result = translate(edifact(body, message="DESADV"), overlays=(overlay,))
    kinds = [(e.kind, e.segment_tag, e.element_position) for e in result.messages[0].errors]
    assert kinds == [("element.invalid_code", "BGM", 1), ("segment.missing", "DTM", None),
                     ("element.too_short", "GIN", 2)]
    assert translate(edifact(body, message="DESADV")).messages[0].errors == []


def test_overlay_for_other_message_is_ignored() -> None:
    assert _kinds(x12(PO_850, message="850"), overlays=(load_overlay("nordic-desadv"),)) == []


@pytest.mark.parametrize(("name", "text"), [
    ("../etc/passwd", None), ("no-such-guide", None),
])
def test_bad_overlay_names(name: str, text: str | None) -> None:
    with pytest.raises(OverlayError):
        load_overlay(name)


@pytest.mark.parametrize("data", [
    {"standard": "x13", "messages": ["850"]},
    {"standard": "x12", "messages": []},
    {"standard": "x12", "messages": ["850"], "elements": {"BEGX": {"req": "M"}}},
    {"standard": "x12", "messages": ["850"], "elements": {"BEG02": {"codes": []}}},
    {"standard": "x12", "messages": ["850"], "segments": {"PER": {"req": "maybe"}}},
])
def test_malformed_overlays(data: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(OverlayError):
        parse_overlay("bad", data)


def test_overlay_naming_unknown_segment() -> None:
    overlay = parse_overlay("bad", {"standard": "x12", "messages": ["850"],
                                    "segments": {"BSN": {"req": "M"}}})
    with pytest.raises(OverlayError, match="BSN is not in the 850 grammar"):
        translate(x12(PO_850), overlays=(overlay,))
