"""The C accelerator of the mapping engine (``translators.mapping._accel``) must not show: with
it and without it (``engine.accelerate``), every translation gives the same events and error
reports, key order included — on the corpus, the benchmark files, mutants of them and hand-made
edge cases, and on randomly generated loop rules read from random segment texts."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import random
import tracemalloc
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bench.parse import edifact_orders, x12_850
from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from tests.translators.test_fast_paths import (
    DELIMITERS,
    _mutants,
    _observable,
    observable_without,
)
from translators import translate
from translators.mapping import MappingError, engine
from translators.syntax import parse
from translators.syntax.codec import ElementCodec
from translators.syntax.tree import Segment

# A machine without a C compiler installs the package without the accelerator; under CI=true
# (where make test builds it) a missing module is a failure, never a skip.
IN_CI = os.environ.get("CI", "").lower() == "true"
pytestmark = pytest.mark.skipif(engine._accel is None and not IN_CI,
                                reason="the C accelerator is not built (no C compiler?)")


def test_the_accelerator_is_built_and_used() -> None:
    assert engine._accel is not None, "make test builds translators.mapping._accel"
    assert engine.accelerate or os.environ.get("EDIGATE_NO_C_ACCEL", "") not in ("", "0")



def _json(value: Any) -> str:
    return json.dumps(value, default=repr)


def _translations(monkeypatch: pytest.MonkeyPatch, data: bytes) -> tuple[str, str]:
    """(accelerated, pure Python) observable results of one translation, as JSON text."""
    out = []
    for accelerate in (True, False):
        monkeypatch.setattr(engine, "accelerate", accelerate)
        out.append(_json(_observable(translate(data))))
    return out[0], out[1]


def _extractions(monkeypatch: pytest.MonkeyPatch, data: bytes) -> tuple[list[str], list[str]]:
    """The same for ``extract`` of every mapped message, unvalidated (so values validation
    would reject reach the rules too)."""
    out: list[list[str]] = []
    for accelerate in (True, False):
        monkeypatch.setattr(engine, "accelerate", accelerate)
        results = []
        for interchange in parse(data).interchanges:
            for message in interchange.messages:
                spec = engine.load_map(interchange.standard, message.type)
                if spec is None:
                    continue
                try:
                    results.append(_json(engine.extract(spec, message)))
                except MappingError as exc:
                    results.append(f"MappingError: {exc}")
        out.append(results)
    return out[0], out[1]


def test_corpus_translates_alike(monkeypatch: pytest.MonkeyPatch,
                                 all_corpus_files: list[Path]) -> None:
    files = all_corpus_files
    assert len(files) > 50
    for path in files:
        data = path.read_bytes()
        accelerated, python = _translations(monkeypatch, data)
        assert accelerated == python, path.name
        accelerated_maps, python_maps = _extractions(monkeypatch, data)
        assert accelerated_maps == python_maps, path.name


def test_benchmark_files_translate_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    for seed in (1, 7, 23):
        for data in (edifact_orders(150_000, seed=seed), x12_850(150_000, seed=seed)):
            accelerated, python = _translations(monkeypatch, data)
            assert accelerated == python, seed
            assert '"accepted"' in accelerated


# Lines as a sender may write them: releases, repeated qualified segments, missing and empty
# elements, components where none are expected, blanks, non-ASCII digits and text, odd numbers.
EDIFACT_LINES = [
    "LIN+1++4000862141404:EN", "QTY+21:48:PCE", "PRI+AAA:2.5",
    "LIN+2++4000862141404:SRS", "QTY+1:5", "QTY+21:7:KGM", "PRI+AAB:3,75", "PRI+AAA:9",
    "LIN+3++4000862141405:EN", "QTY+21:   ", "PRI+AAA", "IMD+F++:::FREE?+TEXT ?:1",
    "LIN+4", "QTY+21", "QTY+21:-4.50:PCE", "DTM+2:20260105:102",
    "LIN+  ++   :EN", "QTY+21:\u0663\u0664", "PRI+AAA:\u0661.5",
    "LIN+6++\u0664000862141404:EN", "QTY+21:007:\u00e9", "PIA+1+P1:BP+S1:SA+X:IN",
    "LIN+7++4000862141404:UP", "QTY+21:1e5", "PRI+AAA:.5", "DTM+2:2026W01:102",
    "LIN+8++40008621414:EN", "QTY+21:123456789012345678901234567890", "PRI+AAA:-0.00",
    "LIN+9++4000862141404?:EN", "QTY+21?:3:PCE", "IMD+F++:::\u00c9T\u00c9 \u00e0 ?'x",
    "LIN+10++ 4000862141404 :EN", "QTY+ 21 : 12 : PCE ", "PRI+AAA: 1.10 ",
]
X12_LINES = [
    "PO1*1*10*EA*2.5**BP*PART-1*VP*SUP-1*UK*00012345678905", "PID*F****WIDGET",
    "PO1*2*5*ZZ*1.25**VP*S2*BP*P2", "PID*X****  ", "PID*F****SECOND", "DTM*002*20260105",
    "PO1**7*EA*3**BP", "PID*F", "DTM*002*2026010", "SCH*4*EA***002*20260301",
    "PO1*  *   *  *  **BP*  *EN*  ", "PO1*5*1>2*EA>X*4.00**BP>Q*P>R",
    "PO1*6*\u0663*EA*\u0661.5**BP*\u00c9T\u00c9*UP*12345678901",
    "PO1*7*-3*EA*-.5**UK*12345678901231*VP*V7", "PID*F****A\u00e9\u4e2d",
    "PO1*8*000*CA*1,5**BP*B8", "DTM*002*20260230",
    "PO1*9*99999999999999999999999*EA*1E3**IN*I9", "PO1*10*2* EA *1** BP * P10 * UK *0001",
]


def _edge_interchanges() -> list[bytes]:
    head = ["BGM+220+PO-2001+9", "DTM+137:20260105:102", "NAD+BY+5412345000013::9"]
    tail = ["UNS+S", "CNT+2:1"]
    out = [edifact([*head, *EDIFACT_LINES, *tail])]
    out += [edifact([*head, *EDIFACT_LINES[i:i + 3], *tail]) for i in range(len(EDIFACT_LINES))]
    out.append(edifact([*head, "LIN+1++4000862141404:EN", "QTY+21*22:48:PCE", *tail],
                       version="D:96A"))
    out.append(edifact([*head, *EDIFACT_LINES, *tail], message="DESADV"))
    out.append(edifact([*head, *EDIFACT_LINES, *tail], message="INVOIC"))
    beg = ["BEG*00*SA*PO-1001**20260105", "N1*ST*PLANT ONE*92*P1"]
    out.append(x12([*beg, *X12_LINES, "CTT*9"]))
    out += [x12([*beg, *X12_LINES[i:i + 3], "CTT*1"]) for i in range(len(X12_LINES))]
    out.append(x12([*beg, *X12_LINES, "CTT*9"], message="855"))
    out.append(x12([*beg, *X12_LINES, "CTT*9"], message="810"))
    # A repetition separator (005010 ISA11), line breaks and a release character in lines.
    out.append(x12([*beg, "PO1*1*10*EA*2.5**BP*P^Q", "PID*F****W", "PO1*2*5*EA*1**BP*P2",
                    "CTT*2"], version="005010"))
    text = x12([*beg, *X12_LINES[:4], "CTT*2"]).replace(b"*EA*", b"*EA\n*", 1)
    out.append(text)
    out.append(edifact([*head, "LIN+1++4000862141404:EN", "QTY+21:\n48:PCE", *tail]))
    return out


def test_edge_cases_map_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    for data in _edge_interchanges():
        accelerated, python = _translations(monkeypatch, data)
        assert accelerated == python, data
        accelerated_maps, python_maps = _extractions(monkeypatch, data)
        assert accelerated_maps == python_maps, data
        assert accelerated_maps, data  # (each one is mapped)


def test_mutants_map_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    built = [x12(PO_850), edifact(ORDERS), edifact_orders(3000, seed=5), x12_850(3000, seed=5)]
    for number, data in enumerate(m for b in built for m in _mutants(b, 150, seed=31)):
        accelerated, python = _translations(monkeypatch, data)
        assert accelerated == python, number
        accelerated_maps, python_maps = _extractions(monkeypatch, data)
        assert accelerated_maps == python_maps, number


# ---------------------------------------------------------------------------------------------
# random loop rules over random segment texts, straight through the engine's leaf path


VALUES = ["21", "1", "EN", "BP", "UK", "4000862141404", "00012345678905", "12.5", "1,5", " ",
          "", "x", "PCE", "EA", "-3", "007", "\u0663", "\u00e9t\u00e9", "  7 ", "20260105",
          "2026013", "102", "-.5", "1.00", "9" * 25, " BP ", "21\t", "\u00a0EN", " 4000862141404",
          "1.\u0665", "-0.00", "5.", "+1", "\u00a0"]


def _random_rule(rnd: random.Random, field: str) -> dict[str, Any]:
    tag = rnd.choice(["QTY", "PO1", "PID", "ISA"])
    rule: dict[str, Any] = {"field": field, "seg": tag}
    shape = rnd.random()
    if shape < 0.05:
        return {"field": field, "const": rnd.choice(["C", "", 0])}
    if shape < 0.1:
        return {"field": field, "index": True}
    if shape < 0.13:
        return {**rule, "from": "root"}
    if shape < 0.28:
        rule["pairs"] = {"from": rnd.randint(1, 4), "qualifier": ["BP", "21", "UK"]}
        if rnd.random() < 0.2:
            rule["pairs"]["to"] = rnd.randint(2, 7)
    elif shape < 0.4:
        rule["composites"] = {"from": rnd.randint(1, 3), "to": rnd.randint(2, 6),
                              "qualifier_comp": rnd.randint(1, 2), "qualifier": ["BP", "21"]}
        if rnd.random() < 0.5:
            rule["composites"]["value_comp"] = rnd.randint(1, 3)
    elif shape < 0.5:
        rule["els"] = [f"{rnd.randint(1, 4)}.{rnd.randint(1, 2)}"
                       for _ in range(rnd.randint(1, 3))]
        if rnd.random() < 0.3:
            rule["join"] = rnd.choice(["", "-", " / "])
    else:
        address = f"{rnd.randint(1, 5)}.{rnd.randint(1, 3)}"
        rule["el"] = rnd.choice([address, address.split(".")[0]])
        if rnd.random() < 0.5:
            where = f"{rnd.randint(1, 5)}.{rnd.randint(1, 3)}"
            wanted = rnd.choice([["21", "1"], ["*"], ["EN"], "21", [""], ["\u00e9t\u00e9"]])
            rule["where"] = {rnd.choice([where, address, where.split(".")[0]]): wanted}
        if rnd.random() < 0.05:
            rule["nth"] = 2
    rule["type"] = rnd.choice(["string", "number", "gtin", "string", "x12_date", "edifact_date"])
    if rule["type"] == "string" and rnd.random() < 0.3:
        rule["codes"] = rnd.choice(["edifact/units", "x12/units"])
    if rule["type"] == "number" and rnd.random() < 0.1:
        rule["decimals"] = 2
    return rule


def _random_segments(rnd: random.Random, standard: str) -> list[Segment]:
    d = rnd.choice(DELIMITERS[standard])
    codec = ElementCodec(d, standard)
    segments = []
    for _ in range(rnd.randint(1, 6)):
        tag = rnd.choice(["QTY", "PO1", "PID", "FTX", "ISA"])
        elements = [d.component.join(rnd.choice(VALUES) for _ in range(rnd.randint(1, 3)))
                    for _ in range(rnd.randint(0, 8))]
        text = d.element.join([tag, *elements])
        if rnd.random() < 0.1:
            text += rnd.choice([d.release or "?", "\n", d.repetition or "^", "\r"])
        segment = Segment(tag, raw=text, codec=codec)
        kind = rnd.random()
        if kind < 0.1:
            segment.elements  # noqa: B018  (decoded before mapping)
        elif kind < 0.15:
            segment = Segment(tag, codec(text))  # (built in code: no text)
        segments.append(segment)
    return segments


def _outcome(fn: Any) -> Any:
    try:
        value = fn()
    except Exception as exc:  # (the same exception either way, whatever it is)
        return f"{type(exc).__name__}: {exc}"
    return _json(value)


def _python_items(python: Any, instances: list[list[Segment]]) -> list[dict[str, Any]]:
    items = [python(inst, n) for n, inst in enumerate(instances, start=1)]
    return [item for item in items if item]


def test_random_leaf_rules_map_alike() -> None:
    rnd = random.Random(20)
    checked = 0
    for _ in range(3000):
        fields = [rnd.choice(["a", "b", "c", "d.e", "d.f", "g"]) for _ in range(rnd.randint(1, 6))]
        spec = {"fields": [_random_rule(rnd, field) for field in fields]}
        plan = engine._ScopePlan(spec)
        if plan.accel is None:
            continue
        standard = rnd.choice(["x12", "edifact"])
        instances = [_random_segments(rnd, standard) for _ in range(rnd.randint(1, 3))]
        extractor = engine.Extractor(spec, None)  # type: ignore[arg-type]
        root = engine.Scope("root", [])
        python = partial(engine._leaf_item, "lines", root, plan, extractor._rule)
        run_python = partial(_python_items, python, instances)
        run_c = partial(engine._accel.run, plan.accel, instances, python,
                        partial(engine._leaf_scope, "lines", root), extractor._rule)
        segments = [s for inst in instances for s in inst]
        before = [s.decoded for s in segments]
        expected = _outcome(run_python)
        decoded = [s.decoded for s in segments]
        for segment, was in zip(segments, before, strict=True):  # (back to the start)
            if not was:
                segment.forget_elements()
        assert _outcome(run_c) == expected, (spec, [[s.raw for s in i] for i in instances])
        assert [s.decoded for s in segments] == decoded
        checked += 1
    assert checked > 2500


# Texts of one length that differ (the cache compares texts, not lengths), padded and bare
# forms of one value, a text longer than the cache holds, and texts that are not one-byte.
CACHED_VALUES = ["EA", "CS", "EA ", " EA", "PCE", "12.5", "12.6", "21.5", "1,5", "332", "333",
                 "007", "7", "20260105", "20260106", "20260230", "4000862141404",
                 "4000862141405", "WIDGET", "GADGET", "widget", "x" * 40, "x" * 39 + "y",
                 "\u20acUR", "\u0663", "\u00e9t\u00e9", "-0.5", "-0.50", "0.1", "0.3",
                 "123456789012.345", "1234567890123456.5", "0.0000000000000000000001"]


def test_the_value_cache_never_serves_another_text() -> None:
    """One plan, so one cache per rule, over many instances and runs: every item equals the
    Python path's, whichever text came before."""
    spec = {"fields": [
        {"field": "text", "seg": "PO1", "el": "1"},
        {"field": "number", "seg": "PO1", "el": "2", "type": "number"},
        {"field": "unit", "seg": "PO1", "el": "3", "codes": "x12/units"},
        {"field": "gtin", "seg": "PO1", "el": "4", "type": "gtin"},
        {"field": "date", "seg": "PO1", "el": "5", "type": "x12_date"},
    ]}
    plan = engine._ScopePlan(spec)
    assert plan.accel is not None
    codec = ElementCodec(DELIMITERS["x12"][0], "x12")
    extractor = engine.Extractor(spec, None)  # type: ignore[arg-type]
    root = engine.Scope("root", [])
    python = partial(engine._leaf_item, "lines", root, plan, extractor._rule)
    rnd = random.Random(8)
    for _ in range(400):
        instances = [[Segment("PO1", raw="PO1*" + "*".join(rnd.choice(CACHED_VALUES)
                                                          for _ in range(5)), codec=codec)]
                     for _ in range(rnd.randint(1, 4))]
        expected = _outcome(partial(_python_items, python, instances))
        got = _outcome(partial(engine._accel.run, plan.accel, instances, python,
                               partial(engine._leaf_scope, "lines", root), extractor._rule))
        assert got == expected, [i[0].raw for i in instances]


