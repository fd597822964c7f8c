"""Reconciler throughput and memory, against a plain dict-join of the same keys.

Generates seeded purchase-order pairs (EDI copy and API copy, 1-4 lines each) spread over
windows of ``--window`` pairs, as the gateway reconciles them (one partner-day at a time), and
injects 1% real differences: changed quantities and dates, missing API and EDI copies, late
copies and duplicates. A further ``--noise`` share of pairs differ only in form (blanks, case,
"500.000" for 500, a datetime for a date, reordered lines): they must come out as matches, and
they take the slow path through normalisation.

Timed over the same events in the same run:

1. baseline: a dict-join of the same keys (``{(type, key): data}`` then ``pop`` + ``==``)
2. the reconciler: pairing, normalisation, tolerances, classification and daily statistics

Peak memory is measured with tracemalloc on one window (extra bytes each contender allocates
over its input events), in a separate untimed pass so tracing does not slow the timing.

    python bench/reconcile.py            # 1,000,000 pairs
    python bench/reconcile.py --quick    # 100,000 pairs
"""

from __future__ import annotations

import argparse
import copy
import gc
import random
import resource
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from reconciler import EventRecord, Outcome, ReconcileConfig, Reconciler, Statistics, Window

START = datetime(2025, 1, 1, tzinfo=UTC)
# Per-field rules on (a tolerance, a date rule, loose text) beside the kind-wide ones; field
# coverage is always on (learned per run when a field is missing on one side).
CONFIG = ReconcileConfig.from_table({
    "grace_hours": 2, "quantity_abs": 0, "date_days": 0,
    "fields": {"lines.unit_price": {"compare": "number", "abs": 0.001},
               "lines.requested_delivery_date": {"compare": "date", "days": 0},
               "lines.buyer_part": {"compare": "text"}, "currency": {"compare": "text"}}})
# Injected real differences, per pair (1% in all) -> the outcome they must produce.
INJECTED = {"quantity": 0.004, "date": 0.001, "missing_api": 0.002, "missing_edi": 0.001,
            "late": 0.001, "duplicate": 0.001}
EXPECTED = {"quantity": "mismatch", "date": "mismatch", "missing_api": "missing_api",
            "missing_edi": "missing_edi", "late": "late", "duplicate": "duplicate"}


def _document(rng: random.Random, number: int) -> dict[str, Any]:
    return {
        "order_number": f"PO-{number:08d}", "order_date": "2025-01-15", "currency": "EUR",
        "purpose": "original",
        "parties": [{"role": "buyer", "id": "4012345000016"},
                    {"role": "seller", "id": f"SUP{number % 50:03d}"}],
        "lines": [{"line_number": i * 10, "buyer_part": f"BP-{rng.randrange(10_000)}",
                   "quantity": rng.randrange(1, 5000), "unit": "EA",
                   "unit_price": round(rng.uniform(0.05, 90), 2),
                   "requested_delivery_date": f"2025-02-{rng.randrange(1, 29):02d}"}
                  for i in range(1, rng.randrange(2, 6))],
    }


def _noise(rng: random.Random, doc: dict[str, Any]) -> None:
    """Differences in form only: the reconciler must see through them."""
    line = doc["lines"][0]
    choice = rng.randrange(4)
    if choice == 0:
        line["buyer_part"] = f"  {line['buyer_part'].lower()} "
    elif choice == 1:
        line["quantity"] = f"{line['quantity']}.000"
    elif choice == 2:
        doc["order_date"] = "2025-01-15T10:30:00+01:00"
    else:
        doc["lines"].reverse()


