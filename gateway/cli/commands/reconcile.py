"""``edigate reconcile --partner P --since D``: reconcile now and show agreement and the
open disagreements in the terminal; ``--format json`` or ``--format csv`` for code: every pair
(matches included) with links to both documents, and every field difference."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from gateway.cli import CliError
from gateway.cli.context import runtime_from, transaction
from gateway.reconcile.service import (
    OPEN,
    ReconcileError,
    daily_stats,
    day_window,
    interchanges_of,
    pair_json,
    results_json,
    run_json,
    run_reconciliation,
)
from gateway.storage.models_reconciler import ReconcileResult
from reconciler import Result


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{name} must be a date like 2024-03-04, not {value!r}") from None


@click.command(name="reconcile")
@click.option("--partner", required=True, help="Partner id.")
@click.option("--since", required=True, help="First day (YYYY-MM-DD, UTC).")
@click.option("--until", help="Last day (default: today).")
@click.option("--document-type", help="Only this document type.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True,
              help="json: the run, statistics, every pair and the open disagreements; csv: "
                   "one row per pair and field difference.")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.pass_context
def command(ctx: click.Context, partner: str, since: str, until: str | None,
            document_type: str | None, fmt: str, as_json: bool) -> None:
    """Compare the EDI and API paths of one partner over whole days and store the run."""
    if as_json:
        fmt = "json"
    now = datetime.now(UTC)
    first = _day(since, "--since")
    last = _day(until, "--until") or now.date()
    assert first is not None
    runtime = runtime_from(ctx)
    try:
        with transaction(runtime) as session:
            kept: list[Result] = []
            run = run_reconciliation(session, partner, day_window(first, last), as_of=now,
                                     trigger="cli", actor="cli", document_type=document_type,
                                     keep=kept)
            summary = run_json(run)
            results = results_json(session, session.query(ReconcileResult).filter(
                ReconcileResult.run_id == run.id, ReconcileResult.outcome.in_(OPEN))
                .order_by(ReconcileResult.day, ReconcileResult.id).all())
            kept.sort(key=lambda r: (r.day, r.document_type, r.business_key,
                                     r.edi_id or "", r.api_id or ""))
            links = interchanges_of(session, [r.edi_id for r in kept])
            pairs = [pair_json(r, links) for r in kept]
            days = [d.to_dict() for d in daily_stats(session, partner_id=partner, since=first,
                                                     until=last)]
    except ReconcileError as exc:
        raise CliError(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps({"run": summary, "statistics": days,
                               "coverage": summary.get("coverage", {}), "pairs": pairs,
                               "open": results}))
        return
    if fmt == "csv":
        click.echo(pairs_csv(pairs), nl=False)
        return
    console = Console()
    if not summary["document_types"]:
        console.print(f"[yellow]{partner} has no document type in stage dual with events "
                      f"in {first}..{last}: nothing to compare.[/yellow]")
    table = Table(title=f"Agreement of {partner}, {first}..{last}")
    for name in ("day", "document type", "match", "mismatch", "missing api", "missing edi",
                 "late", "duplicate", "pending", "agreement", "most differing fields"):
        table.add_column(name, justify="right" if name not in ("day", "document type",
                                                               "most differing fields")
                         else "left")
    for d in days:
        c = d["counts"]
        agreement = "-" if d["agreement"] is None else f"{d['agreement']:.1%}"
        table.add_row(d["day"], d["document_type"], *(str(c[k]) for k in (
            "match", "mismatch", "missing_api", "missing_edi", "late", "duplicate", "pending")),
            agreement, ", ".join(f"{f['field']} ({f['documents']})" for f in d["top_fields"]))
    console.print(table)
    if results:
        diffs = Table(title="Open disagreements")
        for name in ("day", "document", "outcome", "field", "EDI", "API", "rule / note"):
            diffs.add_column(name)
        for r in results:
            for d in r["differences"] or [{"path": "", "edi": "", "api": "",
                                          "rule": r["note"]}]:
                diffs.add_row(r["day"], f"{r['document_type']} {r['business_key']}",
                              r["outcome"], d["path"], _show(d["edi"]), _show(d["api"]),
                              d["rule"])
        console.print(diffs)
    overall = "-" if summary["agreement"] is None else f"{summary['agreement']:.2%}"
    console.print(f"run {summary['id']}: {summary['events']} events, agreement {overall}")


CSV_COLUMNS = ["day", "document_type", "business_key", "outcome", "edi_event_id",
               "api_event_id", "edi_interchange_id", "delay_seconds", "path", "field", "kind",
               "edi", "api", "rule", "not_comparable", "note"]


def pairs_csv(pairs: list[dict[str, Any]]) -> str:
    """One row per pair, or per field difference of a pair that has some."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore",
                            lineterminator="\r\n")
    writer.writeheader()
    for pair in pairs:
        base = {k: pair.get(k) for k in CSV_COLUMNS}
        base["not_comparable"] = " ".join(pair.get("not_comparable") or [])
        for diff in pair.get("differences") or [{}]:
            row = {**base, **{k: diff.get(k) for k in ("path", "field", "kind", "edi", "api",
                                                       "rule")}}
            writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else
                             ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()


def _show(value: object) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)
