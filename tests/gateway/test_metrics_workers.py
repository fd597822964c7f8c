"""Processing done by inbox worker processes (``serve`` with ``inbox.workers``) shows in the
server's /metrics: the workers write their counts to the data dir, the server adds them up."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import Settings
from gateway.inbox.committer import Receipt
from gateway.inbox.spool import spool_bytes
from gateway.observability import metrics
from gateway.runtime import Runtime
from tests.gateway.edi_samples import x12_850
from tests.gateway.live_server import LiveServer

PROCESSED = ("edigate_documents_processed_total",
             {"channel": "http", "partner": "bolt-supply", "outcome": "accepted"})


def test_a_workers_processing_is_in_the_servers_metrics(tmp_path: Path) -> None:
    data_dir = tmp_path / "gw"
    data_dir.mkdir()
    env = metrics.worker_metrics_env(data_dir)  # what `serve` gives its workers
    server = LiveServer(data_dir, extra_env=env)
    server.prepare()
    runtime = Runtime.from_settings(Settings(data_dir=str(data_dir)))
    try:
        for n in range(3):
            body = spool_bytes(x12_850(950 + n), runtime.settings.data_path, 1 << 20)
            runtime.inbox.submit(Receipt(body, partner_id="bolt-supply", channel="http",
                                         now=datetime.now(UTC))).result(timeout=30)
    finally:
        runtime.close()
    ours = REGISTRY.get_sample_value(*PROCESSED) or 0.0
    assert "processed 3 interchange(s)" in server.cli("work", "--once").stdout

    text = metrics.exposition(data_dir).decode()
    families = list(text_string_to_metric_families(text))
    names = [family.name for family in families]
    assert len(names) == len(set(names)), "a family appears twice"
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in families for s in family.samples}
    name, labels = PROCESSED
    assert samples[(name, tuple(sorted(labels.items())))] == ours + 3
    latency = ("edigate_processing_seconds_count", (("channel", "http"),))
    assert samples[latency] >= 3
    # Without worker files, the process's own metrics, as before.
    alone = {(s.name, tuple(sorted(s.labels.items()))): s.value for family in
             text_string_to_metric_families(metrics.exposition(tmp_path / "other").decode())
             for s in family.samples}
    assert alone.get((name, tuple(sorted(labels.items()))), 0.0) == ours
