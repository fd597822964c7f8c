"""Prometheus metrics (prometheus-client), served at ``/metrics``.

One vocabulary for every ``outcome`` label (:data:`OUTCOMES`): never an HTTP code, never a
channel's own word. A channel reports what it saw (``received``, ``replayed``, ``201``...) and
:func:`outcome_word` maps it, so two channels cannot drift apart.

The ``channel`` label is the interchange's channel: in, ``http``, ``as2``, ``sftp``, ``rest``,
``broker`` and ``api_pull`` (we poll a partner's API); out, the outbox row's (``as2``,
``sftp``, ``webhook``...) and ``api`` (a partner picks up from /api/v1/outbound).

Where things are counted, and why there:

- Receipt (``edigate_documents_received_total``): by each channel at its door, because a
  duplicate or a refused AS2 message never reaches the database as a new row.
- Processing, bytes, latency and events: at the commit of the transaction that stored them
  (:func:`install_session_hooks`), the one place HTTP, AS2, SFTP, REST, the inbox workers, the
  resume job and replays all pass through; a transaction rolled back (a lock conflict that is
  run again) counts nothing.
- Delivery (``edigate_documents_sent_total``): by the dispatcher and the pick-up API.
- State (outbox by status, overdue acknowledgments, last plan, last reconciliation): read from
  the database at scrape time (:func:`refresh_from_db`), so it is right whichever process did
  the work.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Metric,
    generate_latest,
)
from prometheus_client.registry import Collector
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

# The broker relay's metrics are registered with these, so /metrics lists them (at zero)
# before a broker destination is configured, as the dashboard expects.
from gateway.broker import metrics as _broker_metrics  # noqa: F401
from gateway.domain.states import InterchangeStatus, ReconcileRunStatus

# The words an ``outcome`` label may hold, everywhere.
OUTCOMES = ("accepted", "partial", "rejected", "quarantined", "duplicate", "error")

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

documents_received = Counter(
    "edigate_documents_received_total",
    "Documents received, by channel, partner and outcome at the door",
    ["channel", "partner", "outcome"])
documents_processed = Counter(
    "edigate_documents_processed_total",
    "Inbound interchanges processed (translated, checked, stored), by outcome",
    ["channel", "partner", "outcome"])
processed_bytes = Counter(
    "edigate_processed_bytes_total", "Bytes of the inbound interchanges processed",
    ["channel", "partner"])
processing_seconds = Histogram(
    "edigate_processing_seconds",
    "Time from receipt to processed (queueing, translation, storage) of one interchange",
    ["channel"], buckets=_LATENCY_BUCKETS)
documents_sent = Counter(
    "edigate_documents_sent_total",
    "Delivery attempts of outbound documents (accepted: delivered; error: retried later; "
    "rejected: not retryable)", ["channel", "partner", "document_type", "outcome"])
sent_bytes = Counter("edigate_sent_bytes_total", "Bytes of outbound documents delivered",
                     ["channel", "partner"])
delivery_seconds = Histogram("edigate_delivery_seconds", "Time to deliver one outbox row",
                             ["channel"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60))
events_stored = Counter("edigate_events_total", "Events stored, by type, path and partner",
                        ["type", "path", "partner"])
interchanges_quarantined = Counter(
    "edigate_interchanges_quarantined_total",
    "Interchanges quarantined (a final state), by reason; poison: processing failed every "
    "attempt", ["reason"])
db_conflicts = Counter(
    "edigate_db_conflicts_total",
    "Transactions run again after losing a lock conflict (deadlock, serialization, locked)",
    ["kind"])
acks_overdue = Counter("edigate_acks_overdue_total",
                       "Outbound documents flagged because their acknowledgment did not arrive "
                       "in time")
plan_runs = Counter("edigate_plan_runs_total",
                    "Planning runs, by status (adopted: a new plan; kept: the previous stays)",
                    ["status"])
plan_seconds = Histogram("edigate_plan_duration_seconds",
                         "Time to build and solve one plan",
                         buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))

# Read from the database at scrape time.
inbox_backlog = Gauge("edigate_inbox_backlog", "Interchanges committed but not yet processed")
outbox_depth = Gauge("edigate_outbox_depth", "Outbox rows by status", ["status"])
acks_awaited = Gauge("edigate_acks_awaited",
                     "Sent documents awaiting an acknowledgment, by state (expected, overdue)",
                     ["state"])
plan_last_seconds = Gauge("edigate_plan_last_duration_seconds",
                          "Build and solve time of the latest plan run")
plan_last_shortages = Gauge("edigate_plan_last_shortages",
                            "Parts the latest plan could not cover in time")
plan_last_run = Gauge("edigate_plan_last_run_timestamp_seconds",
                      "When the latest plan run was made (Unix time)")
reconcile_agreement = Gauge("edigate_reconciliation_agreement_ratio",
                            "Share of paired documents the latest reconciliation found agreeing",
                            ["partner"])
reconcile_last_run = Gauge("edigate_reconciliation_last_run_timestamp_seconds",
                           "When the latest reconciliation of a partner finished (Unix time)",
                           ["partner"])

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dead", "cancelled")
ACK_STATES = ("expected", "overdue")

_WORDS = {"received": "accepted", "processed": "accepted", "delivered": "accepted",
          "stored": "accepted", "replayed": "duplicate", "failed": "error", "retry": "error",
          "message-id-reused": "rejected", "refused": "rejected", "dead": "rejected"}


def outcome_word(said: str | int) -> str:
    """A channel's word (or HTTP status) as one of :data:`OUTCOMES`."""
    text = str(said)
    if text in OUTCOMES:
        return text
    if text.isdigit():
        code = int(text)
        return "accepted" if code < 400 else "rejected" if code < 500 else "error"
    return _WORDS.get(text, "error")