def test_decimal_texts_read_as_float_reads_them() -> None:
    """The C reading of decimals (exact for up to 15 digits) against float() itself."""
    spec = {"fields": [{"field": "n", "seg": "PO1", "el": "1", "type": "number"}]}
    plan = engine._ScopePlan(spec)
    codec = ElementCodec(DELIMITERS["x12"][0], "x12")
    extractor = engine.Extractor(spec, None)  # type: ignore[arg-type]
    root = engine.Scope("root", [])
    rnd = random.Random(9)
    texts = []
    for _ in range(20000):
        whole = str(rnd.randint(0, 10 ** rnd.randint(0, 15)))
        fraction = str(rnd.randint(0, 10 ** rnd.randint(1, 22))).zfill(rnd.randint(1, 23))
        sign = "-" if rnd.random() < 0.2 else ""
        texts.append(f"{sign}{whole}.{fraction}")
    texts += [str(rnd.randint(0, 10 ** 19)) for _ in range(2000)]
    instances = [[Segment("PO1", raw=f"PO1*{text}", codec=codec)] for text in texts]
    items = engine._accel.run(plan.accel, instances, None,
                              partial(engine._leaf_scope, "lines", root), extractor._rule)
    for text, item in zip(texts, items, strict=True):
        expected = engine.parse_number(text)
        assert type(item["n"]) is type(expected) and item["n"] == expected, text


