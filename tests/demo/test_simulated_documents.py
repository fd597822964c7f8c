"""Simulated EDI documents carry what real ones of their standard carry: what the EDI subset
cannot say is "not comparable" for the reconciler, never a mismatch; the rest agrees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.simulate.documents import Dialect, build_document
from reconciler import EventRecord, Outcome, ReconcileConfig, Window, reconcile
from translators import translate

NOW = datetime(2027, 1, 6, 9, tzinfo=UTC)
DIALECTS = {
    "edifact": Dialect("edifact", "D96A", "4012345000009", "14", "EDIGATE", "ZZZ", "ACME"),
    "x12": Dialect("x12", "004010", "OZARKPLASTICS", "ZZ", "EDIGATE", "ZZ", "OZARK"),
}


def invoice(n: int) -> dict[str, Any]:
    lines = [{"line_number": i, "buyer_part": f"P-{i}", "supplier_part": f"S-{i}",
              "quantity": 10 * i, "unit": "EA", "unit_price": 1.25,
              "amount": round(12.5 * i, 2)} for i in (1, 2)]
    total = round(sum(ln["amount"] for ln in lines), 2)
    return {"invoice_number": f"INV{n:05d}", "invoice_date": "2027-01-06",
            "order_number": f"PO{n:05d}", "currency": "USD", "lines": lines,
            "total_amount": total, "tax_amount": round(total * 0.19, 2)}


def despatch(n: int) -> dict[str, Any]:
    item = {"line_number": 1, "buyer_part": "P-1", "supplier_part": "S-1", "quantity": 40,
            "unit": "EA"}
    return {"shipment_number": f"SH{n:05d}", "despatch_date": "2027-01-06",
            "expected_delivery_date": "2027-01-07", "carrier": "DHL",
            "tracking_number": f"TRK{n:09d}",
            "orders": [{"order_number": f"PO{n:05d}", "packs": [
                {"pack_id": f"34012345{n:010d}", "package_type": "CT", "items": [item]}]}],
            "items": [{"order_number": f"PO{n:05d}", **item}]}


def pairs(doc_type: str, standard: str, build: Any, key: str) -> list[EventRecord]:
    events = []
    for n in range(1, 6):
        api = build(n)
        raw = build_document(doc_type, api, dialect=DIALECTS[standard], control=n, now=NOW)
        [message] = translate(raw).messages
        assert message.status == "accepted"
        events += [EventRecord(f"e{n}", doc_type, "edi", api[key], NOW, NOW,
                               message.event.data),
                   EventRecord(f"a{n}", doc_type, "api", api[key], NOW,
                               NOW + timedelta(minutes=1), api)]
    return events


CONFIG = ReconcileConfig.from_table({"ignore": ["parties"]})
WINDOW = Window(NOW - timedelta(days=1), NOW + timedelta(days=1))


# Every line's identifiers list is EDI-only (API callers send the convenient fields): always
# not comparable, never a mismatch.
@pytest.mark.parametrize(("standard", "uncompared"), [
    # an 810 has no line amount; its tax is in TXI
    ("x12", ("lines.amount", "lines.identifiers")),
    ("edifact", ("lines.identifiers",)),  # an INVOIC carries both (MOA 203 per line, MOA 176)
])
def test_invoices_agree_on_what_both_paths_carry(standard: str,
                                                 uncompared: tuple[str, ...]) -> None:
    results = reconcile(pairs("invoice", standard, invoice, "invoice_number"), WINDOW,
                        as_of=NOW + timedelta(days=2), config=CONFIG)
    assert [r.outcome for r in results] == [Outcome.MATCH] * 5, \
        [r.differences for r in results]
    assert {r.uncompared for r in results} == {uncompared}


def test_x12_856_without_packaging_leaves_package_type_not_comparable() -> None:
    results = reconcile(pairs("despatch_advice", "x12", despatch, "shipment_number"), WINDOW,
                        as_of=NOW + timedelta(days=2), config=CONFIG)
    assert [r.outcome for r in results] == [Outcome.MATCH] * 5, \
        [r.differences for r in results]
    assert {r.uncompared for r in results} == {
        ("items.identifiers", "orders.packs.items.identifiers", "orders.packs.package_type")}