# The labelled children of documents_received, by label values: ``labels(**kw)`` validates its
# arguments and takes a lock on every call, which a receiving request should not pay.
_received: dict[tuple[str, str, str], Any] = {}


def received(partner: str | None, channel: str, outcome: str | int) -> None:
    """Count one received document; ``outcome`` in the channel's words (see outcome_word)."""
    key = (channel, str(partner or ""), outcome_word(outcome))
    child = _received.get(key)
    if child is None:
        child = _received[key] = documents_received.labels(channel=key[0], partner=key[1],
                                                           outcome=key[2])
    child.inc()


def sent(*, channel: str, partner: str, document_type: str, outcome: str, size: int,
         seconds: float | None = None) -> None:
    """Count one delivery attempt (or pick-up) of an outbound document."""
    word = outcome_word(outcome)
    documents_sent.labels(channel=channel, partner=partner, document_type=document_type,
                          outcome=word).inc()
    if word == "accepted":
        sent_bytes.labels(channel=channel, partner=partner).inc(size)
    if seconds is not None:
        delivery_seconds.labels(channel=channel).observe(seconds)


# -- counted at commit -------------------------------------------------------------------------

_PENDING = "edigate_metrics_pending"
_STATUS_WORDS = {"processed": "accepted", "partial": "partial", "rejected": "rejected",
                 "quarantined": "quarantined"}


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _after_flush(session: Session, _context: Any) -> None:
    from gateway.storage.models import Event, Interchange
    from gateway.storage.models_planning import PlanRun

    pending: list[tuple[str, tuple[Any, ...]]] = session.info.setdefault(_PENDING, [])
    for obj in session.new:
        if isinstance(obj, Event):
            pending.append(("event", (obj.type, obj.path, obj.partner_id or "")))
        elif isinstance(obj, Interchange):
            if obj.direction == "in" and obj.status in _STATUS_WORDS:
                pending.append(("processed", _processed(obj)))
        elif isinstance(obj, PlanRun):
            pending.append(("plan", _plan(obj)))
    for obj in session.dirty:
        if isinstance(obj, Interchange) and obj.direction == "in" \
                and obj.status in _STATUS_WORDS:
            history = inspect(obj).attrs.status.history
            if history.deleted and "received" in history.deleted:
                pending.append(("processed", _processed(obj)))


def _processed(row: Any) -> tuple[Any, ...]:
    received_at = _aware(row.received_at)
    latency = (datetime.now(UTC) - received_at).total_seconds() if received_at else None
    return (row.channel, row.partner_id or "", _STATUS_WORDS[row.status], row.size or 0,
            latency)


def _plan(run: Any) -> tuple[Any, ...]:
    report = (run.result or {}).get("report") or {}
    seconds = float(report.get("build_seconds") or 0) + float(report.get("solve_seconds") or 0)
    return (run.status, seconds)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    for kind, values in pending or ():
        if kind == "event":
            events_stored.labels(type=values[0], path=values[1], partner=values[2]).inc()
        elif kind == "processed":
            channel, partner, outcome, size, latency = values
            documents_processed.labels(channel=channel, partner=partner, outcome=outcome).inc()
            processed_bytes.labels(channel=channel, partner=partner).inc(size)
            if latency is not None:
                processing_seconds.labels(channel=channel).observe(max(0.0, latency))
        elif kind == "plan":
            plan_runs.labels(status=values[0]).inc()
            plan_seconds.observe(values[1])


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


_installed = threading.Lock()
_hooks_on = False


def install_session_hooks() -> None:
    """Count what every committed transaction stored (idempotent; on every Session)."""
    global _hooks_on
    with _installed:
        if _hooks_on:
            return
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        _hooks_on = True


