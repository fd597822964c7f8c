"""``edigate demo --days N``: the supplier network, compressed, in the terminal."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gateway.cli import CliError
from gateway.simulate.network import NetworkError, parse_injection


@click.command(name="demo")
@click.option("--days", type=click.FloatRange(min=0.25, max=365), default=14, show_default=True,
              help="Scenario days to play.")
@click.option("--seed", type=int, default=42, show_default=True, help="Scenario seed.")
@click.option("--inject", multiple=True, metavar="EVENT",
              help="outage:SUPPLIER:FROM-TO or capacity_drop:SUPPLIER:FROM-TO:FACTOR")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the demo's data directory here instead of a temporary one.")
@click.option("--compare-naive/--no-compare-naive", default=True, show_default=True,
              help="Play the same scenario again under the naive lot-for-lot policy and "
                   "compare the plant's stock-outs.")
def command(days: float, seed: int, inject: tuple[str, ...], keep: Path | None,
            compare_naive: bool) -> None:
    """Run a throw-away gateway with the demo network at full speed and summarise it."""
    try:
        injections = [parse_injection(text) for text in inject]
    except NetworkError as exc:
        raise CliError(str(exc)) from None
    console = Console()
    from gateway.simulate.demo import run_demo

    with tempfile.TemporaryDirectory(prefix="edigate-demo-") as tmp:
        data_dir = keep or Path(tmp)
        console.print(f"[bold]edigate demo[/]: {days:g} days, seed {seed}, data in {data_dir}")
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("day {task.completed:.1f}/{task.total:g}"),
                      TimeElapsedColumn(), console=console, transient=True) as progress:
            task = progress.add_task("suppliers trading", total=days)

            def on_tick(sim) -> None:  # type: ignore[no-untyped-def]
                sent = sum(sim.stats.sent.values())
                progress.update(task, completed=min(sim.day, days),
                                description=f"{len(sim.suppliers)} suppliers, {sent} documents")

            try:
                summary = asyncio.run(run_demo(days, data_dir=data_dir, seed=seed,
                                               on_tick=on_tick, injections=injections))
            except OSError as exc:
                raise CliError(f"demo could not start: {exc}") from None
    naive = None
    if compare_naive:
        # The same scenario and seed, planned by the naive policy, in a throw-away directory.
        with tempfile.TemporaryDirectory(prefix="edigate-demo-naive-") as tmp, Progress(
                TextColumn("{task.description}"), BarColumn(),
                TextColumn("day {task.completed:.1f}/{task.total:g}"), TimeElapsedColumn(),
                console=console, transient=True) as progress:
            task = progress.add_task("same scenario, naive lot-for-lot", total=days)

            def naive_tick(sim) -> None:  # type: ignore[no-untyped-def]
                progress.update(task, completed=min(sim.day, days))

            try:
                naive = asyncio.run(run_demo(days, data_dir=Path(tmp), seed=seed,
                                             on_tick=naive_tick, injections=injections,
                                             planning_method="naive"))
            except OSError as exc:
                raise CliError(f"demo could not start: {exc}") from None
    _print(console, summary, naive)


def _print(console: Console, summary, naive=None) -> None:  # type: ignore[no-untyped-def]
    table = Table(title="Documents received by channel and outcome")
    for col in ("channel", "outcome", "interchanges"):
        table.add_column(col, justify="right" if col == "interchanges" else "left")
    for (direction, channel, status), n in sorted(summary.documents.items()):
        if direction == "in":
            table.add_row(channel, status, str(n))
    console.print(table)
    out = Table(title="Orders and schedules sent (outbox)")
    for col in ("channel", "delivery", "acknowledgment", "documents"):
        out.add_column(col)
    for (channel, status, ack), n in sorted(summary.outbound.items()):
        out.add_row(channel, status, ack, str(n))
    if not summary.outbound:
        out.add_row("-", "no orders planned", "-", "0")
    console.print(out)
    dual = Table(title="Dual suppliers: reconciliation and cut-over")
    for col in ("supplier", "API copies", "injected differences", "agreement",
                "stages at the end"):
        dual.add_column(col, overflow="fold")
    for partner, tally in sorted(summary.injected.items()):
        injected = ", ".join(f"{k} {v}" for k, v in sorted(tally.items())
                             if k not in ("documents", "same")) or "none"
        migration = summary.migrations.get(partner)
        agreement = migration.agreement if migration else \
            summary.reconciliation.get(partner, "n/a")
        stages = ", ".join(f"{d} {st}" for d, st in migration.stages.items()) \
            if migration else "-"
        dual.add_row(partner, str(tally.get("documents", 0)), injected, agreement, stages)
    console.print(dual)
    # Per dual supplier, one line per fact (easy to read, and to diff two runs of one seed):
    # what could not be compared, each document type's gate decision, how its stages moved.
    for partner, migration in sorted(summary.migrations.items()):
        console.print(f"[bold]{partner}[/]: agreement {migration.agreement}", soft_wrap=True)
        for line in migration.not_comparable:
            console.print(f"  not comparable: {line}", soft_wrap=True)
        for line in migration.gate:
            console.print(f"  gate: {line}", soft_wrap=True)
        for line in migration.history:
            console.print(f"  {line}", soft_wrap=True)
    console.print(f"[bold]Plan cost[/] against the naive policy: {summary.plan}")
    planned = ""
    if summary.plan_short is not None and summary.naive_short is not None:
        planned = (f" (plan in force: {summary.plan_short} part-days short, naive lot-for-lot "
                   f"on the same state: {summary.naive_short})")
    console.print(f"[bold]Shortages avoided[/] by the plan in force: {summary.stockouts}"
                  + planned)
    if naive is not None:
        diff = naive.stockout_part_days - summary.stockout_part_days
        console.print(f"[bold]Plant stock-out part-days[/], same scenario: with the plans "
                      f"{summary.stockout_part_days}, with naive lot-for-lot "
                      f"{naive.stockout_part_days} ({diff:+d} avoided)")
    else:
        console.print(f"[bold]Plant stock-out part-days[/] in this run: "
                      f"{summary.stockout_part_days} (naive not played: --no-compare-naive)")
    if summary.failures:
        console.print(f"[yellow]{summary.failures} supplier actions failed and were retried[/]")