def _scope_fields(plan: engine._ScopePlan, segments: list[Segment], lists: dict[str, Any],
                  rule: Any, accelerated: bool) -> dict[str, Any]:
    """What Extractor._scope does with the rules of a scope with child lists (``lists``: the
    items the lists gave), with and without the C module."""
    out = {name: list(items) for name, items in lists.items()}
    scope = engine.Scope("root", segments, raw=segments)
    if not accelerated:
        plan.fields(out, engine._index(segments), scope, rule)
    elif not engine._accel.fields(plan.accel, out, segments, scope, rule):
        plan.fields(out, scope.by_tag(), scope, rule)
    return out


def test_random_scope_rules_map_alike() -> None:
    rnd = random.Random(21)
    checked = 0
    for _ in range(1500):
        fields = [rnd.choice(["a", "b", "c", "d.e", "d.f", "g"]) for _ in range(rnd.randint(1, 6))]
        names = rnd.sample(["a", "c", "d", "g"], rnd.randint(1, 2))
        spec = {"fields": [_random_rule(rnd, field) for field in fields],
                "lists": {name: {"start": "ZZZ", "fields": []} for name in names}}
        plan = engine._ScopePlan(spec)
        if plan.accel is None:
            continue
        segments = _random_segments(rnd, rnd.choice(["x12", "edifact"]))
        lists = {name: [{"n": "1"}] for name in names if rnd.random() < 0.5}
        rule = engine.Extractor(spec, None)._rule  # type: ignore[arg-type]
        before = [s.decoded for s in segments]
        expected = _outcome(partial(_scope_fields, plan, segments, lists, rule, False))
        decoded = [s.decoded for s in segments]
        for segment, was in zip(segments, before, strict=True):
            if not was:
                segment.forget_elements()
        got = _outcome(partial(_scope_fields, plan, segments, lists, rule, True))
        assert got == expected, (spec, [s.raw for s in segments])
        assert [s.decoded for s in segments] == decoded
        checked += 1
    assert checked > 1200


