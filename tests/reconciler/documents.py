"""Concrete documents and event builders shared by the reconciler tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler import EventRecord, Window

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday morning
DAY = Window(datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC))
LATER = T0 + timedelta(days=2)  # every grace has passed by then


def purchase_order(number: str = "PO-4711") -> dict[str, Any]:
    return {
        "order_number": number, "order_date": "2024-03-04", "purpose": "original",
        "currency": "EUR", "requested_delivery_date": "2024-03-11",
        "parties": [{"role": "buyer", "id": "4012345000016", "name": "Plant Nord"},
                    {"role": "seller", "id": "5790000000011", "name": "Alpen Gaskets AG"}],
        "lines": [
            {"line_number": 10, "buyer_part": "GSK-100", "description": "Gasket 100 mm",
             "quantity": 500, "unit": "EA", "unit_price": 0.42},
            {"line_number": 20, "buyer_part": "GSK-200", "description": "Gasket 200 mm",
             "quantity": 12.5, "unit": "KGM", "unit_price": 18.0},
        ],
    }


def invoice(number: str = "INV-9") -> dict[str, Any]:
    return {"invoice_number": number, "invoice_date": "2024-03-04", "order_number": "PO-4711",
            "currency": "EUR", "total_amount": 435.0, "tax_amount": 82.65,
            "lines": [{"line_number": 1, "quantity": 500, "unit": "EA", "unit_price": 0.42,
                       "amount": 210.0},
                      {"line_number": 2, "quantity": 12.5, "unit": "KGM", "unit_price": 18.0,
                       "amount": 225.0}]}


def variant(document: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(document)


def event(ident: str, path: str, data: dict[str, Any], *, doc_type: str = "purchase_order",
          key: str | None = None, time: datetime = T0, delay: timedelta = timedelta(0),
          partner: str = "alpen-gaskets") -> EventRecord:
    business_key = key if key is not None else str(
        data.get("order_number") if doc_type != "invoice" else data.get("invoice_number"))
    return EventRecord(ident, doc_type, path, business_key, time, time + delay, data, partner)


def pair(edi: dict[str, Any], api: dict[str, Any], *, doc_type: str = "purchase_order",
         api_delay: timedelta = timedelta(minutes=3)) -> list[EventRecord]:
    return [event("edi-1", "edi", edi, doc_type=doc_type),
            event("api-1", "api", api, doc_type=doc_type, delay=api_delay)]
