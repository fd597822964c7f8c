"""Events/s to NATS JetStream through the event outbox, against a bare nats-py publish loop in
the same run, and the end-to-end lag under load.

1. Throughput, interleaved over --rounds rounds (the order alternates per round):
   - baseline: a bare nats-py loop, ``await js.publish(subject, body, headers={Nats-Msg-Id})``
     one after the other, of the same messages (pre-built, so only the publish is measured);
   - candidate: the relay draining the same number of events from the outbox (claim with the
     lease, build CloudEvents, publish in order per partner, mark published), on a fresh
     stream each time.
2. Lag under load: events are committed at --load (default 50%) of the candidate's median rate
   while the relay runs; a JetStream consumer records commit-to-delivery time per event.

Goal (issue 26): candidate/baseline >= 0.5; lag p99 reported.

    python bench/publish.py                 # 5 rounds of 5,000 events, SQLite
    python bench/publish.py --quick         # 5 rounds of 1,000 events
    python bench/publish.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import delete

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.broker.destination import NATS, Destination  # noqa: E402
from gateway.broker.messages import build_message  # noqa: E402
from gateway.broker.outbox import enqueue_publication  # noqa: E402
from gateway.broker.relay import Relay  # noqa: E402
from gateway.config import Settings  # noqa: E402
from gateway.runtime import Runtime  # noqa: E402
from gateway.storage.db import make_engine, session_factory  # noqa: E402
from gateway.storage.migrate import upgrade  # noqa: E402
from gateway.storage.models import Event, Partner  # noqa: E402
from gateway.storage.models_broker import EventPublication  # noqa: E402
from gateway.storage.models_reconciler import JobLease  # noqa: E402
from schemas.envelope import api_event_envelope  # noqa: E402

EXAMPLE = ROOT / "docs" / "examples" / "nova-plastics-order-response.json"


def partners(count: int) -> list[str]:
    return [f"bench-supplier-{n:02d}" for n in range(count)]


def make_events(runtime: Runtime, names: list[str], count: int) -> list[Event]:
    data = json.loads(EXAMPLE.read_text())["data"]
    events: list[Event] = []
    now = datetime.now(UTC)
    for n in range(count):
        partner = names[n % len(names)]
        event_id = str(uuid.uuid4())
        item = dict(data, response_number=f"R-{n}")
        events.append(Event(
            id=event_id, type="order_response", version=1, partner_id=partner, path="api",
            source=f"/partners/{partner}", subject=item["order_number"], time=now,
            recorded_at=now, business_key=item["order_number"],
            envelope=api_event_envelope(event_id=event_id, event_type="order_response",
                                        version=1, partner=partner, time=now,
                                        subject=item["order_number"]),
            data=item))
    return events


def store(runtime: Runtime, events: list[Event], per_transaction: int = 1000) -> None:
    for start in range(0, len(events), per_transaction):
        with runtime.sessions.begin() as session:
            for event in events[start:start + per_transaction]:
                session.add(event)
                enqueue_publication(session, event.id, event.recorded_at)


def reset(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        session.execute(delete(EventPublication))
        session.execute(delete(Event))
        session.execute(delete(JobLease))


def fresh_destination(base: Destination) -> Destination:
    tag = uuid.uuid4().hex[:8]
    return replace(base, stream=f"BENCH_{tag.upper()}", subject_prefix=f"bench{tag}")


async def drop_stream(destination: Destination) -> None:
    import nats

    nc = await nats.connect(destination.url)
    try:
        await nc.jetstream().delete_stream(destination.stream)
    except Exception:
        pass
    finally:
        await nc.close()


async def baseline(destination: Destination, events: list[Event]) -> float:
    """A bare nats-py loop: each publish waits for its PubAck, as the relay's do."""
    import nats

    from gateway.broker.publishers import ensure_stream

    messages = [build_message(e, prefix=destination.subject_prefix, mode="json")
                for e in events]
    nc = await nats.connect(destination.url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, destination)
        started = time.perf_counter()
        for message in messages:
            await js.publish(message.subject, message.body,
                             headers={"Nats-Msg-Id": message.event_id, **message.headers})
        elapsed = time.perf_counter() - started
    finally:
        await nc.close()
        await drop_stream(destination)
    return len(messages) / elapsed


async def candidate(runtime: Runtime, destination: Destination, events: list[Event]) -> float:
    await asyncio.to_thread(reset, runtime)
    await asyncio.to_thread(store, runtime, events)
    async with Relay(runtime, destination, holder="bench") as relay:
        await relay._ensure_publisher()  # connected and stream declared, as in a running relay
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(relay.run_forever(stop))  # the relay `edigate serve` runs
        while relay.published_total < len(events) and not task.done():
            await asyncio.sleep(0.002)
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        if relay.published_total < len(events):
            raise RuntimeError(f"only {relay.published_total} of {len(events)} published")
    await drop_stream(destination)
    return len(events) / elapsed


