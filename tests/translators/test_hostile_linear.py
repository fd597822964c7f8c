"""Validation and parsing stay linear on pathological input, and numbers never crash.

The X12 decimal check once backtracked quadratically: a 40 kB 856 whose SN102 was 40,000
digits and a letter took 56 s of CPU. Each input below is about 100 kB of the worst we know
(long digit runs ending in a letter, nested repetitions, runs of release characters, huge
element counts, many messages so that the compiled segment patterns are used too); each
must translate and be acknowledged in well under a second of CPU per 100 kB, with the C
accelerator and without it.
"""

from __future__ import annotations

import itertools
import os
import time
from datetime import datetime

import pytest

from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from translators import build_acknowledgments, translate
from translators.errors import EdiError
from translators.grammar.model import ElementDef
from translators.mapping.engine import _gtin
from translators.mapping.values import MappingError, parse_edifact_period, parse_number
from translators.result import MessageResult, TranslationResult
from translators.validation import fast
from translators.validation.values import check_value

N = 100_000
CPU_PER_100KB = 1.0  # seconds: generous (linear inputs take 0.01-0.15 s here)
NOW = datetime(2026, 1, 1)

SHIP_NOTICE = ["BSN*00*SH-1*20261204*1200", "HL*1**S", "HL*2*1*I", "LIN*1*BP*P-1",
               "SN1**{qty}*EA", "CTT*2"]


def _856(qty: str) -> bytes:
    body = [s.format(qty=qty) for s in SHIP_NOTICE]
    return x12(body, message="856", group_id="SH")


def _x12_many(body: list[str], count: int) -> bytes:
    one = x12(body).decode()
    head, _, rest = one.partition("ST*")
    message = "ST*" + rest[:rest.index("GE*")]
    return (head + message * count + f"GE*{count}*77~IEA*1*000000123~").encode()


def _edifact_many(body: list[str], count: int) -> bytes:
    one = edifact(body).decode()
    head, _, rest = one.partition("UNH+")
    message = "UNH+" + rest[:rest.index("UNZ+")]
    return (head + message * count + f"UNZ+{count}+IC42'").encode()


def _orders_with(index: int, segment: str) -> list[str]:
    body = list(ORDERS)
    body[index] = segment
    return body