class _OtherSegment(Segment):
    """A Segment the C module does not know (a subclass): its instance goes back to Python."""

    __slots__ = ()


def _with_odd_segments(data: bytes, rnd: random.Random) -> list[Any]:
    """The messages of ``data`` with some segments swapped for _OtherSegment copies."""
    messages = []
    for interchange in parse(data).interchanges:
        for message in interchange.messages:
            for index, segment in enumerate(message.segments):
                if 0 < index < len(message.segments) - 1 and rnd.random() < 0.15:
                    message.segments[index] = _OtherSegment(
                        segment.tag, raw=segment.raw, codec=segment._codec)
            messages.append((interchange.standard, message))
    return messages


def test_whole_scopes_in_one_call_map_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """_accel.scope (partition, every leaf loop, the scope's own rules) against the Python
    path, with instances and own segments it hands back to Python (segments it does not know)
    and rules that need a scope (``from``)."""
    calls = {"item": 0, "scope": 0}

    def counting(fn: Any, key: str) -> Any:
        def counted(*args: Any) -> Any:
            calls[key] += 1
            return fn(*args)
        return counted

    monkeypatch.setattr(engine, "_leaf_item", counting(engine._leaf_item, "item"))
    monkeypatch.setattr(engine, "_leaf_scope_of", counting(engine._leaf_scope_of, "scope"))
    base = engine.load_map("x12", "850")
    lines = dict(base["lists"]["lines"])
    lines["fields"] = [*lines["fields"], {"field": "order", "seg": "BEG", "el": "3",
                                          "from": "root"}]
    spec = {**base, "lists": {**base["lists"], "lines": lines}}
    assert engine._ScopePlan(spec).scope_tables is not None
    for seed in range(4):
        data = x12_850(4000, seed=40 + seed)
        for odd in (False, True):
            results = []
            for accelerate in (True, False):
                monkeypatch.setattr(engine, "accelerate", accelerate)
                messages = _with_odd_segments(data, random.Random(seed)) if odd else [
                    (i.standard, m) for i in parse(data).interchanges for m in i.messages]
                results.append([_outcome(partial(engine.extract, spec, m)) for _, m in messages])
            assert results[0] == results[1], (seed, odd)
    assert calls["item"] > 10 and calls["scope"] > 10, calls


