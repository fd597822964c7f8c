"""Search by business number: the reference index against a scan of the stored payloads, and
what indexing costs when events are stored.

Builds a throw-away SQLite database with ``--orders`` orders, each with a purchase order, an
order response, a despatch advice (naming its order and one other) and an invoice, all stored
through the ORM as the pipeline stores them. Timed in the same run:

1. store: the events without and with :func:`gateway.search.refs.index_event` (the write cost)
2. baseline look-up: every event whose JSON payload text contains the number (what finding a
   despatch advice by its PO needs without the index), then the same with the index
   (:func:`gateway.search.query.search`, which also gathers interchanges, outbox rows,
   acknowledgments and plan actions)

    python bench/search.py             # 20,000 orders (80,000 events)
    python bench/search.py --quick     # 2,000 orders
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, select

from gateway.search.query import search
from gateway.search.refs import index_event
from gateway.storage.db import make_engine, session_factory
from gateway.storage.migrate import upgrade
from gateway.storage.models import Event


def documents(n: int, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    po = f"PO{n:08d}"
    other = f"PO{rng.randrange(n + 1):08d}"
    return [("purchase_order", {"order_number": po, "lines": [{"line_number": "1"}]}),
            ("order_response", {"order_number": po, "response_number": f"R{n}"}),
            ("despatch_advice", {"shipment_number": f"S{n}", "orders": [
                {"order_number": po}, {"order_number": other}]}),
            ("invoice", {"invoice_number": f"I{n}", "order_number": po})]


def store(database: Path, orders: int, *, indexed: bool) -> float:
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    sessions = session_factory(engine)
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    for batch in range(0, orders, 500):
        with sessions.begin() as s:
            for n in range(batch, min(batch + 500, orders)):
                for k, (kind, data) in enumerate(documents(n, rng)):
                    key = str(next(iter(data.values())))
                    row = Event(id=f"{kind}-{n}", type=kind, version=1, partner_id=None,
                                path="api", source="/bench", time=start + timedelta(
                                    seconds=4 * n + k), recorded_at=start, business_key=key,
                                envelope={}, data=data)
                    s.add(row)
                    if indexed:
                        index_event(s, row)
    elapsed = time.perf_counter() - began
    engine.dispose()
    return elapsed


def lookups(database: Path, numbers: list[str]) -> tuple[float, float, int, int]:
    engine = make_engine(f"sqlite:///{database}")
    sessions = session_factory(engine)
    with sessions() as s:
        began = time.perf_counter()
        scanned = sum(len(s.scalars(select(Event.id).where(
            cast(Event.data, String).like(f'%"{q}"%'))).all()) for q in numbers)
        scan = time.perf_counter() - began
        began = time.perf_counter()
        found = sum(search(s, q, limit=500).total for q in numbers)
        indexed = time.perf_counter() - began
    engine.dispose()
    return scan / len(numbers), indexed / len(numbers), scanned, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    orders = 2_000 if args.quick else args.orders
    with tempfile.TemporaryDirectory() as tmp:
        plain, with_index = Path(tmp) / "plain.db", Path(tmp) / "indexed.db"
        t_plain = store(plain, orders, indexed=False)
        t_index = store(with_index, orders, indexed=True)
        rng = random.Random(11)
        numbers = [f"PO{rng.randrange(orders):08d}" for _ in range(args.queries)]
        scan, indexed, scanned, found = lookups(with_index, numbers)
    events = orders * 4
    print(f"{events:,} events ({orders:,} orders), {len(numbers)} PO look-ups")
    print(f"store without index: {t_plain:8.2f} s  ({events / t_plain:,.0f} events/s)")
    print(f"store with index:    {t_index:8.2f} s  ({events / t_index:,.0f} events/s)  "
          f"write cost x{t_index / t_plain:.2f}")
    print(f"look-up, payload scan: {scan * 1000:8.2f} ms/query ({scanned} events found)")
    print(f"look-up, index:        {indexed * 1000:8.2f} ms/query ({found} results, events "
          f"and their interchanges)  x{scan / indexed:.0f} faster")


if __name__ == "__main__":
    main()
