"""Broker relay metrics (prometheus-client), served at ``/metrics`` with the others."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

published = Counter("edigate_broker_published_total",
                    "Events the broker acknowledged (duplicates the broker dropped included)",
                    ["destination"])
failed = Counter("edigate_broker_failed_total",
                 "Publication attempts that failed (error: will be retried; rejected: cannot be "
                 "encoded, kept for the operator)", ["destination", "outcome"])
lag = Gauge("edigate_broker_lag_seconds",
            "Age of the oldest event not yet published (0: nothing waiting)", ["destination"])
consumed = Counter("edigate_broker_consumed_total",
                   "Inbound broker messages by outcome (accepted, duplicate, rejected)",
                   ["partner", "outcome"])
