"""Schema codecs: JSON Schema validation and Avro encode+decode, against json.dumps/json.loads.

Generates a reproducible mix of realistic event payloads (orders, despatch advices in v1 and v2,
invoices, delivery schedules, stock; 1-20 lines each), then times over the same events:

1. baseline: ``json.dumps`` + ``json.loads`` of each payload
2. ``registry.validate`` as the gateway calls it (the jsonschema_rs yes/no fast path when it is
   installed, compiled ``jsonschema`` for errors), and the ``jsonschema`` reference validator
   alone on a 1/20 sample (it is that much slower)
3. Avro schemaless encode + decode (fastavro, schemas parsed once; v1 despatch advices are
   read as v2, i.e. every decode of those also resolves schemas)
4. Avro single-object encode + decode (fingerprint header and lookup on top of 3)

Every figure is also shown as a ratio to the baseline measured in the same run.

    python bench/codec.py            # 100,000 events
    python bench/codec.py --quick    # 10,000 events
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from schemas import default_registry
from schemas.codec import AvroCodec

Event = tuple[str, int, dict[str, Any]]
UNITS = ["EA", "KGM", "MTR", "PCE"]


def _part(rng: random.Random) -> dict[str, Any]:
    n = rng.randrange(1000, 9999)
    return {"buyer_part": f"BP-{n}", "supplier_part": f"SP-{n}", "unit": rng.choice(UNITS)}


def _lines(rng: random.Random, order: str) -> list[dict[str, Any]]:
    return [{"line_number": str(i), **_part(rng), "quantity": rng.randrange(1, 5000),
             "unit_price": round(rng.uniform(0.05, 90), 2), "gtin": "4006381333931",
             "requested_delivery_date": f"2025-03-{rng.randrange(1, 29):02d}"}
            for i in range(1, rng.randrange(2, 21))]


def make_event(rng: random.Random, index: int) -> Event:
    parties = [{"role": "buyer", "id": "4012345000009", "id_qualifier": "9", "name": "Plant"},
               {"role": "supplier", "id": f"SUP{index % 40}", "name": "Supplier"}]
    kind = index % 6
    order = f"PO-{index:07d}"
    if kind == 0:
        return "purchase_order", 1, {"order_number": order, "order_date": "2025-02-01",
                                     "purpose": "original", "currency": "EUR",
                                     "parties": parties, "lines": _lines(rng, order)}
    if kind in (1, 2):
        items = [{"order_number": order, "line_number": ln["line_number"],
                  "buyer_part": ln["buyer_part"], "supplier_part": ln["supplier_part"],
                  "quantity": ln["quantity"], "unit": ln["unit"]} for ln in _lines(rng, order)]
        data: dict[str, Any] = {"shipment_number": f"S-{index}", "despatch_date": "2025-02-10",
                                "parties": parties, "items": items}
        if kind == 2:
            data.update(carrier="DHL", tracking_number=f"TRK{index:09d}")
        return "despatch_advice", kind, data
    if kind == 3:
        lines = [{"line_number": ln["line_number"], "buyer_part": ln["buyer_part"],
                  "quantity": ln["quantity"], "unit": ln["unit"], "unit_price": ln["unit_price"],
                  "amount": round(ln["quantity"] * ln["unit_price"], 2)}
                 for ln in _lines(rng, order)]
        return "invoice", 1, {"invoice_number": f"INV-{index}", "invoice_date": "2025-02-20",
                              "order_number": order, "currency": "EUR", "parties": parties,
                              "lines": lines, "total_amount": sum(ln["amount"] for ln in lines)}
    if kind == 4:
        items = [{**_part(rng), "periods": [
            {"start": f"2025-03-{d:02d}", "quantity": rng.randrange(0, 900),
             "commitment": "forecast"} for d in range(1, rng.randrange(3, 12))]}
            for _ in range(rng.randrange(1, 6))]
        return "delivery_schedule", 1, {"schedule_number": f"DS-{index}",
                                        "schedule_type": "forecast", "issue_date": "2025-02-01",
                                        "parties": parties, "items": items}
    return "stock", 1, {"site": "STR1", "as_of": "2025-02-01T06:00:00Z", "items": [
        {"part": f"BP-{rng.randrange(1000, 9999)}", "on_hand": rng.randrange(0, 10000),
         "unit": "EA"} for _ in range(rng.randrange(1, 21))]}


def timed(label: str, events: list[Event], work: Callable[[Event], object],
          progress: Progress) -> float:
    task = progress.add_task(label, total=len(events))
    step = max(1, len(events) // 50)
    started = time.perf_counter()
    for index, item in enumerate(events):
        work(item)
        if index % step == 0:
            progress.update(task, completed=index)
    elapsed = time.perf_counter() - started
    progress.update(task, completed=len(events))
    return len(events) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 events instead of 100,000")
    parser.add_argument("--events", type=int, default=None, help="number of events")
    args = parser.parse_args()
    count = args.events or (10_000 if args.quick else 100_000)
    console = Console()

    registry = default_registry()
    codec = AvroCodec(registry)
    rng = random.Random(20250201)
    events = [make_event(rng, i) for i in range(count)]
    invalid = [e for e in events if registry.validate(*e)]
    if invalid:
        console.print(f"[red]generator bug: {len(invalid)} invalid events, e.g. "
                      f"{registry.validate(*invalid[0])[:2]}")
        return 1

    def baseline(item: Event) -> object:
        return json.loads(json.dumps(item[2]))

    def validate(item: Event) -> object:
        return registry.validate(*item)

    def reference(item: Event) -> object:
        return list(registry.get(item[0], item[1]).validator.reference.iter_errors(item[2]))

    def avro(item: Event) -> object:
        event_type, version, data = item
        return codec.decode_body(event_type, codec.encode_body(event_type, version, data),
                                 version)

    def single_object(item: Event) -> object:
        return codec.decode(codec.encode(*item))

    with Progress(console=console, transient=True) as progress:
        rates = {
            "json.dumps + json.loads (baseline)": timed("json", events, baseline, progress),
            "JSON Schema validate (registry.validate)": timed("validate", events, validate,
                                                              progress),
            "JSON Schema validate, jsonschema only (1/20 sample)": timed(
                "reference", events[::20], reference, progress),
            "Avro encode + decode (schemaless)": timed("avro", events, avro, progress),
            "Avro single-object encode + decode": timed("single", events, single_object,
                                                        progress),
        }
    json_bytes = sum(len(json.dumps(e[2], separators=(",", ":"))) for e in events) / count
    avro_bytes = sum(len(codec.encode_body(*e)) for e in events) / count

    base = rates["json.dumps + json.loads (baseline)"]
    table = Table(title=f"schemas codecs, {count:,} events (mix of 6 kinds, 1-20 lines)")
    table.add_column("operation")
    table.add_column("events/s", justify="right")
    table.add_column("vs json", justify="right")
    for label, rate in rates.items():
        table.add_row(label, f"{rate:,.0f}", f"{rate / base:.2f}x")
    table.add_section()
    table.add_row("bytes per event: compact JSON", f"{json_bytes:,.0f}", "1.00x")
    table.add_row("bytes per event: Avro body", f"{avro_bytes:,.0f}",
                  f"{avro_bytes / json_bytes:.2f}x")
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