async def lag_under_load(runtime: Runtime, destination: Destination, names: list[str],
                         rate: float, seconds: float) -> list[float]:
    """Commit events at ``rate``/s (batches every 20 ms) while the relay runs; a consumer
    measures commit -> delivery per event."""
    import nats

    await asyncio.to_thread(reset, runtime)
    committed: dict[str, float] = {}
    lags: list[float] = []
    stop = asyncio.Event()
    from gateway.broker.publishers import ensure_stream

    nc = await nats.connect(destination.url)
    js = nc.jetstream()
    await ensure_stream(js, destination)
    relay = Relay(runtime, replace(destination, interval=0.01), holder="bench-load")
    relay_task = asyncio.create_task(relay.run_forever(stop))

    async def on_message(msg) -> None:
        event_id = msg.headers["Nats-Msg-Id"]
        at = committed.get(event_id)
        if at is not None:
            lags.append(time.perf_counter() - at)
        await msg.ack()

    subscription = await js.subscribe(destination.subjects, stream=destination.stream,
                                      cb=on_message, manual_ack=True)
    tick = 0.02
    per_tick = max(1, round(rate * tick))
    started = time.perf_counter()
    total = 0
    while time.perf_counter() - started < seconds:
        batch = make_events(runtime, names, per_tick)
        await asyncio.to_thread(store, runtime, batch)
        at = time.perf_counter()
        for event in batch:
            committed[event.id] = at
        total += len(batch)
        next_tick = started + (total / per_tick) * tick
        await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))
    deadline = time.perf_counter() + 30
    while len(lags) < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await relay_task
    await relay.close()
    await subscription.unsubscribe()
    await nc.close()
    await drop_stream(destination)
    if len(lags) < total:
        raise RuntimeError(f"only {len(lags)} of {total} events arrived")
    return lags


def spread(values: list[float]) -> str:
    return f"{min(values):,.0f}-{max(values):,.0f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    parser.add_argument("--database-url", default=None,
                        help="default: a SQLite file in a temporary directory")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--partners", type=int, default=16)
    parser.add_argument("--load", type=float, default=0.5,
                        help="fraction of the candidate's median rate for the lag phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the lag phase")
    parser.add_argument("--quick", action="store_true", help="1,000 events, 3 s lag phase")
    args = parser.parse_args()
    if args.quick:
        args.events, args.seconds = 1000, 3.0
    console = Console()
    with tempfile.TemporaryDirectory(prefix="edigate-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'edigate.db'}"
        engine = make_engine(url)
        upgrade(engine)
        settings = Settings(data_dir=tmp, database_url=url, jobs_enabled=False)
        runtime = Runtime(settings=settings, engine=engine, sessions=session_factory(engine))
        names = partners(args.partners)
        now = datetime.now(UTC)
        with runtime.sessions.begin() as session:
            for name in names:
                if session.get(Partner, name) is None:
                    session.add(Partner(id=name, name=name, standard="api", version="",
                                        profile={}, active=True, created_at=now,
                                        updated_at=now))
        base = Destination(name="bench", url=args.nats_url, kind=NATS, batch=500,
                           duplicate_window=120)
        rows = []
        base_rates: list[float] = []
        cand_rates: list[float] = []
        ratios: list[float] = []
        for round_ in range(args.rounds):
            events = make_events(runtime, names, args.events)
            first_baseline = round_ % 2 == 0
            if first_baseline:
                b = await baseline(fresh_destination(base), events)
                c = await candidate(runtime, fresh_destination(base), events)
            else:
                c = await candidate(runtime, fresh_destination(base), events)
                b = await baseline(fresh_destination(base), events)
            base_rates.append(b)
            cand_rates.append(c)
            ratios.append(c / b)
            rows.append((round_ + 1, "baseline first" if first_baseline else "relay first", b,
                         c, c / b))
            console.print(f"round {round_ + 1}: bare loop {b:,.0f}/s, relay {c:,.0f}/s, "
                          f"ratio {c / b:.2f}")
        table = Table(title=f"JetStream publish, {args.events:,} events x {args.rounds} rounds, "
                            f"{args.partners} partners, {engine.dialect.name}")
        table.add_column("")
        table.add_column("median events/s", justify="right")
        table.add_column("spread (min-max)", justify="right")
        table.add_row("bare nats-py loop", f"{statistics.median(base_rates):,.0f}",
                      spread(base_rates))
        table.add_row("edigate relay (outbox)", f"{statistics.median(cand_rates):,.0f}",
                      spread(cand_rates))
        table.add_row("ratio relay / bare", f"{statistics.median(ratios):.2f}",
                      f"{min(ratios):.2f}-{max(ratios):.2f}")
        console.print(table)
        rate = statistics.median(cand_rates) * args.load
        lags = await lag_under_load(runtime, fresh_destination(base), names, rate,
                                    args.seconds)
        lags_ms = sorted(x * 1000 for x in lags)
        p50 = lags_ms[len(lags_ms) // 2]
        p99 = lags_ms[min(len(lags_ms) - 1, int(len(lags_ms) * 0.99))]
        console.print(f"lag commit -> consumer, {len(lags):,} events committed in "
                      f"{args.seconds:.0f} s ({len(lags) / args.seconds:,.0f}/s achieved, "
                      f"{rate:,.0f}/s asked): p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                      f"max {lags_ms[-1]:.1f} ms")
        goal = statistics.median(ratios) >= 0.5
        console.print(f"goal relay/bare >= 0.5: {'met' if goal else 'NOT met'}")
        runtime.stop_threads()
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
