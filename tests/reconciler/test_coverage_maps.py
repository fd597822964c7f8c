"""Coverage declared by the partner's EDI map (passed in as data): a field the map cannot fill
is not comparable from the first document on, whatever the run's documents show."""

from __future__ import annotations

from typing import Any

from reconciler import EDI, Outcome, Reconciler, Result
from reconciler.coverage import Coverage
from tests.reconciler.documents import DAY, LATER, event, invoice

# What an X12 810 map can fill: no line amount (the map has no rule for it).
MAP_810 = frozenset({"invoice_number", "invoice_date", "order_number", "currency",
                     "total_amount", "tax_amount", "lines", "lines.line_number",
                     "lines.quantity", "lines.unit", "lines.unit_price"})


def pairs(edi_docs: list[dict[str, Any]], api_docs: list[dict[str, Any]]) -> list:
    out = []
    for i, (edi, api) in enumerate(zip(edi_docs, api_docs, strict=True)):
        out += [event(f"e{i}", "edi", edi, doc_type="invoice"),
                event(f"a{i}", "api", api, doc_type="invoice")]
    return out


def without_amounts(doc: dict[str, Any]) -> dict[str, Any]:
    for line in doc["lines"]:
        del line["amount"]
    return doc


def run(events: list, declared: dict[str, frozenset[str]] | None) -> tuple[list[Result],
                                                                             Reconciler]:
    engine = Reconciler(declared={"invoice": declared} if declared is not None else None)
    return list(engine.run(events, DAY, as_of=LATER)), engine


def test_a_field_outside_the_map_is_not_comparable_even_where_edi_copies_carry_it() -> None:
    # Two EDI copies were stored before the partner's guide marked the segment "not used":
    # learned coverage alone would call the line amount carried and count the others as
    # missing; the map says the EDI path cannot carry it, so it is never compared.
    edi = [invoice(f"INV-{i}") for i in range(4)]
    edi = [doc if i < 2 else without_amounts(doc) for i, doc in enumerate(edi)]
    api = [invoice(f"INV-{i}") for i in range(4)]
    learned, _ = run(pairs(edi, api), None)
    assert sorted(r.outcome for r in learned) == [Outcome.MATCH] * 2 + [Outcome.MISMATCH] * 2
    declared, engine = run(pairs(edi, api), {EDI: MAP_810})
    assert [r.outcome for r in declared] == [Outcome.MATCH] * 4
    assert {r.uncompared for r in declared if r.uncompared} == {("lines.amount",)}
    described = engine.coverage["invoice"].describe("lines.amount")
    assert described["carried_by"] == "api" and described["reason"] == "edi: not in the map"


def test_the_first_document_already_says_why_a_field_is_not_comparable() -> None:
    events = pairs([without_amounts(invoice("INV-1"))], [invoice("INV-1")])
    results, engine = run(events, {EDI: MAP_810})
    assert [r.outcome for r in results] == [Outcome.MATCH]
    assert results[0].uncompared == ("lines.amount",)
    assert engine.coverage["invoice"].describe("lines.amount")["reason"] == \
        "edi: not in the map"
    # Without the map only the documents speak: the same verdict, a weaker reason.
    _, learned = run(events, None)
    assert learned.coverage["invoice"].describe("lines.amount")["reason"] == "edi: not seen"


def test_a_field_inside_the_map_that_one_document_leaves_out_is_still_missing() -> None:
    edi = [invoice(f"INV-{i}") for i in range(3)]
    for doc in edi:
        without_amounts(doc)
    del edi[0]["tax_amount"]
    results, _ = run(pairs(edi, [without_amounts(invoice(f"INV-{i}")) for i in range(3)]),
                     {EDI: MAP_810})
    first = next(r for r in results if r.business_key == "INV-0")
    assert first.outcome is Outcome.MISMATCH
    assert [(d.path, d.kind) for d in first.differences] == [("tax_amount", "missing_on_edi")]


def test_an_undeclared_path_is_learned_from_its_documents() -> None:
    coverage = Coverage("invoice", declared={EDI: MAP_810})
    coverage.add("api", {"lines": [{"amount": 1}]})
    assert not coverage.can_carry(EDI, "lines.amount")
    assert coverage.can_carry("api", "lines.amount") and coverage.carries("api", "lines.amount")
    assert coverage.can_carry(EDI, "tax_amount") and not coverage.carries(EDI, "tax_amount")
