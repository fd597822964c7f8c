"""Field coverage per path (one-path fields are not comparable) and per-field rules."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from reconciler import (
    ConfigError,
    DayStats,
    GateConfig,
    Outcome,
    ReconcileConfig,
    Result,
    Statistics,
    decide_promotion,
    reconcile,
)
from reconciler.coverage import carried_fields
from tests.reconciler.documents import DAY, LATER, event, invoice, pair, variant


def invoices(n: int, edi_change: Any = None, api_change: Any = None) -> list:
    events = []
    for i in range(n):
        edi, api = invoice(f"INV-{i}"), invoice(f"INV-{i}")
        if edi_change:
            edi_change(edi, i)
        if api_change:
            api_change(api, i)
        events += [event(f"e{i}", "edi", edi, doc_type="invoice"),
                   event(f"a{i}", "api", api, doc_type="invoice", delay=timedelta(minutes=2))]
    return events


def x12_810(doc: dict[str, Any], _: int) -> None:
    """What a plain X12 810 carries: no TXI (tax) and no line amount."""
    del doc["tax_amount"]
    for line in doc["lines"]:
        del line["amount"]


def run(events: list, config: ReconcileConfig | None = None) -> list[Result]:
    return reconcile(events, DAY, as_of=LATER, config=config)


def test_a_field_one_path_never_carries_is_not_comparable_never_a_mismatch() -> None:
    results = run(invoices(5, edi_change=x12_810))
    assert [r.outcome for r in results] == [Outcome.MATCH] * 5
    assert all(r.uncompared == ("lines.amount", "tax_amount") for r in results)
    assert all(not r.differences for r in results)
    row = Statistics().extend(results).rows()[0]
    assert row.agreement == 1.0
    assert row.uncompared == Counter({"lines.amount": 5, "tax_amount": 5})
    assert row.to_dict()["not_comparable"] == {"lines.amount": 5, "tax_amount": 5}


def test_comparable_fields_still_disagree_beside_uncomparable_ones() -> None:
    def quantity(doc: dict[str, Any], i: int) -> None:
        if i == 0:
            doc["lines"][1]["quantity"] = 13
    results = {r.business_key: r for r in run(invoices(3, edi_change=x12_810,
                                                       api_change=quantity))}
    assert results["INV-0"].outcome is Outcome.MISMATCH
    assert [d.path for d in results["INV-0"].differences] == ["lines[2].quantity"]
    assert results["INV-0"].differences[0].kind == "value_differs"
    assert results["INV-1"].outcome is Outcome.MATCH


def test_a_field_the_path_carries_but_one_document_leaves_out_is_a_missing_mismatch() -> None:
    def drop_tax(doc: dict[str, Any], i: int) -> None:
        if i == 0:
            del doc["tax_amount"]
    results = {r.business_key: r for r in run(invoices(4, edi_change=drop_tax))}
    first = results["INV-0"]
    assert first.outcome is Outcome.MISMATCH and not first.uncompared
    assert [(d.path, d.kind) for d in first.differences] == [("tax_amount", "missing_on_edi")]


def test_declared_coverage_makes_a_field_not_comparable_without_evidence() -> None:
    def drop_tax(doc: dict[str, Any], i: int) -> None:
        if i == 0:
            del doc["tax_amount"]
    config = ReconcileConfig.from_table({"types": {"invoice": {"edi_lacks": ["tax_amount"]}}})
    results = run(invoices(4, edi_change=drop_tax), config)
    assert all(r.outcome is Outcome.MATCH for r in results)


def test_coverage_names_fields_without_element_keys() -> None:
    doc = {"orders": [{"order_number": "A", "packs": [{"pack_id": "1", "package_type": "CT"},
                                                      {"pack_id": "2", "package_type": ""}]}],
           "note": None}
    assert carried_fields(doc) == {"orders", "orders.order_number", "orders.packs",
                                   "orders.packs.pack_id", "orders.packs.package_type"}


# -- per-field rules: one test per kind ------------------------------------------------------

def compare(rules: dict[str, Any], edi: dict[str, Any], api: dict[str, Any]) -> Result:
    config = ReconcileConfig.from_table({"types": {"invoice": {"fields": rules}}})
    [result] = run(pair(edi, api, doc_type="invoice"), config)
    return result


def test_numeric_absolute_tolerance() -> None:
    edi, api = invoice(), variant(invoice())
    api["lines"][0]["amount"] = 210.04
    assert compare({"lines.amount": {"compare": "number", "abs": 0.05}}, edi, api).agrees
    result = compare({"lines.amount": {"compare": "number", "abs": 0.03}}, edi, api)
    assert result.outcome is Outcome.MISMATCH
    assert result.differences[0].rule == "lines.amount |Δ| ≤ 0.03"


def test_numeric_relative_tolerance() -> None:
    edi, api = invoice(), variant(invoice())
    api["total_amount"] = 439.0  # 0.91 % more
    assert compare({"total_amount": {"compare": "number", "rel": 0.01}}, edi, api).agrees
    result = compare({"total_amount": {"compare": "number", "rel": 0.005}}, edi, api)
    assert [d.path for d in result.differences] == ["total_amount"]
    assert result.differences[0].rule == "total_amount |Δ| ≤ 0.5%"


def test_date_tolerance_in_days() -> None:
    edi, api = invoice(), variant(invoice())
    api["invoice_date"] = "2024-03-06"
    assert compare({"invoice_date": {"compare": "date", "days": 2}}, edi, api).agrees
    result = compare({"invoice_date": {"compare": "date", "days": 1}}, edi, api)
    assert result.differences[0].rule == "invoice_date date ±1 day(s)"


def test_text_ignoring_case_and_every_blank() -> None:
    edi, api = invoice(), variant(invoice())
    edi["order_number"], api["order_number"] = "PO 4711", "po4711"
    assert compare({"order_number": {"compare": "text"}}, edi, api).agrees
    api["order_number"] = "PO4712"
    assert not compare({"order_number": {"compare": "text"}}, edi, api).agrees
    # Without the rule the default only collapses blanks: "PO 4711" is not "po4711".
    api["order_number"] = "po4711"
    assert not compare({}, edi, api).agrees


def test_set_equality_for_repeated_lines() -> None:
    edi, api = invoice(), variant(invoice())
    # The API numbers its lines differently and sends them in another order.
    api["lines"] = [dict(api["lines"][1], line_number=1), dict(api["lines"][0], line_number=2)]
    for line in edi["lines"] + api["lines"]:
        del line["line_number"]
    assert not compare({}, edi, api).agrees  # by position: line 1 is not line 1
    assert compare({"lines": {"compare": "set"}}, edi, api).agrees
    api["lines"][0]["quantity"] = 13
    result = compare({"lines": {"compare": "set"}}, edi, api)
    assert result.differences[0].rule == "lines same set of elements"
    assert result.differences[0].api == [api["lines"][0]]


def test_ignore_rule_and_its_children() -> None:
    edi, api = invoice(), variant(invoice())
    api["currency"] = "USD"
    api["lines"][0]["unit_price"] = 0.5
    result = compare({"currency": "ignore", "lines": {"compare": "ignore",
                                                       "reason": "EDI lines are re-keyed"}},
                     edi, api)
    assert result.agrees


def test_field_rules_are_validated_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"reconcile.fields.x.compare: expected one of"):
        ReconcileConfig.from_table({"fields": {"x": {"compare": "fuzzy"}}})
    with pytest.raises(ConfigError, match=r"reconcile.fields.x.days: does not apply"):
        ReconcileConfig.from_table({"fields": {"x": {"compare": "number", "days": 1}}})
    with pytest.raises(ConfigError, match=r"reconcile.gate.auto_promote: expected true"):
        ReconcileConfig.from_table({"gate": {"auto_promote": "yes"}})


# -- gates on meaningful evidence ------------------------------------------------------------

TODAY = date(2024, 3, 10)


def test_gate_names_what_is_missing_with_an_example_pair() -> None:
    def quantity(doc: dict[str, Any], i: int) -> None:
        if i < 3:
            doc["lines"][1]["quantity"] = 15
    results = run(invoices(40, api_change=quantity))
    rows = [DayStats(r.partner_id, r.document_type, TODAY, r.counts, r.fields, r.uncompared,
                     r.kinds, r.examples) for r in Statistics().extend(results).rows()]
    gate = GateConfig(window_days=7, min_documents=50, threshold=0.99)
    decision = decide_promotion("dual", rows, today=TODAY, gate=gate,
                                partner_id="alpen-gaskets", document_type="invoice")
    assert not decision.allowed
    assert decision.missing == (
        "10 more document(s): 40 of 50 decided in the last 7 day(s)",
        "agreement 92.5% < 99.0%: 3 document(s) differ in lines.quantity (3 differing value(s), "
        "e.g. lines[2].quantity: EDI 12.5 vs API 15)")
    [entry] = decision.to_dict()["fields"]
    assert entry["example"]["edi_event_id"] == "e0" and entry["example"]["api_event_id"] == "a0"


def test_gate_wants_no_missing_copy_in_the_last_days() -> None:
    gate = GateConfig(window_days=7, min_documents=10, threshold=0.9, no_missing_days=3)
    rows = [DayStats("p", "invoice", TODAY - timedelta(days=d), Counter({"match": 30}))
            for d in range(7)]
    rows[2].counts["missing_api"] = 1
    decision = decide_promotion("dual", rows, today=TODAY, gate=gate, partner_id="p",
                                document_type="invoice")
    assert decision.missing == ("1 missing API copy since 2024-03-08 (the gate wants none in "
                                "the last 3 day(s))",)
    rows[2].day = TODAY - timedelta(days=3)  # now outside the last three days
    assert decide_promotion("dual", rows, today=TODAY, gate=gate, partner_id="p",
                            document_type="invoice").allowed
