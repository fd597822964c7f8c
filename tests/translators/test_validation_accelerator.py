"""The C predicate of validation (``translators.validation._accel``) must not show: with it and
without it (``fast.accelerate``), and without any compiled shortcut at all, every translation
gives the same events, error reports and acknowledgments, lenient and strict — on the corpus,
the benchmark files, mutants of them and faults of every kind. And the predicate never calls a
segment clean that the element checks find fault with (random segments of every grammar)."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bench.parse import edifact_orders, x12_850
from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from tests.translators.test_fast_paths import (
    DELIMITERS,
    ODD_VALUES,
    _mutants,
    _observable,
    _segment_text,
    observable_without,
)
from translators import build_acknowledgments, translate
from translators.grammar import available_grammars, load_grammar_file
from translators.syntax.codec import ElementCodec
from translators.syntax.tree import Segment
from translators.validation import fast
from translators.validation.segment import check_segment

# A machine without a C compiler installs the package without the module; under CI=true (where
# make test builds it) a missing module is a failure, never a skip.
IN_CI = os.environ.get("CI", "").lower() == "true"
pytestmark = pytest.mark.skipif(fast._accel is None and not IN_CI,
                                reason="the C validation predicate is not built (no C compiler?)")

# The grammar directories the exhaustive per-grammar checks run over.
SAMPLED_VERSIONS = ("004010", "005010", "service", "D93A", "D96A", "D01B", "D10B")

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_the_predicate_is_built_and_used() -> None:
    assert fast._accel is not None, "make test builds translators.validation._accel"
    assert fast.accelerate or os.environ.get("EDIGATE_NO_C_ACCEL", "") not in ("", "0")


def _next(counter: itertools.count[int], scope: str) -> int:
    return next(counter)


def _everything(data: bytes) -> str:
    """Events, error reports and acknowledgments of a lenient and a strict translation."""
    out: list[Any] = []
    for lenient in (True, False):
        result = translate(data, lenient=lenient)
        try:
            acks: Any = [(a.kind, a.standard, a.data, a.control_numbers, a.acknowledges)
                         for a in build_acknowledgments(result, partial(_next,
                                                                        itertools.count(1)),
                                                        NOW)]
        except ValueError as exc:  # (some corpus files cannot be answered in their charset)
            acks = f"{type(exc).__name__}: {exc}"
        out.append([_observable(result), acks])
    return json.dumps(out, default=repr)


def _three_ways(monkeypatch: pytest.MonkeyPatch, data: bytes) -> tuple[str, str, str]:
    """(C predicate, patterns only, plain element checks), the shortcuts from message one."""
    out = []
    for warm_up, accelerate in ((0, True), (0, False), (10**9, False)):
        monkeypatch.setattr(fast, "WARM_UP_MESSAGES", warm_up)
        monkeypatch.setattr(fast, "accelerate", accelerate)
        fast._compiled.clear()
        out.append(_everything(data))
    fast._compiled.clear()
    return out[0], out[1], out[2]


def _alike(monkeypatch: pytest.MonkeyPatch, data: bytes, what: object) -> str:
    accelerated, patterns, plain = _three_ways(monkeypatch, data)
    assert accelerated == patterns, what
    assert accelerated == plain, what
    return accelerated


def test_corpus_translates_alike(monkeypatch: pytest.MonkeyPatch,
                                 all_corpus_files: list[Path]) -> None:
    files = all_corpus_files
    assert len(files) > 50
    for path in files:
        _alike(monkeypatch, path.read_bytes(), path.name)


def test_benchmark_files_translate_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    for seed in (1, 7, 23):
        for data in (edifact_orders(120_000, seed=seed), x12_850(120_000, seed=seed)):
            assert '"accepted"' in _alike(monkeypatch, data, seed)


def test_mutants_translate_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    built = [x12(PO_850), edifact(ORDERS), edifact_orders(3000, seed=5), x12_850(3000, seed=5)]
    for number, data in enumerate(m for b in built for m in _mutants(b, 120, seed=41)):
        _alike(monkeypatch, data, number)


# (body, error kind the message must get): structure faults and element faults of each kind,
# each after enough clean messages that the compiled shortcuts are in use.
X12_FAULTS = [
    (["N1*ST*PLANT ONE*92*P1", "BEG*00*SA*PO-1001**20260105", *PO_850[2:]],
     "segment.out_of_order"),
    (PO_850[1:], "segment.missing"),
    ([PO_850[0], *PO_850], "segment.too_many"),
    ([*PO_850[:-1], "CTT*2", "CTT*2"], "loop.too_many"),
    ([PO_850[0], "ZZZ*1", *PO_850[1:]], "segment.unrecognized"),
    (["BEG*00*SA*PO-1001**20261305", *PO_850[1:]], "element.invalid_date"),
    (["BEG*00*SA*PO-1001**2026010", *PO_850[1:]], "element.invalid_date"),
    (["BEG*00*SA*" + "P" * 40 + "**20260105", *PO_850[1:]], "element.too_long"),
    (["BEG*99*SA*PO-1001**20260105", *PO_850[1:]], "element.invalid_code"),
    (["BEG*00**PO-1001**20260105", *PO_850[1:]], "element.missing"),
    ([*PO_850[:2], "PO1*1*1X*EA*2.5**BP*PART-1", *PO_850[3:]], "element.invalid_character"),
    ([*PO_850[:2], "PO1*1*10*EA*2.5.5**BP*PART-1", *PO_850[3:]], "element.invalid_character"),
    ([*PO_850[:2], "PO1*1*10*EA*2.5**BP", *PO_850[3:]], "element.conditional_missing"),
    ([*PO_850[:2], "PO1*1*10*EA*2.5**BP>Q*PART-1", *PO_850[3:]],
     "element.too_many_components"),
    ([*PO_850[:-1], "CTT*2" + "*" * 12 + "X"], "element.too_many"),
]
EDIFACT_FAULTS = [
    (["DTM+137:20260105:102", "BGM+220+PO-2001+9", *ORDERS[2:]], "segment.out_of_order"),
    (ORDERS[1:], "segment.missing"),
    ([*ORDERS[:-1], "CNT+2:1", *["CNT+2:1"] * 12], "segment.too_many"),
    (["BGM+220+" + "P" * 40 + "+9", *ORDERS[1:]], "element.too_long"),
    (["BGM+220+PO-2001+XYZ", *ORDERS[1:]], "element.invalid_code"),
    ([*ORDERS[:4], "QTY+21:4X8:PCE", *ORDERS[5:]], "element.invalid_type"),
    ([*ORDERS[:4], "QTY+21:.5:PCE", *ORDERS[5:]], "element.missing_leading_digit"),
    ([*ORDERS[:4], "QTY+:48:PCE", *ORDERS[5:]], "element.missing"),
    ([*ORDERS[:4], "QTY+21:48:PCE:X", *ORDERS[5:]], "element.too_many_components"),
    ([*ORDERS[:4], "QTY+21:4?+8:PCE", *ORDERS[5:]], "element.invalid_type"),
    ([*ORDERS[:4], "QTY+21:48:PCE+X", *ORDERS[5:]], "element.too_many"),
]


def _with_clean_ones(clean: bytes, faulty: bytes) -> bytes:
    """A mailbag: clean interchanges (enough to compile the shortcuts), the faulty one, more
    clean ones."""
    return b"\n".join([clean] * 3 + [faulty] + [clean] * 2)


@pytest.mark.parametrize("standard", ["x12", "edifact"])
def test_faults_are_reported_alike(monkeypatch: pytest.MonkeyPatch, standard: str) -> None:
    build, clean_body, faults = (x12, PO_850, X12_FAULTS) if standard == "x12" else \
        (edifact, ORDERS, EDIFACT_FAULTS)
    clean = build(clean_body)
    for body, kind in faults:
        data = _with_clean_ones(clean, build(body))
        seen = _alike(monkeypatch, data, (body, kind))
        result = translate(data)
        kinds = {e.kind for m in result.messages for e in m.errors}
        assert kind in kinds, (body, kind, kinds)
        assert {m.status for m in result.messages} >= {"accepted", "rejected"}, body
        assert '"rejected"' in seen


def test_predicate_never_passes_a_faulty_segment() -> None:
    rnd = random.Random(20251205)
    accepted = clean = 0
    for standard in ("x12", "edifact"):
        # (EDIFACT: four of the 36 generated directories, old to new: the
        # others share their segments)
        grammars = [(v, m) for std, v, m in available_grammars()
                    if std == standard and v in SAMPLED_VERSIONS]
        for version, message in grammars:
            grammar = load_grammar_file(standard, version, message)
            for d in DELIMITERS[standard]:
                codec = ElementCodec(d, standard)
                release = d.release if standard == "edifact" else ""
                plan = fast._accel_plan(grammar.segments, standard, d.element, d.component,
                                        d.repetition, release)
                assert plan is not None
                for tag, definition in grammar.segments.items():
                    for _ in range(8):
                        raw = _segment_text(rnd, definition, d)
                        issues = check_segment(definition, codec(raw), standard)
                        passed = fast._accel.clean(plan, [raw])
                        assert not (passed and issues), (version, message, raw, issues)
                        if not issues and tag == raw.partition(d.element)[0]:
                            clean += 1
                            accepted += passed
    # It exists to recognise clean segments: nearly all of them must pass.
    assert accepted >= 0.9 * clean, (accepted, clean)


def test_predicate_judges_values_like_the_element_checks() -> None:
    """Every odd value in every simple element and component of two grammars, one at a time."""
    cases = [*ODD_VALUES, "", "-", "-5", "5-", "1e5", "1E-5", "1E", ".", "-.5", "5.", "5,",
             "0229", "20000229", "19000229", "000229", "240229", "2400", "0000", "12345",
             "1259601", "125960", "\u00b2", "\u00e9", "A1", "ABC", "a b", "9" * 40, "12:30",
             "?+", "??", "1?,5", "X?'Y", "A?"]
    for standard, _, grammar, d, codec, plan in _two_grammars():
        for tag, definition, index, component, _ in _value_slots(grammar):
            for value in cases:
                raw = _segment_with(tag, definition, index, component, value, d)
                issues = check_segment(definition, codec(raw), standard)
                assert not (fast._accel.clean(plan, [raw]) and issues), (raw, issues)


def _two_grammars() -> Any:
    """(standard, message, grammar, delimiters, codec, C plan) of X12 850 and EDIFACT ORDERS."""
    for standard, version, message in (("x12", "004010", "850"), ("edifact", "D96A", "ORDERS")):
        grammar = load_grammar_file(standard, version, message)
        d = DELIMITERS[standard][0]
        plan = fast._accel_plan(grammar.segments, standard, d.element, d.component,
                                d.repetition, d.release if standard == "edifact" else "")
        yield standard, message, grammar, d, ElementCodec(d, standard), plan


def _value_slots(grammar: Any) -> Any:
    """Every simple element and component of a grammar: (tag, definition, element index,
    component index or None, its definition)."""
    for tag, definition in grammar.segments.items():
        for index, element in enumerate(definition.elements):
            if not element.components:
                yield tag, definition, index, None, element
            else:
                for component, spec in enumerate(element.components):
                    yield tag, definition, index, component, spec


def _segment_with(tag: str, definition: Any, index: int, component: int | None, value: str,
                  d: Any) -> str:
    """A segment text with ``value`` in one element (or component) and every other one empty."""
    cells = ["" for _ in definition.elements]
    if component is None:
        cells[index] = value
    else:
        parts = [""] * len(definition.elements[index].components)
        parts[component] = value
        cells[index] = d.component.join(parts)
    return d.element.join([tag, *cells])


def test_everything_works_without_the_module() -> None:
    """A machine without a compiler: the import fails and the patterns do it all."""
    expected = json.dumps(_observable(translate(edifact_orders(60_000, seed=9))), default=repr)
    assert observable_without("translators.validation._accel", "fast",
                              "edifact_orders(60_000, seed=9)") == expected


def test_the_switch_turns_it_off() -> None:
    script = "from translators.validation import fast\nprint(fast.accelerate)\n"
    env = {**os.environ, "EDIGATE_NO_C_ACCEL": "1"}
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True, env=env)
    assert run.stdout.strip() == "False"


def test_the_structure_cache_key_is_the_tuple_of_tags() -> None:
    class Other:  # (not a Segment: read through the attribute)
        tag = "ZZZ"

    segments = [Segment("ISA", raw="ISA*00"), Segment("PO1", [[["1"]]]), Other(),
                Segment("SE", raw="SE*2*0001")]
    assert fast._accel.tags(segments) == ("ISA", "PO1", "ZZZ", "SE")
    assert fast._accel.tags([]) == ()
    with pytest.raises(AttributeError):
        fast._accel.tags([Segment("A", raw="A"), object()])
    with pytest.raises(TypeError):
        fast._accel.tags(tuple(segments))


def test_coded_values_are_looked_up_like_the_code_list() -> None:
    """Every code of every coded element of two grammars passes, and near misses (a character
    more or less, another case, Latin-1 look-alikes) pass exactly when the list holds them."""
    for standard, message, grammar, d, codec, plan in _two_grammars():
        checked = 0
        for tag, definition, index, component, spec in _value_slots(grammar):
            codes = spec.codes
            if not codes:
                continue
            values = set(codes)
            for code in list(codes)[:40]:
                values |= {code + "X", code[:-1], code.lower(), code + "\u00e9",
                           "\u00e9" + code[1:]}
            for value in sorted(values):
                raw = _segment_with(tag, definition, index, component, value, d)
                issues = check_segment(definition, codec(raw), standard)
                passed = fast._accel.clean(plan, [raw])
                assert not (passed and issues), (raw, issues)
                if value in codes and not issues:
                    assert passed, raw  # (a listed code is found)
                checked += 1
        assert checked > 100, (message, checked)
