"""The speed-ups must not show: compiled segment patterns, message shapes, windowed mailbag
reading, the lean parsed segments and the number/GTIN shortcuts give exactly what the plain
paths give (seeded random inputs, hostile inputs, the shared corpus)."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest

from tests.translators.edi_builders import PO_850, edifact, x12
from translators import translate
from translators.grammar import available_grammars, load_grammar, load_grammar_file
from translators.grammar.model import ElementDef, SegmentDef
from translators.mapping.engine import _gtin
from translators.mapping.values import MAX_NUMBER_CHARS, MappingError, parse_number
from translators.syntax import iter_messages, parse, serialize, to_json
from translators.syntax.codec import ElementCodec
from translators.syntax.reader import Reader
from translators.syntax.tree import Delimiters
from translators.validation import fast, validate_message
from translators.validation.segment import check_segment

DELIMITERS = {
    "edifact": [Delimiters("'", "+", ":", "", "?"), Delimiters("'", "+", ":", "*", "?"),
                Delimiters("\x1c", "\x1d", "\x1f", "", "")],
    "x12": [Delimiters("~", "*", ">", ""), Delimiters("~", "*", ":", "^"),
            Delimiters("\n", "|", "\\", "")],
}
ODD_VALUES = ["20240229", "20230229", "20240431", "20241231", "240101", "1200", "2359", "235960",
              "2400", "-1.5", "1E5", ".5", "5.", "-.5", "1,5", "--1", "0", "00", "12", "332"]


def _value(rnd: random.Random, element: ElementDef, d: Delimiters) -> str:
    r = rnd.random()
    if element.codes and r < 0.5:
        return rnd.choice(sorted(element.codes))
    if r < 0.6:
        return ""
    if r < 0.7:
        size = rnd.choice([element.min, element.max, element.min - 1, element.max + 1, 1])
        return "".join(rnd.choice("0123456789") for _ in range(max(size, 0)))
    if r < 0.75:
        return rnd.choice(ODD_VALUES)
    text = "".join(rnd.choice("0123456789" * 3 + "ABCXYZabc -.,/éE")
                   for _ in range(rnd.randint(1, max(1, min(element.max + 2, 40)))))
    if rnd.random() < 0.1:
        text += rnd.choice([d.element, d.component, d.release or "?", d.repetition or "^"])
    return text


def _escape(rnd: random.Random, value: str, d: Delimiters) -> str:
    if not d.release or rnd.random() < 0.2:
        return value
    specials = {c for c in (d.element, d.component, d.release, d.repetition, d.segment) if c}
    return "".join(d.release + c if c in specials else c for c in value)


def _segment_text(rnd: random.Random, definition: SegmentDef, d: Delimiters) -> str:
    parts = [definition.tag]
    count = len(definition.elements) + rnd.choice([0, 0, 0, -1, -2, 1, 2])
    for index in range(max(count, 0)):
        if index >= len(definition.elements):
            parts.append(rnd.choice(["", "", d.component, "X"]))
            continue
        element = definition.elements[index]
        if element.components:
            size = len(element.components) + rnd.choice([0, 0, -1, 1])
            comps = [_escape(rnd, _value(rnd, c, d), d) for c in element.components[:max(size, 0)]]
            if size > len(element.components):
                comps.append(rnd.choice(["", "Z"]))
            text = d.component.join(comps)
            if d.repetition and rnd.random() < 0.05:
                text = text + d.repetition + text
            parts.append(text)
        else:
            value = _escape(rnd, _value(rnd, element, d), d)
            if rnd.random() < 0.05:
                value += d.component + rnd.choice(["", "Q"])
            parts.append(value)
    while len(parts) > 1 and parts[-1] == "" and rnd.random() < 0.3:
        parts.pop()
    return d.element.join(parts)


@pytest.mark.parametrize("standard", ["x12", "edifact"])
def test_segment_patterns_never_pass_a_faulty_segment(standard: str) -> None:
    rnd = random.Random(20240601)
    passed = clean = 0
    grammars = [(v, m) for std, v, m in available_grammars() if std == standard]
    for number, (version, message) in enumerate(grammars):
        grammar = load_grammar_file(standard, version, message)
        # Every grammar with the usual delimiters, each with one of the unusual sets in turn
        # (compiling all sets for all grammars would make this the slowest test of the suite).
        odd = DELIMITERS[standard][1 + number % (len(DELIMITERS[standard]) - 1)]
        for d in (DELIMITERS[standard][0], odd):
            codec = ElementCodec(d, standard)
            release = d.release if standard == "edifact" else ""
            checker = fast.CompiledGrammar(grammar).checker(
                standard, d.element, d.component, d.repetition, release)
            assert checker is not None
            for tag, definition in grammar.segments.items():
                for _ in range(12):
                    raw = _segment_text(rnd, definition, d)
                    issues = check_segment(definition, codec(raw), standard)
                    accepted = checker.clean(tag, raw)
                    assert not (accepted and issues), (version, message, raw, issues)
                    if d is DELIMITERS[standard][0]:  # (the batch compiles slowly: one set)
                        assert checker.clean_message([raw]) == accepted, raw
                    clean += not issues
                    passed += accepted
    # The patterns exist to recognise clean segments: nearly all of them must pass.
    assert passed >= 0.9 * clean


def test_batch_match_does_not_backtrack_exponentially() -> None:
    # Every PO102 "1234" could once be read several ways; a bad last segment then made the
    # engine try all their combinations.
    lines = [f"PO1*{n}*1234*EA*12**BP*P{n}" for n in range(1, 60)]
    grammar = load_grammar("x12", "850", "004010")
    assert grammar is not None
    checker = fast.CompiledGrammar(grammar).checker("x12", "*", ">", "", "")
    assert checker is not None
    raws = ["ST*850*0001", "BEG*00*SA*PO-1**20260105", *lines, "CTT*59*", "SE*63*0001*X*Y"]
    start = time.perf_counter()
    assert not checker.clean_message(raws)
    assert time.perf_counter() - start < 2.0


def _mutants(data: bytes, count: int, seed: int) -> list[bytes]:
    rnd = random.Random(seed)
    alphabet = [b"A", b"9", b"0", b"+", b":", b"'", b"?", b"*", b"~", b">", b"\n", b" ", b"",
                b"\xe9", b"-", b"."]
    out = []
    for _ in range(count):
        mutant = bytearray(data)
        for _ in range(rnd.choice([1, 1, 2, 3])):
            at = rnd.randrange(len(mutant))
            mutant[at:at + 1] = rnd.choice(alphabet)
        out.append(bytes(mutant))
    return out


def observable_without(module: str, switch: str, data: str) -> str:
    """The JSON of ``_observable(translate(<data>))`` in a fresh interpreter where ``module``
    (an optional C accelerator) cannot be imported, as on a machine without a compiler; the
    module ``switch`` names (``engine`` or ``fast``) must then run in Python."""
    package = {"engine": "translators.mapping", "fast": "translators.validation"}[switch]
    script = (
        "import sys, json\n"
        f"sys.modules[{module!r}] = None\n"
        "from translators import translate\n"
        f"from {package} import {switch}\n"
        "from bench.parse import edifact_orders, x12_850\n"
        "from tests.translators.test_fast_paths import _observable\n"
        f"assert {switch}._accel is None and not {switch}.accelerate\n"
        f"print(json.dumps(_observable(translate({data})), default=repr))\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2],
                         capture_output=True, text=True, check=True)
    return run.stdout.strip()


def _observable(result: Any) -> list[Any]:
    return [(m.status, [e.to_json() for e in m.errors],
             None if m.event is None else (m.event.event_type, m.event.business_key,
                                           m.event.data))
            for m in result.messages] + [result.error_report()]


ORDERS_BODY = ["BGM+220+PO-2001+9", "DTM+137:20260105:102", "NAD+BY+5412345000013::9",
               "LIN+1++4000862141404:EN", "QTY+21:10:PCE", "PRI+AAA:2.5",
               "FTX+AAA+++SIZE 10?+12 ?:4", "UNS+S"]


@pytest.mark.parametrize("standard", ["x12", "edifact"])
def test_validation_is_the_same_with_and_without_patterns(
        monkeypatch: pytest.MonkeyPatch, standard: str) -> None:
    base = x12(PO_850) if standard == "x12" else edifact(ORDERS_BODY)
    inputs = [base, *_mutants(base, 150, seed=7)]
    monkeypatch.setattr(fast, "WARM_UP_MESSAGES", 10**9)  # never compiled: the plain path
    fast._compiled.clear()
    plain = [_observable(translate(data)) for data in inputs]
    monkeypatch.setattr(fast, "WARM_UP_MESSAGES", 0)  # compiled from the first message on
    fast._compiled.clear()
    compiled = [_observable(translate(data)) for data in inputs]
    assert compiled == plain


def test_shapes_are_cached_per_tag_sequence() -> None:
    data = x12(PO_850)
    grammar = load_grammar("x12", "850", "004010")
    assert grammar is not None
    message = parse(data).interchanges[0].messages[0]
    first = validate_message(message, grammar, standard="x12")
    entry = fast.compiled(grammar)
    assert tuple(s.tag for s in message.segments) in entry.shapes
    assert validate_message(message, grammar, standard="x12") == first


def _count_text(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    original = Reader._process

    def counting(self: Reader, final: bool) -> None:
        assert self._open is not None
        seen.append(len(self._open.text))
        original(self, final)

    monkeypatch.setattr(Reader, "_process", counting)
    return seen


def test_mailbag_is_read_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    one = x12(PO_850)
    data = one * 1500
    seen = _count_text(monkeypatch)
    result = parse(data)
    assert len(result.interchanges) == 1500
    assert serialize(result) == data
    # Each byte is looked at a bounded number of times (it was once per earlier interchange).
    assert sum(seen) < 8 * len(data)


def test_mailbag_trees_match_single_interchanges() -> None:
    pieces = [x12(PO_850), edifact(ORDERS_BODY), x12(PO_850).replace(b"000000123", b"000000124")]
    data = b"\r\n".join(pieces * 40)
    result = parse(data)
    assert serialize(result) == data
    alone = [parse(piece) for piece in pieces]
    for index, ic in enumerate(result.interchanges):
        single = alone[index % 3].interchanges[0]
        assert [[(s.tag, s.elements, s.tail) for s in m.segments] for m in ic.messages] == \
            [[(s.tag, s.elements, s.tail) for s in m.segments] for m in single.messages]
    for size in (7, 4096, 1 << 20):
        streamed = [(s.message.type, s.message.control, [g.raw for g in s.message.segments])
                    for s in iter_messages(data, chunk_size=size)]
        assert streamed == [(m.type, m.control, [g.raw for g in m.segments])
                            for ic in result.interchanges for m in ic.messages]


def test_windowed_reading_keeps_default_tails() -> None:
    # A chunk edge between a terminator and its line break once left an explicit tail equal to
    # the default one: same bytes, different tree.
    data = b"\n".join([x12(PO_850).replace(b"~", b"~\n")] * 300)
    whole = to_json(parse(data))
    stream = Reader(keep=True)
    for at in range(0, len(data), 1000):
        stream.feed(data[at:at + 1000])
    stream.close()
    assert to_json(stream.result) == whole


def test_parsed_segments_locate_lazily_and_keep_their_text() -> None:
    data = b"\n" + x12(PO_850)
    ic = parse(data).interchanges[0]
    message = ic.messages[0]
    beg = message.segments[1]
    assert not beg.decoded and beg.peek_elements()[0] == [["00"]] and not beg.decoded
    assert (beg.offset, beg.line) == (data.index(b"BEG"), 2)
    assert beg.elements[2] == [["PO-1001"]] and beg.decoded
    beg.offset = 5
    assert (beg.offset, beg.line, beg.column) == (5, 1, 1)
    header = message.segments[0]
    header.line = 9
    assert (header.line, header.offset) == (9, data.index(b"ST*850"))
    assert repr(message.segments[-1]).startswith("Segment('SE'")


def _reference_number(raw: str) -> int | float:
    text = raw.strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise MappingError(f"{raw!r} is not a number") from None
    if not value.is_finite():
        raise MappingError(f"{raw!r} is not a finite number")
    return int(value) if value == value.to_integral_value() else float(value)


def test_number_shortcut_matches_decimal() -> None:
    rnd = random.Random(3)
    cases = ["0", "-0", "007", "12.50", "12.00", "-0.00", "-12.5", ".5", "5.", "1,5", " 3 ",
             "1e3", "+5", "1_000", "--1", "", "x", "١٢", "²", "9" * 40, "9" * 40 + ".5",
             "1" + "0" * 400 + ".5", "1.000000000000000000000001", "2.675", "0.1"]
    cases += ["".join(rnd.choice("0123456789.,- ") for _ in range(rnd.randint(1, 8)))
              for _ in range(5000)]
    for case in cases:
        if len(case.strip()) > MAX_NUMBER_CHARS:  # (refused before any conversion)
            with pytest.raises(MappingError, match="too long for a number"):
                parse_number(case)
            continue
        try:
            expected: Any = _reference_number(case)
        except MappingError as exc:
            expected = str(exc)
        try:
            got: Any = parse_number(case)
        except MappingError as exc:
            got = str(exc)
        assert (type(got), repr(got)) == (type(expected), repr(expected)), case


def test_gtin_shortcut_matches_the_check_digit_rule() -> None:
    rnd = random.Random(5)
    for _ in range(3000):
        text = "".join(rnd.choice("0123456789") for _ in range(rnd.choice([8, 12, 13, 14])))
        digits = [int(c) for c in reversed(text[:-1])]
        total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits))
        valid = (10 - total % 10) % 10 == int(text[-1])
        assert _gtin(f" {text} ") == (text if valid else None)


def test_corpus_translates_the_same_with_patterns(monkeypatch: pytest.MonkeyPatch,
                                                  corpus_dir: Path) -> None:
    files = sorted(p for p in corpus_dir.glob("*/*") if p.suffix != ".md")
    monkeypatch.setattr(fast, "WARM_UP_MESSAGES", 10**9)
    fast._compiled.clear()
    plain = [_observable(translate(p.read_bytes())) for p in files]
    monkeypatch.setattr(fast, "WARM_UP_MESSAGES", 0)
    fast._compiled.clear()
    assert [_observable(translate(p.read_bytes())) for p in files] == plain


def _orders_interchange(syntax: str, control: str, name: str = "PO-1") -> str:
    return (f"UNB+{syntax}:3+A+B+260101:1200+{control}'UNH+1+ORDERS:D:96A:UN'BGM+220+{name}+9'"
            f"DTM+137:20260105:102'UNS+S'UNT+5+1'UNZ+1+{control}'\n")


def test_windowed_mailbag_checks_each_interchanges_own_characters() -> None:
    # UNOA interchanges read in windows must not report a character of the UNOC interchange
    # after them (a whole-remainder scan per interchange once reported it dozens of times and
    # rejected the UNOC message for it). More than _GIVE_BACK_LIMIT bytes follow the UNOC one,
    # so every interchange before it is read in windows.
    parts = [_orders_interchange("UNOC", "1")]
    parts += [_orders_interchange("UNOA", str(n)) for n in range(2, 200)]
    parts.append(_orders_interchange("UNOC", "200", "PO-\xe9"))
    parts += [_orders_interchange("UNOC", str(n)) for n in range(201, 400)]
    data = "".join(parts).encode("latin-1")
    assert [e.kind for e in parse(data).errors] == []
    result = translate(data)
    assert all(m.status == "accepted" for m in result.messages)
    event = result.messages[199].event
    assert event is not None and event.data["order_number"] == "PO-\xe9"