def test_partition_matches_the_python_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(3)
    loops = {"lines": {"start": "LIN", "members": ["QTY", "PRI", "NAD"]},
             "parties": {"start": "NAD", "start_where": {"1": ["BY", "SU"]}, "members": ["CTA"]},
             "other": {"start": "QTY", "members": ["PRI"]}}
    codec = ElementCodec(DELIMITERS["edifact"][0], "edifact")
    for _ in range(500):
        segments = []
        for _ in range(rnd.randint(0, 12)):
            tag = rnd.choice(["LIN", "QTY", "PRI", "NAD", "CTA", "BGM"])
            segments.append(Segment(tag, raw=f"{tag}+{rnd.choice(['BY', 'SU', 'DP', ''])}",
                                    codec=codec))
        results = []
        for accelerate in (True, False):
            monkeypatch.setattr(engine, "accelerate", accelerate)
            own, found = engine._partition(segments, loops)
            results.append(([id(s) for s in own],
                            {k: [[id(s) for s in inst] for inst in v] for k, v in found.items()}))
        assert results[0] == results[1]


def _map_all(documents: list[bytes], messages: list[tuple[dict[str, Any], Any]]) -> None:
    for data in documents:
        translate(data)
    for spec, message in messages:  # (unvalidated: the converters' errors too)
        with contextlib.suppress(MappingError):
            engine.extract(spec, message)


def test_repeated_translations_do_not_leak() -> None:
    documents = [edifact_orders(60_000, seed=4), x12_850(60_000, seed=4)]
    messages = [(engine.load_map(i.standard, m.type), m)
                for data in _edge_interchanges() for i in parse(data).interchanges
                for m in i.messages if engine.load_map(i.standard, m.type) is not None]
    for _ in range(3):  # (warm: caches, interned strings)
        _map_all(documents, messages)
    gc.collect()
    tracemalloc.start()
    try:
        _map_all(documents, messages)
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(15):
            _map_all(documents, messages)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert grown < 200_000, grown  # (a leaked reference per line would be megabytes)


def test_everything_works_without_the_module() -> None:
    """A machine without a compiler: the import fails and the Python path does it all."""
    expected = _json(_observable(translate(x12_850(40_000, seed=9))))
    assert observable_without("translators.mapping._accel", "engine",
                              "x12_850(40_000, seed=9)") == expected
