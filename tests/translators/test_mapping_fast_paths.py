"""The translation speed-ups must not show: values read from split segment texts (``cells``),
the generated per-scope field functions, the GTIN shortcut and the segment texts validation
remembers as clean give exactly what reading decoded elements, interpreting the rules one by
one, the plain check-digit rule and matching every text give (corpus, seeded hostile inputs)."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from tests.translators.test_fast_paths import DELIMITERS, _mutants, _observable
from translators import translate
from translators.grammar import load_grammar
from translators.mapping import MappingError, engine
from translators.syntax import parse
from translators.syntax.codec import ElementCodec
from translators.syntax.tree import Segment
from translators.validation import fast


def _corpus(files: list[Path]) -> list[bytes]:
    return [p.read_bytes() for p in files]


def _inputs(files: list[Path]) -> list[bytes]:
    built = [x12(PO_850), edifact(ORDERS)]
    return _corpus(files) + built + [m for b in built for m in _mutants(b, 120, seed=11)]


def _random_text(rnd: random.Random, tag: str, standard: str) -> str:
    d = rnd.choice(DELIMITERS[standard])
    alphabet = [d.element, d.component, d.repetition or "^", d.release or "?", "\n", "\r", " ",
                "A", "9", "EN", "21", "", "ISA"]
    return tag + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14)))


def test_cells_read_what_elements_hold(all_corpus_files: list[Path]) -> None:
    rnd = random.Random(8)
    cases: list[tuple[ElementCodec, str]] = []
    for data in _corpus(all_corpus_files):
        for interchange in parse(data).interchanges:
            codec = ElementCodec(interchange.delimiters, interchange.standard)
            segments = [s for m in interchange.messages for s in m.segments]
            cases += [(codec, s.raw) for s in segments if s.raw is not None]
    for standard in ("x12", "edifact"):
        for d in DELIMITERS[standard]:
            codec = ElementCodec(d, standard)
            cases += [(codec, _random_text(rnd, rnd.choice(["QTY", "PO1", "ISA"]), standard))
                      for _ in range(1500)]
    split = 0
    for codec, raw in cases:
        cells = codec.cells(raw)
        if cells is None:
            continue
        split += 1
        assert not any(c and c in raw for c in (codec.release, codec.repetition, "\n", "\r"))
        segment = Segment("TAG", codec(raw))
        view = (segment, cells)
        assert engine._count(view) == segment.element_count, raw
        for element in range(-1, len(cells) + 2):
            for component in range(-1, 5):
                assert engine._cell(view, element, component) == segment.get(element, component), \
                    (raw, element, component)
    assert split > len(cases) // 3  # (most segments take the split path)


def _extracted(spec: dict[str, Any], message: Any) -> Any:
    try:
        return engine.extract(spec, message)
    except MappingError as exc:
        return f"MappingError: {exc}"


def test_decoded_and_undecoded_segments_map_alike(all_corpus_files: list[Path]) -> None:
    mapped = 0
    for data in _inputs(all_corpus_files):
        for interchange in parse(data).interchanges:
            for message in interchange.messages:
                spec = engine.load_map(interchange.standard, message.type)
                if spec is None:
                    continue
                undecoded = [s for s in message.segments if not s.decoded]
                from_text = _extracted(spec, message)
                # Extraction leaves the parser's lazy segments as it found them.
                assert not any(s.decoded for s in undecoded)
                for segment in message.segments:
                    segment.elements  # noqa: B018  (decode: rules then read elements)
                assert _extracted(spec, message) == from_text
                mapped += 1
    assert mapped > 200


def _interpreted(steps: tuple[engine.FieldStep, ...],
                 lists: tuple[str, ...]) -> Callable[..., None]:
    """The field rules applied one by one, as the engine did before they were compiled."""
    del lists

    def fields(out: dict[str, Any], index: dict[str, Any], scope: engine.Scope,
               rule: Callable[[engine.Scope, engine.CompiledRule], Any]) -> None:
        for name, path, tag, fetch, compiled in steps:
            if name is not None:
                if name in out:
                    continue
            elif engine._get(out, path) is not None:
                continue
            if fetch is not None:
                candidates = index.get(tag)
                if candidates is None:
                    continue
                value = fetch(candidates)
            else:
                value = rule(scope, compiled)
            if value is not None and value != "":
                if name is not None:
                    out[name] = value
                else:
                    engine._put(out, path, value)
    return fields


def test_compiled_fields_match_the_rules_applied_one_by_one(
        monkeypatch: pytest.MonkeyPatch, all_corpus_files: list[Path]) -> None:
    # (the generated functions of loops the C accelerator maps run only without it; it is
    # compared with them in test_mapping_accelerator.py)
    monkeypatch.setattr(engine, "accelerate", False)
    inputs = _inputs(all_corpus_files)
    compiled = [_observable(translate(data)) for data in inputs]
    monkeypatch.setattr(engine, "_compile_fields", _interpreted)
    monkeypatch.setattr(engine, "_SCOPE_PLANS", {})
    assert [_observable(translate(data)) for data in inputs] == compiled


def test_compiled_fields_keep_alternatives_and_key_order() -> None:
    spec = {"fields": [
        {"field": "a", "seg": "X", "el": "1"},
        {"field": "b.c", "seg": "X", "el": "2"},
        {"field": "a", "seg": "Y", "el": "1"},
        {"field": "b", "const": "shadowed"},
        {"field": "b.d", "seg": "Y", "el": "2", "type": "number"},
        {"field": "lines", "const": "kept apart from the list of that name"},
    ], "lists": {"lines": {"start": "Z", "fields": [{"field": "n", "index": True}]}}}
    plan = engine._ScopePlan(spec)
    reference = _interpreted(plan.steps, tuple(plan.loops))
    extractor = engine.Extractor(spec, None)  # type: ignore[arg-type]
    for x, y in [("X+1+2", "Y+3+4"), ("X++2", "Y+3+4"), ("X", "Y+3+x"), ("Q", "Y++4")]:
        segments = [Segment(s.split("+")[0], [[[v]] for v in s.split("+")[1:]]) for s in (x, y)]
        index = engine._index(segments)
        scope = engine.Scope("root", segments)
        results = []
        for fields in (plan.fields, reference):
            out: dict[str, Any] = {"lines": []}
            try:
                fields(out, index, scope, extractor._rule)
            except (MappingError, TypeError) as exc:  # (a const where a dict is due)
                out = {"error": f"{type(exc).__name__}: {exc}"}
            results.append((out, list(out), list(out.get("b") or ())))
        assert results[0] == results[1], (x, y)


def _reference_gtin(raw: str) -> str | None:
    text = raw.strip()
    # (a GTIN is ASCII digits: other scripts' digits and superscripts are no GTIN)
    if not (text.isascii() and text.isdigit()) or len(text) not in (8, 12, 13, 14):
        return None
    body = text[-2::-1]
    total = 3 * sum(map(int, body[0::2])) + sum(map(int, body[1::2]))
    return text if (10 - total % 10) % 10 == int(text[-1]) else None


def test_gtin_shortcut_matches_int_digits_everywhere() -> None:
    rnd = random.Random(6)
    cases = ["\u0664" * 13, "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668", "\xb2" * 13,
             "4000862141404", " 4000862141404 ", "12345670", "1234567"]
    cases += ["".join(rnd.choice("0123456789\u0663\xb2 x") for _ in range(rnd.choice([8, 13])))
              for _ in range(3000)]
    for case in cases:
        outcomes = []
        for check in (engine._gtin, _reference_gtin):
            try:
                outcomes.append(check(case))
            except ValueError as exc:
                outcomes.append(f"ValueError: {exc}")
        assert outcomes[0] == outcomes[1], case


def _outcome(fetch: Callable[[list[engine.View]], Any], views: list[engine.View]) -> Any:
    try:
        return fetch(views)
    except (MappingError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def test_fetch_closures_match_the_generic_rule() -> None:
    rnd = random.Random(12)
    values = ["21", "1", "EN", "BP", "4000862141404", "12.5", " ", "", "x", "PCE", "-3", "1,5"]
    for _ in range(4000):
        standard = rnd.choice(["x12", "edifact"])
        d = rnd.choice(DELIMITERS[standard])
        codec = ElementCodec(d, standard)
        address = f"{rnd.randint(1, 5)}.{rnd.randint(1, 3)}"
        rule: dict[str, Any] = {"field": "f", "seg": "QTY",
                                "type": rnd.choice(["string", "number", "gtin", "string"])}
        if rnd.random() < 0.3:
            rule["pairs"] = {"from": rnd.randint(1, 4), "qualifier": ["BP", "21"]}
        else:
            rule["el"] = rnd.choice([address, address.split(".")[0]])
            if rnd.random() < 0.6:
                where = f"{rnd.randint(1, 5)}.{rnd.randint(1, 3)}"
                rule["where"] = {rnd.choice([where, address, where.split(".")[0]]):
                                 rnd.choice([["21", "1"], ["*"], ["EN"], "21", [""]])}
        if rule["type"] == "string" and rnd.random() < 0.3:
            rule["codes"] = "edifact/units"
        compiled = engine._compile_rule(rule)
        texts = []
        for _ in range(rnd.randint(1, 3)):
            elements = [d.component.join(rnd.choice(values) for _ in range(rnd.randint(1, 3)))
                        for _ in range(rnd.randint(0, 7))]
            text = d.element.join(["QTY", *elements])
            if rnd.random() < 0.1:
                text += rnd.choice([d.release or "?", "\n", d.repetition or "^"])
            texts.append(text)
        segments = [Segment("QTY", raw=text, codec=codec) for text in texts]
        split = [(s, codec.cells(s.raw or "")) for s in segments]
        decoded = [(s, None) for s in segments]
        generic = partial(engine._extract, rule=compiled)
        expected = _outcome(generic, decoded)
        assert compiled.fetch is not None
        assert _outcome(compiled.fetch, split) == expected, (rule, texts)
        assert _outcome(compiled.fetch, decoded) == expected, (rule, texts)
        assert _outcome(generic, split) == expected, (rule, texts)
        # The same rule inlined into a generated field function (one or several candidates).
        fields = engine._compile_fields((("f", ("f",), "QTY", compiled.fetch, compiled),), ())
        out: dict[str, Any] = {}
        try:
            fields(out, {"QTY": split}, engine.Scope("root", segments), None)
        except (MappingError, ValueError) as exc:
            assert f"{type(exc).__name__}: {exc}" == expected, (rule, texts)
        else:
            wanted = {} if expected is None or expected == "" else {"f": expected}
            assert out == wanted, (rule, texts)


def test_remembered_clean_segments_do_not_hide_a_fault() -> None:
    grammar = load_grammar("x12", "850", "004010")
    assert grammar is not None
    checker = fast.CompiledGrammar(grammar).checker("x12", "*", ">", "", "")
    assert checker is not None
    raws = ["ST*850*0001", "BEG*00*SA*PO-1**20260105", "PO1*1*10*EA*2.5**BP*P1", "CTT*1",
            "SE*5*0001"]
    assert checker.clean_message(raws)
    assert checker.clean_message(raws)  # (every text remembered: no match at all)
    assert not checker.clean_message([*raws[:2], "PO1*1*TEN*EA*2.5**BP*P1", *raws[3:]])
    assert not checker.clean_message([*raws[:2], "PO1*1*10\n*EA", *raws[3:]])
    assert not checker.clean_message([])  # (as before the memory: nothing to match)
    assert checker.clean_message(raws)


@pytest.mark.parametrize("accelerated", [True, False])
def test_extract_undoes_only_the_decoding_it_did(accelerated: bool,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # A release character keeps a segment from being read as plain text: the rules decode it.
    monkeypatch.setattr(engine, "accelerate", accelerated and engine._accel is not None)
    body = ["BGM+220+PO?+2001+9", *ORDERS[1:]]
    message = parse(edifact(body)).interchanges[0].messages[0]
    bgm, dtm = message.segments[1], message.segments[2]
    assert (bgm.tag, dtm.tag) == ("BGM", "DTM")
    dtm.elements  # noqa: B018  (decoded before mapping: it stays decoded)
    spec = engine.load_map("edifact", "ORDERS")
    data = engine.extract(spec, message)
    assert data["order_number"] == "PO+2001"
    assert not bgm.decoded and dtm.decoded
    assert not any(s.decoded for s in message.segments if s is not dtm)


def test_the_decode_journal_names_this_threads_decodes_and_nests() -> None:
    import threading

    from translators.syntax.tree import decode_journal

    message = parse(edifact(ORDERS)).interchanges[0].messages[0]
    first, second, third = message.segments[1:4]
    with decode_journal() as outer:
        first.elements  # noqa: B018
        with decode_journal() as inner:
            second.elements  # noqa: B018
            other = threading.Thread(target=lambda: third.elements)
            other.start()
            other.join()
        first.elements  # noqa: B018  (already decoded: not recorded again)
    assert inner == [second] and outer == [first]
    assert third.decoded