def make_window(seed: int, index: int, pairs: int, noise: float
                ) -> tuple[Window, list[EventRecord], Counter[str]]:
    """One window of events and the outcomes its injected differences must produce."""
    rng = random.Random(seed * 1_000_003 + index)
    start = START + timedelta(days=index)
    events: list[EventRecord] = []
    expected: Counter[str] = Counter()
    thresholds: list[tuple[float, str]] = []
    total = 0.0
    for kind, share in INJECTED.items():
        total += share
        thresholds.append((total, kind))
    for n in range(pairs):
        number = index * pairs + n
        edi = _document(rng, number)
        api = copy.deepcopy(edi)
        at = start + timedelta(seconds=n * 86_000 // pairs)
        key = edi["order_number"]
        delay = timedelta(seconds=rng.randrange(1, 600))
        draw = rng.random()
        kind = next((k for limit, k in thresholds if draw < limit), "")
        if not kind and rng.random() < noise:
            _noise(rng, api)
        if kind == "quantity":
            api["lines"][-1]["quantity"] += 1
        elif kind == "date":
            api["lines"][0]["requested_delivery_date"] = "2025-03-01"
        elif kind == "late":
            delay = timedelta(hours=5)
        expected[EXPECTED[kind] if kind else "match"] += 1
        if kind == "duplicate":
            expected["match"] += 1
        if kind != "missing_edi":
            events.append(EventRecord(f"e{number}", "purchase_order", "edi", key, at, at, edi,
                                      "bench"))
        if kind != "missing_api":
            events.append(EventRecord(f"a{number}", "purchase_order", "api", key, at,
                                      at + delay, api, "bench"))
        if kind == "duplicate":
            events.append(EventRecord(f"a{number}-2", "purchase_order", "api", key, at,
                                      at + delay * 2, copy.deepcopy(api), "bench"))
    return Window(start, start + timedelta(days=1)), events, expected


def dict_join(events: list[EventRecord]) -> Counter[str]:
    """The baseline: a hash join on the same keys with plain equality."""
    edi: dict[tuple[str, str], dict[str, Any]] = {}
    api: list[EventRecord] = []
    for e in events:
        if e.path == "edi":
            edi[(e.type, e.business_key)] = e.data
        else:
            api.append(e)
    counts: Counter[str] = Counter()
    for a in api:
        data = edi.pop((a.type, a.business_key), None)
        counts["equal" if data == a.data else "different"] += 1
    counts["orphan"] += len(edi)
    return counts


def run_engine(engine: Reconciler, window: Window, events: list[EventRecord],
               as_of: datetime) -> Statistics:
    return Statistics().extend(engine.run(events, window, as_of=as_of))


def peak_bytes(work: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    kept = work()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del kept
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 pairs")
    parser.add_argument("--pairs", type=int, default=None, help="pairs in all")
    parser.add_argument("--window", type=int, default=10_000, help="pairs per window")
    parser.add_argument("--noise", type=float, default=0.10,
                        help="share of pairs that differ in form only (default 0.10)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    pairs = args.pairs or (100_000 if args.quick else 1_000_000)
    windows = max(1, pairs // args.window)
    console = Console()
    engine = Reconciler(CONFIG)

    timing = {"baseline": 0.0, "reconciler": 0.0}
    expected: Counter[str] = Counter()
    found: Counter[str] = Counter()
    events_total = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"reconciling {pairs:,} pairs in {windows} windows",
                                 total=windows)
        for index in range(windows):
            window, events, wanted = make_window(args.seed, index, args.window, args.noise)
            expected.update(wanted)
            events_total += len(events)
            as_of = window.end + timedelta(days=1)
            started = time.perf_counter()
            dict_join(events)
            timing["baseline"] += time.perf_counter() - started
            started = time.perf_counter()
            stats = run_engine(engine, window, events, as_of)
            timing["reconciler"] += time.perf_counter() - started
            for row in stats.rows():
                found.update(row.counts)
            progress.advance(task)

    window, events, _ = make_window(args.seed, 0, args.window, args.noise)
    as_of = window.end + timedelta(days=1)
    memory = {"baseline": peak_bytes(lambda: dict_join(events)),
              "reconciler": peak_bytes(lambda: run_engine(Reconciler(CONFIG), window, events,
                                                          as_of))}
    input_bytes = peak_bytes(lambda: make_window(args.seed, 0, args.window, args.noise))

    table = Table(title=f"Reconciliation of {pairs:,} seeded pairs ({events_total:,} events, "
                        f"{windows} windows of {args.window:,}; 1% injected differences, "
                        f"{args.noise:.0%} form-only noise)")
    table.add_column("contender")
    table.add_column("seconds", justify="right")
    table.add_column("pairs/s", justify="right")
    table.add_column("× baseline speed", justify="right")
    table.add_column("peak MiB / window", justify="right")
    table.add_column("× baseline memory", justify="right")
    for name in ("baseline", "reconciler"):
        seconds = timing[name]
        table.add_row("dict-join (baseline)" if name == "baseline" else "reconciler",
                      f"{seconds:.2f}", f"{pairs / seconds:,.0f}",
                      f"{timing['baseline'] / seconds:.2f}",
                      f"{memory[name] / 2**20:.1f}",
                      f"{memory[name] / max(memory['baseline'], 1):.2f}")
    console.print(table)

    check = Table(title="Outcomes: injected vs found")
    check.add_column("outcome")
    check.add_column("injected", justify="right")
    check.add_column("found", justify="right")
    check.add_column("ok")
    for outcome in Outcome:
        want, got = expected[outcome.value], found[outcome.value]
        check.add_row(outcome.value, f"{want:,}", f"{got:,}", "yes" if want == got else "NO")
    console.print(check)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    goal = pairs / timing["reconciler"] >= 100_000
    console.print(f"input events of one window: {input_bytes / 2**20:.1f} MiB; process peak "
                  f"RSS {rss:,.0f} MiB; goal ≥ 100,000 pairs/s: {'met' if goal else 'NOT met'}")
    return 0 if all(expected[o.value] == found[o.value] for o in Outcome) else 1


if __name__ == "__main__":
    raise SystemExit(main())
