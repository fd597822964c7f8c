"""Property-based fuzzing of parse, validate, map and acknowledge (see ``harness`` for the
properties): byte-level mutations of the corpus, interchanges generated from our grammars,
and raw bytes behind a plausible header."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz import harness
from tests.fuzz.conftest import PROFILE
from tests.translators.edi_builders import edifact, x12
from translators.grammar.loader import load_grammar
from translators.grammar.model import ElementDef, Grammar, LoopNode, SegmentNode

fuzz_settings = settings(settings.get_profile(PROFILE))


@cache
def _pool() -> tuple[bytes, ...]:
    return tuple(harness.seeds())


mutation = st.tuples(st.sampled_from(harness.OPERATIONS), st.floats(0, 0.999999),
                     st.integers(0, 1 << 16), st.integers(0, 255))


@fuzz_settings
@given(seed=st.integers(0, 10_000), mutations=st.lists(mutation, min_size=1, max_size=5),
       other=st.integers(0, 10_000))
def test_mutated_corpus_files(seed: int, mutations: list[tuple[str, float, int, int]],
                              other: int) -> None:
    pool = _pool()
    data = pool[seed % len(pool)]
    for operation, where, size, byte in mutations:
        data = harness.mutate(data, operation, where, size, byte, pool[other % len(pool)])
    harness.check_translation(data)


@fuzz_settings
@given(header=st.sampled_from([b"ISA*00*          *00*          *ZZ*A              *ZZ*B"
                               b"              *260101*1200*U*00401*000000001*0*P*>~",
                               b"UNA:+.? 'UNB+UNOC:3+A+B+260101:1200+1'", b"UNB+UNOA:3+",
                               b"ISA", b"UNA", b"\xef\xbb\xbfUNB+UNOW:4+"]),
       body=st.binary(max_size=600))
def test_random_bytes_behind_a_header(header: bytes, body: bytes) -> None:
    harness.check_translation(header + body)


# -- interchanges generated from our grammars -----------------------------------------------
GRAMMARS = [("x12", m, "004010") for m in ("850", "856", "810", "830", "855", "860", "862",
                                             "846", "997")] + \
           [("x12", m, "005010") for m in ("850", "856", "999")] + \
           [("edifact", m, "D96A") for m in ("ORDERS", "DESADV", "DELFOR", "DELJIT", "INVOIC",
                                             "ORDRSP", "ORDCHG", "INVRPT")] + \
           [("edifact", "ORDERS", "D01B")]


@cache
def _grammars() -> tuple[Grammar, ...]:
    found = []
    for standard, message, version in GRAMMARS:
        grammar = load_grammar(standard, message, version)
        if grammar is not None:
            found.append(grammar)
    return tuple(found)


HOSTILE_VALUES = ["", "9" * 300, "1.2.3", "-", "\u00b2", "A" * 80, "20261399", "2561",
                  "?", "'", "+", ":", "*", "~", ">", "^", "\u00e9\u00e8", "1E5", ".5"]


def _value(draw: st.DrawFn, element: ElementDef, x12_: bool) -> str:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from(HOSTILE_VALUES))
    if element.codes:
        return draw(st.sampled_from(sorted(element.codes)))
    low, high = max(element.min, 1), max(min(element.max, 12), 1)
    size = draw(st.integers(min(low, high), high))
    kind = element.type
    if kind in ("DT",):
        return draw(st.sampled_from(["20260105", "260105", "20240229"]))[:high]
    if kind == "TM":
        return draw(st.sampled_from(["1200", "235959", "0000"]))
    digits = st.text("0123456789", min_size=size, max_size=size)
    if kind.startswith("N") or kind == "n":
        return draw(digits)
    if kind == "R":
        return draw(st.sampled_from(["1", "2.5", "-3", "100.25"]))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if kind == "a" else \
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -."
    return draw(st.text(alphabet, min_size=size, max_size=size))


def _escape(value: str, x12_: bool) -> str:
    if x12_:
        return "".join(c for c in value if c not in "*~>^")
    return "".join("?" + c if c in "?'+:" else c for c in value)


def _segment(draw: st.DrawFn, grammar: Grammar, tag: str) -> str:
    x12_ = grammar.standard == "x12"
    definition = grammar.segments.get(tag)
    sep, comp = ("*", ">") if x12_ else ("+", ":")
    if definition is None:
        return tag
    elements = []
    for element in definition.elements:
        if element.req != "M" and draw(st.integers(0, 2)) == 0:
            elements.append("")
            continue
        parts = element.components or (element,)
        values = [_escape(_value(draw, part, x12_), x12_)
                  if part.req == "M" or draw(st.booleans()) else "" for part in parts]
        while len(values) > 1 and not values[-1]:
            values.pop()
        elements.append(comp.join(values))
    while elements and not elements[-1]:
        elements.pop()
    return sep.join([tag, *elements])


def _walk(draw: st.DrawFn, grammar: Grammar, node: LoopNode, depth: int,
          out: list[str]) -> None:
    for child in node.children:
        if isinstance(child, SegmentNode):
            if child.tag in ("ST", "SE", "UNH", "UNT"):
                continue
            low = 1 if child.req == "M" else 0
            for _ in range(draw(st.integers(low, max(low, min(child.max, 2))))):
                out.append(_segment(draw, grammar, child.tag))
        elif depth < 6:
            low = 1 if child.req == "M" else 0
            for _ in range(draw(st.integers(low, max(low, min(child.max, 2))))):
                _walk(draw, grammar, child, depth + 1, out)
        if len(out) > 300:
            return


@st.composite
def interchanges(draw: st.DrawFn) -> bytes:
    grammar = draw(st.sampled_from(_grammars()))
    body: list[str] = []
    _walk(draw, grammar, grammar.root, 0, body)
    if draw(st.integers(0, 4)) == 0 and body:  # a segment out of place
        index = draw(st.integers(0, len(body) - 1))
        body.insert(draw(st.integers(0, len(body))), body.pop(index))
    if grammar.standard == "x12":
        group = grammar.functional_id or "PO"
        return x12(body, message=grammar.message, version=grammar.version, group_id=group)
    return edifact(body, message=grammar.message,
                   version=f"D:{grammar.version[1:]}",
                   syntax=draw(st.sampled_from(["UNOC:3", "UNOA:3", "UNOC:4"])))


@fuzz_settings
@given(data=interchanges())
def test_interchanges_generated_from_the_grammars(data: bytes) -> None:
    harness.check_translation(data)


def test_the_generator_covers_several_message_types() -> None:
    assert len(_grammars()) >= 10


# -- every failure ever found stays a test -------------------------------------------------------
@pytest.mark.parametrize("path", list(harness.regression_files()), ids=lambda p: p.name)
def test_regression(path: Path) -> None:
    if path.name.startswith("render-"):
        harness.check_render_bytes(path.read_bytes())
    else:
        harness.check_translation(path.read_bytes())
