"""``edigate plan``: run the synchronization engine once.

Without arguments it plans from the gateway's database exactly like the scheduled job (state
from the authoritative events, the run stored with its inputs, released orders queued in the
outbox, the rest held for approval). ``--export-state`` writes that state as JSON instead of
planning; ``--instance`` and ``--generate`` plan a JSON state or a seeded network offline,
touching no database.
"""

from __future__ import annotations

import contextlib
import getpass
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gateway.cli import CliError
from optimizer import (
    PlanOptions,
    Scenario,
    StateError,
    dumps,
    generate,
    loads,
    parse_scenario,
    plan,
    what_if,
)
from optimizer.plan import Plan

# The solver options a user may override on the command line, by parameter name.
_OVERRIDES = {"solver": "solver", "method": "method", "time_limit": "time_limit",
              "gap": "rel_gap"}


def _parse_sizes(text: str) -> tuple[int, int, int]:
    try:
        parts, suppliers, periods = (int(x) for x in text.split(","))
    except ValueError:
        raise CliError(f"--generate expects PARTS,SUPPLIERS,PERIODS, got {text!r}") from None
    if min(parts, suppliers, periods) < 1:
        raise CliError("--generate sizes must all be at least 1")
    return parts, suppliers, periods


@click.command("plan")
@click.option("--instance", type=click.Path(dir_okay=False, path_type=Path),
              help="Supply state as JSON (edigate.supply-state/1).")
@click.option("--generate", "sizes", metavar="PARTS,SUPPLIERS,PERIODS",
              help="Plan a seeded generated network instead.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --generate.")
@click.option("--solver", type=click.Choice(["highs", "cbc"]), default="highs", show_default=True)
@click.option("--method", type=click.Choice(["auto", "milp", "decompose", "naive"]),
              default="auto", show_default=True)
@click.option("--time-limit", type=float, default=60.0, show_default=True, help="Seconds.")
@click.option("--gap", type=float, default=0.005, show_default=True, help="Relative gap.")
@click.option("--lines", "max_lines", type=int, default=15, show_default=True,
              help="Order lines to show.")