CASES: dict[str, bytes] = {
    "SN102 digits then a letter": _856("1" * N + "A"),
    "SN102 digit-dot runs": _856("1." * (N // 2)),
    "SN102 exponent runs": _856("1E" * (N // 2)),
    "SN102 dot then digits then letter": _856("." + "1" * N + "x"),
    "SN1 huge element count": _856("5" + "*" * N),
    "SN1 huge component count": _856("5" + ">" * N),
    "HL01 superscript": _856("5").replace(b"HL*2*1*I", "HL*\u00b2*1*I".encode()),
    "HL01 5000 digits": _856("5").replace(b"HL*2*1*I", b"HL*" + b"9" * 5000 + b"*1*I"),
    "SE01 5000 digits": x12(PO_850).replace(b"SE*7*0001", b"SE*" + b"1" * 5000 + b"*0001"),
    "PO102 long in many messages": _x12_many(
        ["BEG*00*SA*PO-1001**20260105", "PO1*1*" + "1" * 2400 + "A*EA*2.5**BP*PART-1",
         "CTT*1"], 40),
    "PO104 long in many messages": _x12_many(
        ["BEG*00*SA*PO-1001**20260105", "PO1*1*1*EA*" + "1" * 2400 + "A**BP*PART-1",
         "CTT*1"], 40),
    "DTM date 100k digits": x12(["BEG*00*SA*PO-1001**" + "2" * N, *PO_850[1:]]),
    "QTY digits then a letter": edifact(_orders_with(4, "QTY+21:" + "1" * N + "X:PCE")),
    "QTY comma runs": edifact(_orders_with(4, "QTY+21:" + "1," * (N // 2) + ":PCE")),
    "QTY minus then digits": edifact(_orders_with(4, "QTY+21:-" + "1" * N + "-:PCE")),
    "release character run": edifact(_orders_with(4, "QTY+21:" + "?" * N + ":PCE")),
    "released separators": edifact(_orders_with(4, "QTY+21:" + "?+?:" * (N // 4) + ":PCE")),
    "element run": edifact(_orders_with(0, "BGM+220+PO-2001+9" + "+" * N)),
    "component run": edifact(_orders_with(0, "BGM+220:" + ":" * N + "+PO-2001+9")),
    "nested repetitions": edifact(_orders_with(1, "DTM+137:1" + ":1*" * (N // 3)),
                                  syntax="UNOC:4"),
    "long tag": edifact(_orders_with(2, "A" * N + "+1")),
    "UNT 5000 digits": edifact(ORDERS).replace(b"UNT+9+M1", b"UNT+" + b"9" * 5000 + b"+M1"),
    "QTY in many messages": _edifact_many(
        _orders_with(4, "QTY+21:" + "1" * 2400 + "X:PCE"), 40),
    "DTM in many messages": _edifact_many(
        _orders_with(1, "DTM+137:" + "2" * 2400 + ":102"), 40),
    "many segments": edifact([*ORDERS[:2], *["FTX+AAI+++NOTE"] * 6000, *ORDERS[2:]]),
}


@pytest.fixture(params=[True, False], ids=["c-accelerator", "python"])
def accelerated(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    if request.param and not fast.accelerate:
        if os.environ.get("CI", "").lower() == "true":  # (CI machines have a C compiler)
            pytest.fail("the C accelerator is not built, so its linear-time path is untested")
        pytest.skip("the C accelerator is not built here (no C compiler)")
    monkeypatch.setattr(fast, "accelerate", request.param)
    return bool(request.param)


@pytest.mark.parametrize("name", list(CASES))
def test_pathological_input_is_linear(name: str, accelerated: bool) -> None:
    data = CASES[name]
    start = time.process_time()
    result = translate(data)
    counter = itertools.count(1)
    acks = build_acknowledgments(result, lambda scope: next(counter), NOW)
    spent = time.process_time() - start
    assert result.interchanges or result.errors
    assert all(m.status in ("accepted", "accepted_with_errors", "rejected", "unsupported")
               for m in result.messages)
    if result.interchanges:
        assert acks
    per_100kb = spent / max(len(data) / 100_000, 1.0)
    assert per_100kb < CPU_PER_100KB, f"{name}: {spent:.2f} s CPU for {len(data)} bytes"


def test_the_long_decimal_is_reported_not_choked_on() -> None:
    result = translate(CASES["SN102 digits then a letter"])
    (message,) = result.messages
    kinds = {(e.kind, e.segment_tag, e.element_position) for e in message.errors}
    assert ("element.invalid_character", "SN1", 2) in kinds
    # The error text quotes a cut value, not 100 kB.
    assert max(len(e.message) for e in message.errors) < 300


def _element(kind: str, low: int = 1, high: int = 15) -> ElementDef:
    return ElementDef(ref="1", req="M", type=kind, min=low, max=high)


@pytest.mark.parametrize(("standard", "kind"), [("x12", "R"), ("x12", "N0"), ("x12", "N2"),
                                                 ("x12", "DT"), ("x12", "TM"),
                                                 ("edifact", "n"), ("edifact", "a"),
                                                 ("edifact", "an")])
def test_each_value_check_is_linear(standard: str, kind: str) -> None:
    definition = _element(kind)
    for value in ("1" * N + "A", "1." * N, "-" + "1" * N + "-", "1E" * N, "," + "9" * N + ",",
                  "\u00b2" * N):
        start = time.process_time()
        check_value(definition, value, standard)
        assert time.process_time() - start < 0.2, (kind, value[:10])


@pytest.mark.parametrize(("standard", "kind", "value", "ok"), [
    ("x12", "R", "1.5", True), ("x12", "R", "-.5", True), ("x12", "R", "1.", True),
    ("x12", "R", "1E-5", True), ("x12", "R", ".", False), ("x12", "R", "1.2.3", False),
    ("x12", "R", "\u00b2", False), ("x12", "R", "\u0663", False), ("x12", "R", "1e", False),
    ("x12", "N0", "-12", True), ("x12", "N0", "1\u00b2", False), ("x12", "N0", "-", False),
    ("x12", "DT", "20260229", False), ("x12", "DT", "2026\u00b2101", False),
    ("x12", "TM", "2359", True), ("x12", "TM", "\u00b2\u00b2\u00b2\u00b2", False),
    ("edifact", "n", "1,5", True), ("edifact", "n", "-1.5", True), ("edifact", "n", "1.", True),
    ("edifact", "n", ".5", False), ("edifact", "n", "\u00b2", False),
    ("edifact", "n", "-", False), ("edifact", "a", "AB\u00b2", True),
    ("edifact", "a", "AB1", False),
])
def test_only_ascii_digits_are_digits(standard: str, kind: str, value: str, ok: bool) -> None:
    assert (check_value(_element(kind), value, standard) is None) == ok


@pytest.mark.parametrize("text", ["1" * 5000, "1E999999999", "-1e-999999", "\u00b2",
                                  "9" * 65, "1" + "0" * 4400])
def test_parse_number_refuses_instead_of_crashing(text: str) -> None:
    start = time.process_time()
    with pytest.raises(MappingError):
        parse_number(text)
    assert time.process_time() - start < 0.1


@pytest.mark.parametrize(("value", "fmt"), [("999912", "610"), ("999952", "616"),
                                            ("\u00b2" * 8, "102"), ("999952-999952", "715")])
def test_dates_at_the_end_of_the_calendar_are_mapping_errors(value: str, fmt: str) -> None:
    with pytest.raises(MappingError):
        parse_edifact_period(value, fmt)


@pytest.mark.parametrize("text", ["400086214140\u00b2", "\u0664" * 13, "4000862141404\u00b9",
                                  "\uff14" * 8])
def test_a_gtin_is_ascii_digits_only(text: str) -> None:
    # str.isdigit() is true for superscripts and other scripts' digits; int() then raised
    assert _gtin(text) is None


def test_a_superscript_digit_in_a_gtin_is_a_warning_not_a_crash(accelerated: bool) -> None:
    body = list(ORDERS)
    body[3] = "LIN+1++400086214140\u00b2:EN"
    (message,) = translate(edifact(body, syntax="UNOW:4")).messages
    assert message.status == "accepted"
    assert [e.kind for e in message.errors] == ["data.check_digit"]


def test_the_error_report_of_100k_faults_is_linear() -> None:
    def report_cpu(count: int) -> float:
        message = MessageResult("ORDERS", "1", "1", "IC1", "D96A", "rejected")
        message.errors = [EdiError(kind="element.too_long", message="too long", offset=i,
                                   segment_position=i, segment_tag="FTX", element_position=4,
                                   extra={"loop": "SG1"}) for i in range(count, 0, -1)]
        result = TranslationResult(messages=[message])
        start = time.process_time()
        report = result.error_report()
        spent = time.process_time() - start
        assert report["error_count"] == count
        assert [e["offset"] for e in report["errors"][:2]] == [1, 2]
        assert report["errors"][0]["codes"] and report["errors"][0]["extra"] == {"loop": "SG1"}
        return spent

    # 100k faults: about 0.6 s here (6 s when each fault was copied with dataclasses.asdict)
    assert report_cpu(N) < 3.0
