"""One realistic, complete and valid payload per event type (latest version unless noted)."""

from __future__ import annotations

import copy
from typing import Any

BUYER = {"role": "buyer", "id": "4012345000009", "id_qualifier": "9", "name": "Stuttgart Plant",
         "address": {"street": "Werkstr. 1", "city": "Stuttgart", "postal_code": "70173",
                     "region": "BW", "country": "DE"}}
SUPPLIER = {"role": "supplier", "id": "NOVA", "id_qualifier": "92", "name": "Nova Plastics"}

SAMPLES: dict[str, dict[str, Any]] = {
    "purchase_order": {
        "order_number": "PO-1001", "order_date": "2025-01-31", "purpose": "original",
        "order_type": "220", "currency": "EUR", "parties": [BUYER, SUPPLIER],
        "requested_delivery_date": "2025-02-14",
        "lines": [{"line_number": "1", "buyer_part": "BP-7", "supplier_part": "SP-7",
                   "gtin": "4006381333931", "description": "Gasket 40mm", "quantity": 1200,
                   "unit": "EA", "unit_price": 0.42, "requested_delivery_date": "2025-02-14"},
                  {"line_number": "2", "buyer_part": "BP-8", "quantity": 12.5, "unit": "KGM"}],
    },
    "order_change": {
        "order_number": "PO-1001", "change_number": "1", "change_date": "2025-02-01",
        "purpose": "replace", "parties": [BUYER],
        "lines": [{"line_number": "1", "change": "quantity", "buyer_part": "BP-7",
                   "quantity": 1000, "unit": "EA", "requested_delivery_date": "2025-02-15"}],
    },
    "order_response": {
        "order_number": "PO-1001", "order_date": "2025-01-31", "response_number": "R-5",
        "response_date": "2025-02-01", "status": "accepted_with_changes", "parties": [SUPPLIER],
        "lines": [{"line_number": "1", "status": "changed", "buyer_part": "BP-7",
                   "supplier_part": "SP-7", "ordered_quantity": 1200, "confirmed_quantity": 1000,
                   "unit": "EA", "unit_price": 0.42, "confirmed_delivery_date": "2025-02-16"}],
    },
    "despatch_advice": {
        "shipment_number": "S-77", "despatch_date": "2025-02-15",
        "expected_delivery_date": "2025-02-16", "parties": [SUPPLIER, BUYER],
        "carrier": "DHL", "tracking_number": "TRK000123",
        "orders": [{"order_number": "PO-1001", "packs": [
            {"pack_id": "106141411234567897", "package_type": "CT", "items": [
                {"line_number": "1", "buyer_part": "BP-7", "supplier_part": "SP-7",
                 "gtin": "4006381333931", "quantity": 1000, "unit": "EA", "batch": "B-1"}]}]}],
        "items": [{"order_number": "PO-1001", "line_number": "1", "buyer_part": "BP-7",
                   "supplier_part": "SP-7", "quantity": 1000, "unit": "EA"}],
    },
    "invoice": {
        "invoice_number": "INV-9", "invoice_date": "2025-02-20", "order_number": "PO-1001",
        "currency": "EUR", "parties": [SUPPLIER, BUYER],
        "lines": [{"line_number": "1", "buyer_part": "BP-7", "supplier_part": "SP-7",
                   "quantity": 1000, "unit": "EA", "unit_price": 0.42, "amount": 420.0}],
        "total_amount": 499.8, "tax_amount": 79.8,
    },
    "inventory_report": {
        "report_number": "INV-REP-3", "report_date": "2025-02-01", "parties": [SUPPLIER],
        "items": [{"buyer_part": "BP-7", "supplier_part": "SP-7", "gtin": "4006381333931",
                   "location": "WH1", "quantities": [
                       {"kind": "on_hand", "quantity": 5000, "unit": "EA",
                        "date": "2025-02-01"},
                       {"kind": "available", "quantity": 4200, "unit": "EA"}]}],
    },
    "delivery_schedule": {
        "schedule_number": "DS-12", "schedule_type": "forecast", "issue_date": "2025-02-01",
        "horizon_start": "2025-02-03", "horizon_end": "2025-03-31", "parties": [BUYER],
        "items": [{"buyer_part": "BP-7", "supplier_part": "SP-7", "order_number": "PO-1001",
                   "unit": "EA", "cumulative_received": 8000, "periods": [
                       {"start": "2025-02-03", "end": "2025-02-09", "quantity": 1200,
                        "commitment": "firm"},
                       {"start": "2025-02-10", "quantity": 900, "commitment": "forecast"}]}],
    },
    "functional_ack": {
        "ack_type": "997", "acknowledged_interchange": "000000123",
        "acknowledged_group": "123", "status": "accepted_with_errors",
        "messages": [{"control_number": "0001", "message_type": "850",
                      "status": "accepted_with_errors", "errors": [
                          {"segment_position": 4, "segment_tag": "PO1", "element_position": 2,
                           "code": "7", "description": "invalid code value"}]}],
    },
    "application_advice": {
        "advice_number": "AA-1", "advice_date": "2025-02-02", "reference_number": "INV-9",
        "reference_type": "invoice", "status": "rejected",
        "errors": [{"code": "IV01", "description": "unknown order number"}],
    },
    "demand": {
        "site": "STR1", "plan_date": "2025-02-01",
        "lines": [{"part": "BP-7", "period_start": "2025-02-03", "quantity": 1500, "unit": "EA"}],
    },
    "stock": {
        "site": "STR1", "as_of": "2025-02-01T06:00:00Z",
        "items": [{"part": "BP-7", "on_hand": 2300, "unit": "EA", "safety_stock": 500}],
    },
    "supplier_capacity": {
        "supplier": "nova-plastics", "as_of": "2025-02-01T06:00:00+01:00",
        "items": [{"part": "BP-7", "period_start": "2025-02-03", "capacity": 5000, "unit": "EA",
                   "lead_time_days": 7, "min_order_qty": 500, "lot_size": 100,
                   "unit_price": 0.42}],
    },
}

DESPATCH_V1 = {k: v for k, v in SAMPLES["despatch_advice"].items()
               if k not in ("carrier", "tracking_number")}


def sample(event_type: str) -> dict[str, Any]:
    """A fresh deep copy, so a test may mutate it."""
    return copy.deepcopy(SAMPLES[event_type])


def event(event_type: str, data: dict[str, Any] | None = None, **attributes: Any) -> dict[str, Any]:
    """A valid CloudEvents object around a payload."""
    body = {"specversion": "1.0", "id": "e-1", "source": "/partners/nova",
            "type": f"com.edigate.{event_type}", "time": "2025-02-01T08:00:00Z",
            "datacontenttype": "application/json",
            "data": sample(event_type) if data is None else data}
    body.update(attributes)
    return body