@click.option("--export-state", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the gateway's current supply state as JSON and stop (no plan).")
@click.option("--what-if", "what_ifs", multiple=True, metavar="SCENARIO",
              help="Plan as it is and under this disruption, side by side; stores and sends "
                   "nothing. outage:SUPPLIER:PERIODS[:START], "
                   "capacity_drop:SUPPLIER:FACTOR[:START-UNTIL], "
                   "lead_time:SUPPLIER:PERIODS[:PART], demand_spike:PART|*:FACTOR[:START-UNTIL], "
                   "late_shipment:SUPPLIER:PERIODS[:PART] (repeatable).")
@click.pass_context
def command(
    ctx: click.Context, instance: Path | None, sizes: str | None, seed: int, solver: str,
    method: str, time_limit: float, gap: float, max_lines: int, export_state: Path | None,
    what_ifs: tuple[str, ...],
) -> None:
    """Run the synchronization engine once and print a summary of the adopted plan."""
    if instance is not None and sizes is not None:
        raise CliError("give at most one of --instance FILE.json or --generate P,S,T")
    try:
        scenarios = [parse_scenario(text) for text in what_ifs]
    except StateError as exc:
        raise CliError(str(exc)) from None
    if instance is None and sizes is None:
        if scenarios:
            _gateway_what_if(ctx, scenarios)
            return
        _gateway_run(ctx, export_state, max_lines)
        return
    if instance is not None:
        try:
            state = loads(instance.read_bytes())
        except OSError as exc:
            raise CliError(f"cannot read {instance}: {exc.strerror}") from None
        except StateError as exc:
            raise CliError(f"{instance}: {exc}") from None
        label = str(instance)
    else:
        parts, suppliers, periods = _parse_sizes(sizes or "")
        state = generate(parts, suppliers, periods, seed=seed)
        label = f"generated ({parts} parts, {suppliers} suppliers, {periods} periods, seed {seed})"
    try:
        options = PlanOptions(solver=solver, method=method,  # type: ignore[arg-type]
                              time_limit=time_limit, rel_gap=gap)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    console = Console()
    if scenarios:
        console.print(f"[bold]What-if[/] on {label}")
        try:
            with progress_bar(console, "planning both") as report:
                report("planning as it is and under the scenario", 0.0)
                _, _, view = what_if(state, scenarios, options)
        except StateError as exc:
            raise CliError(str(exc)) from None
        _what_if_summary(console, view, max_lines)
        return
    console.print(f"[bold]Planning[/] {label}")
    with progress_bar(console, "starting") as report:
        result = plan(state, options, clock=time.perf_counter, progress=report)
    _summary(console, result, max_lines)


def _gateway_what_if(ctx: click.Context, scenarios: list[Scenario]) -> None:
    from gateway.cli.context import runtime_from
    from gateway.planning.jobs import config_for
    from gateway.planning.whatif import what_if_run

    runtime = runtime_from(ctx)
    try:
        config = config_for(runtime)
        given = {
            field: ctx.params[name] for name, field in _OVERRIDES.items()
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        }
        config = replace(config, **given)
    except ValueError as exc:
        raise CliError(f"planning settings: {exc}") from None
    console = Console()
    console.print(f"[bold]What-if[/] on {runtime.engine.url.render_as_string()} "
                  "(nothing is stored or sent)")
    try:
        with progress_bar(console, "planning as it is and under the scenario"):
            view = what_if_run(runtime.sessions, scenarios, now=datetime.now(UTC),
                               config=config, business_now=runtime.clock())
    except StateError as exc:
        raise CliError(str(exc)) from None
    _what_if_summary(console, view, 15)


def _what_if_summary(console: Console, view: dict[str, Any], max_lines: int) -> None:
    for item in view.get("scenarios", []):
        console.print(f"scenario: {item['description']}")
    table = Table(title="Current plan and what-if, side by side")
    for column in ("", "current", "what-if"):
        table.add_column(column)
    now, then = view["current"], view["what_if"]

    def money(value: Any) -> str:
        return "-" if value is None else f"{value:,.2f}"

    table.add_row("adopted", now["source"], then["source"])
    table.add_row("operating cost", money(now["operating_cost"]),
                  money(then["operating_cost"]))
    table.add_row("part-periods short", str(now["shortages"]), str(then["shortages"]))
    table.add_row("naive would be short", str(now["naive_shortages"]),
                  str(then["naive_shortages"]))
    table.add_row("order lines", str(now["order_lines"]), str(then["order_lines"]))
    table.add_row("alerts", str(len(now["alerts"])), str(len(then["alerts"])))
    console.print(table)
    newly = view.get("suppliers_newly_loaded") or []
    console.print(f"suppliers newly loaded: {', '.join(newly) if newly else 'none'}")
    changed = view.get("orders_changed") or []
    console.print(f"orders that would change: {len(changed)}")
    if changed and max_lines > 0:
        lines = Table(title=f"Largest order changes (of {len(changed)})")
        for column in ("part", "supplier", "period", "current", "what-if"):
            lines.add_column(column)
        for item in sorted(changed, key=lambda c: -abs(c["what_if"] - c["current"]))[:max_lines]:
            lines.add_row(item["part"], item["supplier"], str(item["period"]),
                          str(item["current"]), str(item["what_if"]))
        console.print(lines)
    for alert in then["alerts"]:
        console.print(f"[red]alert[/] {alert}")


def _gateway_run(ctx: click.Context, export_state: Path | None, max_lines: int) -> None:
    from gateway.cli.context import runtime_from
    from gateway.planning.config import PlanningConfig
    from gateway.planning.jobs import PlanningBusy, run_now
    from gateway.planning.state import build_state

    runtime = runtime_from(ctx)
    try:
        config = PlanningConfig.from_settings(runtime.settings)
        given = {
            field: ctx.params[name] for name, field in _OVERRIDES.items()
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        }
        config = replace(config, **given)
    except ValueError as exc:
        raise CliError(f"planning settings: {exc}") from None
    now = datetime.now(UTC)
    console = Console()
    if export_state is not None:
        with runtime.sessions() as session:
            built = build_state(session, today=now.date(), now=now, config=config)
        try:
            export_state.write_text(dumps(built.state))
        except OSError as exc:
            raise CliError(f"cannot write {export_state}: {exc.strerror}") from None
        console.print(f"wrote {export_state}: {len(built.state.parts)} parts, "
                      f"{len(built.state.suppliers)} suppliers, {built.state.periods} periods")
        for warning in built.warnings:
            console.print(f"[yellow]warning[/] {warning}")
        return
    console.print(f"[bold]Planning[/] from {runtime.engine.url.render_as_string()}")
    with progress_bar(console, "building the supply state") as report:
        try:
            summary = run_now(runtime, trigger="cli", actor=f"cli:{getpass.getuser()}",
                              now=now, config=config, progress=report)
        except PlanningBusy as exc:
            raise CliError(str(exc)) from None
    if summary.plan is not None:
        _summary(console, summary.plan, max_lines)
    table = Table(title=f"Plan run {summary.run_id}", show_header=False)
    table.add_row("status", summary.status)
    table.add_row("sent to the outbox", str(summary.released))
    table.add_row("held for approval", str(summary.held))
    for warning in summary.warnings:
        table.add_row("warning", warning)
    console.print(table)


@contextlib.contextmanager
def progress_bar(console: Console, first: str) -> Iterator[Callable[[str, float], None]]:
    """A transient bar the planner reports to (message, fraction done)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(first, total=1.0)

        def report(message: str, fraction: float) -> None:
            progress.update(task, description=message, completed=fraction)

        yield report


def _shortage_reasons(result: Plan) -> dict[str, int]:
    counts: dict[str, int] = {}
    for shortage in result.shortages:
        counts[shortage.reason] = counts.get(shortage.reason, 0) + len(shortage.periods)
    return counts


def _summary(console: Console, result: Plan, max_lines: int) -> None:
    r = result.report
    table = Table(title="Plan", show_header=False)
    table.add_row("adopted", result.source)
    if result.source_detail:
        table.add_row("why", result.source_detail)
    if result.stockouts is not None and result.naive_stockouts is not None:
        avoided = result.naive_stockouts - result.stockouts
        table.add_row("part-periods short", f"{result.stockouts} (naive lot-for-lot: "
                      f"{result.naive_stockouts}; avoided {avoided:+d})")
    for reason, count in _shortage_reasons(result).items():
        table.add_row("short because", f"{reason.replace('_', ' ')}: {count} part-periods")
    for alert in result.alerts:
        table.add_row("[red]alert[/]", alert.message)
    table.add_row("method / solver", f"{r.method} / {r.solver}")
    table.add_row("solver status", r.status)
    table.add_row("cost", f"{result.cost.operating:,.2f}"
                  + (f" (naive {result.naive_operating_cost:,.2f})"
                     if result.naive_operating_cost is not None else "")
                  + (f", line-stop charges {result.cost.line_stop:,.0f}"
                     if result.cost.line_stop else ""))
    if result.fallback_cost is not None and result.fallback_cost > 0:
        table.add_row(
            "fallback cost",
            f"{result.fallback_cost:,.2f} (plan = {result.cost.total / result.fallback_cost:.1%})",
        )
    if r.bound is not None:
        table.add_row("proven lower bound", f"{r.bound:,.2f}")
    if r.gap is not None:
        table.add_row("gap", f"{r.gap:.2%}")
    table.add_row("time", f"build {r.build_seconds:.2f}s, solve {r.solve_seconds:.2f}s"
                  + (f", {r.iterations} iterations" if r.iterations else "")
                  + (f"; wall {result.wall_seconds:.1f}s of a {result.time_limit:g}s limit"
                     if result.wall_seconds is not None and result.time_limit else ""))
    c = result.cost
    table.add_row("breakdown", f"purchase {c.purchase:,.0f}, ordering {c.ordering:,.0f}, "
                  f"holding {c.holding:,.0f}, backlog {c.backlog:,.0f}, "
                  f"shortfall {c.shortfall:,.0f}, change {c.change:,.0f}")
    table.add_row("order lines", f"{len(result.lines)} worth {result.total_value:,.2f}")
    for reason in result.reasons:
        table.add_row("note", reason)
    for stale in result.stale:
        table.add_row("stale", stale)
    console.print(table)
    if result.lines and max_lines > 0:
        lines = Table(title=f"Largest order lines (of {len(result.lines)})")
        for column in ("part", "supplier", "order", "arrive", "qty", "value", "covers",
                       "bound by"):
            lines.add_column(column)
        for line in sorted(result.lines, key=lambda ln: -ln.value)[:max_lines]:
            covers = (f"{line.covers[0]}-{line.covers[-1]}" if len(line.covers) > 1
                      else ",".join(map(str, line.covers)))
            lines.add_row(line.part, line.supplier, str(line.period), str(line.arrival_period),
                          str(line.quantity), f"{line.value:,.0f}", covers or "-",
                          ",".join(line.bound_by) or "-")
        console.print(lines)