install_session_hooks()


# -- read at scrape time -----------------------------------------------------------------------

def _timestamp(value: datetime | None) -> float:
    aware = _aware(value)
    return aware.timestamp() if aware else 0.0


def refresh_from_db(session: Session) -> None:
    """Set the state gauges from the database (a few count and latest-row queries)."""
    from gateway.storage.models import Interchange, OutboxItem
    from gateway.storage.models_planning import PlanRun
    from gateway.storage.models_reconciler import ReconcileRun

    backlog = session.scalar(select(func.count()).select_from(Interchange).where(
        Interchange.status == InterchangeStatus.RECEIVED, Interchange.direction == "in"))
    inbox_backlog.set(backlog or 0)
    depth = dict(session.execute(select(OutboxItem.status, func.count())
                                 .group_by(OutboxItem.status)).all())
    # Every known status, so a status that emptied reads 0 instead of its last count.
    for status in sorted(set(OUTBOX_STATUSES) | set(depth)):
        outbox_depth.labels(status=status).set(depth.get(status, 0))
    acks = dict(session.execute(select(OutboxItem.ack_status, func.count())
                                .where(OutboxItem.ack_status.in_(ACK_STATES))
                                .group_by(OutboxItem.ack_status)).all())
    for state in ACK_STATES:
        acks_awaited.labels(state=state).set(acks.get(state, 0))

    plan = session.scalars(select(PlanRun).order_by(PlanRun.created_at.desc()).limit(1)).first()
    if plan is not None:
        plan_last_seconds.set(_plan(plan)[1])
        plan_last_shortages.set(len({s.get("part") for s in
                                     (plan.result or {}).get("shortages") or []}))
        plan_last_run.set(_timestamp(plan.created_at))

    latest = (select(ReconcileRun.partner_id, func.max(ReconcileRun.finished_at).label("at"))
              .where(ReconcileRun.finished_at.is_not(None),
                     ReconcileRun.status == ReconcileRunStatus.OK)
              .group_by(ReconcileRun.partner_id).subquery())
    runs = session.execute(select(ReconcileRun.partner_id, ReconcileRun.finished_at,
                                  ReconcileRun.agreement)
                           .join(latest, (latest.c.partner_id == ReconcileRun.partner_id)
                                 & (latest.c.at == ReconcileRun.finished_at))).all()
    for partner, finished, agreement in runs:
        reconcile_last_run.labels(partner=partner).set(_timestamp(finished))
        if agreement is not None:
            reconcile_agreement.labels(partner=partner).set(agreement)


# -- inbox worker processes --------------------------------------------------------------------
# ``serve`` with ``inbox.workers`` starts processes that do the processing: their counts live in
# their memory, not in the server's. They run in prometheus-client's multiprocess mode, writing
# their samples to files in one folder of the data dir; the server adds those files' sums to
# its own at scrape time, so one /metrics shows all the processing. (A worker run on its own,
# elsewhere, keeps its counts to itself.)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def worker_metrics_dir(data_dir: Path) -> Path:
    return data_dir / "metrics" / "workers"


def worker_metrics_env(data_dir: Path) -> dict[str, str]:
    """The environment for this server's worker processes: a folder emptied at server start
    (counters start at zero with the server), kept across worker restarts (a restarted
    worker's earlier counts stay in the sum)."""
    folder = worker_metrics_dir(data_dir)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return {MULTIPROC_ENV: str(folder)}


class _WithWorkers(Collector):
    """This process's metrics plus the workers' (counters and histograms summed; gauges are
    this process's, which reads them from the database)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def collect(self) -> Iterable[Metric]:
        from prometheus_client.multiprocess import MultiProcessCollector

        workers = {family.name: family for family in
                   MultiProcessCollector(None, path=str(self.folder)).collect()  # type: ignore[arg-type]
                   if family.type != "gauge"}
        for family in REGISTRY.collect():
            other = workers.pop(family.name, None)
            if other is None:
                yield family
                continue
            sums: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
            for sample in [*family.samples, *other.samples]:
                if sample.name.endswith("_created"):
                    continue  # a creation time does not add up
                key = (sample.name, tuple(sorted(sample.labels.items())))
                sums[key] = sums.get(key, 0.0) + sample.value
            merged = Metric(family.name, family.documentation, family.type, family.unit)
            for (name, labels), value in sums.items():
                merged.add_sample(name, dict(labels), value)
            yield merged
        yield from workers.values()


def exposition(data_dir: Path) -> bytes:
    """The text /metrics serves: this process's metrics, with its workers' when it has any."""
    folder = worker_metrics_dir(data_dir)
    if not folder.is_dir() or not any(folder.glob("*.db")):
        return generate_latest()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_WithWorkers(folder))
    return generate_latest(registry)
