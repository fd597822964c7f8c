"""Prometheus metrics (prometheus-client), served at ``/metrics``."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

documents_in = Counter("edigate_documents_in_total", "Documents received",
                       ["partner", "channel", "outcome"])
documents_processed = Counter("edigate_documents_processed_total", "Interchanges processed",
                              ["partner", "outcome"])
documents_out = Counter("edigate_documents_out_total", "Documents delivered to partners",
                        ["partner", "channel", "document_type", "outcome"])
processing_seconds = Histogram("edigate_processing_seconds",
                               "Time to translate, validate, map and store one interchange",
                               buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                                        30))
interchanges_quarantined = Counter(
    "edigate_interchanges_quarantined_total",
    "Interchanges quarantined (a final state), by reason; poison: processing failed every "
    "attempt", ["reason"])
db_conflicts = Counter(
    "edigate_db_conflicts_total",
    "Transactions run again after losing a lock conflict (deadlock, serialization, locked)",
    ["kind"])
inbox_backlog = Gauge("edigate_inbox_backlog", "Interchanges committed but not yet processed")
outbox_depth = Gauge("edigate_outbox_depth", "Outbox rows by status", ["status"])
events_in = Counter("edigate_events_total", "Events stored", ["type", "path", "partner"])
acks_overdue = Counter("edigate_acks_overdue_total",
                       "Outbound documents whose acknowledgment did not arrive in time")
delivery_seconds = Histogram("edigate_delivery_seconds", "Time to deliver one outbox row",
                             ["channel"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60))


# The labelled children of documents_in, by label values: ``labels(**kw)`` validates its
# arguments and takes a lock on every call, which a receiving request should not pay.
_received: dict[tuple[str, str, str], Any] = {}


def received(partner: str | None, channel: str, outcome: str) -> None:
    """Count one received document (``documents_in``)."""
    key = (str(partner), channel, outcome)  # (as labels() would: None -> "None")
    child = _received.get(key)
    if child is None:
        child = _received[key] = documents_in.labels(partner=key[0], channel=channel,
                                                     outcome=outcome)
    child.inc()
